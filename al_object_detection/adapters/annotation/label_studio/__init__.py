"""Label Studio: its REST API, result conversion and the annotator the engine talks to."""
