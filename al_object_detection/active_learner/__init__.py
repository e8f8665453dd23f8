"""The original module's import path for the learner (see :mod:`al_object_detection.learner`)."""
