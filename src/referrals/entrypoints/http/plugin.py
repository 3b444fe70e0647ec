"""The referrals API as a Litestar plugin: mount it in any app, under any path.

::

    referrals = ReferralsPlugin(load_settings(), path="/auth")
    app = Litestar(route_handlers=[...], plugins=[referrals])

    @get("/orders", dependencies={"user": referrals.current_user})
    async def orders(user: User) -> list[Order]: ...

The plugin adds the routes under ``path`` (every answer ``Cache-Control:
no-store``), bounds every request's head and body time (see
:mod:`~referrals.entrypoints.http.request_guard`), an ``X-Request-ID`` on
every answer of the app (see :mod:`~referrals.entrypoints.http.request_id`),
opens the service in the host's lifespan and closes it there, answers errors
of its own routes as problem
details (the host's other routes keep the host's handlers), builds links
(``next_page``) inside the mount, and adds its operations and security
schemes to the host's OpenAPI document. :attr:`ReferralsPlugin.current_user`,
:attr:`ReferralsPlugin.user_id` and :meth:`ReferralsPlugin.require_session`
let the host's own routes require a referrals session, and those routes
show the same security schemes in the host's document.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from litestar import Litestar, Router
from litestar.config.app import AppConfig
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.exceptions import HTTPException, NotAuthorizedException, ServiceUnavailableException
from litestar.handlers import BaseRouteHandler
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins import InitPlugin, ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute

from referrals.adapters.tracing import start_tracing
from referrals.application.errors import NotAuthenticated, ServiceUnavailable
from referrals.application.events import Hooks
from referrals.application.ports import EventSink
from referrals.application.sms_text import SmsText
from referrals.domain.user import User
from referrals.entrypoints.http.handlers import EXCEPTION_HANDLERS
from referrals.entrypoints.http.no_store import no_store
from referrals.entrypoints.http.request_guard import guard_requests
from referrals.entrypoints.http.request_id import request_ids
from referrals.entrypoints.http.routes_account import account_routes
from referrals.entrypoints.http.routes_auth import auth_routes
from referrals.entrypoints.http.routes_profile import profile_routes
from referrals.entrypoints.http.routes_receipts import receipt_routes
from referrals.entrypoints.http.routes_sessions import session_routes
from referrals.entrypoints.http.runtime import BEARER_SCHEME, COOKIE_SCHEME, SECURITY, Runtime
from referrals.entrypoints.http.session import SESSION_COOKIE, session_token
from referrals.problems import problem, problem_headers
from referrals.service import Adapters, Service, open_service
from referrals.settings import Settings, load_settings

SESSION_MARK = "_referrals_session"
"""Set on the dependencies that need a session, so the host's routes that use
them are found (see :meth:`ReferralsPlugin.receive_route`)."""
USER_ID_STATE = "referrals_user_id"
"""Where :meth:`ReferralsPlugin.require_session` leaves the user's id (``request.state``)."""


