"""iGamingAce ("command" protocol): callbacks with their schemas, and the platform API client."""

from __future__ import annotations

from wallet.providers import Provider
from wallet.providers.igamingace import callbacks, openapi
from wallet.providers.igamingace.client import IGamingAceClient

PROVIDER = Provider(
    name=callbacks.PROVIDER,
    accounts=lambda settings: settings.igamingace,
    init_app=callbacks.init_app,
    client=IGamingAceClient,
    openapi=openapi.paths,
    sign=lambda account, operation, body: callbacks.signature_of(account.api_token, body),
    names_grants=True,
)
