"""The shop's tests: sign-in, profile, apply and the guarded route through
FastAPI, with the service's refusals as problem details (in-memory adapters)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from referrals import Policy, Settings
from referrals.adapters.memory import RecordingSmsGateway
from referrals.service import Adapters
from shop_api import create_app

FRIEND, ME = "+79997654321", "+79991234567"


@pytest.fixture
def client() -> Iterator[TestClient]:
    # Codes come back in the login answer (tests and demos only; refused in prod).
    settings = Settings(policy=Policy(expose_codes=True), sms_delay=(0, 0))
    app = create_app(settings, adapters=Adapters.in_memory(sms_gateway=RecordingSmsGateway()))
    with TestClient(app) as client:  # runs the lifespan: the service is opened and closed
        yield client


def sign_in(client: TestClient, phone: str) -> dict[str, Any]:
    asked = client.post("/auth/login", json={"phone": phone})
    assert asked.status_code == 200, asked.text
    login = asked.json()
    verified = client.post("/auth/verify", json={"token": login["token"], "code": login["code"]})
    assert verified.status_code == 200, verified.text
    answer: dict[str, Any] = verified.json()
    return answer


def bearer(session: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['access_token']}"}


def test_a_person_signs_in_and_reads_their_profile(client: TestClient) -> None:
    session = sign_in(client, ME)

    me = client.get("/me", headers=bearer(session))

    assert session["is_new_user"] is True
    assert me.status_code == 200
    assert me.json()["phone"] == ME
    assert me.json()["invite_code"] == session["profile"]["invite_code"]


def test_the_guarded_route_needs_a_session_and_says_so_as_a_problem(client: TestClient) -> None:
    refused = client.get("/orders")
    allowed = client.get("/orders", headers=bearer(sign_in(client, ME)))

    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["www-authenticate"] == "Bearer"
    assert refused.json()["code"] == "not_authenticated"
    assert allowed.status_code == 200
    assert allowed.json()["orders"] == []


def test_a_friends_code_is_applied_once_and_the_second_time_refused_in_russian(
    client: TestClient,
) -> None:
    friend, me = sign_in(client, FRIEND), sign_in(client, ME)
    code = friend["profile"]["invite_code"]

    applied = client.post("/me/referral", json={"code": code}, headers=bearer(me))
    again = client.post(
        "/me/referral",
        json={"code": code},
        headers={**bearer(me), "Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"},
    )

    assert applied.status_code == 200
    assert applied.json()["used_invite_code"] == code
    assert client.get("/me", headers=bearer(friend)).json()["referred_count"] == 1
    assert again.status_code == 409
    assert again.json()["code"] == "referral_already_applied"
    assert any("\u0400" <= ch <= "\u04ff" for ch in again.json()["detail"])  # Cyrillic


def test_a_malformed_phone_is_a_400_problem_naming_the_field(client: TestClient) -> None:
    refused = client.post("/auth/login", json={"phone": "12"})

    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "phone"


def test_the_openapi_document_shows_the_bearer_scheme_on_guarded_routes(
    client: TestClient,
) -> None:
    document = client.get("/openapi.json").json()

    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert document["paths"]["/orders"]["get"]["security"] == [{"HTTPBearer": []}]
    assert "security" not in document["paths"]["/auth/login"]["post"]
