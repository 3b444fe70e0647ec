"""The shop's tests: the mounted API and the shop's own route, on in-memory adapters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient

from app import Bonuses, create_app
from referrals import Policy, Settings
from referrals.adapters.memory import RecordingSmsGateway
from referrals.service import Adapters

pytestmark = pytest.mark.asyncio

PHONE = "+79991234567"


@pytest.fixture
def bonuses() -> Bonuses:
    return Bonuses()


@pytest_asyncio.fixture
async def client(bonuses: Bonuses) -> AsyncIterator[AsyncTestClient[Any]]:
    # Codes come back in the login answer (tests and demos only; refused in prod).
    settings = Settings(policy=Policy(expose_codes=True), cookie_secure=False)
    adapters = Adapters.in_memory(sms_gateway=RecordingSmsGateway())
    app = create_app(settings, adapters=adapters, bonuses=bonuses)
    async with AsyncTestClient(app) as client:
        yield client


async def sign_in(client: AsyncTestClient[Any]) -> str:
    login = (await client.post("/auth/login/", json={"phone": PHONE})).json()
    verify = await client.post(login["next_page"], json={"confirm_code": login["confirm_code"]})
    assert verify.status_code == 200, verify.text
    token: str = verify.json()["access_token"]
    return token


async def test_the_shops_route_needs_a_referrals_session(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/orders")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_new_user_sees_the_welcome_bonus(
    client: AsyncTestClient[Any], bonuses: Bonuses
) -> None:
    token = await sign_in(client)
    client.cookies.clear()

    response = await client.get("/orders", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.json() == {
        "user_id": 1,
        "phone": PHONE,
        "bonus": 100,
        "orders": [],
    }


async def test_the_session_cookie_works_for_the_shop_too(client: AsyncTestClient[Any]) -> None:
    await sign_in(client)  # the answer set the cookie

    assert (await client.get("/orders")).status_code == 200


async def test_the_mounted_api_answers_problem_details(client: AsyncTestClient[Any]) -> None:
    response = await client.post("/auth/login/", json={"phone": "12"})

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"


async def test_the_shops_openapi_document_lists_the_mounted_api(
    client: AsyncTestClient[Any],
) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]

    assert {"/orders", "/auth/login", "/auth/profile"} <= set(paths)
