"""The long-running process, its scheduler and the operator CLI (``alod``)."""
