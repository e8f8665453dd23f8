"""Helper processes of the daemon: fresh interpreters started on this package, one socket each.

Not ``multiprocessing``'s spawn, which imports the caller's main script again. A child's
stdout is discarded (the daemon's stdout is its JSON log stream); its stderr is the daemon's.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from multiprocessing.connection import Connection
from pathlib import Path

import al_object_detection

#: Where this package is imported from: put first on a child's path.
_PACKAGE_ROOT = str(Path(al_object_detection.__file__).resolve().parent.parent)


def start_child(module: str, *args: str) -> tuple[subprocess.Popen[bytes], Connection]:
    """Run ``module.serve_from_argv()`` in a new interpreter; the process and our end of its
    socket. The child finds its end's descriptor as ``sys.argv[1]``, then ``args``."""
    ours, theirs = socket.socketpair()
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_PACKAGE_ROOT, path]))}
    main = f"import {module} as m; m.serve_from_argv()"
    command = [sys.executable, "-P", "-c", main, str(theirs.fileno()), *args]
    with theirs:
        process = subprocess.Popen(
            command,
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env=env,
        )
    return process, Connection(ours.detach())
