"""``python -m al_object_detection.cli``: the same as the ``alod`` script."""

import sys

from al_object_detection.cli import main

sys.exit(main())
