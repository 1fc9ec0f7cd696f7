"""The game aggregators: one sub-package each (callbacks, schemas, platform client)."""
