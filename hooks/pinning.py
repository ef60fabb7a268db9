"""A delivery connects to the address that was checked, not to whatever the name says next.

`addresses.check_url` resolves the merchant's host and refuses non-public addresses; but the
HTTP client would resolve the name again when it connects, and a DNS server that answers a
public address to the check and 127.0.0.1 to the connection (DNS rebinding) would walk a
delivery into Resync's own network. A pinned session connects to the checked address itself;
the host name still goes in the `Host` header, the TLS SNI and the certificate check.
"""

from __future__ import annotations

import socket

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection


def _connect_to(address: str, conn: HTTPConnection) -> socket.socket:
    """What urllib3's `_new_conn` does, with `address` in place of resolving `conn.host`."""
    try:
        return connection.create_connection(
            (address, conn.port),
            conn.timeout,
            source_address=conn.source_address,
            socket_options=conn.socket_options,
        )
    except TimeoutError as exc:
        raise ConnectTimeoutError(
            conn, f"Connection to {conn.host} timed out. (connect timeout={conn.timeout})"
        ) from exc
    except OSError as exc:
        raise NewConnectionError(conn, f"Failed to establish a new connection: {exc}") from exc


def _pool_classes(address: str) -> dict[str, type]:
    class PinnedHTTPConnection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return _connect_to(address, self)

    class PinnedHTTPSConnection(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return _connect_to(address, self)

    class PinnedHTTPPool(HTTPConnectionPool):
        ConnectionCls = PinnedHTTPConnection

    class PinnedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = PinnedHTTPSConnection

    return {"http": PinnedHTTPPool, "https": PinnedHTTPSPool}


class PinnedAdapter(HTTPAdapter):
    """Every connection this adapter opens goes to `address` (an IP address)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self.address)


def pinned_session(address: str) -> requests.Session:
    """A session for one delivery attempt, connecting only to `address`; no proxy variables."""
    session = requests.Session()
    session.trust_env = False
    adapter = PinnedAdapter(address)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
