"""Hub88's accounts, read from the environment (HUB88_*; docs/providers/hub88.md).

Hub88 is served only when a public key is set: ``HUB88_PUBLIC_KEY`` for one account of any
currency, or ``HUB88_ACCOUNTS=eur:EUR,...`` with ``HUB88_PUBLIC_KEY_<NAME>`` each. The embedded
mode (no REDIS_URL) plays Hub88 with the demo key pair shipped beside this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from wallet.config import named_accounts, required, setting, url_setting
from wallet.core import money
from wallet.errors import ConfigError

#: Hub88's production Games API; HUB88_API_URL points elsewhere (their staging, a fake).
DEFAULT_API_URL = "https://api.hub88.io"
#: Amounts on Hub88's wire are integers in 1/100000 of the major unit: a currency with more
#: decimals cannot be answered exactly.
WIRE_EXPONENT = 5
#: The demo key pair of the embedded mode: it plays Hub88 (signs callbacks) and the operator.
DEMO_KEY = resources.files("wallet.providers.hub88") / "demo_key.pem"


@dataclass(frozen=True)
class Hub88:
    """A Hub88 account: its callbacks are served under /hub88 (or /hub88/<name>)."""

    public_key: RSAPublicKey  # Hub88's: verifies X-Hub88-Signature
    private_key: RSAPrivateKey | None  # the operator's: signs Games API calls (launch, game list)
    operator_id: int | None
    api_url: str
    name: str = ""  # HUB88_ACCOUNTS' name; '' = the single account of the plain variables
    currency: str | None = None  # the one currency of its players; None = any with at most 5 decimals
    signing_key: RSAPrivateKey | None = None  # Hub88's own private key: known in the demo only
    # (or given to tools as HUB88_SIMULATOR_KEY), for `wallet sign` and the simulator


def load(env: Mapping[str, str], embedded: bool) -> tuple[Hub88, ...]:
    """The accounts of HUB88_ACCOUNTS, else the single account of HUB88_PUBLIC_KEY (the demo one
    when embedded and unset); () when Hub88 is not configured."""
    named = named_accounts(env, "HUB88_ACCOUNTS", ("HUB88_PUBLIC_KEY",))
    if named:
        return tuple(_account(env, name, currency) for name, currency in named)
    if setting(env, "HUB88_PUBLIC_KEY") is not None:
        return (_account(env, "", None),)
    if embedded:
        demo = _private(DEMO_KEY.read_bytes(), "the demo key")
        signing = _optional_private(env, "HUB88_SIMULATOR_KEY") or demo  # tools may sign for another wallet
        return (Hub88(demo.public_key(), demo, 1, _api_url(env, ""), signing_key=signing),)
    return ()


def _account(env: Mapping[str, str], name: str, currency: str | None) -> Hub88:
    suffix = f"_{name.upper()}" if name else ""
    if currency is not None and (money.exponent(currency) or 0) > WIRE_EXPONENT:
        raise ConfigError(f"HUB88_ACCOUNTS: {currency} has more than {WIRE_EXPONENT} decimals; Hub88's wire has 5")
    public_name = f"HUB88_PUBLIC_KEY{suffix}"
    public = _public(_pem(public_name, required(env, public_name)), public_name)
    private = _optional_private(env, f"HUB88_PRIVATE_KEY{suffix}")
    simulator = _optional_private(env, f"HUB88_SIMULATOR_KEY{suffix}")
    return Hub88(
        public_key=public,
        private_key=private,
        operator_id=_operator_id(env, f"HUB88_OPERATOR_ID{suffix}"),
        api_url=_api_url(env, suffix),
        name=name,
        currency=currency,
        signing_key=simulator,
    )


def _api_url(env: Mapping[str, str], suffix: str) -> str:
    return url_setting(env, f"HUB88_API_URL{suffix}") or url_setting(env, "HUB88_API_URL") or DEFAULT_API_URL


def _operator_id(env: Mapping[str, str], name: str) -> int | None:
    text = setting(env, name)
    if text is not None and not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise ConfigError(f"{name}: Hub88's operator id, a whole number")
    return None if text is None else int(text)


def _optional_private(env: Mapping[str, str], name: str) -> RSAPrivateKey | None:
    text = setting(env, name)
    return None if text is None else _private(_pem(name, text), name)


def _private(pem: bytes, name: str) -> RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{name}: not an unencrypted PEM private key") from exc
    if not isinstance(key, RSAPrivateKey):
        raise ConfigError(f"{name}: not an RSA private key")
    return key


def _pem(name: str, text: str) -> bytes:
    """PEM text (real or \\n-escaped newlines, as a PaaS dashboard keeps them) or a PEM file's path."""
    if text.startswith("-----BEGIN"):
        pem = text.replace("\\n", "\n").encode()
    else:
        path = Path(text)
        if not path.is_file():
            raise ConfigError(f"{name}: PEM text (-----BEGIN ...) or the path of a PEM file; no file {text!r}")
        pem = path.read_bytes()
    return pem


def _public(pem: bytes, name: str) -> RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{name}: not a PEM public key (-----BEGIN PUBLIC KEY-----)") from exc
    if not isinstance(key, RSAPublicKey):
        raise ConfigError(f"{name}: not an RSA public key")
    return key
