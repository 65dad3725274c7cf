"""Two small, documented adjustments to Debian's python3-websockets (10.x) for the lab.

1. Deterministic Sec-WebSocket-Key: the client sets KEY (a ContextVar) before connecting, so each
   connection's key is known in advance and truth.json can name connections by key.
2. Tripwire messages (payload containing b"wsl-trip-", text or binary) are sent as a single uncompressed frame
   (RSV1 clear, which RFC 7692 allows per message) and, from the client, with the masking key
   00000000 (RFC 6455 allows any key value), so that an iptables string match can see the
   text on the wire. Every other frame keeps random masking keys and compression.
"""

import contextvars
import secrets

from websockets import frames
from websockets.legacy import handshake

KEY = contextvars.ContextVar("wsl_key", default=None)
TRIP = b"wsl-trip-"

_orig_generate_key = handshake.generate_key
_orig_serialize = frames.Frame.serialize


def _generate_key():
    k = KEY.get()
    return k if k is not None else _orig_generate_key()


class _Masks:
    """Stands in for the secrets module inside websockets.frames."""

    zero = False

    def token_bytes(self, n):
        return bytes(n) if self.zero else secrets.token_bytes(n)


_masks = _Masks()


def _serialize(self, *, mask, extensions=None):
    if self.opcode in (frames.Opcode.TEXT, frames.Opcode.BINARY) and TRIP in self.data:
        _masks.zero = True
        try:
            return _orig_serialize(self, mask=mask, extensions=[])
        finally:
            _masks.zero = False
    return _orig_serialize(self, mask=mask, extensions=extensions)


def install():
    """Apply both adjustments (idempotent)."""
    handshake.generate_key = _generate_key
    frames.secrets = _masks
    frames.Frame.serialize = _serialize
