"""The seamless wallet: a Flask service whose provider callbacks move players' money in Redis."""

from __future__ import annotations

import contextlib
import hmac
import logging
from collections.abc import Mapping
from typing import Any

import redis
import sqlalchemy as sa
from flask import Blueprint, Flask, Response, g, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from wallet import config, providers, wire
from wallet.context import Services, services
from wallet.core.store import UNAVAILABLE, Store, connect
from wallet.core.wallet import Wallet
from wallet.errors import StoreFull, StoreUnavailable
from wallet.ledger import db, history
from wallet.ledger.archive import SqlArchive
from wallet.operator import api as operator_api
from wallet.operator import audit, backoffice, games, openapi, protection, staff_pages
from wallet.ops import access, guard, metrics, observe, requestlog
from wallet.providers import platform

#: Largest request body accepted (HTTP 413 above it); callbacks are a few hundred bytes.
MAX_BODY_BYTES = 64 * 1024

log = logging.getLogger("wallet")


def create_app(env: Mapping[str, str] | None = None, client: redis.Redis | None = None) -> Flask:
    """Build the service from ``env`` (default: the process environment).

    ``client`` replaces the Redis client that REDIS_URL would give (tests pass fakeredis).
    """
    settings = config.load(env)
    store = Store(
        client if client is not None else connect(settings.redis_url),
        settings.key_prefix,
        settings.aged_horizon,
        settings.redis_soft_limit / 100,
    )
    if not settings.embedded:
        _refuse_evicting(store)
    app = Flask(__name__)
    if settings.trusted_proxies:
        # X-Forwarded-For and -Proto, each trusted for exactly that many hops (Secure cookies follow -Proto)
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES + 1  # a byte more shows a body past the limit
    app.before_request(_body_within_limit)
    engine = db.connect(settings.database_url)
    wallet = Wallet(store, SqlArchive(engine), settings.limit_zone)
    app.extensions["wallet"] = Services(
        settings, store, wallet, engine, _platforms(settings, store), guard.Watch(store.client)
    )
    app.register_blueprint(_nested(operator_api.bp, audit.bp, games.bp, history.bp, protection.bp))
    for provider in providers.registry():
        if accounts := provider.accounts(settings):
            provider.init_app(app, accounts, wallet)
    app.add_url_rule("/healthz", "healthz", _healthz)
    app.add_url_rule("/metrics", "metrics", _metrics)
    document = openapi.build(settings)
    app.add_url_rule("/openapi.json", "openapi", lambda: wire.json_response(document))
    backoffice.init_app(app, settings)
    app.register_blueprint(_nested(backoffice.bp, staff_pages.bp))
    observe.configure(settings.log_format)
    observe.init_app(app)
    app.register_error_handler(StoreUnavailable, _store_unavailable)
    app.register_error_handler(sa.exc.SQLAlchemyError, _database_unavailable)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    return app


def _nested(parent: Blueprint, *children: Blueprint) -> Blueprint:
    """``parent`` with ``children`` nested in it (their routes behind its hooks). Flask fixes a
    blueprint's children at its first registration on an app, so they are nested once per process."""
    if not parent._got_registered_once:
        for child in children:
            parent.register_blueprint(child)
    return parent


def _body_within_limit() -> None:
    """413 for a body past MAX_BODY_BYTES, chunked or not: werkzeug reads a chunked body only up
    to MAX_CONTENT_LENGTH, and would hand the view the first 64 KiB as if it were all of it."""
    length = request.content_length
    if length is not None:
        if length > MAX_BODY_BYTES:
            raise RequestEntityTooLarge()
    elif "chunked" in request.headers.get("Transfer-Encoding", "").lower() and len(request.get_data()) > MAX_BODY_BYTES:
        raise RequestEntityTooLarge()


def _refuse_evicting(store: Store) -> None:
    """ConfigError on an evicting Redis; an unreachable one is let through (healthz reports it)."""
    with contextlib.suppress(*UNAVAILABLE):
        guard.refuse_evicting(store.client)


def _platforms(settings: config.Settings, store: Store) -> dict[str, dict[str | None, Any]]:
    """Per provider, the platform-API client of each account whose platform credentials are
    configured, by the account's currency (None: the single account of any currency)."""
    http, timeout = platform.session(), settings.platform_timeout
    clients: dict[str, dict[str | None, Any]] = {}
    for provider in providers.registry():
        for account in provider.accounts(settings):
            if (client := provider.client(account, http, timeout, store)) is not None:
                clients.setdefault(provider.name, {})[account.currency] = client
    return clients


def _healthz() -> Response:
    if not services().store.ping():
        return wire.error_response(503, "store_unavailable", "Redis does not answer")
    problem = services().redis_watch.problem()
    if problem:
        return wire.error_response(503, "redis_evicts", problem)
    return wire.json_response({"status": "ok"})


def _metrics() -> Response:
    """Prometheus text; open to METRICS_ALLOW addresses, else the operator's bearer key."""
    settings = services().settings
    allowed = bool(settings.metrics_allow) and access.client_in(settings.metrics_allow)
    given = request.headers.get("Authorization", "").encode()
    if not allowed and not hmac.compare_digest(given, b"Bearer " + settings.operator_api_key.encode()):
        return wire.error_response(
            401, "unauthorized", "Authorization: Bearer <OPERATOR_API_KEY> required", **{"WWW-Authenticate": "Bearer"}
        )
    requestlog.flush()  # this process's pending samples; other workers' are at most 0.2 s late
    return Response(metrics.exposition(services()), mimetype="text/plain; version=0.0.4")


def _store_unavailable(exc: StoreUnavailable) -> Response:
    if isinstance(exc, StoreFull):
        observation = g.get("observation")
        metrics.REDIS_FULL.labels((observation and observation.provider) or "api").inc()
        log.warning("redis memory full: %s", exc)
        message = "the wallet store is full (Redis past its soft limit or at maxmemory); nothing applied; retry later"
        return wire.error_response(503, "store_full", message, **{"Retry-After": "5"})
    log.warning("store unavailable: %s", exc)
    return wire.error_response(
        503, "store_unavailable", "the wallet store is unreachable; retry later", **{"Retry-After": "1"}
    )


def _database_unavailable(exc: sa.exc.SQLAlchemyError) -> Response:
    log.warning("database unavailable: %s", exc.__class__.__name__)
    message = "the durable store is unreachable or not migrated (wallet migrate); callbacks are unaffected"
    return wire.error_response(503, "database_unavailable", message, **{"Retry-After": "5"})


def _http_error(exc: HTTPException) -> Response:
    code = (exc.name or "error").lower().replace(" ", "_")
    response = wire.error_response(exc.code or 500, code, exc.description or code)
    if exc.code == 413:  # the body was not read to its end: this connection cannot carry another request
        response.headers["Connection"] = "close"
    return response


def _unexpected(exc: Exception) -> Response:
    log.exception("unexpected error")
    return wire.error_response(500, "internal_error", "unexpected error; see the service log")
