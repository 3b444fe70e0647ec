"""The error table of docs/rules.md, row by row (limits: test_limits.py; referral
conflicts: test_referrals.py; 503: test_unavailable.py).

Every error is an RFC 9457 problem (``application/problem+json``) with
``title``, ``status``, ``detail`` and a stable ``code``.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from referrals.adapters import memory
from referrals.domain.errors import DomainError
from tests.e2e.conftest import (
    COOLDOWN,
    PHONE,
    Api,
    MakeApi,
    assert_problem,
    bearer,
    login,
    sign_in,
    verify,
    wrong,
)
from tests.e2e.test_unavailable import Outage

CODE_TTL = 300
MAX_ATTEMPTS = 5
BODY_LIMIT = 16 * 1024


def field_names(body: dict[str, Any]) -> list[str]:
    assert isinstance(body["errors"], list), body
    assert body["errors"], body
    for error in body["errors"]:
        assert set(error) == {"field", "message"}
        assert error["message"]
    return [error["field"] for error in body["errors"]]


# --- 400 validation_error ---------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "why"),
    [
        ("123", "too short"),
        ("+7999123456", "one digit short"),
        ("+799912345678", "one digit long"),
        ("+7 (800) 555-35-35", "toll-free: cannot receive SMS"),
        ("not a phone", "letters"),
        ("", "empty"),
        ("   ", "blank"),
        ("+", "just a plus"),
        ("+0 000 000 00 00", "no such country"),
    ],
)
async def test_an_invalid_phone_is_a_validation_error_on_the_phone_field(
    client: AsyncTestClient[Any], phone: str, why: str
) -> None:
    response = await client.post("/api/login/", json={"phone": phone})

    body = assert_problem(response, 400, "validation_error")
    assert field_names(body) == ["phone"], why


async def test_a_missing_phone_is_a_validation_error(client: AsyncTestClient[Any]) -> None:
    response = await client.post("/api/login/", json={"telephone": PHONE})

    assert_problem(response, 400, "validation_error")


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/login/", "phone"),
        ("/api/verify/some-token/", "confirm_code"),
    ],
)
async def test_a_missing_field_is_named_in_the_errors(
    client: AsyncTestClient[Any], path: str, field: str
) -> None:
    response = await client.post(path, json={})

    body = assert_problem(response, 400, "validation_error")
    assert field_names(body) == [field]


async def test_a_field_of_the_wrong_type_is_named_in_the_errors(
    client: AsyncTestClient[Any],
) -> None:
    response = await client.post("/api/login/", json={"phone": 79991234567})

    body = assert_problem(response, 400, "validation_error")
    assert field_names(body) == ["phone"]


@pytest.mark.parametrize(
    "code",
    [
        "123",
        "12345",
        "abcd",
        "12a4",
        "",
        "    ",
        "\u0661\u0662\u0663\u0664",
        "12.4",
        "+123",
        "-123",
    ],
    ids=repr,
)
async def test_a_malformed_confirmation_code_is_a_validation_error(
    client: AsyncTestClient[Any], code: str
) -> None:
    challenge = await login(client)

    response = await verify(client, challenge.token, code)

    body = assert_problem(response, 400, "validation_error")
    assert field_names(body) == ["confirm_code"]


async def test_a_malformed_code_does_not_use_up_an_attempt(client: AsyncTestClient[Any]) -> None:
    challenge = await login(client)
    for _ in range(MAX_ATTEMPTS + 1):
        await verify(client, challenge.token, "12")

    response = await verify(client, challenge.token, challenge.code)

    assert response.status_code == 200, response.text


async def test_a_code_typed_with_spaces_or_dashes_is_accepted(client: AsyncTestClient[Any]) -> None:
    challenge = await login(client)
    code = challenge.code

    response = await verify(client, challenge.token, f" {code[:2]}-{code[2:]} ")

    assert response.status_code == 200, response.text


async def test_malformed_json_is_a_validation_error(client: AsyncTestClient[Any]) -> None:
    response = await client.post(
        "/api/login/", content=b'{"phone": ', headers={"content-type": "application/json"}
    )

    assert_problem(response, 400, "validation_error")


async def test_malformed_json_lists_the_body_as_the_faulty_field(
    client: AsyncTestClient[Any],
) -> None:
    response = await client.post(
        "/api/login/", content=b'{"phone": ', headers={"content-type": "application/json"}
    )

    body = assert_problem(response, 400, "validation_error")
    assert field_names(body) == ["body"]


async def test_a_body_that_is_not_an_object_names_the_body(client: AsyncTestClient[Any]) -> None:
    response = await client.post("/api/login/", json=[PHONE])

    body = assert_problem(response, 400, "validation_error")
    assert field_names(body) == ["body"]


# --- 400 code_invalid -------------------------------------------------------


async def test_a_wrong_code_is_code_invalid_with_the_attempts_left(
    client: AsyncTestClient[Any],
) -> None:
    challenge = await login(client)

    response = await verify(client, challenge.token, wrong(challenge.code))

    body = assert_problem(response, 400, "code_invalid")
    assert body["attempts_left"] == MAX_ATTEMPTS - 1
    assert "errors" not in body


async def test_the_right_code_still_works_after_a_few_wrong_ones(
    client: AsyncTestClient[Any],
) -> None:
    challenge = await login(client)
    for left in range(MAX_ATTEMPTS - 1, 0, -1):
        answer = await verify(client, challenge.token, wrong(challenge.code))
        assert assert_problem(answer, 400, "code_invalid")["attempts_left"] == left

    response = await verify(client, challenge.token, challenge.code)

    assert response.status_code == 200, response.text


# --- 400 challenge_expired --------------------------------------------------


async def test_an_unknown_token_is_challenge_expired(client: AsyncTestClient[Any]) -> None:
    response = await verify(client, "no-such-token", "1234")

    assert_problem(response, 400, "challenge_expired")


async def test_a_code_still_works_just_before_it_expires(api: Api) -> None:
    challenge = await login(api.client)
    api.clock.advance(CODE_TTL - 1)

    response = await verify(api.client, challenge.token, challenge.code)

    assert response.status_code == 200, response.text


async def test_an_expired_challenge_is_challenge_expired(api: Api) -> None:
    challenge = await login(api.client)
    api.clock.advance(CODE_TTL + 1)

    response = await verify(api.client, challenge.token, challenge.code)

    assert_problem(response, 400, "challenge_expired")


async def test_a_consumed_challenge_cannot_be_replayed(client: AsyncTestClient[Any]) -> None:
    challenge = await login(client)
    assert (await verify(client, challenge.token, challenge.code)).status_code == 200
    client.cookies.clear()

    replay = await verify(client, challenge.token, challenge.code)

    assert_problem(replay, 400, "challenge_expired")
    assert "set-cookie" not in replay.headers


async def test_a_new_login_supersedes_the_previous_challenge(api: Api) -> None:
    first = await login(api.client)
    api.clock.advance(COOLDOWN)
    second = await login(api.client)

    old = await verify(api.client, first.token, first.code)
    if first.code != second.code:
        stale_code = await verify(api.client, second.token, first.code)
        assert_problem(stale_code, 400, "code_invalid")
    latest = await verify(api.client, second.token, second.code)

    assert_problem(old, 400, "challenge_expired")
    assert latest.status_code == 200, latest.text


async def test_the_fifth_wrong_code_burns_the_challenge(client: AsyncTestClient[Any]) -> None:
    challenge = await login(client)
    answers = [
        await verify(client, challenge.token, wrong(challenge.code)) for _ in range(MAX_ATTEMPTS)
    ]

    right_code = await verify(client, challenge.token, challenge.code)

    left = [assert_problem(a, 400, "code_invalid")["attempts_left"] for a in answers]
    assert left == [4, 3, 2, 1, 0]
    assert_problem(right_code, 400, "challenge_expired")


async def test_a_burned_phone_can_log_in_with_a_new_code(api: Api) -> None:
    burned = await login(api.client)
    for _ in range(MAX_ATTEMPTS):
        await verify(api.client, burned.token, wrong(burned.code))
    api.clock.advance(COOLDOWN)

    fresh = await login(api.client)

    assert (await verify(api.client, fresh.token, fresh.code)).status_code == 200


# --- 401 not_authenticated --------------------------------------------------


async def _revoked(client: AsyncTestClient[Any]) -> dict[str, str]:
    token = await sign_in(client)
    await client.post("/api/logout/", headers=bearer(token))
    return bearer(token)


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    "credentials",
    ["none", "unknown bearer", "revoked bearer", "unknown cookie", "empty cookie"],
)
async def test_a_missing_or_bad_session_is_401_with_www_authenticate(
    client: AsyncTestClient[Any], method: str, credentials: str
) -> None:
    headers: dict[str, str] = {}
    if credentials == "unknown bearer":
        headers = bearer("x" * 43)
    elif credentials == "revoked bearer":
        headers = await _revoked(client)
    elif credentials == "unknown cookie":
        headers = {"Cookie": "referrals_session=" + "x" * 43}
    elif credentials == "empty cookie":
        headers = {"Cookie": "referrals_session="}
    client.cookies.clear()

    response = await client.request(
        method, "/api/profile/", headers=headers, json={"used_referral_code": "AB12CD"}
    )

    assert_problem(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"] == "Bearer"


# --- 413 payload_too_large --------------------------------------------------


@pytest.mark.parametrize("path", ["/api/login/", "/api/verify/some-token/", "/api/profile/"])
async def test_a_body_over_16_kib_is_payload_too_large(
    client: AsyncTestClient[Any], path: str
) -> None:
    token = await sign_in(client)
    body = b'{"phone": "' + b"9" * BODY_LIMIT + b'"}'

    response = await client.post(
        path, content=body, headers={**bearer(token), "content-type": "application/json"}
    )

    assert_problem(response, 413, "payload_too_large")


async def test_a_body_of_exactly_16_kib_is_read(client: AsyncTestClient[Any]) -> None:
    body = b'{"phone": "+79991234567"}'
    body += b" " * (BODY_LIMIT - len(body))

    response = await client.post(
        "/api/login/", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 200, response.text


async def test_one_byte_over_16_kib_is_too_large(client: AsyncTestClient[Any]) -> None:
    body = b'{"phone": "+79991234567"}'
    body += b" " * (BODY_LIMIT + 1 - len(body))

    response = await client.post(
        "/api/login/", content=body, headers={"content-type": "application/json"}
    )

    assert_problem(response, 413, "payload_too_large")


# --- 405 --------------------------------------------------------------------


@pytest.mark.standalone  # a host answers requests that match no route of the API
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/login/"),
        ("PUT", "/api/login/"),
        ("DELETE", "/api/login"),
        ("PUT", "/api/verify/some-token/"),
        ("PATCH", "/api/verify/some-token"),
        ("PUT", "/api/profile/"),
        ("PATCH", "/api/profile"),
        ("PATCH", "/api/profile/"),
        ("PUT", "/api/logout/"),
        ("DELETE", "/api/logout"),
    ],
)
async def test_a_method_not_allowed_is_a_problem_405_with_allow(
    client: AsyncTestClient[Any], method: str, path: str
) -> None:
    response = await client.request(method, path)

    assert_problem(response, 405)
    assert response.headers["allow"]
    assert method not in response.headers["allow"]


class _UnlistedRefusal(DomainError):
    """A refusal added later that the error catalogue does not name."""

    message = "Refused for a reason the catalogue does not list."


async def test_a_refusal_the_catalogue_does_not_list_is_a_4xx_problem(make_api: MakeApi) -> None:
    """Issue 9 point 8: the handler raised ``StopIteration`` (a bare 500) for
    any ``DomainError`` missing from its table."""
    challenges = Outage(memory.InMemoryChallengeStore(), _UnlistedRefusal())
    api = await make_api(overrides={"challenges": challenges})
    challenges.down = True

    response = await api.client.post("/api/login/", json={"phone": PHONE})

    assert_problem(response, 400, "request_refused")
