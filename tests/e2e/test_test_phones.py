"""``REFERRALS_TEST_PHONES`` over HTTP: a fixed code, no SMS, no address quota,
and wrong codes limited as for any phone."""

from __future__ import annotations

from typing import Any

from referrals.application.policy import Policy
from referrals.application.ports import Limit
from tests.e2e.conftest import MakeApi, assert_problem, login, phone_number, verify

REVIEWER = "+79990000001"
FIXED_CODE = "2468"


def reviewer_policy(**rules: Any) -> Policy:
    return Policy(test_phones={REVIEWER: FIXED_CODE}, **rules)


async def test_a_test_phone_signs_in_with_its_fixed_code_and_gets_no_sms(
    make_api: MakeApi,
) -> None:
    api = await make_api(reviewer_policy())
    challenge = await login(api.client, "8 999 000-00-01")
    assert "confirm_code" not in challenge.response.json()

    response = await verify(api.client, challenge.token, FIXED_CODE)

    assert response.status_code == 200, response.text
    assert response.json()["user"]["phone"] == REVIEWER
    assert api.delivered() == []


async def test_a_test_phone_takes_nothing_from_the_address_quota(make_api: MakeApi) -> None:
    api = await make_api(reviewer_policy(ip_send=Limit(2, 3600)))
    for _ in range(5):  # more than the address's quota, and no cooldown either
        await login(api.client, REVIEWER)
    await login(api.client, phone_number(11))
    await login(api.client, phone_number(12))  # the address's two codes are still there

    refused = await api.client.post("/api/login/", json={"phone": phone_number(13)})

    assert assert_problem(refused, 429, "rate_limited")["limit"] == "ip_send"
    await login(api.client, REVIEWER)  # the full address does not stop the test phone
    assert [sms.phone for sms in api.delivered()] == [phone_number(11), phone_number(12)]


async def test_wrong_codes_for_a_test_phone_are_still_limited(make_api: MakeApi) -> None:
    api = await make_api(reviewer_policy())
    challenge = await login(api.client, REVIEWER)
    for left in (4, 3, 2, 1, 0):
        response = await verify(api.client, challenge.token, "0000")
        assert assert_problem(response, 400, "code_invalid")["attempts_left"] == left

    burned = await verify(api.client, challenge.token, FIXED_CODE)

    assert_problem(burned, 400, "challenge_expired")
