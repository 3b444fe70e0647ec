"""Issue 9 item 6: the OpenAPI document gives the lengths and patterns the code
really has (login token, cursor, invite code, phone), and what it refuses
is refused with a 4xx problem."""

from __future__ import annotations

import re
from typing import Any

from referrals.application.profile import CURSOR_MAX_LENGTH, CURSOR_PATTERN
from referrals.domain.codes import INVITE_CODE_TYPED, LOGIN_TOKEN_LENGTH, LOGIN_TOKEN_PATTERN
from referrals.domain.phone import MAX_TYPED_LENGTH
from tests.e2e.conftest import Api, apply_code, assert_problem, bearer, login, sign_in, verify
from tests.e2e.test_openapi import document, operation, resolve

__all__ = ["document"]  # a fixture, used by name


def parameter(document: dict[str, Any], path: str, method: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        p["schema"] for p in operation(document, path, method)["parameters"] if p["name"] == name
    )
    return found


def body_field(document: dict[str, Any], path: str, field: str) -> dict[str, Any]:
    content = operation(document, path, "post")["requestBody"]["content"]
    schema = resolve(document, content["application/json"]["schema"])
    found: dict[str, Any] = schema["properties"][field]
    return found


def documented(schema: dict[str, Any]) -> re.Pattern[str]:
    """The schema's ``pattern``, anchored at both ends as JSON Schema means it."""
    pattern = schema["pattern"]
    assert pattern.startswith("^") and pattern.endswith("$"), pattern
    return re.compile(pattern[1:-1])


async def test_the_login_token_is_documented_with_its_exact_shape(
    api: Api, document: dict[str, Any]
) -> None:
    schema = parameter(document, "/api/verify/{token}", "post", "token")
    assert schema["pattern"] == f"^{LOGIN_TOKEN_PATTERN}$"
    assert schema["maxLength"] == LOGIN_TOKEN_LENGTH

    challenge = await login(api.client)

    assert documented(schema).fullmatch(challenge.token)
    assert len(challenge.token) == LOGIN_TOKEN_LENGTH


async def test_a_token_of_another_shape_is_refused(api: Api) -> None:
    challenge = await login(api.client)

    too_long = await verify(api.client, challenge.token + "A", challenge.code)
    upper_alias = await verify(api.client, challenge.token.upper(), challenge.code)

    assert too_long.status_code == 400, too_long.text
    assert_problem(upper_alias, 400, "challenge_expired")


async def test_the_cursor_is_documented_as_the_cursors_given_out(
    api: Api, document: dict[str, Any]
) -> None:
    schema = parameter(document, "/api/profile", "get", "cursor")
    assert schema["pattern"] == f"^(?:{CURSOR_PATTERN})?$"  # empty: the first page
    assert schema["maxLength"] == CURSOR_MAX_LENGTH

    owner = await sign_in(api.client)
    code = (await api.client.get("/api/profile/", headers=bearer(owner))).json()
    for n in range(2):
        fan = await sign_in(api.client, f"+7999765432{n}")
        applied = await apply_code(api.client, fan, code["invite_referral_code"])
        assert applied.status_code == 200, applied.text
    page = await api.client.get("/api/profile/", params={"limit": 1}, headers=bearer(owner))
    cursor = page.json()["next_cursor"]

    assert documented(schema).fullmatch(cursor), cursor
    padded = await api.client.get(
        "/api/profile/", params={"cursor": cursor + "="}, headers=bearer(owner)
    )
    assert_problem(padded, 400, "validation_error")
    first = await api.client.get("/api/profile/", params={"cursor": ""}, headers=bearer(owner))
    assert first.status_code == 200, first.text
    assert not documented(schema).fullmatch(cursor + "=")
    assert documented(schema).fullmatch("")


async def test_the_invite_code_is_documented_as_the_code_reads_it(
    document: dict[str, Any],
) -> None:
    schema = body_field(document, "/api/profile", "used_referral_code")

    assert schema["pattern"] == f"^{INVITE_CODE_TYPED}$"
    assert documented(schema).fullmatch(" trb7w4 ")
    assert not documented(schema).fullmatch("\u0131RB7W4")


async def test_a_non_ascii_invite_code_is_a_validation_error(api: Api) -> None:
    token = await sign_in(api.client)

    response = await apply_code(api.client, token, "\u0131\u017fAB2C")

    body = assert_problem(response, 400, "validation_error")
    assert [error["field"] for error in body["errors"]] == ["used_referral_code"]


async def test_the_phone_field_is_as_long_as_the_code_reads(
    api: Api, document: dict[str, Any]
) -> None:
    assert body_field(document, "/api/login", "phone")["maxLength"] == MAX_TYPED_LENGTH
    longest = "+7 (999) 123-45-67".center(MAX_TYPED_LENGTH)

    accepted = await api.client.post("/api/login/", json={"phone": longest})
    refused = await api.client.post("/api/login/", json={"phone": longest + " "})

    assert accepted.status_code == 200, accepted.text
    body = assert_problem(refused, 400, "validation_error")
    assert [error["field"] for error in body["errors"]] == ["phone"]
