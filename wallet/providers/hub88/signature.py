"""X-Hub88-Signature: Base64 of an RSA PKCS#1 v1.5 SHA-256 signature over the raw body bytes."""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

HEADER = "X-Hub88-Signature"
#: Longest header read: a 8192-bit key's signature is 1,368 Base64 characters.
MAX_HEADER = 1400


def sign(key: RSAPrivateKey, body: bytes) -> str:
    """The header value for ``body`` signed with ``key``."""
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


def valid(key: RSAPublicKey, body: bytes, header: str) -> bool:
    """True when ``header`` is ``key``'s owner's signature of exactly these bytes."""
    if not header or len(header) > MAX_HEADER or not header.isascii():
        return False
    try:
        key.verify(base64.b64decode(header, validate=True), body, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
