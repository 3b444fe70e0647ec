"""The Litestar application factory."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from taskiq import InMemoryBroker

import referrals
from referrals.container import Container, UseCases, build_container, close, resolve_use_cases
from referrals.entrypoints.http.page import docs_render_plugins, docs_router, page_routes
from referrals.entrypoints.http.problems import EXCEPTION_HANDLERS
from referrals.entrypoints.http.routes_auth import health, login, logout, verify
from referrals.entrypoints.http.routes_profile import apply_referral, current_user_id, read_profile
from referrals.entrypoints.logs import configure_logging
from referrals.settings import Settings, load_settings

log = logging.getLogger("referrals.http")

DRAIN_SECONDS = 10.0
"""How long shutdown waits for in-process SMS deliveries still under way."""


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="referrals",
        version=referrals.__version__,
        description="Phone-number login with one-time SMS codes, and a referral program. "
        "Errors are RFC 9457 problem details with a stable `code`.",
        path="/docs",
        openapi_router=docs_router("/docs"),
        render_plugins=[*docs_render_plugins(), JsonRenderPlugin()],
        components=Components(
            security_schemes={
                "BearerToken": SecurityScheme(type="http", scheme="bearer"),
                "SessionCookie": SecurityScheme(
                    type="apiKey", name="referrals_session", security_scheme_in="cookie"
                ),
            }
        ),
    )


def create_app(settings: Settings | None = None, *, container: Container | None = None) -> Litestar:
    """Build the API. Without arguments, settings come from the environment.

    Tests pass a container with overridden providers (see
    :func:`~referrals.container.in_memory_container`).
    """
    if container is None:
        container = build_container(settings or load_settings())
    settings = container.settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.use_cases = await resolve_use_cases(container)
        broker = container.broker()
        await broker.startup()
        try:
            yield
        finally:
            if isinstance(broker, InMemoryBroker):
                await _drain(broker)
            await broker.shutdown()
            await close(container)

    def use_cases(state: State) -> UseCases:
        return state.use_cases  # type: ignore[no-any-return]

    return Litestar(
        route_handlers=[
            *page_routes(api_path="/api", docs_path="/docs"),
            health,
            login,
            verify,
            logout,
            read_profile,
            apply_referral,
        ],
        dependencies={
            "use_cases": Provide(use_cases, sync_to_thread=False),
            "settings": Provide(lambda: settings, sync_to_thread=False, use_cache=True),
            "user_id": Provide(current_user_id),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        openapi_config=_openapi(),
        request_max_body_size=settings.max_body_size,
        logging_config=None,  # configure_logging above; Litestar's would replace it
        debug=False,
    )


async def _drain(broker: InMemoryBroker) -> None:
    try:
        await asyncio.wait_for(broker.wait_all(), DRAIN_SECONDS)
    except TimeoutError:
        log.warning("shut down with SMS deliveries still under way")
