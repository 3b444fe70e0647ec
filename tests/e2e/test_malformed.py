"""docs/http-api.md: "No request, however malformed, gets a 500."

A table of hand-picked malformed requests, each with the answer it must
get, then Hypothesis throwing arbitrary JSON values, text and bytes at every
endpoint. Every 4xx must be a problem document.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient

from tests.e2e.conftest import (
    PHONE,
    Api,
    assert_problem,
    bearer,
    host_answers,
    phone_number,
    sign_in,
)

JSON = {"content-type": "application/json"}


@dataclass(frozen=True)
class Case:
    """One request: ``path`` may hold ``{token}`` (an unknown login token);
    ``auth`` adds a valid Bearer token."""

    method: str
    path: str
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] | None = None
    auth: bool = False
    status: int = 400


def body(path: str, value: Any, status: int = 400, *, auth: bool = False) -> Case:
    """A POST of ``value`` as JSON."""
    return Case("POST", path, json.dumps(value).encode(), JSON, auth=auth, status=status)


def raw(
    path: str, content: bytes, content_type: str = "application/json", status: int = 400
) -> Case:
    """A POST of raw bytes, which must answer ``status`` (400 unless said otherwise)."""
    headers = {"content-type": content_type}
    return Case("POST", path, content, headers, auth=path == PROFILE, status=status)


def query(status: int = 400, **params: str) -> Case:
    return Case("GET", PROFILE, params=params, auth=True, status=status)


def authorization(value: str) -> Case:
    return Case("GET", PROFILE, headers={"Authorization": value}, status=401)


LOGIN, VERIFY, PROFILE = "/api/login/", "/api/verify/{token}/", "/api/profile/"
ODD_VALUES: dict[str, Any] = {
    "int": 79991234567,
    "float": 1.5,
    "list": ["+79991234567"],
    "object": {"phone": "+79991234567"},
    "null": None,
    "bool": True,
    "empty": "",
    "blank": "   ",
    "long": "9" * 10_000,
    "unicode": "☃😀\u202e\u0000ﷺ",
}
FIELDS = {LOGIN: "phone", VERIFY: "confirm_code", PROFILE: "used_referral_code"}

CASES: dict[str, Case | Any] = {  # Any: pytest.param(Case, marks=...)
    # not JSON, or not a JSON object
    "not json": raw(LOGIN, b"phone=+79991234567"),
    "truncated json": raw(LOGIN, b'{"phone": "+7999'),
    "trailing garbage": raw(LOGIN, b'{"phone": "+79991234567"} x'),
    "json array": body(LOGIN, ["+79991234567"]),
    "json string": body(LOGIN, "+79991234567"),
    "json number": body(LOGIN, 79991234567),
    "json null": body(LOGIN, None),
    "json true": body(LOGIN, True),
    "empty body": raw(LOGIN, b""),
    "blank body": raw(LOGIN, b"  \n "),
    "no content-type, empty body": Case("POST", LOGIN, b"", status=415),
    "invalid utf-8 in a string": raw(LOGIN, b'{"phone": "\xff\xfe"}'),
    "invalid utf-8 in a key": raw(LOGIN, b'{"\xc3": "+79991234567"}'),
    "invalid utf-8 outside strings": raw(LOGIN, b"\xff\xfe"),
    "utf-8 bom": raw(LOGIN, b'\xef\xbb\xbf{"phone": "+79991234567"}'),
    "lone surrogate": raw(LOGIN, b'{"phone": "\\ud800"}'),
    "nan": raw(LOGIN, b'{"phone": NaN}'),
    "number too big for a float": raw(LOGIN, b'{"phone": 1e400}'),
    "huge integer": raw(LOGIN, b'{"phone": ' + b"9" * 400 + b"}"),
    "json with comments": raw(LOGIN, b'{"phone": "+79991234567" /* hi */}'),
    "single quotes": raw(LOGIN, b"{'phone': '+79991234567'}"),
    "form encoded": Case(
        "POST",
        LOGIN,
        b"phone=%2B79991234567",
        {"content-type": "application/x-www-form-urlencoded"},
        status=415,
    ),
    "text/plain, not json": raw(LOGIN, b"+79991234567", "text/plain", status=415),
    "multipart": raw(
        LOGIN,
        b'--x\r\nContent-Disposition: form-data; name="phone"\r\n\r\n+79991234567\r\n--x--\r\n',
        "multipart/form-data; boundary=x",
        status=415,
    ),
    "deeply nested arrays": raw(LOGIN, b"[" * 5000 + b"]" * 5000),
    "deeply nested field": raw(LOGIN, b'{"phone": ' + b"[" * 3000 + b"]" * 3000 + b"}"),
    "deeply nested objects": raw(LOGIN, b'{"a":' * 2000 + b"1" + b"}" * 2000),
    # fields
    **{
        f"{path.split('/')[2]} {kind} field": body(path, {name: value}, auth=path == PROFILE)
        for path, name in FIELDS.items()
        for kind, value in ODD_VALUES.items()
    },
    **{
        f"{path.split('/')[2]} missing field": body(path, {}, auth=path == PROFILE)
        for path in FIELDS
    },
    **{
        f"{path.split('/')[2]} misspelt field": body(
            path, {FIELDS[path].upper(): "1234"}, auth=path == PROFILE
        )
        for path in FIELDS
    },
    "invalid phone": body(LOGIN, {"phone": "+7 000 000 00 00"}),
    "phone with letters": body(LOGIN, {"phone": "+7 999 CALL-ME"}),
    "phone of 64 digits": body(LOGIN, {"phone": "9" * 64}),
    "phone over 64 characters": body(LOGIN, {"phone": "9" * 65}),
    "non-digit code": body(VERIFY, {"confirm_code": "12a4"}),
    "full-width digits": body(VERIFY, {"confirm_code": "\uff11\uff12\uff13\uff14"}),
    "code too short": body(VERIFY, {"confirm_code": "123"}),
    "code too long": body(VERIFY, {"confirm_code": "12345"}),
    "code of 33 digits": body(VERIFY, {"confirm_code": "1" * 33}),
    "invite code too short": body(PROFILE, {"used_referral_code": "AB12C"}, auth=True),
    "invite code with a U": body(PROFILE, {"used_referral_code": "AB12CU"}, auth=True),
    # extra fields are ignored
    "extra field on login": body(LOGIN, {"phone": phone_number(1), "admin": 1}, status=200),
    "extra field on apply": body(
        PROFILE, {"used_referral_code": "AB12CD", "id": 1}, status=404, auth=True
    ),
    # the page query
    "limit 0": query(limit="0"),
    "limit -1": query(limit="-1"),
    "limit 1001": query(limit="1001"),
    "limit abc": query(limit="abc"),
    "limit empty": query(limit=""),
    "limit 1.5": query(limit="1.5"),
    "limit huge": query(limit="9" * 50),
    "limit minus huge": query(limit="-" + "9" * 50),
    "limit 1000 is fine": query(200, limit="1000"),
    "limit 1 is fine": query(200, limit="1"),
    "cursor garbage": query(cursor="zzz"),
    "cursor base64 of junk": query(cursor=base64.urlsafe_b64encode(b"\xff\x00junk").decode()),
    "cursor base64 of a negative rank": query(cursor=base64.urlsafe_b64encode(b"r-5").decode()),
    "cursor base64 of text": query(cursor=base64.urlsafe_b64encode(b"hello").decode()),
    "cursor unencoded rank": query(cursor="r5"),
    "cursor with a nul": query(cursor="\x00"),
    "cursor of 65 characters": query(cursor="A" * 65),
    "cursor of 10 000 characters": query(cursor="A" * 10_000),
    "cursor unicode": query(cursor="☃"),
    "cursor and limit both bad": query(limit="x", cursor="y"),
    # credentials
    "authorization Bearer alone": authorization("Bearer"),
    "authorization Basic": authorization("Basic x"),
    "authorization Bearer and spaces": authorization("Bearer  "),
    "authorization two words": authorization("Bearer a b"),
    "authorization Token": authorization("Token abc"),
    "authorization empty": authorization(""),
    "authorization huge": authorization("Bearer " + "x" * 8000),
    "authorization odd characters": authorization("Bearer <script>'\";--"),
    # tokens in the path
    "token of 129 characters": Case(
        "POST", "/api/verify/" + "t" * 129 + "/", b'{"confirm_code": "1234"}', JSON
    ),
    "token of 8000 characters": Case(
        "POST", "/api/verify/" + "t" * 8000 + "/", b'{"confirm_code": "1234"}', JSON
    ),
    **{
        f"token {name}": Case(
            "POST", "/api/verify/" + quote(token, safe="") + "/", b'{"confirm_code": "1234"}', JSON
        )
        for name, token in {
            "with a nul": "\x00abc",
            "with spaces": "a b c",
            "unicode": "☃😀",
            "with quotes": "'\"<>",
            "with a percent": "%%%",
            "with a semicolon": "a;b=c",
            "with a backslash": "a\\b",
        }.items()
    },
    "token of two dots": Case(
        "POST", "/api/verify/../", b'{"confirm_code": "1234"}', JSON, status=404
    ),
    "token with an encoded slash": Case(
        "POST", "/api/verify/a%2Fb/", b'{"confirm_code": "1234"}', JSON, status=404
    ),
    "no token": Case("POST", "/api/verify//", b'{"confirm_code": "1234"}', JSON, status=404),
}


@pytest.fixture
async def token(api: Api) -> str:
    return await sign_in(api.client)


async def send(client: AsyncTestClient[Any], case: Case, token: str) -> httpx.Response:
    headers = {**case.headers, **(bearer(token) if case.auth else {})}
    return await client.request(
        case.method,
        case.path.replace("{token}", "unknown-token"),
        content=case.content,
        headers=headers,
        params=case.params,
    )


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_a_malformed_request_gets_its_4xx_problem_never_a_500(
    api: Api, token: str, case: Case
) -> None:
    response = await send(api.client, case, token)

    if case.status < 400 or host_answers(api, response):
        assert response.status_code == case.status, response.text
    else:
        assert_problem(response, case.status)


async def test_a_bad_field_names_the_field(api: Api, token: str) -> None:
    for path, name in FIELDS.items():
        wrong_types: tuple[Any, ...] = (1, [], {}, None, True)
        for value in wrong_types:
            case = body(path, {name: value}, auth=path == PROFILE)
            problem = assert_problem(await send(api.client, case, token), 400, "validation_error")
            assert [e["field"] for e in problem["errors"]] == [name], (path, value)


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml"])
async def test_a_json_body_with_a_wrong_content_type_is_refused(
    client: AsyncTestClient[Any], content_type: str
) -> None:
    response = await client.post(
        "/api/login/",
        content=json.dumps({"phone": PHONE}).encode(),
        headers={"content-type": content_type},
    )

    assert_problem(response, 415, "unsupported_media_type")


async def test_a_json_content_type_with_a_charset_is_fine(client: AsyncTestClient[Any]) -> None:
    response = await client.post(
        "/api/login/",
        content=json.dumps({"phone": PHONE}).encode(),
        headers={"content-type": "application/json; charset=utf-8"},
    )

    assert response.status_code == 200, response.text


# --- property: anything at all gets an answer below 500 ----------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
field_values = st.one_of(
    json_values,
    st.text(alphabet="0123456789 +-()OILoil", max_size=20),
    st.text(max_size=80),
)


def _encode(value: Any) -> bytes:
    return json.dumps(value).encode()


def bodies(field_name: str) -> st.SearchStrategy[bytes]:
    """JSON values, objects with the endpoint's field set to anything, and raw bytes."""
    as_json = st.one_of(
        json_values,
        st.fixed_dictionaries({field_name: field_values}),
        st.fixed_dictionaries({field_name: field_values}, optional={"extra": json_values}),
    ).map(_encode)
    text = st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass"))
    return st.one_of(as_json, text, st.binary(max_size=200))


FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def assert_answered(response: httpx.Response, api: Api | None = None) -> None:
    assert response.status_code < 500, response.text
    if api is not None and host_answers(api, response):
        return
    if response.status_code >= 400:
        assert_problem(response, response.status_code)
    else:
        assert response.headers["content-type"] == "application/json"


@FUZZ
@given(junk=st.binary(min_size=1, max_size=20))
async def test_any_bytes_inside_a_json_string_never_answer_500(api: Api, junk: bytes) -> None:
    content = b'{"phone": "' + junk.replace(b"\\", b"").replace(b'"', b"") + b'"}'
    assert_answered(await api.client.post("/api/login/", content=content, headers=JSON))


@FUZZ
@given(content=bodies("phone"))
async def test_login_never_answers_500(api: Api, content: bytes) -> None:
    assert_answered(await api.client.post("/api/login/", content=content, headers=JSON))


@FUZZ
@given(content=bodies("confirm_code"))
async def test_verify_never_answers_500(api: Api, content: bytes) -> None:
    response = await api.client.post("/api/verify/some-token/", content=content, headers=JSON)
    assert_answered(response)
    assert response.status_code != 200


@FUZZ
@given(content=bodies("used_referral_code"))
async def test_applying_a_code_never_answers_500(api: Api, token: str, content: bytes) -> None:
    response = await api.client.post(
        "/api/profile/", content=content, headers={**JSON, **bearer(token)}
    )
    assert_answered(response)


