"""Tests of the daemon, drop-folder ingestion and the operator commands."""
