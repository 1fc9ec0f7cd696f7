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

#: Hex digits of the digest naming the registry's bucket (a pseudo-player): 256 buckets, so
#: buckets spread over the shards and each stays a small hash.
BUCKET_DIGITS = 2


def registry(provider: str) -> str:
    """The pseudo-provider whose records are the provider's accepted signatures."""
    return f"{provider}.sign"


def claim_id(signature: str) -> tuple[str, str]:
    """(bucket, record id) of a signature: a 96-bit digest, so that two signatures the wallet
    accepts never share one (24 hex digits kept per signature, whatever its length)."""
    digest = hashlib.blake2b(signature.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
    return f"sign:{digest[:BUCKET_DIGITS]}", digest


def body_text(operation: str, values: dict[str, Any]) -> str:
    """The canonical text of a signed body: its operation and every value but the signature, by
    name (so a value moved to another field is another body)."""
    return json.dumps([operation, sorted((name, str(value)) for name, value in values.items())])
