"""Make every non-loopback connection (and DNS lookup) fail, and record each attempt.

Imported first by a child process; at exit it writes the attempts as JSON to the file named by
``NETWORK_GUARD_REPORT``.
"""

from __future__ import annotations

import atexit
import ipaddress
import json
import os
import socket
from typing import Any

attempts: list[str] = []
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


def _is_local(host: object) -> bool:
    if host is None:
        return True
    text = host.decode() if isinstance(host, bytes) else str(host)
    if text in _LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _guard(address: Any, family: int) -> None:
    if family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
        attempts.append(f"connect {address!r}")
        raise OSError(101, "network is unreachable (blocked by the test)")


_connect, _connect_ex, _getaddrinfo = (
    socket.socket.connect,
    socket.socket.connect_ex,
    socket.getaddrinfo,
)


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _guard(address, self.family)
    _connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _guard(address, self.family)
    return _connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not _is_local(host):
        attempts.append(f"resolve {host!r}")
        raise socket.gaierror(socket.EAI_NONAME, "name resolution blocked by the test")
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
socket.getaddrinfo = _guarded_getaddrinfo


@atexit.register
def _report() -> None:
    with open(os.environ["NETWORK_GUARD_REPORT"], "w") as report:
        json.dump(attempts, report)
