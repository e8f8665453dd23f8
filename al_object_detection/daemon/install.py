"""``alod install-service``: the systemd unit for a project, rendered from its ``alod.toml``.

The unit runs ``alod run`` as ``Type=notify`` (READY after recovery, STATUS lines, WATCHDOG
pings), restarts on failure but not after a config error (exit 78) or a folder it cannot write
(exit 73), keeps its state in ``StateDirectory=`` and gets secrets through ``LoadCredential=``
(files only root reads; the unit never holds a secret). Hardened, with the GPU left visible.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from al_object_detection.adapters.annotation.backends import backend
from al_object_detection.daemon import exitcodes
from al_object_detection.daemon.settings import DaemonConfig

_STATE_ROOT = Path("/var/lib")


@dataclass(frozen=True)
class UnitSpec:
    """What the unit file says."""

    name: str
    description: str
    alod: Path
    config: Path
    user: str
    backend: str
    writable: tuple[Path, ...]
    credentials_dir: Path
    stop_timeout_s: int


def unit_spec(
    config: DaemonConfig,
    config_path: Path,
    *,
    name: str | None = None,
    user: str = "alod",
    credentials_dir: Path = Path("/etc/alod/credentials"),
    alod: Path | None = None,
) -> UnitSpec:
    """The unit for ``config``: the folders it writes outside its state dir are listed."""
    unit = name or f"alod-{config.project.name}"
    state = _STATE_ROOT / unit
    settings = config.daemon
    folders = [*settings.watch, settings.quarantine, settings.image_store, config.project.state_dir]
    folders += [settings.metrics_file.parent, settings.log_file.parent]
    if config.project.database_dir is not None:
        folders.append(config.project.database_dir)
    writable = sorted({f.absolute() for f in folders if not f.absolute().is_relative_to(state)})
    return UnitSpec(
        name=unit,
        description=f"Active learning for object detection: project {config.project.name}",
        alod=alod or _alod_executable(),
        config=config_path.absolute(),
        user=user,
        backend=config.project.backend,
        writable=tuple(writable),
        credentials_dir=credentials_dir,
        stop_timeout_s=int(settings.shutdown_timeout_s) + 15,
    )


def render_unit(spec: UnitSpec) -> str:
    """The unit file's text."""
    credentials = (
        "\n".join(
            f"LoadCredential={key}:{spec.credentials_dir / key}"
            for key in backend(spec.backend).credentials
        )
        or "# (the oracle needs no credentials)"
    )
    writable = " ".join(f"-{path}" for path in spec.writable) or "-"
    return f"""\
# {spec.name}.service: made by `alod install-service`.
[Unit]
Description={spec.description}
After=network-online.target
Wants=network-online.target

[Service]
Type=notify
NotifyAccess=main
ExecStart={spec.alod} run --config {spec.config}
User={spec.user}
Group={spec.user}
StateDirectory={spec.name}
StateDirectoryMode=0750
WorkingDirectory=%S/{spec.name}
Environment=HOME=%S/{spec.name}
Environment=PYTHONUNBUFFERED=1
# Secrets: one root-only file each; the daemon reads $CREDENTIALS_DIRECTORY/<name>.
{credentials}

Restart=on-failure
RestartSec=10s
# {exitcodes.CONFIG}: the config is wrong, {exitcodes.CANTCREAT}: a folder is not writable.
# A restart cannot fix either: no restart loop.
RestartPreventExitStatus={exitcodes.CONFIG} {exitcodes.CANTCREAT}
TimeoutStartSec=15min
TimeoutStopSec={spec.stop_timeout_s}s
WatchdogSec=2min
# SIGTERM to the daemon only: it stops its worker and records the interrupted step itself.
KillMode=mixed

NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
ReadWritePaths={writable}
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
LockPersonality=yes
SystemCallArchitectures=native
CapabilityBoundingSet=
UMask=0027
# The GPU: no PrivateDevices= or DevicePolicy=closed, so /dev/nvidia* stay usable; no
# MemoryDenyWriteExecute= (CUDA and PyTorch's JIT need writable code pages).

[Install]
WantedBy=multi-user.target
"""


def install_unit(spec: UnitSpec, dest: Path) -> Path:
    """Write the unit file into ``dest``; returns its path."""
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / f"{spec.name}.service"
    path.write_text(render_unit(spec), encoding="utf-8")
    return path


def next_steps(spec: UnitSpec, path: Path) -> str:
    """What the operator does after the unit file is written."""
    keys = backend(spec.backend).credentials
    secrets = [
        f"  install -d -m 0700 {spec.credentials_dir}",
        *(f"  install -m 0600 /dev/stdin {spec.credentials_dir / key}  # paste it" for key in keys),
    ]
    return "\n".join(
        [
            f"wrote {path}",
            f"  useradd --system --home-dir /var/lib/{spec.name} --shell /usr/sbin/nologin "
            f"{spec.user}",
            *(secrets if keys else []),
            "  systemctl daemon-reload",
            f"  systemctl enable --now {spec.name}",
            f"  journalctl -u {spec.name} -o cat -f | alod logs -",
        ]
    )


def _alod_executable() -> Path:
    beside = Path(sys.executable).parent / "alod"
    found = shutil.which("alod")
    return beside if beside.exists() else Path(found) if found else beside
