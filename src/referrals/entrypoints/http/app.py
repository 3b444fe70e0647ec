"""The standalone API: a Litestar app around :class:`ReferralsPlugin` mounted at
``/api``, with the page for people at ``/`` and the docs at ``/docs``."""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin

import referrals
from referrals.application.events import Hooks
from referrals.application.ports import EventSink
from referrals.application.sms_text import SmsText
from referrals.entrypoints.http.handlers import EXCEPTION_HANDLERS
from referrals.entrypoints.http.health import health_routes
from referrals.entrypoints.http.metrics import METRICS_STATE, RequestMetrics, metrics_route
from referrals.entrypoints.http.page import docs_render_plugins, docs_router, page_routes
from referrals.entrypoints.http.plugin import ReferralsPlugin
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
    environment; the keywords are those of :class:`ReferralsPlugin`.

    With ``settings.metrics`` (the default) every request is counted and
    timed, the use cases' events are counted on their way to ``hooks``, and
    ``GET /metrics`` serves them (unless ``settings.metrics_port`` moves
    them to a port of their own, served by ``referrals serve``)."""
    settings = settings or load_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    metrics = None
    routes = [
        *page_routes(
            api_path=API_PATH,
            docs_path=DOCS_PATH,
            secure_cookies=settings.cookie_secure
            or (settings.public_url or "").startswith("https://"),
        )
    ]
    if settings.metrics:
        from referrals.adapters.metrics import Metrics, MetricsSink, scrape_registry

        metrics = Metrics()
        inner = hooks if hooks is not None else Hooks()
        hooks = MetricsSink(metrics, inner, gateway=settings.sms_gateway)
        if settings.metrics_port is None:  # else `referrals serve` serves them on that port
            routes.append(metrics_route(scrape_registry(metrics.registry, settings)))
    plugin = ReferralsPlugin(
        settings, path=API_PATH, adapters=adapters, hooks=hooks, sms_text=sms_text
    )
    app = Litestar(
        route_handlers=[*routes, *health_routes(plugin.runtime)],
        state=State({METRICS_STATE: metrics}),
        on_shutdown=[_process_ended] if metrics is not None else [],
        plugins=[plugin],
        # The whole app answers in problem details, unknown paths included.
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=openapi_config(),
        request_max_body_size=settings.max_body_size,
        logging_config=None,  # configure_logging above; Litestar's would replace it
        debug=False,
    )
    if metrics is not None:
        app.asgi_handler = RequestMetrics(app.asgi_handler, metrics)
    return app


def _process_ended() -> None:
    from referrals.adapters.metrics import process_ended

    process_ended()
