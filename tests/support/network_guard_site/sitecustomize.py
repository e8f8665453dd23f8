"""Loaded at start-up by every Python process with this folder on ``PYTHONPATH``.

Where ``NETWORK_GUARD_REPORT`` is set, it installs :mod:`network_guard` (one folder up) before
anything else runs, so a test's child processes, and theirs, are guarded too.
"""

from __future__ import annotations

import os
import sys

if os.environ.get("NETWORK_GUARD_REPORT"):
    sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import network_guard  # noqa: F401  (installs the guard)
