"""Who may call: source-address allow-lists for the provider callbacks, behind the PaaS router.

The router's X-Forwarded-For is trusted for exactly TRUSTED_PROXIES hops (werkzeug's ProxyFix,
applied in create_app); beyond that a client could forge it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from flask import Response, request

from wallet import wire

Networks = Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]


def client_in(networks: Networks) -> bool:
    """True when the request's (proxy-resolved) source address is inside one of ``networks``."""
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in networks)


def refused(networks: Networks) -> Response | None:
    """A 403 answer when an allow-list is set and the caller is not on it; None to go on."""
    if not networks or client_in(networks):
        return None
    return wire.error_response(403, "forbidden_source", "this address may not call this endpoint")
