"""The happy path of docs/http-api.md: log in, verify, read the profile, log out."""

from __future__ import annotations

import re
from typing import Any

import httpx
from litestar.testing import AsyncTestClient

from referrals.application.policy import Policy
from tests.e2e.conftest import (
    COOLDOWN,
    OTHER_PHONE,
    PHONE,
    SESSION_COOKIE,
    Api,
    MakeApi,
    assert_problem,
    bearer,
    cookie_attributes,
    login,
    profile,
    sign_in,
    verify,
)

TOKEN = re.compile(r"[A-Za-z0-9_-]{22,}")  # URL-safe, at least 128 bits
PROFILE_KEYS = {
    "id",
    "phone",
    "used_referral_code",
    "invite_referral_code",
    "referred_users",
    "referred_users_count",
    "next_cursor",
    "used_referral_status",
}
THIRTY_DAYS = 30 * 86400


# --- login ------------------------------------------------------------------


async def test_login_answers_the_fields_of_the_spec(api: Api) -> None:
    response = await api.client.post("/api/login/", json={"phone": "8 (999) 123-45-67"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {
        "user",
        "token",
        "next_page",
        "expires_in",
        "resend_after",
        "confirm_code",
        "channel",
    }
    assert body["channel"] == "console"  # the route's first channel
    assert body["user"] == {"phone": PHONE}
    assert TOKEN.fullmatch(body["token"])
    assert body["next_page"] == f"{api.prefix}/api/verify/{body['token']}/"
    assert body["expires_in"] == 300
    assert body["resend_after"] == 60
    assert re.fullmatch(r"\d{4}", body["confirm_code"])


async def test_next_page_is_absolute_under_the_configured_public_url(make_api: MakeApi) -> None:
    api = await make_api(public_url="https://auth.example.com/svc/")

    token = (await login(api.client)).token
    followed = await login(api.client, OTHER_PHONE)

    assert followed.response.json()["next_page"] == (
        f"https://auth.example.com/svc{api.prefix}/api/verify/{followed.token}/"
    )
    assert token != followed.token


async def test_next_page_never_comes_from_the_host_header(api: Api) -> None:
    response = await api.client.post(
        "/api/login/", json={"phone": PHONE}, headers={"Host": "evil.example"}
    )

    assert response.status_code == 200
    assert "evil.example" not in response.text
    assert response.json()["next_page"].startswith(f"{api.prefix}/api/verify/")


async def test_login_gives_a_new_token_each_time(api: Api) -> None:
    first = await login(api.client)
    api.clock.advance(COOLDOWN)
    second = await login(api.client)

    assert first.token != second.token


async def test_login_hides_the_code_unless_codes_are_exposed(make_api: MakeApi) -> None:
    api = await make_api(Policy(expose_codes=False))

    response = await api.client.post("/api/login/", json={"phone": PHONE})

    assert response.status_code == 200
    assert "confirm_code" not in response.json()
    assert "confirm_code" not in response.text


async def test_the_code_arrives_by_sms_and_logs_the_user_in(make_api: MakeApi) -> None:
    api = await make_api(Policy(expose_codes=False))
    token = (await api.client.post("/api/login/", json={"phone": PHONE})).json()["token"]

    [sms] = api.delivered()
    code = re.search(r"\b(\d{4})\b", sms.text)

    assert sms.phone == PHONE
    assert code is not None
    response = await verify(api.client, token, code.group(1))
    assert response.status_code == 200, response.text


async def test_the_code_length_follows_the_policy(make_api: MakeApi) -> None:
    api = await make_api(Policy(expose_codes=True, code_length=6))

    challenge = await login(api.client)

    assert re.fullmatch(r"\d{6}", challenge.code)
    assert (await verify(api.client, challenge.token, challenge.code)).status_code == 200


# --- verify -----------------------------------------------------------------


async def test_verify_answers_a_session_and_the_new_users_profile(
    client: AsyncTestClient[Any],
) -> None:
    challenge = await login(client)

    response = await verify(client, challenge.token, challenge.code)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "is_new_user", "user"}
    assert TOKEN.fullmatch(body["access_token"])
    assert len(body["access_token"]) >= 43  # 256 bits
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == THIRTY_DAYS
    assert body["is_new_user"] is True
    user = body["user"]
    assert set(user) == PROFILE_KEYS
    assert isinstance(user["id"], int)
    assert user["phone"] == PHONE
    assert user["used_referral_code"] is None
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{6}", user["invite_referral_code"])
    assert user["referred_users"] == []
    assert user["referred_users_count"] == 0
    assert user["next_cursor"] is None


async def test_a_second_login_of_the_same_phone_is_not_a_new_user(api: Api) -> None:
    first = await login(api.client)
    first_body = (await verify(api.client, first.token, first.code)).json()
    api.clock.advance(COOLDOWN)
    second = await login(api.client)

    second_body = (await verify(api.client, second.token, second.code)).json()

    assert first_body["is_new_user"] is True
    assert second_body["is_new_user"] is False
    assert second_body["user"] == first_body["user"]
    assert second_body["access_token"] != first_body["access_token"]


async def test_verify_sets_an_httponly_lax_session_cookie(client: AsyncTestClient[Any]) -> None:
    challenge = await login(client)

    response = await verify(client, challenge.token, challenge.code)

    cookie = cookie_attributes(response)
    assert cookie[""] == response.json()["access_token"]
    assert "httponly" in cookie
    assert cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/"
    assert cookie["max-age"] == str(THIRTY_DAYS)
    assert "secure" not in cookie


async def test_the_session_cookie_is_secure_when_configured(make_api: MakeApi) -> None:
    api = await make_api(cookie_secure=True)
    challenge = await login(api.client)

    response = await verify(api.client, challenge.token, challenge.code)

    cookie = cookie_attributes(response)
    assert "secure" in cookie
    assert "httponly" in cookie
    assert cookie["samesite"].lower() == "lax"


# --- profile ----------------------------------------------------------------


async def test_the_profile_is_read_with_the_bearer_token(client: AsyncTestClient[Any]) -> None:
    token = await sign_in(client)

    response = await client.get("/api/profile/", headers=bearer(token))

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == PROFILE_KEYS
    assert body["phone"] == PHONE


async def test_the_profile_is_read_with_the_session_cookie_alone(
    client: AsyncTestClient[Any],
) -> None:
    await sign_in(client, keep_cookie=True)
    assert client.cookies.get(SESSION_COOKIE)

    response = await client.get("/api/profile/")

    assert response.status_code == 200
    assert response.json()["phone"] == PHONE


async def test_a_bearer_token_is_accepted_whatever_the_case_of_its_scheme(
    client: AsyncTestClient[Any],
) -> None:
    token = await sign_in(client)

    response = await client.get("/api/profile/", headers={"Authorization": f"bearer {token}"})

    assert response.status_code == 200


async def test_the_bearer_token_and_the_cookie_name_the_same_session(
    client: AsyncTestClient[Any],
) -> None:
    token = await sign_in(client, keep_cookie=True)

    by_cookie = (await client.get("/api/profile/")).json()
    client.cookies.clear()
    by_bearer = await profile(client, token)

    assert by_cookie == by_bearer


async def test_a_session_ends_after_thirty_days(api: Api) -> None:
    token = await sign_in(api.client)
    api.clock.advance(THIRTY_DAYS - 1)
    assert (await api.client.get("/api/profile/", headers=bearer(token))).status_code == 200

    api.clock.advance(1)

    response = await api.client.get("/api/profile/", headers=bearer(token))
    assert_problem(response, 401, "not_authenticated")


# --- logout -----------------------------------------------------------------


async def test_logout_by_post_revokes_the_session_and_clears_the_cookie(
    client: AsyncTestClient[Any],
) -> None:
    token = await sign_in(client)

    response = await client.post("/api/logout/", headers=bearer(token))

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    cleared = cookie_attributes(response)
    assert cleared[""] in {"", '""'}
    assert cleared["max-age"] == "0"
    assert cleared["path"] == "/"
    answer = await client.get("/api/profile/", headers=bearer(token))
    assert_problem(answer, 401, "not_authenticated")
    assert answer.headers["www-authenticate"] == "Bearer"


async def test_logout_by_get_revokes_the_session_too(client: AsyncTestClient[Any]) -> None:
    token = await sign_in(client)

    response = await client.get("/api/logout/", headers=bearer(token))

    assert response.status_code == 200
    assert cookie_attributes(response)["max-age"] == "0"
    assert_problem(await client.get("/api/profile/", headers=bearer(token)), 401)


async def test_logout_with_the_cookie_revokes_that_session(client: AsyncTestClient[Any]) -> None:
    token = await sign_in(client, keep_cookie=True)

    response = await client.post("/api/logout/", json={})  # as the page sends it

    assert response.status_code == 200
    assert not client.cookies.get(SESSION_COOKIE)
    assert_problem(await client.get("/api/profile/", headers=bearer(token)), 401)


async def test_logout_leaves_the_users_other_sessions_open(api: Api) -> None:
    phone_session = await sign_in(api.client)
    api.clock.advance(COOLDOWN)
    laptop_session = await sign_in(api.client)

    await api.client.post("/api/logout/", headers=bearer(phone_session))

    assert (await profile(api.client, laptop_session))["phone"] == PHONE


async def test_logout_without_a_session_is_harmless(client: AsyncTestClient[Any]) -> None:
    token = await sign_in(client)

    anonymous = await client.post("/api/logout/")
    junk = await client.post("/api/logout/", headers=bearer("not-a-session"))

    assert anonymous.status_code == 200
    assert junk.status_code == 200
    assert (await profile(client, token))["phone"] == PHONE


async def test_logging_out_twice_is_harmless(client: AsyncTestClient[Any]) -> None:
    token = await sign_in(client)

    first = await client.post("/api/logout/", headers=bearer(token))
    second = await client.get("/api/logout/", headers=bearer(token))

    assert (first.status_code, second.status_code) == (200, 200)


# --- phone spellings (docs/rules.md) ----------------------------------------------


async def test_every_spelling_of_a_number_is_the_same_user(api: Api) -> None:
    spellings = ["+79991234567", "89991234567", "+7 (999) 123-45-67", "7 999 123 45 67"]
    seen: list[tuple[int, str, bool]] = []
    for spelling in spellings:
        challenge = await login(api.client, spelling)
        assert challenge.response.json()["user"]["phone"] == PHONE
        body = (await verify(api.client, challenge.token, challenge.code)).json()
        seen.append((body["user"]["id"], body["user"]["phone"], body["is_new_user"]))
        api.clock.advance(COOLDOWN)

    user_id = seen[0][0]
    assert seen == [
        (user_id, PHONE, True),
        (user_id, PHONE, False),
        (user_id, PHONE, False),
        (user_id, PHONE, False),
    ]


async def test_a_second_spelling_is_held_to_the_same_resend_cooldown(
    client: AsyncTestClient[Any],
) -> None:
    await login(client, "+79991234567")

    response = await client.post("/api/login/", json={"phone": "8 999 123-45-67"})

    assert_problem(response, 429, "rate_limited")


async def test_two_numbers_are_two_users(client: AsyncTestClient[Any]) -> None:
    first = await profile(client, await sign_in(client, PHONE))
    second = await profile(client, await sign_in(client, OTHER_PHONE))

    assert first["id"] != second["id"]
    assert first["invite_referral_code"] != second["invite_referral_code"]


# --- registered and new phones look alike (docs/rules.md) -------------------------


def _shape(value: Any) -> Any:
    """The JSON structure and the types of its leaves, without the values."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    return type(value).__name__


def _headers(answer: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in answer.headers.items() if k != "x-request-id"}


async def test_a_registered_and_a_new_phone_get_the_same_login_answer(api: Api) -> None:
    registered, new = PHONE, OTHER_PHONE
    await sign_in(api.client, registered)
    api.clock.advance(COOLDOWN)

    known = await api.client.post("/api/login/", json={"phone": registered})
    unknown = await api.client.post("/api/login/", json={"phone": new})

    assert known.status_code == unknown.status_code == 200
    assert _shape(known.json()) == _shape(unknown.json())
    # Lengths match (same-size phones); only the request ids differ, as for any two requests.
    assert _headers(known) == _headers(unknown)
    for answer in (known.json(), unknown.json()):
        assert answer["expires_in"] == 300
        assert answer["resend_after"] == 60


async def test_a_registered_and_a_new_phone_are_refused_alike(api: Api) -> None:
    registered, new = PHONE, OTHER_PHONE
    await sign_in(api.client, registered)
    await login(api.client, new)

    known = await api.client.post("/api/login/", json={"phone": registered})
    unknown = await api.client.post("/api/login/", json={"phone": new})

    assert known.status_code == unknown.status_code == 429
    assert known.json() == unknown.json()
    assert _headers(known) == _headers(unknown)


async def test_a_wrong_code_answers_alike_for_registered_and_new_phones(api: Api) -> None:
    registered, new = PHONE, OTHER_PHONE
    await sign_in(api.client, registered)
    api.clock.advance(COOLDOWN)
    known = await login(api.client, registered)
    unknown = await login(api.client, new)

    known_answer = await verify(api.client, known.token, "0000" if known.code != "0000" else "1111")
    unknown_answer = await verify(
        api.client, unknown.token, "0000" if unknown.code != "0000" else "1111"
    )

    assert known_answer.status_code == unknown_answer.status_code == 400
    assert known_answer.json() == unknown_answer.json()


async def test_the_cleared_cookie_is_secure_when_configured(make_api: MakeApi) -> None:
    api = await make_api(cookie_secure=True)
    token = await sign_in(api.client)

    response = await api.client.post("/api/logout/", headers=bearer(token))

    cleared = cookie_attributes(response)
    assert cleared["max-age"] == "0"
    assert "secure" in cleared
    assert "httponly" in cleared
