"""The limits of docs/rules.md over HTTP: 429 with ``Retry-After``, and waiting that long
is enough. Sending limits answer ``rate_limited``; guessing limits
(wrong codes, verification attempts, unknown invite codes)
``too_many_attempts``."""

from __future__ import annotations

import ipaddress
from typing import Any

from litestar.testing import AsyncTestClient

from referrals.application.ports import Limit
from tests.e2e.conftest import (
    COOLDOWN,
    OTHER_PHONE,
    PHONE,
    Api,
    MakeApi,
    apply_code,
    assert_problem,
    exposed_policy,
    login,
    phone_number,
    retry_after,
    sign_in,
    verify,
    wrong,
)

DAY = 86_400
LOCALHOST = (ipaddress.ip_network("127.0.0.1/32"),)


# --- resend cooldown --------------------------------------------------------


async def test_a_second_code_within_the_cooldown_is_rate_limited(
    client: AsyncTestClient[Any],
) -> None:
    await login(client)

    response = await client.post("/api/login/", json={"phone": PHONE})

    assert assert_problem(response, 429, "rate_limited")["limit"] == "cooldown"
    assert retry_after(response) == COOLDOWN


async def test_the_cooldown_retry_after_counts_down(make_api: MakeApi) -> None:
    api = await make_api()
    await login(api.client)
    api.clock.advance(45)

    response = await api.client.post("/api/login/", json={"phone": PHONE})

    assert retry_after(response) == COOLDOWN - 45


async def test_a_new_code_may_be_sent_once_the_cooldown_is_over(make_api: MakeApi) -> None:
    api = await make_api()
    await login(api.client)
    refused = await api.client.post("/api/login/", json={"phone": PHONE})
    api.clock.advance(retry_after(refused))

    response = await api.client.post("/api/login/", json={"phone": PHONE})

    assert response.status_code == 200, response.text


async def test_the_cooldown_of_one_phone_does_not_hold_back_another(
    client: AsyncTestClient[Any],
) -> None:
    await login(client, PHONE)

    response = await client.post("/api/login/", json={"phone": OTHER_PHONE})

    assert response.status_code == 200


async def test_a_refused_request_does_not_send_a_code(make_api: MakeApi) -> None:
    api = await make_api()
    await login(api.client)
    await api.client.post("/api/login/", json={"phone": PHONE})

    assert len(api.delivered()) == 1


# --- codes per phone --------------------------------------------------------


async def test_codes_per_phone_are_limited_over_the_window(make_api: MakeApi) -> None:
    api = await make_api(exposed_policy(phone_send=Limit(2, DAY), resend_cooldown=1))
    await login(api.client)
    api.clock.advance(2)
    await login(api.client)
    api.clock.advance(2)

    refused = await api.client.post("/api/login/", json={"phone": PHONE})

    assert assert_problem(refused, 429, "rate_limited")["limit"] == "phone_send"
    assert retry_after(refused) == DAY - 4
    api.clock.advance(retry_after(refused))
    assert (await api.client.post("/api/login/", json={"phone": PHONE})).status_code == 200


async def test_the_per_phone_limit_spares_other_phones(make_api: MakeApi) -> None:
    api = await make_api(exposed_policy(phone_send=Limit(1, DAY)))
    await login(api.client, PHONE)
    api.clock.advance(COOLDOWN)
    assert_problem(await api.client.post("/api/login/", json={"phone": PHONE}), 429)

    response = await api.client.post("/api/login/", json={"phone": OTHER_PHONE})

    assert response.status_code == 200


# --- codes per client address -----------------------------------------------


async def test_codes_per_client_address_are_limited(make_api: MakeApi) -> None:
    api = await make_api(exposed_policy(ip_send=Limit(3, 3600)))
    for n in range(3):
        await login(api.client, phone_number(n))

    refused = await api.client.post("/api/login/", json={"phone": phone_number(3)})

    assert assert_problem(refused, 429, "rate_limited")["limit"] == "ip_send"
    assert retry_after(refused) == 3600
    api.clock.advance(3600)
    assert (await api.client.post("/api/login/", json={"phone": phone_number(3)})).is_success


