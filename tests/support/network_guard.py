"""Make every non-loopback connection (and DNS lookup) fail, and record each attempt.

Guarded: ``socket.socket.connect``/``connect_ex``, ``socket.create_connection``,
``getaddrinfo``, ``gethostbyname``, ``gethostbyname_ex`` and ``gethostbyaddr``, in this process
and in every Python process it starts: ``network_guard_site`` on ``PYTHONPATH`` holds a
``sitecustomize`` that imports this module at start-up wherever ``NETWORK_GUARD_REPORT`` is set.

Each attempt is added at once to the JSON list in the file named by ``NETWORK_GUARD_REPORT``
(under a lock, so that processes of one tree share it and a killed one loses nothing); at exit
a process that saw none writes ``[]`` if the file is not there yet.

Limits: only Python code is guarded. Native programs (``curl``, FiftyOne's bundled ``mongod``)
and C extensions that open sockets themselves bypass it. FiftyOne starts its ``mongod`` bound to
127.0.0.1 only, by design, and connects to it over loopback, which is allowed here.
"""

from __future__ import annotations

import atexit
import fcntl
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


def _record(attempt: str) -> None:
    """Add ``attempt`` to this process's list and to the shared report file."""
    attempts.append(attempt)
    with open(os.environ["NETWORK_GUARD_REPORT"], "a+") as report:
        fcntl.flock(report, fcntl.LOCK_EX)
        report.seek(0)
        text = report.read()
        report.seek(0)
        report.truncate()
        json.dump([*(json.loads(text) if text else []), attempt], report)


def _blocked_connect(address: Any, family: int) -> None:
    if family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
        _record(f"connect {address!r}")
        raise OSError(101, "network is unreachable (blocked by the test)")


def _blocked_lookup(host: Any) -> None:
    if not _is_local(host):
        _record(f"resolve {host!r}")
        raise socket.gaierror(socket.EAI_NONAME, "name resolution blocked by the test")


_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex
_create_connection, _getaddrinfo = socket.create_connection, socket.getaddrinfo
_gethostbyname, _gethostbyname_ex = socket.gethostbyname, socket.gethostbyname_ex
_gethostbyaddr = socket.gethostbyaddr


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _blocked_connect(address, self.family)
    _connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _blocked_connect(address, self.family)
    return _connect_ex(self, address)


def _guarded_create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
    """A host name is a lookup (blocked as such), an address a connection."""
    try:
        ipaddress.ip_address(str(address[0]).split("%")[0])
    except ValueError:
        _blocked_lookup(address[0])
    else:
        _blocked_connect(address, socket.AF_INET)
    return _create_connection(address, *args, **kwargs)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    _blocked_lookup(host)
    return _getaddrinfo(host, *args, **kwargs)


def _guarded_gethostbyname(host: str) -> str:
    _blocked_lookup(host)
    return _gethostbyname(host)


def _guarded_gethostbyname_ex(host: str) -> tuple[str, list[str], list[str]]:
    _blocked_lookup(host)
    return _gethostbyname_ex(host)


def _guarded_gethostbyaddr(host: str) -> tuple[str, list[str], list[str]]:
    _blocked_lookup(host)
    return _gethostbyaddr(host)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
socket.create_connection = _guarded_create_connection
socket.getaddrinfo = _guarded_getaddrinfo
socket.gethostbyname = _guarded_gethostbyname
socket.gethostbyname_ex = _guarded_gethostbyname_ex
socket.gethostbyaddr = _guarded_gethostbyaddr


@atexit.register
def _report() -> None:
    with open(os.environ["NETWORK_GUARD_REPORT"], "a+") as report:
        fcntl.flock(report, fcntl.LOCK_EX)
        if report.tell() == 0:
            json.dump([], report)
