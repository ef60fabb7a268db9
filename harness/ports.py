"""Free TCP ports on the loopback interface."""

from __future__ import annotations

import socket

HOST = "127.0.0.1"
# The demo's web server and carrier sandbox: never handed out, even when free right now.
RESERVED_PORTS = frozenset({8000, 8100})


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (never 8000 or 8100)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            port = sock.getsockname()[1]
        if port not in RESERVED_PORTS:
            return port


def local_url(port: int) -> str:
    return f"http://{HOST}:{port}"
