"""One's own sessions (docs/account.md): list them, end one, end all but this one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.e2e.conftest import (
    COOLDOWN,
    OTHER_PHONE,
    PHONE,
    Api,
    assert_problem,
    bearer,
    login,
    sign_in,
    verify,
)

LAPTOP = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"


async def sessions_of(api: Api, token: str) -> list[dict[str, Any]]:
    response = await api.client.get("/api/sessions/", headers=bearer(token))
    assert response.status_code == 200, response.text
    listed: list[dict[str, Any]] = response.json()["sessions"]
    return listed


async def a_second_session(api: Api, user_agent: str = LAPTOP) -> str:
    api.clock.advance(COOLDOWN)
    challenge = await login(api.client)
    verified = await verify(
        api.client, challenge.token, challenge.code, headers={"User-Agent": user_agent}
    )
    assert verified.status_code == 200, verified.text
    api.client.cookies.clear()
    token: str = verified.json()["access_token"]
    return token


async def test_the_list_shows_each_session_newest_first_and_marks_this_one(api: Api) -> None:
    phone = await sign_in(api.client)
    laptop = await a_second_session(api)

    listed = await sessions_of(api, laptop)

    assert [s["current"] for s in listed] == [True, False]
    newest, oldest = listed
    assert set(newest) == {
        "id", "created_at", "last_seen", "expires_at", "address", "user_agent", "current"
    }  # fmt: skip
    assert newest["user_agent"] == LAPTOP
    assert newest["address"] == ""  # the test client's peer is no address
    assert datetime.fromisoformat(newest["created_at"]) > datetime.fromisoformat(
        oldest["created_at"]
    )
    assert [s["current"] for s in await sessions_of(api, phone)] == [False, True]


async def test_a_listed_session_shows_its_network_never_the_whole_address(
    make_api: Any,
) -> None:
    api = await make_api(peer="203.0.113.77")
    token = await sign_in(api.client)

    [session] = await sessions_of(api, token)

    assert session["address"] == "203.0.113.0/24"


async def test_last_seen_moves_with_use_at_most_once_a_minute(api: Api) -> None:
    token = await sign_in(api.client)
    [opened] = await sessions_of(api, token)
    api.clock.advance(30)
    [half_a_minute] = await sessions_of(api, token)
    api.clock.advance(31)
    await sessions_of(api, token)
    [later] = await sessions_of(api, token)

    assert half_a_minute["last_seen"] == opened["last_seen"] == opened["created_at"]
    seen = datetime.fromisoformat(later["last_seen"]) - datetime.fromisoformat(opened["last_seen"])
    assert seen.total_seconds() == 61


async def test_ending_another_session_signs_that_device_out_only(api: Api) -> None:
    phone = await sign_in(api.client)
    laptop = await a_second_session(api)
    [_, phone_session] = await sessions_of(api, laptop)

    ended = await api.client.delete(f"/api/sessions/{phone_session['id']}/", headers=bearer(laptop))

    assert ended.status_code == 204, ended.text
    assert_problem(await api.client.get("/api/profile/", headers=bearer(phone)), 401)
    assert [s["current"] for s in await sessions_of(api, laptop)] == [True]


async def test_another_users_session_cannot_be_ended(api: Api) -> None:
    mine = await sign_in(api.client)
    theirs = await sign_in(api.client, OTHER_PHONE)
    [their_session] = await sessions_of(api, theirs)

    refused = await api.client.delete(f"/api/sessions/{their_session['id']}/", headers=bearer(mine))

    assert_problem(refused, 404, "session_not_found")
    assert len(await sessions_of(api, theirs)) == 1


async def test_an_id_of_no_session_is_refused_as_not_found(api: Api) -> None:
    token = await sign_in(api.client)

    refused = await api.client.delete(f"/api/sessions/{'0' * 64}/", headers=bearer(token))

    assert_problem(refused, 404, "session_not_found")


async def test_ending_the_others_keeps_this_session(api: Api) -> None:
    first = await sign_in(api.client)
    second = await a_second_session(api)
    third = await a_second_session(api, "curl/8.5")

    answer = await api.client.post("/api/sessions/revoke-others/", headers=bearer(second))

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"revoked": 2}
    for ended in (first, third):
        assert_problem(await api.client.get("/api/profile/", headers=bearer(ended)), 401)
    assert [s["current"] for s in await sessions_of(api, second)] == [True]


async def test_sessions_need_a_session(api: Api) -> None:
    assert_problem(await api.client.get("/api/sessions/"), 401, "not_authenticated")
    assert_problem(await api.client.post("/api/sessions/revoke-others/"), 401, "not_authenticated")


async def test_the_cookie_alone_cannot_end_sessions_from_another_site(api: Api) -> None:
    await sign_in(api.client, PHONE, keep_cookie=True)

    refused = await api.client.post(
        "/api/sessions/revoke-others/", headers={"Sec-Fetch-Site": "cross-site"}
    )

    assert_problem(refused, 403, "cross_site_request")
