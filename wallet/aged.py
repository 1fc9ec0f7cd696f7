"""The aged-id filter: transaction ids whose full records left Redis, remembered in Bloom filters.

A replay of an old id must be recognised without SQL being asked about every new id. So when
the snapshot job moves a record out of Redis (lua/prune.lua) it sets the id's bits in a Bloom
filter kept in a Redis bitmap, and every money script checks the filter for an id it does not
find in the tx hash: a hit sends the id to SQL (the record comes back, the answer is the first
one), a miss means the id is new. A false positive costs one SQL lookup, nothing more.

Generations: per ledger shard, one bitmap per period of ``horizon / 3``
(``<prefix>:{sN}:aged:<g>``, g = unix seconds // period). Scripts check the four newest, so an
id stays recognised for at least the horizon after it left Redis and at most 4/3 of it; the job
deletes older generations. Each bitmap is sized once, when the job first writes to it, at
BITS_PER_ID bits for every id it expects (1.5 x the last day's transactions, scaled to the
period); 7 probes at that fill give ~0.8 % false positives. Bytes per remembered id: ~1.25 at
the planned fill, up to ~2.5 while the oldest generation waits to be dropped.
"""

from __future__ import annotations

import hashlib
import math

GENERATIONS = 4  # checked by every money script: the last four KEYS
BITS_PER_ID = 10
MIN_IDS = 1024  # per shard and generation: ~1.3 kB
SKEW_SECONDS = 300  # the job writes into the generation of five minutes ago (clocks differ)


def probe(provider: str, player: str, tx: str) -> str:
    """The two 32-bit hashes the scripts derive an id's bit positions from, as 'h1:h2'."""
    digest = hashlib.blake2b(f"{provider}|{player}|{tx}".encode(), digest_size=8).digest()
    return f"{int.from_bytes(digest[:4], 'big')}:{int.from_bytes(digest[4:], 'big') | 1}"


def generation_bits(expected_ids: int, shards: int) -> int:
    """Bits of one shard's bitmap for a generation expected to hold ``expected_ids`` in all shards."""
    per_shard = max(MIN_IDS, math.ceil(expected_ids / shards))
    return math.ceil(per_shard * BITS_PER_ID / 64) * 64
