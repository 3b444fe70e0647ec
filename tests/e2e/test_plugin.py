"""The API as a plugin of a host's own Litestar app: mounts, guards, errors, lifespan.

The whole end-to-end suite also runs against a host that mounts the plugin
under ``/auth`` (see ``MOUNTS`` in conftest.py); these tests check what only
a host sees.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar, Request, get
from litestar.di import NamedDependency
from litestar.openapi import OpenAPIConfig
from litestar.testing import AsyncTestClient

from referrals.adapters.memory import RecordingSmsGateway
from referrals.domain.user import User
from referrals.entrypoints.http import USER_ID_STATE, ReferralsPlugin
from referrals.service import Adapters
from referrals.settings import Settings
from referrals.testing import FakeClock
from tests.e2e.conftest import PROBLEM_JSON, bearer, exposed_policy, host_app, sign_in


def settings() -> Settings:
    return Settings(
        policy=exposed_policy(), secret_key=b"p" * 32, sms_delay=(0, 0), cookie_secure=False
    )


def plugin(path: str, name: str = "referrals") -> ReferralsPlugin:
    adapters = Adapters.in_memory(sms_gateway=RecordingSmsGateway(), clock=FakeClock())
    return ReferralsPlugin(settings(), path=path, adapters=adapters, name=name)


async def test_a_host_route_with_the_user_dependency_needs_a_session() -> None:
    adapters = Adapters.in_memory(sms_gateway=RecordingSmsGateway(), clock=FakeClock())
    app = host_app(settings(), adapters, "/auth")
    async with AsyncTestClient(app, base_url="http://testserver.local/auth") as client:
        anonymous = await client.get("/host/me")
        token = await sign_in(client)
        signed_in = await client.get("/host/me", headers=bearer(token))

    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert signed_in.status_code == 200
    assert signed_in.json()["phone"] == "+79991234567"


async def test_a_host_route_with_the_guard_sees_the_users_id() -> None:
    referrals = plugin("/auth")

    @get("/orders", guards=[referrals.require_session], sync_to_thread=False)
    def orders(request: Request[Any, Any, Any]) -> dict[str, int]:
        return {"user": request.state[USER_ID_STATE]}

    @get("/me", sync_to_thread=False)
    def me(user_id: NamedDependency[int]) -> dict[str, int]:
        return {"user": user_id}

    app = Litestar([orders, me], plugins=[referrals], dependencies={"user_id": referrals.user_id})
    async with AsyncTestClient(app) as client:
        assert (await client.get("/orders")).status_code == 401
        login = (await client.post("/auth/login/", json={"phone": "+79991234567"})).json()
        verify = await client.post(login["next_page"], json={"confirm_code": login["confirm_code"]})
        user_id = verify.json()["user"]["id"]

        by_cookie = await client.get("/orders")
        client.cookies.clear()
        by_bearer = await client.get("/me", headers=bearer(verify.json()["access_token"]))

    assert by_cookie.json() == {"user": user_id}
    assert by_bearer.json() == {"user": user_id}


async def test_the_host_keeps_its_own_error_answers_outside_the_mount() -> None:
    @get("/boom", sync_to_thread=False)
    def boom() -> None:
        raise ValueError("a bug of the host's")

    app = Litestar([boom], plugins=[plugin("/auth")])
    async with AsyncTestClient(app) as client:
        host_error = await client.get("/boom")
        ours = await client.post("/auth/login/", json={"phone": "not a phone"})

    assert host_error.status_code == 500
    assert host_error.headers["content-type"].split(";")[0] != PROBLEM_JSON
    assert ours.status_code == 400
    assert ours.headers["content-type"] == PROBLEM_JSON
    assert ours.json()["code"] == "validation_error"


async def test_two_mounts_in_one_app_keep_their_links_and_users_apart() -> None:
    app = Litestar(plugins=[plugin("/a", name="a"), plugin("/b", name="b")])
    async with AsyncTestClient(app) as client:
        a = (await client.post("/a/login/", json={"phone": "+79991234567"})).json()
        b = (await client.post("/b/login/", json={"phone": "+79991234567"})).json()

        crossed = await client.post(
            f"/b/verify/{a['token']}/", json={"confirm_code": a["confirm_code"]}
        )

    assert a["next_page"] == f"/a/verify/{a['token']}/"
    assert b["next_page"] == f"/b/verify/{b['token']}/"
    assert crossed.json()["code"] == "challenge_expired"


async def test_the_hosts_openapi_document_has_the_operations_and_security_schemes() -> None:
    app = Litestar(
        plugins=[plugin("/auth")], openapi_config=OpenAPIConfig(title="host", version="2.0")
    )
    async with AsyncTestClient(app) as client:
        document = (await client.get("/schema/openapi.json")).json()

    assert document["info"]["title"] == "host"
    assert {"/auth/login", "/auth/verify/{token}", "/auth/profile", "/auth/logout"} <= set(
        document["paths"]
    )
    assert set(document["components"]["securitySchemes"]) >= {
        "ReferralsBearer",
        "ReferralsSession",
    }
    assert document["paths"]["/auth/login"]["post"]["tags"] == ["referrals"]


async def test_the_hosts_guarded_routes_show_the_security_schemes_in_its_document() -> None:
    referrals = plugin("/auth")

    @get("/orders", guards=[referrals.require_session], sync_to_thread=False)
    def orders() -> list[str]:
        return []

    @get("/me", dependencies={"user": referrals.current_user}, sync_to_thread=False)
    def me(user: NamedDependency[User]) -> str:
        return str(user.phone)

    @get("/mine", dependencies={"user_id": referrals.user_id}, sync_to_thread=False)
    def mine(user_id: NamedDependency[int]) -> int:
        return user_id

    @get("/open", sync_to_thread=False)
    def open_to_all() -> str:
        return "hello"

    app = Litestar(
        [orders, me, mine, open_to_all],
        plugins=[referrals],
        openapi_config=OpenAPIConfig(title="host", version="2.0"),
    )
    async with AsyncTestClient(app) as client:
        paths = (await client.get("/schema/openapi.json")).json()["paths"]

    session = [{"ReferralsBearer": []}, {"ReferralsSession": []}]
    assert paths["/orders"]["get"]["security"] == session
    assert paths["/me"]["get"]["security"] == session
    assert paths["/mine"]["get"]["security"] == session
    assert paths["/auth/profile"]["get"]["security"] == session  # ours, as before
    assert "security" not in paths["/open"]["get"]


async def test_before_start_up_the_routes_answer_503_not_500() -> None:
    """A host that mounts the app as a raw ASGI app never runs its lifespan."""
    referrals = plugin("/auth")
    app = Litestar(plugins=[referrals])
    client = AsyncTestClient(app)  # not entered: no start-up runs
    response = await client.post("/auth/login/", json={"phone": "+79991234567"})

    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    with pytest.raises(Exception, match="start-up"):
        _ = referrals.service


async def test_the_service_is_the_hosts_to_use_while_the_app_runs() -> None:
    referrals = plugin("/auth")
    app = Litestar(plugins=[referrals])
    async with AsyncTestClient(app) as client:
        login = (await client.post("/auth/login/", json={"phone": "+79991234567"})).json()
        verify = await client.post(login["next_page"], json={"confirm_code": login["confirm_code"]})
        user: User = await referrals.service.get_user(verify.json()["user"]["id"])

    assert user.phone == "+79991234567"
