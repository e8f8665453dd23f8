"""The round state machine and its SQLite store."""
