"""Hub88 as a test plays it: a key pair made for the test session, signed raw bodies, exact replies."""

from __future__ import annotations

import functools
import json
import uuid
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from flask.testing import FlaskClient

from wallet.providers.hub88 import signature


@functools.cache
def key(name: str = "hub88") -> RSAPrivateKey:
    """A 2048-bit RSA key made once per test session (``name``: which party's)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(private: RSAPrivateKey) -> str:
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def private_pem(private: RSAPrivateKey) -> str:
    encoding, form = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
    return private.private_bytes(encoding, form, serialization.NoEncryption()).decode()


def env() -> dict[str, str]:
    """The variables that enable Hub88 with the test's key (one account of any currency)."""
    return {"HUB88_PUBLIC_KEY": public_pem(key())}


class Hub88:
    """Signed Wallet API calls to one account's base path; ``self.exact`` is the last raw reply."""

    def __init__(self, client: FlaskClient, base: str = "/hub88", private: RSAPrivateKey | None = None) -> None:
        self.client, self.base, self.key = client, base, private or key()

    def post(self, path: str, raw: bytes, sign: str | None = None) -> dict[str, Any]:
        header = signature.sign(self.key, raw) if sign is None else sign
        response = self.client.post(
            self.base + path, data=raw, headers={signature.HEADER: header}, content_type="application/json"
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.content_type == "application/json"
        return response.get_json()  # type: ignore[no-any-return]

    def call(self, path: str, **fields: Any) -> dict[str, Any]:
        body = {"request_uuid": str(uuid.uuid4()), **fields}
        return self.post(path, json.dumps(body).encode())

    def info(self, user: str) -> dict[str, Any]:
        return self.call("/user/info", user=user)

    def balance(self, user: str, token: str) -> dict[str, Any]:
        return self.call("/user/balance", user=user, token=token, game_code="g1")

    def bet(self, user: str, token: str, amount: int, tx: str, currency: str = "EUR", **extra: Any) -> dict[str, Any]:
        fields = {"round": "r1", "game_code": "g1", "reference_transaction_uuid": None, **extra}
        fields = {k: v for k, v in fields.items() if v is not None}
        return self.call(
            "/transaction/bet", user=user, token=token, amount=amount, transaction_uuid=tx, currency=currency, **fields
        )

    def win(
        self, user: str, amount: int, tx: str, bet: str | None, currency: str = "EUR", **extra: Any
    ) -> dict[str, Any]:
        fields = {"round": "r1", "game_code": "g1", "token": "any", **extra}
        if bet is not None:
            fields["reference_transaction_uuid"] = bet
        return self.call("/transaction/win", user=user, amount=amount, transaction_uuid=tx, currency=currency, **fields)

    def rollback(self, user: str, tx: str, bet: str, **extra: Any) -> dict[str, Any]:
        fields = {"round": "r1", "game_code": "g1", "token": "any", "currency": "EUR", **extra}
        return self.call(
            "/transaction/rollback", user=user, transaction_uuid=tx, reference_transaction_uuid=bet, **fields
        )