async def test_the_default_address_limit_is_thirty_codes_an_hour(
    client: AsyncTestClient[Any],
) -> None:
    for n in range(30):
        await login(client, phone_number(n))

    refused = await client.post("/api/login/", json={"phone": phone_number(30)})

    assert_problem(refused, 429, "rate_limited")


async def test_invalid_phones_do_not_use_up_the_address_limit(make_api: MakeApi) -> None:
    api = await make_api(exposed_policy(ip_send=Limit(1, 3600)))
    for _ in range(5):
        assert_problem(await api.client.post("/api/login/", json={"phone": "123"}), 400)

    response = await api.client.post("/api/login/", json={"phone": PHONE})

    assert response.status_code == 200


# --- verification attempts per client address -------------------------------


async def test_verification_attempts_per_address_are_limited(make_api: MakeApi) -> None:
    api = await make_api(exposed_policy(ip_verify=Limit(3, 300)))
    challenge = await login(api.client)
    for _ in range(3):
        await verify(api.client, "unknown-token", "1234")

    refused = await verify(api.client, challenge.token, challenge.code)

    assert assert_problem(refused, 429, "too_many_attempts")["limit"] == "ip_verify"
    assert retry_after(refused) == 300
    api.clock.advance(299)
    still = await verify(api.client, challenge.token, challenge.code)
    assert_problem(still, 429, "too_many_attempts")
    assert retry_after(still) == 1


async def test_verification_attempts_free_up_after_the_window(make_api: MakeApi) -> None:
    api = await make_api(exposed_policy(ip_verify=Limit(2, 120)))
    for _ in range(2):
        await verify(api.client, "unknown-token", "1234")
    api.clock.advance(120)

    challenge = await login(api.client)

    assert (await verify(api.client, challenge.token, challenge.code)).status_code == 200


# --- wrong codes per phone --------------------------------------------------


async def test_too_many_wrong_codes_lock_the_phone(make_api: MakeApi) -> None:
    api = await make_api(exposed_policy(phone_failure=Limit(3, DAY)))
    challenge = await login(api.client)
    for _ in range(3):
        assert_problem(await verify(api.client, challenge.token, wrong(challenge.code)), 400)

    right_code = await verify(api.client, challenge.token, challenge.code)
    api.clock.advance(COOLDOWN)
    new_login = await api.client.post("/api/login/", json={"phone": PHONE})

    assert assert_problem(right_code, 429, "too_many_attempts")["limit"] == "phone_failure"
    assert retry_after(right_code) == DAY
    assert assert_problem(new_login, 429, "too_many_attempts")["limit"] == "phone_failure"
    assert retry_after(new_login) == DAY - COOLDOWN


def from_address(address: str) -> dict[str, str]:
    """Headers of a request a trusted proxy forwarded for ``address``."""
    return {"X-Forwarded-For": address}


async def wrong_codes(api: Api, count: int, address: str) -> list[int]:
    """``count`` wrong codes for PHONE from ``address``, logging in again after
    each burned login; the statuses of the verifications."""
    statuses: list[int] = []
    challenge = await login(api.client, headers=from_address(address))
    for n in range(count):
        answer = await verify(
            api.client, challenge.token, wrong(challenge.code), headers=from_address(address)
        )
        statuses.append(answer.status_code)
        burned = answer.status_code == 400 and answer.json()["attempts_left"] == 0
        if burned and n + 1 < count:
            api.clock.advance(COOLDOWN)
            challenge = await login(api.client, headers=from_address(address))
    return statuses


