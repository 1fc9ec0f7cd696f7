"""GitSlotPark ("agent" protocol): callbacks, their schemas, and the platform API client."""

from __future__ import annotations

from typing import Any

import requests

from wallet.core.store import Store
from wallet.providers import Provider
from wallet.providers.gitslotpark import callbacks, openapi, settings
from wallet.providers.gitslotpark.client import GitSlotParkClient
from wallet.providers.gitslotpark.settings import GitSlotPark


def _client(account: GitSlotPark, http: requests.Session, timeout: float, store: Store) -> Any:
    return GitSlotParkClient(account, http, timeout) if account.api_url and account.api_token else None


PROVIDER = Provider(
    name=callbacks.PROVIDER,
    settings=settings.load,
    init_app=callbacks.init_app,
    client=_client,
    openapi=openapi.paths,
    sign=callbacks.sign_of,
    banner=lambda a, base: [
        ("GitSlotPark agentID", a.agent_id),
        ("GitSlotPark secret key", a.secret_key),
        ("GitSlotPark callbacks", f"{base}/gitslotpark/<operation>"),
    ],
)
