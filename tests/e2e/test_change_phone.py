"""Changing one's phone (docs/account.md): two steps, the account keeps all but the number."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import (
    COOLDOWN,
    OTHER_PHONE,
    PHONE,
    Api,
    apply_code,
    assert_problem,
    bearer,
    invite_code,
    profile,
    sign_in,
    wrong,
)
from tests.e2e.test_delete_account import ask_to_delete
from tests.e2e.test_delete_account import confirm as confirm_deletion

NEW_PHONE = "+79995550022"


async def ask_to_move(api: Api, token: str, phone: str = NEW_PHONE) -> dict[str, Any]:
    response = await api.client.post(
        "/api/profile/phone/", json={"phone": phone}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def confirm(api: Api, token: str, step: dict[str, Any], code: str | None = None) -> Any:
    return await api.client.post(
        f"/api/profile/phone/{step['token']}/",
        json={"confirm_code": code or step["confirm_code"]},
        headers=bearer(token),
    )


async def test_the_first_step_answers_like_a_login_for_the_new_number(api: Api) -> None:
    token = await sign_in(api.client)

    step = await ask_to_move(api, token)

    assert step["user"] == {"phone": NEW_PHONE}
    assert step["next_page"] == f"{api.prefix}/api/profile/phone/{step['token']}/"
    assert {"expires_in", "resend_after", "confirm_code"} <= set(step)


async def test_the_code_moves_the_account_and_it_keeps_its_id_code_and_referrals(
    api: Api,
) -> None:
    owner = await sign_in(api.client)
    fan = await sign_in(api.client, OTHER_PHONE)
    assert (await apply_code(api.client, fan, await invite_code(api.client, owner))).is_success
    before = await profile(api.client, fan)

    moved = await confirm(api, fan, await ask_to_move(api, fan))

    assert moved.status_code == 200, moved.text
    after = moved.json()
    assert after["phone"] == NEW_PHONE
    assert {k: v for k, v in after.items() if k != "phone"} == {
        k: v for k, v in before.items() if k != "phone"
    }
    assert (await profile(api.client, owner))["referred_users"] == [NEW_PHONE]


async def test_other_sessions_end_and_this_one_stays(api: Api) -> None:
    other_device = await sign_in(api.client)
    api.clock.advance(COOLDOWN)
    this_device = await sign_in(api.client)

    assert (await confirm(api, this_device, await ask_to_move(api, this_device))).is_success

    assert_problem(await api.client.get("/api/profile/", headers=bearer(other_device)), 401)
    assert (await profile(api.client, this_device))["phone"] == NEW_PHONE


async def test_a_number_of_another_account_is_refused_only_at_confirmation(api: Api) -> None:
    await sign_in(api.client, NEW_PHONE)
    token = await sign_in(api.client)
    api.clock.advance(COOLDOWN)

    step = await ask_to_move(api, token)  # the same answer as for a free number
    refused = await confirm(api, token, step)

    assert_problem(refused, 409, "phone_taken")
    assert (await profile(api.client, token))["phone"] == PHONE


async def test_a_wrong_code_moves_nothing(api: Api) -> None:
    token = await sign_in(api.client)
    step = await ask_to_move(api, token)

    assert_problem(
        await confirm(api, token, step, wrong(step["confirm_code"])), 400, "code_invalid"
    )
    assert (await profile(api.client, token))["phone"] == PHONE


async def test_the_new_numbers_login_code_does_not_confirm_a_move(api: Api) -> None:
    token = await sign_in(api.client)
    login = await api.client.post("/api/login/", json={"phone": NEW_PHONE})
    body = login.json()

    refused = await confirm(
        api, token, {"token": body["token"], "confirm_code": body["confirm_code"]}
    )

    assert_problem(refused, 400, "code_invalid")


async def test_an_old_session_signs_in_again_first(api: Api) -> None:
    token = await sign_in(api.client)
    api.clock.advance(api.settings.policy.step_up_age + 1)

    refused = await api.client.post(
        "/api/profile/phone/", json={"phone": NEW_PHONE}, headers=bearer(token)
    )

    assert_problem(refused, 403, "step_up_required")
    fresh = await sign_in(api.client)
    assert (await confirm(api, fresh, await ask_to_move(api, fresh))).is_success


async def test_changing_the_number_needs_a_session(api: Api) -> None:
    refused = await api.client.post("/api/profile/phone/", json={"phone": NEW_PHONE})
    assert_problem(refused, 401, "not_authenticated")


async def test_moving_to_a_deleted_accounts_number_carries_its_cooldown(api: Api) -> None:
    """The number's re-registration cooldown (docs/account.md) follows it to
    whoever moves to it, as to whoever signs up on it."""
    owner = await sign_in(api.client, OTHER_PHONE)
    code = await invite_code(api.client, owner)
    gone = await sign_in(api.client, NEW_PHONE)
    erased = await confirm_deletion(api, gone, await ask_to_delete(api, gone))
    assert erased.status_code == 200, erased.text
    api.clock.advance(COOLDOWN)
    mover = await sign_in(api.client)

    assert (await confirm(api, mover, await ask_to_move(api, mover))).status_code == 200

    assert_problem(await apply_code(api.client, mover, code), 409, "referral_cooldown")
