"""Annotation backends: the protocol, HTTP plumbing, pre-labels, credentials, the oracle,
CVAT and Label Studio."""