class ReferralsPlugin(InitPlugin, ReceiveRoutePlugin):
    """Mount the referrals API in a Litestar app.

    ``settings`` default to :func:`~referrals.settings.load_settings` (the
    ``REFERRALS_*`` variables); ``adapters``, ``hooks`` and ``sms_text`` are
    those of :func:`~referrals.service.open_service`. ``name`` prefixes the
    route names (``referrals:verify``…) and must differ between two mounts
    in one app.
    """

    __slots__ = ("_adapters", "_hooks", "_runtime", "_sms_text", "path", "tags")

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        path: str = "/api",
        adapters: Adapters | None = None,
        hooks: EventSink | None = None,
        sms_text: SmsText | None = None,
        name: str = "referrals",
        tags: tuple[str, ...] = ("referrals",),
    ) -> None:
        self.path = "/" + path.strip("/") if path.strip("/") else "/"
        self.tags = list(tags)
        self._runtime = Runtime(settings or load_settings(), name)
        self._adapters = adapters
        self._hooks = hooks
        self._sms_text = sms_text

    @property
    def settings(self) -> Settings:
        return self._runtime.settings

    @property
    def runtime(self) -> Runtime:
        """The mounted API's settings and service (for the app's own routes)."""
        return self._runtime

    @property
    def service(self) -> Service:
        """The running service (between the app's start-up and shut-down), for
        the host's own code: ``plugin.service.get_profile(user_id)``."""
        return self._runtime.service

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        runtime = self._runtime
        router = Router(
            self.path,
            route_handlers=[
                *auth_routes(runtime),
                *profile_routes(runtime),
                *receipt_routes(runtime),
                *session_routes(runtime),
                *account_routes(runtime),
            ],
            exception_handlers=EXCEPTION_HANDLERS,
            request_max_body_size=runtime.settings.max_body_size,
            middleware=[no_store],
            tags=self.tags,
        )
        app_config.route_handlers.append(router)
        app_config.lifespan.append(self._lifespan)
        if app_config.openapi_config is not None:
            schemes = {
                BEARER_SCHEME: SecurityScheme(type="http", scheme="bearer"),
                COOKIE_SCHEME: SecurityScheme(
                    type="apiKey", name=SESSION_COOKIE, security_scheme_in="cookie"
                ),
            }
            components = app_config.openapi_config.components
            extra = Components(security_schemes=schemes)  # type: ignore[arg-type]
            if isinstance(components, list):
                components.append(extra)
            else:
                app_config.openapi_config.components = [components, extra]
        return app_config

    def receive_route(self, route: BaseRoute) -> None:
        """Give each of the host's routes that needs a referrals session
        (:meth:`require_session` among its guards, :attr:`current_user` or
        :attr:`user_id` among its dependencies) our security schemes in the
        OpenAPI document, as our own routes have them."""
        if not isinstance(route, HTTPRoute):
            return
        for handler in route.route_handlers:
            guarded = self.require_session in handler.resolve_guards() or any(
                getattr(provide.dependency, SESSION_MARK, False)
                for provide in handler.resolve_dependencies().values()
            )
            security = handler.resolve_security()  # the list the OpenAPI document reads
            if guarded:
                security.extend(entry for entry in SECURITY if entry not in security)

    @asynccontextmanager
    async def _lifespan(self, app: Litestar) -> AsyncIterator[None]:
        # Around the app's whole handler (as Litestar's own OpenTelemetry
        # middleware is), not in its middleware list, which unrouted 404s skip.
        settings = self._runtime.settings
        guard = guard_requests(
            settings.max_header_size, settings.body_timeout, settings.body_idle_timeout
        )
        app.asgi_handler = request_ids(settings.trusted_proxies)(guard(app.asgi_handler))
        if settings.tracing and start_tracing():  # else nothing wraps the requests
            from referrals.entrypoints.http.tracing import traced_requests

            app.asgi_handler = traced_requests(app.asgi_handler)
        async with open_service(
            self._runtime.settings,
            adapters=self._adapters,
            hooks=self._hooks if self._hooks is not None else Hooks(),
            sms_text=self._sms_text,
        ) as service:
            with self._runtime.serving(service):
                yield

    # --- for the host's own routes -----------------------------------------

    async def _user_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> int:
        known = connection.state.get(USER_ID_STATE)
        if isinstance(known, int):
            return known
        with _as_http_errors():
            user_id = await self.service.authenticate(session_token(connection))
        connection.state[USER_ID_STATE] = user_id
        return user_id

    async def require_session(
        self, connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
    ) -> None:
        """A guard: 401 (``NotAuthorizedException``, with ``WWW-Authenticate:
        Bearer``) unless the request carries a live referrals session (Bearer
        token or cookie); 503 if the session store is down."""
        await self._user_id(connection)

    @property
    def user_id(self) -> Provide:
        """A dependency giving the signed-in user's id (no database read);
        401 as :meth:`require_session` otherwise."""

        async def user_id(request: ASGIConnection[Any, Any, Any, Any]) -> int:
            return await self._user_id(request)

        setattr(user_id, SESSION_MARK, True)
        return Provide(user_id)

    @property
    def current_user(self) -> Provide:
        """A dependency giving the signed-in :class:`~referrals.domain.user.User`
        (one database read); 401 as :meth:`require_session` otherwise."""

        async def current_user(request: ASGIConnection[Any, Any, Any, Any]) -> User:
            user_id = await self._user_id(request)
            with _as_http_errors():
                return await self.service.get_user(user_id)

        setattr(current_user, SESSION_MARK, True)
        return Provide(current_user)


_LITESTAR_EXCEPTIONS: dict[int, type[HTTPException]] = {
    401: NotAuthorizedException,
    503: ServiceUnavailableException,
}


@contextmanager
def _as_http_errors() -> Iterator[None]:
    """The service's refusals as Litestar's exceptions, for the host's routes
    (answered by the host's handlers): 401 with ``WWW-Authenticate: Bearer``,
    503 with ``Retry-After``, their details and headers the catalogue's."""
    try:
        yield
    except (NotAuthenticated, ServiceUnavailable) as exc:
        answer = problem(exc)
        raise _LITESTAR_EXCEPTIONS[answer["status"]](
            detail=answer["detail"], headers=problem_headers(exc)
        ) from exc