async def test_ten_wrong_codes_from_one_address_do_not_lock_the_owner_out(
    make_api: MakeApi,
) -> None:
    api = await make_api(peer="127.0.0.1", trusted_proxies=LOCALHOST)
    stranger = await wrong_codes(api, 10, "198.51.100.7")
    api.clock.advance(COOLDOWN)

    owner = await login(api.client, headers=from_address("203.0.113.5"))
    verified = await verify(
        api.client, owner.token, owner.code, headers=from_address("203.0.113.5")
    )

    # Five on the first login, one on the second, then the address must wait.
    assert stranger == [400] * 6 + [429] * 4
    assert verified.status_code == 200, verified.text


async def test_ten_wrong_codes_from_two_addresses_lock_the_phone_for_a_day(
    make_api: MakeApi,
) -> None:
    api = await make_api(peer="127.0.0.1", trusted_proxies=LOCALHOST)
    await wrong_codes(api, 5, "198.51.100.7")
    api.clock.advance(COOLDOWN)
    await wrong_codes(api, 5, "198.51.100.8")
    api.clock.advance(COOLDOWN)

    response = await api.client.post(
        "/api/login/", json={"phone": PHONE}, headers=from_address("203.0.113.5")
    )

    body = assert_problem(response, 429, "too_many_attempts")
    assert body["limit"] == "phone_failure"
    assert retry_after(response) == DAY - 2 * COOLDOWN


async def test_a_locked_phone_is_unlocked_when_the_window_frees_up(make_api: MakeApi) -> None:
    api = await make_api(exposed_policy(phone_failure=Limit(2, 3600)))
    challenge = await login(api.client)
    for _ in range(2):
        await verify(api.client, challenge.token, wrong(challenge.code))
    api.clock.advance(3600)

    fresh = await login(api.client)

    assert (await verify(api.client, fresh.token, fresh.code)).status_code == 200


async def test_a_locked_phone_does_not_lock_other_phones(make_api: MakeApi) -> None:
    api = await make_api(exposed_policy(phone_failure=Limit(1, DAY)))
    locked = await login(api.client, PHONE)
    await verify(api.client, locked.token, wrong(locked.code))

    other = await login(api.client, OTHER_PHONE)

    assert (await verify(api.client, other.token, other.code)).status_code == 200


# --- unknown invite codes per user ------------------------------------------


async def test_unknown_invite_codes_per_user_are_limited(make_api: MakeApi) -> None:
    api = await make_api(exposed_policy(apply_failure=Limit(2, 3600)))
    referrer = await sign_in(api.client, PHONE)
    guesser = await sign_in(api.client, OTHER_PHONE)
    for guess in ("AAAAAA", "BBBBBB"):
        assert_problem(await apply_code(api.client, guesser, guess), 404)
    real_code = (
        await api.client.get("/api/profile/", headers={"Authorization": f"Bearer {referrer}"})
    ).json()["invite_referral_code"]

    refused = await apply_code(api.client, guesser, real_code)

    assert assert_problem(refused, 429, "too_many_attempts")["limit"] == "apply_failure"
    assert retry_after(refused) == 3600
    api.clock.advance(3600)
    assert (await apply_code(api.client, guesser, real_code)).status_code == 200


async def test_the_apply_limit_is_per_user(make_api: MakeApi) -> None:
    api = await make_api(exposed_policy(apply_failure=Limit(1, 3600)))
    guesser = await sign_in(api.client, PHONE)
    other = await sign_in(api.client, OTHER_PHONE)
    assert_problem(await apply_code(api.client, guesser, "AAAAAA"), 404)
    assert_problem(await apply_code(api.client, guesser, "AAAAAA"), 429)

    response = await apply_code(api.client, other, "AAAAAA")

    assert_problem(response, 404, "referral_code_not_found")


async def test_malformed_invite_codes_do_not_count_as_failures(make_api: MakeApi) -> None:
    api = await make_api(exposed_policy(apply_failure=Limit(1, 3600)))
    user = await sign_in(api.client)
    for _ in range(3):
        assert_problem(await apply_code(api.client, user, "x"), 400, "validation_error")

    response = await apply_code(api.client, user, "AAAAAA")

    assert_problem(response, 404, "referral_code_not_found")
