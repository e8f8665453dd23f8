"""CVAT: its REST API, shape conversion and the annotator the engine talks to."""
