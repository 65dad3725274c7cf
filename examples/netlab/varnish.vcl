# Varnish Cache in the ingress namespace (instead of nginx). Varnish does not speak WebSocket: an
# Upgrade request goes to vcl_pipe, which hands the connection to the backend as a byte pipe (the
# Upgrade and Connection headers must be copied onto the backend request, since Varnish strips
# hop-by-hop headers). @UPSTREAM_HOST@ and @UPSTREAM_PORT@ are the server's address and port.
vcl 4.1;

backend default {
	.host = "@UPSTREAM_HOST@";
	.port = "@UPSTREAM_PORT@";
}

sub vcl_recv {
	if (req.http.Upgrade ~ "(?i)websocket") {
		return (pipe);
	}
}

sub vcl_pipe {
	if (req.http.Upgrade) {
		set bereq.http.Upgrade = req.http.Upgrade;
		set bereq.http.Connection = req.http.Connection;
	}
}
