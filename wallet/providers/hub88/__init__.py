"""Hub88 (operator Wallet API): RSA-signed callbacks, session tokens, and the Games API client."""

from __future__ import annotations

from datetime import timedelta

from wallet.providers import Provider
from wallet.providers.hub88 import callbacks, client, openapi, settings, sim

PROVIDER = Provider(
    name=callbacks.PROVIDER,
    init_app=callbacks.init_app,
    client=client.for_account,
    openapi=openapi.paths,
    sign=client.sign_as_hub88,
    banner=lambda a, base: [
        ("Hub88 callbacks", f"{base}{callbacks.base_path(a)}/<path>"),
        ("Hub88 signatures", "wallet sign --provider hub88 BODY (the demo key pair)"),
    ],
    settings=settings.load,
    id_horizon=timedelta(days=122),  # Hub88 keeps transaction ids 4 months (reconciliation)
    launch_fields=client.LAUNCH_FIELDS,
    simulator=sim.for_account,
)
