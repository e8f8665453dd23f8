"""``python -m al_object_detection.cli``: the same as the ``alod`` script."""

import sys

from al_object_detection.cli import main

if __name__ == "__main__":  # not when a spawned worker process imports it
    sys.exit(main())