@FUZZ
@given(
    limit=st.none() | st.text(max_size=30) | st.integers().map(str),
    cursor=st.none()
    | st.text(max_size=80)
    | st.binary(max_size=40).map(lambda b: base64.urlsafe_b64encode(b).decode()),
)
async def test_reading_a_page_never_answers_500(
    api: Api, token: str, limit: str | None, cursor: str | None
) -> None:
    params = {k: v for k, v in {"limit": limit, "cursor": cursor}.items() if v is not None}
    response = await api.client.get("/api/profile/", params=params, headers=bearer(token))
    assert_answered(response)


@FUZZ
@given(path_token=st.text(min_size=1, max_size=300))
async def test_any_token_in_the_path_never_answers_500(api: Api, path_token: str) -> None:
    response = await api.client.post(
        "/api/verify/" + quote(path_token, safe="") + "/", json={"confirm_code": "1234"}
    )
    assert_answered(response, api)
    assert response.status_code != 200


@FUZZ
@given(value=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=100))
async def test_any_authorization_header_never_answers_500(api: Api, value: str) -> None:
    response = await api.client.get("/api/profile/", headers={"Authorization": value})
    assert_answered(response)
    assert response.status_code == 401


async def test_a_fuzzed_app_still_serves_real_users(api: Api) -> None:
    for n in range(3):
        await sign_in(api.client, phone_number(n))
