"""The daemon's exit codes (``sysexits.h`` where one fits); the unit file refers to them."""

OK = 0
NEEDS_OPERATOR = 1  # only with --until-done: a round failed more often than allowed
CANTCREAT = 73  # the state dir (or another folder the daemon writes) cannot be written
LOCKED = 75  # another daemon runs this project (temporary: systemd may restart)
CONFIG = 78  # the config is wrong: restarting cannot help (RestartPreventExitStatus)
