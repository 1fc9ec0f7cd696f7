"""iGamingAce ("command" protocol): callbacks with their schemas, and the platform API client."""

from __future__ import annotations

from marshmallow import fields

from wallet.providers import Provider
from wallet.providers.igamingace import callbacks, openapi, settings
from wallet.providers.igamingace.client import IGamingAceClient

PROVIDER = Provider(
    name=callbacks.PROVIDER,
    settings=settings.load,
    init_app=callbacks.init_app,
    client=IGamingAceClient,
    openapi=openapi.paths,
    sign=lambda account, operation, body: callbacks.signature_of(account.api_token, body),
    banner=lambda a, base: [
        ("iGamingAce API token", a.api_token),
        ("iGamingAce callback", f"{base}/igamingace/{a.name}" if a.name else f"{base}/igamingace"),
    ],
    names_grants=True,
    launch_fields={
        "provider_id": fields.String(data_key="providerId", load_default=None),  # the game's provider
        "is_streamer": fields.Boolean(data_key="isStreamer", load_default=False, truthy={True}, falsy={False}),
    },
)
