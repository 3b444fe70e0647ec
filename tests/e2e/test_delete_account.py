"""Deleting one's account (docs/account.md): two steps, the phone erased, counts kept."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import (
    COOLDOWN,
    OTHER_PHONE,
    PHONE,
    Api,
    apply_code,
    assert_problem,
    bearer,
    invite_code,
    login,
    profile,
    sign_in,
    wrong,
)

THIRD_PHONE = "+79995550011"


async def ask_to_delete(api: Api, token: str, method: str = "POST") -> dict[str, Any]:
    api.clock.advance(COOLDOWN)  # the code goes under a login's limits: not within a minute
    if method == "DELETE":
        response = await api.client.delete("/api/profile/", headers=bearer(token))
    else:
        response = await api.client.post("/api/profile/delete/", headers=bearer(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def confirm(api: Api, token: str, step: dict[str, Any], code: str | None = None) -> Any:
    return await api.client.post(
        f"/api/profile/delete/{step['token']}/",
        json={"confirm_code": code or step["confirm_code"]},
        headers=bearer(token),
    )


@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_the_first_step_answers_like_a_login(api: Api, method: str) -> None:
    token = await sign_in(api.client)

    step = await ask_to_delete(api, token, method)

    assert set(step) == {
        "user", "token", "next_page", "expires_in", "resend_after", "confirm_code", "channel"
    }  # fmt: skip
    assert step["user"] == {"phone": PHONE}
    assert step["next_page"] == f"{api.prefix}/api/profile/delete/{step['token']}/"


async def test_the_right_code_deletes_the_account_and_every_session(api: Api) -> None:
    token = await sign_in(api.client)
    api.clock.advance(COOLDOWN)
    other_device = await sign_in(api.client)
    api.clock.advance(COOLDOWN)
    step = await ask_to_delete(api, token)

    deleted = await confirm(api, token, step)

    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"detail": "Account deleted."}
    for session in (token, other_device):
        assert_problem(await api.client.get("/api/profile/", headers=bearer(session)), 401)


async def test_a_wrong_code_deletes_nothing(api: Api) -> None:
    token = await sign_in(api.client)
    step = await ask_to_delete(api, token)

    refused = await confirm(api, token, step, wrong(step["confirm_code"]))

    assert_problem(refused, 400, "code_invalid")
    assert (await profile(api.client, token))["phone"] == PHONE


async def test_a_login_code_deletes_nothing_nor_confirms_a_login(api: Api) -> None:
    token = await sign_in(api.client)
    api.clock.advance(COOLDOWN)
    pending = await login(api.client)  # a login of the same phone, not a deletion
    api.client.cookies.clear()

    refused = await confirm(api, token, {"token": pending.token, "confirm_code": pending.code})

    assert_problem(refused, 400, "code_invalid")
    assert (await profile(api.client, token))["phone"] == PHONE


async def test_another_users_deletion_code_deletes_nobody(api: Api) -> None:
    mine = await sign_in(api.client)
    theirs = await sign_in(api.client, OTHER_PHONE)
    step = await ask_to_delete(api, theirs)

    refused = await confirm(api, mine, step)

    assert_problem(refused, 400, "code_invalid")
    assert (await profile(api.client, theirs))["phone"] == OTHER_PHONE


async def test_a_referrer_sees_a_deleted_user_and_keeps_the_count(api: Api) -> None:
    owner = await sign_in(api.client)
    fan = await sign_in(api.client, OTHER_PHONE)
    assert (await apply_code(api.client, fan, await invite_code(api.client, owner))).is_success
    step = await ask_to_delete(api, fan)

    assert (await confirm(api, fan, step)).status_code == 200

    mine = await profile(api.client, owner)
    assert (mine["referred_users"], mine["referred_users_count"]) == (["deleted user"], 1)


async def test_a_deleted_accounts_invite_code_is_retired(api: Api) -> None:
    owner = await sign_in(api.client)
    code = await invite_code(api.client, owner)
    assert (await confirm(api, owner, await ask_to_delete(api, owner))).status_code == 200
    newcomer = await sign_in(api.client, OTHER_PHONE)

    assert_problem(await apply_code(api.client, newcomer, code), 404, "referral_code_not_found")


async def test_the_number_signs_up_again_but_applies_no_code_until_the_cooldown_ends(
    api: Api,
) -> None:
    owner = await sign_in(api.client, THIRD_PHONE)
    code = await invite_code(api.client, owner)
    token = await sign_in(api.client)
    old_id = (await profile(api.client, token))["id"]
    assert (await confirm(api, token, await ask_to_delete(api, token))).status_code == 200
    api.clock.advance(COOLDOWN)

    again = await sign_in(api.client)
    mine = await profile(api.client, again)
    assert mine["id"] != old_id
    assert mine["phone"] == PHONE
    assert_problem(await apply_code(api.client, again, code), 409, "referral_cooldown")

    api.clock.advance(api.settings.policy.reregister_cooldown)
    later = await sign_in(api.client)  # the 30-day session is over too
    assert (await apply_code(api.client, later, code)).status_code == 200


async def test_deleting_needs_a_session(api: Api) -> None:
    assert_problem(await api.client.post("/api/profile/delete/"), 401, "not_authenticated")
    assert_problem(await api.client.delete("/api/profile/"), 401, "not_authenticated")
