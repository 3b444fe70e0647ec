"""The HTTP API end to end: a real Litestar app on the in-memory container.

Every app here runs on a :class:`FakeClock` the test moves by hand, exposes
the confirmation code in the login answer (``Policy(expose_codes=True)``)
unless a test asks otherwise, and delivers SMS without delay.

:class:`AsyncTestClient` runs the app on its own event loop in a portal
thread, so anything that belongs to the app's loop (the in-process broker's
delivery tasks) is awaited through ``client.blocking_portal``: see
:func:`delivered`.

The helpers below (``login``, ``sign_in``, ``apply_code``…) make tests read
as sentences; each asserts the status it expects, so a broken step fails
where it breaks.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import pytest
from litestar import Litestar, get
from litestar.di import NamedDependency
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, RedocRenderPlugin, SwaggerRenderPlugin
from litestar.testing import AsyncTestClient

from referrals.adapters.memory import RecordingSmsGateway, SentSms
from referrals.application.policy import Policy
from referrals.domain.user import User
from referrals.entrypoints.http import ReferralsPlugin, create_app
from referrals.service import Adapters, Service
from referrals.settings import Settings
from referrals.testing import FakeClock

PHONE = "+79991234567"
OTHER_PHONE = "+79997654321"
PROBLEM_JSON = "application/problem+json"
SESSION_COOKIE = "referrals_session"
COOLDOWN = 60
"""docs/rules.md: seconds between two codes for one phone (the default policy)."""

Asgi = Callable[[Any, Any, Any], Awaitable[None]]


def phone_number(n: int) -> str:
    """The ``n``-th distinct, valid Russian mobile number (``n`` < 10**6)."""
    return f"+7999{n:07d}"


# --- building apps ----------------------------------------------------------

MOUNTS = {"standalone": "", "mounted": "/auth"}
"""Every test runs against the standalone app and against a host app that
mounts the plugin under ``/auth`` (``/auth/api/...``); the client of the
mounted one sends its paths under ``/auth``, so tests name paths as
``/api/...`` either way."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "mount" in metafunc.fixturenames:
        standalone = metafunc.definition.get_closest_marker("standalone") is not None
        names = ["standalone"] if standalone else list(MOUNTS)
        metafunc.parametrize("mount", [MOUNTS[name] for name in names], ids=names)


def host_app(settings: Settings, adapters: Adapters, prefix: str) -> Litestar:
    """A host service's own app with the API mounted at ``{prefix}/api`` and one
    route of its own that needs a referrals session."""
    plugin = ReferralsPlugin(settings, path=f"{prefix}/api", adapters=adapters)

    @get(f"{prefix}/host/me", dependencies={"user": plugin.current_user}, sync_to_thread=False)
    def me(user: NamedDependency[User]) -> dict[str, object]:
        return {"id": user.id, "phone": user.phone}

    return Litestar(
        route_handlers=[me],
        plugins=[plugin],
        openapi_config=OpenAPIConfig(
            title="host",
            version="1.0",
            path=f"{prefix}/docs",
            render_plugins=[SwaggerRenderPlugin(path="/"), RedocRenderPlugin(), JsonRenderPlugin()],
        ),
    )


def with_peer(app: Asgi, host: str) -> Asgi:
    """Wrap ``app`` so every request comes from the socket peer ``host``.

    The test client always reports the peer ``"testclient"``, which is not an
    IP address and so can never be a trusted proxy; a real server (uvicorn,
    granian) puts the peer's IP there, which this reproduces.
    """

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in {"http", "websocket"}:
            scope = {**scope, "client": (host, 50000)}
        await app(scope, receive, send)

    return asgi


@dataclass
class Api:
    """One running app: its client, its plugin, its SMS gateway and the clock it runs on."""

    client: AsyncTestClient[Any]
    plugin: ReferralsPlugin
    gateway: RecordingSmsGateway
    clock: FakeClock
    settings: Settings = field(repr=False)
    prefix: str = ""
    """Where the host mounted the API ('' for the standalone app)."""

    @property
    def service(self) -> Service:
        return self.plugin.service

    def delivered(self) -> list[SentSms]:
        """Every SMS sent so far, once the background deliveries have finished."""
        self.client.blocking_portal.call(self.service.drain_deliveries)
        return list(self.gateway.sent)


class MakeApi(Protocol):
    def __call__(
        self,
        policy: Policy | None = None,
        *,
        peer: str | None = None,
        overrides: Mapping[str, object] | None = None,
        **settings: Any,
    ) -> Awaitable[Api]: ...


