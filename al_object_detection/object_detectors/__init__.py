"""The original module's import path for the detectors (they live in ``adapters``)."""
