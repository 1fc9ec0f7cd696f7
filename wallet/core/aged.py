"""The aged-id filter: transaction ids whose full records left Redis, remembered in Bloom filters.

A replay of an old id must be recognised without SQL being asked about every new id. So when
the snapshot job moves a record out of Redis (lua/prune.lua) it sets the id's bits in a Bloom
filter kept in a Redis bitmap, and every money script checks the filter for an id it does not
find in the tx hash: a hit sends the id to SQL (the record comes back, the answer is the first
one), a miss means the id is new. A false positive costs one SQL lookup, nothing more.

Generations (a scalable Bloom filter): the job writes into one generation at a time, a bitmap
per shard (``<prefix>:{sN}:aged:<gen>``) sized for the ids it plans to hold. It opens the next
generation when the current one has held its planned ids (the next plans twice as many) or has
been open for a third of the horizon, and deletes a generation a horizon after it was closed.
So every id stays recognised for at least the horizon, no generation is ever filled past its
plan (false positives stay at ~0.1 % each), and over years the filter holds about 4/3 of a
horizon of ids and no more. The plan: 1.5 x the daily transactions, the rate taken from the
last day, hour or five minutes, whichever is highest, over the generation's period, but never
more than fits in STEP_SHARE of the Redis memory left below the soft limit (wallet/ops/guard.py):
a generation is one allocation, so it grows in steps sized from the Redis actually there (at
least MIN_IDS per shard, 14 kB in all). A smaller generation fills its plan sooner and the next
one is sized again from what is left then.

The live generations are listed, newest first as 'gen:bits,...', in each shard's directory key
``<prefix>:{sN}:aged``. Web processes cache it and pass their copy to the scripts, which answer
STALE when it is not the current one (the caller then learns it and calls again): a new
generation is in every directory before the job writes an id into it, so no check misses it.
Bytes per remembered id: 14 bits = 1.75 at the plan, ~2.6 with the plan's slack.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

BITS_PER_ID = 14  # with lua/_shared.lua's 10 probes: ~0.1 % false positives per full generation
MIN_IDS = 128  # per shard: 224 bytes, 14 kB for the 64 shards
STEP_SHARE = 0.25  # of the memory left below the soft limit, the most one new generation may take


@dataclass
class Generation:
    """One generation of the aged-id filter, as the job keeps it."""

    id: int
    bits: int  # per shard
    planned: int  # ids, over all shards
    created: float  # unix seconds
    closed: float | None = None  # when the job stopped writing into it
    count: int = 0  # ids written into it


def probe(provider: str, player: str, tx: str) -> str:
    """The two 32-bit hashes the scripts derive an id's bit positions from, as 'h1:h2'."""
    digest = hashlib.blake2b(f"{provider}|{player}|{tx}".encode(), digest_size=8).digest()
    return f"{int.from_bytes(digest[:4], 'big')}:{int.from_bytes(digest[4:], 'big') | 1}"


def directory(generations: list[Generation]) -> str:
    """The directory the scripts read: 'gen:bits' of each live generation, newest first."""
    return ",".join(f"{g.id}:{g.bits}" for g in generations)


def generation_ids(text: str) -> list[str]:
    """The generation ids of a directory, in its order."""
    return [part.split(":", 1)[0] for part in text.split(",") if part]


def affordable(planned: int, room: int | None, shards: int) -> int:
    """The ids a new generation may plan for with ``room`` bytes left below the soft limit (None:
    unknown, e.g. INFO not allowed): its bitmaps take at most STEP_SHARE of the room, and never
    less than MIN_IDS per shard."""
    if room is not None:
        planned = min(planned, int(max(0, room) * STEP_SHARE * 8 / BITS_PER_ID))
    return max(planned, MIN_IDS * shards)


def bits_for(planned: int, shards: int) -> int:
    """Bits of one shard's bitmap for a generation planned to hold ``planned`` ids in all shards."""
    per_shard = max(MIN_IDS, math.ceil(planned / shards))
    return math.ceil(per_shard * BITS_PER_ID / 64) * 64
