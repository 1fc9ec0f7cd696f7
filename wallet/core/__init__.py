"""The core: players and money as outcomes (wallet.py) on the Redis store and its Lua scripts (store.py)."""
