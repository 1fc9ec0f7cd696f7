"""GitSlotPark ("agent" protocol): callbacks, their schemas, and the platform API client."""

from __future__ import annotations

from typing import Any

import requests

from wallet.config import GitSlotPark
from wallet.core.store import Store
from wallet.providers import Provider
from wallet.providers.gitslotpark import callbacks, openapi
from wallet.providers.gitslotpark.client import GitSlotParkClient


def _client(account: GitSlotPark, http: requests.Session, timeout: float, store: Store) -> Any:
    return GitSlotParkClient(account, http, timeout) if account.api_url and account.api_token else None


PROVIDER = Provider(
    name=callbacks.PROVIDER,
    accounts=lambda settings: settings.gitslotpark,
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
