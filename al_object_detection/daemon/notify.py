"""systemd's notify protocol (``sd_notify``) over an AF_UNIX datagram socket, no image store needed.

``NOTIFY_SOCKET`` names the socket (a leading ``@`` is the abstract namespace);
``WATCHDOG_USEC`` (and ``WATCHDOG_PID``, when set, must be this process) asks for
``WATCHDOG=1`` pings at least that often. Without ``NOTIFY_SOCKET`` every call is a no-op.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

#: Variables a child process must not inherit: only the main process talks to systemd.
NOTIFY_VARIABLES = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")


class Notifier:
    """Sends state lines to the service manager."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        self.address = "\0" + address[1:] if address.startswith("@") else address
        usec, pid = env.get("WATCHDOG_USEC", ""), env.get("WATCHDOG_PID", "")
        mine = not pid or pid == str(os.getpid())
        self.watchdog_s = int(usec) / 1e6 if usec.isdigit() and int(usec) > 0 and mine else None

    @property
    def enabled(self) -> bool:
        """Whether a service manager listens."""
        return bool(self.address)

    def send(self, *assignments: str) -> bool:
        """Send ``KEY=value`` lines in one datagram; False when nobody listens or it failed."""
        if not self.address:
            return False
        message = "\n".join(assignments).encode("utf-8", "replace")
        kind = socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK
        with socket.socket(socket.AF_UNIX, kind) as sock:
            try:  # never block: a listener that stopped reading must not stop the daemon
                sock.connect(self.address)
                sock.send(message)
            except OSError:
                return False
        return True

    def ready(self, status: str) -> bool:
        """Start-up (and recovery) is over."""
        return self.send("READY=1", f"STATUS={_one_line(status)}")

    def status(self, status: str) -> bool:
        """A free-form status line (``systemctl status`` shows it)."""
        return self.send(f"STATUS={_one_line(status)}")

    def watchdog(self) -> bool:
        """The main loop is alive and healthy."""
        return self.send("WATCHDOG=1")

    def stopping(self, status: str) -> bool:
        """Shutdown has begun."""
        return self.send("STOPPING=1", f"STATUS={_one_line(status)}")


def child_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``environ`` without the notify variables."""
    env = dict(os.environ if environ is None else environ)
    for name in NOTIFY_VARIABLES:
        env.pop(name, None)
    return env


def _one_line(text: str) -> str:
    return " ".join(text.split())
