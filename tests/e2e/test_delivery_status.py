"""GET /api/verify/{token}/: where a login's code is, and nothing about the code."""

from __future__ import annotations

from referrals.application.policy import Policy
from referrals.application.ports import Limit
from tests.e2e.conftest import Api, MakeApi, assert_problem, exposed_policy, login

UNKNOWN_TOKEN = "0" * 32 + "A" * 43


async def test_the_status_names_the_channel_that_carries_the_code(api: Api) -> None:
    challenge = await login(api.client)
    assert challenge.response.json()["channel"] == "console"
    api.delivered()

    response = await api.client.get(f"/api/verify/{challenge.token}/")

    assert response.status_code == 200, response.text
    assert response.json() == {"channel": "console", "status": "sent", "failed_over": False}
    assert challenge.code not in response.text


async def test_the_status_of_an_unknown_login_is_challenge_expired(api: Api) -> None:
    response = await api.client.get(f"/api/verify/{UNKNOWN_TOKEN}/")
    assert_problem(response, 400, "challenge_expired")


async def test_asking_the_status_counts_against_the_verify_limit(make_api: MakeApi) -> None:
    policy: Policy = exposed_policy(ip_verify=Limit(2, 300))
    api = await make_api(policy)
    challenge = await login(api.client)
    for _ in range(2):
        assert (await api.client.get(f"/api/verify/{challenge.token}/")).status_code == 200
    refused = await api.client.get(f"/api/verify/{challenge.token}/")
    assert_problem(refused, 429, "too_many_attempts")
    verify = await api.client.post(
        f"/api/verify/{challenge.token}/", json={"confirm_code": challenge.code}
    )
    assert_problem(verify, 429, "too_many_attempts")
