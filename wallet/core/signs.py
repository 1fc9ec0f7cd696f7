"""One signature, one body: the registry of provider signatures the wallet accepted (lua/claim.lua).

A provider's signature covers a text made from the body, and for GitSlotPark (values concatenated
with no separator) or iGamingAce (values sorted and joined, keys not signed) that text can be
read as another body: a captured callback re-cut across its fields, or with two values swapped,
carries the same valid signature. So before a signed callback moves money, its signature is
claimed with a fingerprint of the body it came with; the same signature with another body is
refused. The registry lives as transaction records (pseudo-provider ``<provider>.sign``), so it
is kept in full for the retention, in SQL and the aged-id filter up to the horizon after that.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from wallet.core.store import SHARDS, shard_of

#: Buckets of the registry (pseudo-players) in each ledger shard. Each shard holding as many, the
#: claims, their records and their aged ids spread over the shards as evenly as the digests do
#: (the aged-id filter is sized per shard for an even share: a shard holding more would answer
#: more false positives); 256 buckets in all, so each stays a small hash.
SHARD_BUCKETS = 4


def _buckets() -> tuple[str, ...]:
    """SHARD_BUCKETS pseudo-player names per ledger shard, the first found among 'sign:0',
    'sign:1', ... (shard_of is a CRC: stable across processes and versions)."""
    found: dict[int, list[str]] = {shard: [] for shard in range(SHARDS)}
    n = 0
    while any(len(names) < SHARD_BUCKETS for names in found.values()):
        name = f"sign:{n}"
        if len(found[shard_of(name)]) < SHARD_BUCKETS:
            found[shard_of(name)].append(name)
        n += 1
    return tuple(name for shard in range(SHARDS) for name in found[shard])


BUCKETS = _buckets()


def registry(provider: str, kind: str = "sign") -> str:
    """The pseudo-provider whose records are the provider's accepted signatures ('sign'), or the
    provider's transaction ids where one id may name one request across all players ('tx')."""
    return f"{provider}.{kind}"


def claim_id(signature: str) -> tuple[str, str]:
    """(bucket, record id) of a signature: a 96-bit digest, so that two signatures the wallet
    accepts never share one (24 hex digits kept per signature, whatever its length)."""
    digest = hashlib.blake2b(signature.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
    return BUCKETS[int(digest[:8], 16) % len(BUCKETS)], digest


def body_text(operation: str, values: dict[str, Any]) -> str:
    """The canonical text of a signed body: its operation and every value but the signature, by
    name (so a value moved to another field is another body)."""
    return json.dumps([operation, sorted((name, str(value)) for name, value in values.items())])
