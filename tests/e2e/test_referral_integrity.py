"""Referral integrity over HTTP (docs/rules.md): the device cookie and header,
held referrals in the profile, and the 409 of a refusing policy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.e2e.conftest import (
    OTHER_PHONE,
    PHONE,
    MakeApi,
    apply_code,
    assert_problem,
    bearer,
    cookie_attributes,
    exposed_policy,
    invite_code,
    login,
    profile,
    verify,
)

DEVICE = "a-phone-of-ones-own-01"
FARM = "77.88.1.10"
"""A global address: every request of the app made with ``peer=FARM`` comes from it."""


async def sign_in_with(
    client: AsyncTestClient[Any], phone: str, headers: Mapping[str, Any] | None = None
) -> str:
    challenge = await login(client, phone)
    response = await verify(client, challenge.token, challenge.code, headers=headers)
    assert response.status_code == 200, response.text
    client.cookies.clear()
    token: str = response.json()["access_token"]
    return token


async def test_two_accounts_on_one_network_hold_the_referral(make_api: MakeApi) -> None:
    client = (await make_api(peer=FARM)).client
    owner = await sign_in_with(client, PHONE)
    applier = await sign_in_with(client, OTHER_PHONE)

    response = await apply_code(client, applier, await invite_code(client, owner))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["used_referral_status"] == "pending_review"
    assert body["used_referral_code"] == await invite_code(client, owner)
    theirs = await profile(client, owner)
    assert (theirs["referred_users"], theirs["referred_users_count"]) == ([], 0)
    assert theirs["used_referral_status"] is None


async def test_a_refusing_policy_answers_409_referral_refused_in_russian_too(
    make_api: MakeApi,
) -> None:
    policy = exposed_policy(referral_policy={"same_device": "refuse"})
    client = (await make_api(policy)).client
    owner = await sign_in_with(client, PHONE, {"X-Device-Id": DEVICE})
    applier = await sign_in_with(client, OTHER_PHONE, {"X-Device-Id": DEVICE})
    code = await invite_code(client, owner)

    response = await client.post(
        "/api/profile/",
        json={"used_referral_code": code},
        headers={**bearer(applier), "Accept-Language": "ru"},
    )

    body = assert_problem(response, 409, "referral_refused")
    assert body["detail"] == "Этот код приглашения нельзя применить с этого аккаунта."
    assert (await profile(client, applier))["used_referral_code"] is None


@pytest.mark.parametrize(
    "device",
    ["", "short", "x" * 65, "ünïcode-device-000000", "has spaces in it 000", "a\tb" * 8],
)
async def test_a_crafted_device_id_is_ignored(make_api: MakeApi, device: str) -> None:
    policy = exposed_policy(referral_policy={"same_device": "refuse"})
    client = (await make_api(policy)).client
    raw = device.encode()
    headers = {"X-Device-Id": raw, "Cookie": b"referrals_device=" + raw}
    owner = await sign_in_with(client, PHONE, headers)
    applier = await sign_in_with(client, OTHER_PHONE, headers)
    code = await invite_code(client, owner)

    response = await client.post(
        "/api/profile/", json={"used_referral_code": code}, headers={**bearer(applier), **headers}
    )

    assert response.status_code == 200, response.text
    assert response.json()["used_referral_status"] == "applied"


@pytest.mark.standalone  # the page is the standalone app's
async def test_the_page_sets_a_device_cookie_that_verify_and_apply_read(
    make_api: MakeApi,
) -> None:
    client = (await make_api()).client
    page = await client.get("/")
    attributes = cookie_attributes(page, "referrals_device")
    assert len(attributes[""]) == 22
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "lax"
    assert int(attributes["max-age"]) >= 365 * 86_400
    again = await client.get("/", headers={"Cookie": f"referrals_device={attributes['']}"})
    assert "referrals_device" not in again.headers.get("set-cookie", "")

    device = {"referrals_device": attributes[""]}
    client.cookies.clear()
    challenge = await login(client, PHONE)
    client.cookies.update(device)
    owner_login = await verify(client, challenge.token, challenge.code)
    owner = owner_login.json()["access_token"]
    challenge = await login(client, OTHER_PHONE)
    applier = (await verify(client, challenge.token, challenge.code)).json()["access_token"]
    client.cookies.clear()

    response = await apply_code(client, applier, await invite_code(client, owner))

    assert response.json()["used_referral_status"] == "pending_review"


async def test_strangers_apply_outright(make_api: MakeApi) -> None:
    client = (await make_api()).client
    owner = await sign_in_with(client, PHONE, {"X-Device-Id": "owners-phone-00000001"})
    applier = await sign_in_with(client, OTHER_PHONE, {"X-Device-Id": "appliers-phone-000001"})

    response = await apply_code(client, applier, await invite_code(client, owner))

    assert response.json()["used_referral_status"] == "applied"
    assert (await profile(client, owner))["referred_users_count"] == 1
