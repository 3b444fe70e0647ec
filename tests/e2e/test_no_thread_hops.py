"""No per-request callable of ours runs in a worker thread.

Litestar runs a sync guard, dependency, hook or handler through
``anyio.to_thread`` (wrapping it in ``AsyncCallable``) unless it is declared
``sync_to_thread=False``: a thread hop for a few lines of work, measured at
a fifth of a referral apply's CPU. Every route of the standalone app is
checked, the plugin's and the page's.
"""

from __future__ import annotations

from typing import Any

from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.utils.sync import AsyncCallable

from referrals.adapters.memory import RecordingSmsGateway
from referrals.entrypoints.http import create_app
from referrals.service import Adapters
from referrals.settings import Settings


def _handlers() -> list[HTTPRouteHandler]:
    settings = Settings(secret_key=b"k" * 32, cookie_secure=False)
    app = create_app(settings, adapters=Adapters.in_memory(sms_gateway=RecordingSmsGateway()))
    return [
        handler
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
    ]


def _threaded(handler: HTTPRouteHandler) -> list[str]:
    found: list[Any] = []
    found += [g for g in handler.resolve_guards() if isinstance(g, AsyncCallable)]
    found += [
        p.dependency
        for p in handler.resolve_dependencies().values()
        if isinstance(p.dependency, AsyncCallable)
    ]
    hooks = [
        handler.resolve_before_request(),
        handler.resolve_after_response(),
        *(getattr(layer, "after_request", None) for layer in handler.ownership_layers),
    ]
    found += [hook for hook in hooks if isinstance(hook, AsyncCallable)]
    if isinstance(handler.fn, AsyncCallable):
        found.append(handler.fn)
    return [f"{handler.handler_name}: {getattr(f, 'func', f)!r}" for f in found]


def test_the_app_has_routes_to_check() -> None:
    names = {handler.handler_name for handler in _handlers()}
    assert {"login", "verify", "apply_referral", "read_profile", "logout"} <= names


def test_no_guard_dependency_hook_or_handler_runs_in_a_thread() -> None:
    threaded = [entry for handler in _handlers() for entry in _threaded(handler)]
    assert threaded == []
