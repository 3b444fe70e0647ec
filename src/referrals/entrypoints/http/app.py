"""The standalone API: a Litestar app around :class:`ReferralsPlugin` mounted at
``/api``, with the page for people at ``/`` and the docs at ``/docs``."""

from __future__ import annotations

from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin

import referrals
from referrals.application.ports import EventSink
from referrals.application.sms_text import SmsText
from referrals.entrypoints.http.health import health_routes
from referrals.entrypoints.http.page import docs_render_plugins, docs_router, page_routes
from referrals.entrypoints.http.plugin import ReferralsPlugin
from referrals.entrypoints.http.problems import EXCEPTION_HANDLERS
from referrals.entrypoints.logs import configure_logging
from referrals.service import Adapters
from referrals.settings import Settings, load_settings

API_PATH = "/api"
DOCS_PATH = "/docs"


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="referrals",
        version=referrals.__version__,
        description="Phone-number login with one-time SMS codes, and a referral program. "
        "Errors are RFC 9457 problem details with a stable `code`.",
        path=DOCS_PATH,
        openapi_router=docs_router(DOCS_PATH),
        render_plugins=[*docs_render_plugins(), JsonRenderPlugin()],
    )


def create_app(
    settings: Settings | None = None,
    *,
    adapters: Adapters | None = None,
    hooks: EventSink | None = None,
    sms_text: SmsText | None = None,
) -> Litestar:
    """Build the standalone API. Without arguments, settings come from the
    environment; the keywords are those of :class:`ReferralsPlugin`."""
    settings = settings or load_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    plugin = ReferralsPlugin(
        settings, path=API_PATH, adapters=adapters, hooks=hooks, sms_text=sms_text
    )
    return Litestar(
        route_handlers=[
            *page_routes(api_path=API_PATH, docs_path=DOCS_PATH),
            *health_routes(plugin.runtime),
        ],
        plugins=[plugin],
        # The whole app answers in problem details, unknown paths included.
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=openapi_config(),
        request_max_body_size=settings.max_body_size,
        logging_config=None,  # configure_logging above; Litestar's would replace it
        debug=False,
    )