def exposed_policy(**rules: Any) -> Policy:
    """The default policy (docs/rules.md), with codes exposed and ``rules`` changed."""
    return Policy(**{"expose_codes": True, **rules})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def make_api(clock: FakeClock, mount: str) -> AsyncIterator[MakeApi]:
    """Start an app with its own container; it stops when the test ends.

    ``policy`` defaults to :func:`exposed_policy`; ``peer`` sets the socket
    peer's address (see :func:`with_peer`); ``overrides`` replaces in-memory
    adapters by name (fields of ``Adapters``); other keywords go to ``Settings``.
    """
    async with AsyncExitStack() as stack:

        async def make(
            policy: Policy | None = None,
            *,
            peer: str | None = None,
            overrides: Mapping[str, object] | None = None,
            **settings: Any,
        ) -> Api:
            config = Settings(
                policy=policy or exposed_policy(),
                **{
                    "sms_delay": (0.0, 0.0),
                    "secret_key": b"k" * 32,
                    "cookie_secure": False,
                    **settings,
                },
            )
            gateway = RecordingSmsGateway()
            adapters = Adapters.in_memory(sms_gateway=gateway, clock=clock)
            adapters = dataclasses.replace(adapters, **(overrides or {}))
            if mount:
                app = host_app(config, adapters, mount)
            else:
                app = create_app(config, adapters=adapters)
            plugin = app.plugins.get(ReferralsPlugin)
            asgi: Any = app if peer is None else with_peer(app, peer)
            base_url = f"http://testserver.local{mount}"
            client = await stack.enter_async_context(AsyncTestClient(asgi, base_url=base_url))
            return Api(client, plugin, gateway, clock, settings=config, prefix=mount)

        yield make


@pytest.fixture
async def api(make_api: MakeApi) -> Api:
    """An app with the default policy (codes exposed)."""
    return await make_api()


@pytest.fixture
def client(api: Api) -> AsyncTestClient[Any]:
    return api.client


# --- steps ------------------------------------------------------------------


@dataclass(frozen=True)
class Challenge:
    """What a successful login answered: the token and (exposed) code."""

    token: str
    code: str
    response: httpx.Response


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wrong(code: str) -> str:
    """A code of the same length that is certainly not ``code``."""
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


async def login(
    client: AsyncTestClient[Any], phone: str = PHONE, *, headers: Mapping[str, str] | None = None
) -> Challenge:
    """``POST /api/login/``, which must answer 200."""
    response = await client.post("/api/login/", json={"phone": phone}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    return Challenge(token=body["token"], code=body.get("confirm_code", ""), response=response)


async def verify(
    client: AsyncTestClient[Any],
    token: str,
    code: str,
    *,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """``POST /api/verify/{token}/``; the caller checks the answer."""
    return await client.post(f"/api/verify/{token}/", json={"confirm_code": code}, headers=headers)


async def sign_in(
    client: AsyncTestClient[Any], phone: str = PHONE, *, keep_cookie: bool = False
) -> str:
    """Log in and verify; the access token. The cookie jar is emptied unless
    ``keep_cookie``, so later requests authenticate only as the test says."""
    challenge = await login(client, phone)
    response = await verify(client, challenge.token, challenge.code)
    assert response.status_code == 200, response.text
    if not keep_cookie:
        client.cookies.clear()
    token: str = response.json()["access_token"]
    return token


async def profile(client: AsyncTestClient[Any], token: str, **params: Any) -> dict[str, Any]:
    """``GET /api/profile/`` with a Bearer token, which must answer 200."""
    response = await client.get("/api/profile/", headers=bearer(token), params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def invite_code(client: AsyncTestClient[Any], token: str) -> str:
    code: str = (await profile(client, token))["invite_referral_code"]
    return code


async def apply_code(client: AsyncTestClient[Any], token: str, code: str) -> httpx.Response:
    """``POST /api/profile/`` with a Bearer token; the caller checks the answer."""
    return await client.post(
        "/api/profile/", json={"used_referral_code": code}, headers=bearer(token)
    )


def assert_problem(
    response: httpx.Response, status: int, code: str | None = None
) -> dict[str, Any]:
    """The answer is an RFC 9457 problem with ``status`` (and ``code``); its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert isinstance(body["code"], str)
    assert re.fullmatch(r"[a-z_]+", body["code"])
    if "errors" in body:  # optional members are left out, never null
        assert isinstance(body["errors"], list), body
    if "attempts_left" in body:
        assert isinstance(body["attempts_left"], int), body
    if code is not None:
        assert body["code"] == code, body
    return body


def host_answers(api: Api, response: httpx.Response) -> bool:
    """Whether the host app, not the mounted API, gave this answer: a request
    that matches no route of the API (unknown path, wrong method) is the
    host's, answered by the host's own error handlers."""
    return bool(api.prefix) and response.status_code in {404, 405}


def retry_after(response: httpx.Response) -> int:
    """The ``Retry-After`` header: whole seconds, at least 1."""
    value = response.headers["retry-after"]
    assert value.isdigit(), value
    seconds = int(value)
    assert seconds >= 1
    return seconds


def cookie_attributes(response: httpx.Response, name: str = SESSION_COOKIE) -> dict[str, str]:
    """The attributes of the ``Set-Cookie`` for ``name``, lower-cased keys;
    the value itself under ``""``."""
    for header in response.headers.get_list("set-cookie"):
        first, *rest = (part.strip() for part in header.split(";"))
        key, _, value = first.partition("=")
        if key == name:
            attributes = {"": value}
            for part in rest:
                attr, _, attr_value = part.partition("=")
                attributes[attr.lower()] = attr_value
            return attributes
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers}")
