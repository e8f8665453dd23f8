"""Adapters: FiftyOne (the dataset), detectors (ultralytics, OWLv2) and annotation servers.

Each adapter sits behind a small ``typing.Protocol`` so the engine never knows which concrete
tool it talks to. Heavy libraries are imported lazily, inside the adapters' methods.
"""
