package plan

import "fmt"

// keylogAdvice says how the program that ends TLS at a hop can write the key log the hop needs
// (keylog is the file hops.yaml names, stack the program). Without keys a TLS hop is judged by
// record counts only.
func keylogAdvice(stack, keylog string) []string {
	if keylog == "" {
		keylog = "keys.txt"
	}
	env := fmt.Sprintf("start it with SSLKEYLOGFILE=%s in its environment", keylog)
	switch stack {
	case "browser", "chrome", "chromium", "firefox":
		return []string{"TLS key log: " + env + " (Chrome, Chromium and Firefox append the secrets there), and name the file as keylog: in hops.yaml."}
	case "curl":
		return []string{"TLS key log: curl built with OpenSSL, GnuTLS or NSS honours SSLKEYLOGFILE: " + env + "."}
	case "node", "nodejs":
		return []string{fmt.Sprintf("TLS key log: node --tls-keylog=%s (Node 12.3+), or listen for the 'keylog' event of the TLS socket.", keylog)}
	case "go", "golang":
		return []string{fmt.Sprintf("TLS key log: Go writes one only when the program sets tls.Config.KeyLogWriter to a file (%s); there is no environment variable.", keylog)}
	case "python":
		return []string{fmt.Sprintf("TLS key log: Python 3.8+ writes one when the SSLContext has keylog_filename = %q, which ssl.create_default_context() sets from SSLKEYLOGFILE.", keylog)}
	case "java", "tomcat", "jetty", "jsse":
		return []string{fmt.Sprintf("TLS key log: Java's JSSE has no key log setting: start the JVM with a key-logging Java agent (for example extract-tls-secrets: java -javaagent:extract-tls-secrets.jar=%s ...).", keylog)}
	case "haproxy":
		return []string{
			"TLS key log: haproxy 2.5+ with tune.ssl.keylog on in its global section exposes the secrets as sample fetches; log them in NSS key log format " +
				"with a log-format line per secret, for TLS 1.3: CLIENT_HANDSHAKE_TRAFFIC_SECRET %[ssl_fc_client_random,hex] %[ssl_fc_client_handshake_traffic_secret], " +
				"SERVER_HANDSHAKE_TRAFFIC_SECRET ... %[ssl_fc_server_handshake_traffic_secret], CLIENT_TRAFFIC_SECRET_0 ... %[ssl_fc_client_traffic_secret_0], " +
				"SERVER_TRAFFIC_SECRET_0 ... %[ssl_fc_server_traffic_secret_0], EXPORTER_SECRET ... %[ssl_fc_exporter_secret]; for TLS 1.2: CLIENT_RANDOM %[ssl_fc_client_random,hex] %[ssl_fc_session_key,hex]. " +
				"Collect those log lines into " + keylog + ". The secrets decrypt every connection they cover: keep the file as secret as the private key.",
		}
	case "nginx":
		return []string{"TLS key log: nginx cannot write one (it has no directive for OpenSSL's key log callback). Decrypt the hop with the client's key log instead " +
			"(wspath probe --keylog, or SSLKEYLOGFILE in the client), or capture on the plaintext side of nginx (between nginx and its upstream) and treat that as the hop."}
	}
	return []string{"TLS key log: set stack: in hops.yaml (haproxy, nginx, node, go, python, java, curl, browser) for advice on the program that ends TLS here. " +
		"Most OpenSSL-, NSS- and GnuTLS-based clients write one when started with SSLKEYLOGFILE=" + keylog + "; wspath probe writes one with --keylog " + keylog + "."}
}
