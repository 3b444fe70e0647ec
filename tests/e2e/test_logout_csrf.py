"""Issue 9 item 6: no other site can log a user out.

The session cookie is ``SameSite=Lax``: a browser sends it with a top-level
GET from a foreign page's link. So a logout that the cookie alone
authenticates must show it comes from this site: a POST sent as JSON (as
every other cookie POST must be, and as the page sends it), or a request the
browser marks ``Sec-Fetch-Site: same-origin`` / ``none``. The Bearer header
needs no such proof: no foreign page can send it without CORS.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.e2e.conftest import SESSION_COOKIE, assert_problem, bearer, sign_in


async def logged_in(client: AsyncTestClient[Any]) -> str:
    """Sign in keeping the cookie; the access token."""
    return await sign_in(client, keep_cookie=True)


async def still_logged_in(client: AsyncTestClient[Any], token: str) -> bool:
    response = await client.get("/api/profile/", headers=bearer(token))
    return response.status_code == 200


FOREIGN: list[tuple[str, Mapping[str, str], bytes]] = [
    ("GET", {"Sec-Fetch-Site": "cross-site"}, b""),  # a link on another site
    ("GET", {"Sec-Fetch-Site": "same-site"}, b""),  # a sibling subdomain's link
    ("GET", {}, b""),  # a browser that does not say where the request comes from
    ("POST", {"Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain"}, b"x"),  # a form
    ("POST", {"Content-Type": "application/x-www-form-urlencoded"}, b"a=1"),
    ("POST", {}, b""),  # a form without fields
]


@pytest.mark.parametrize(("method", "headers", "body"), FOREIGN)
async def test_a_logout_by_the_cookie_from_another_site_is_refused(
    client: AsyncTestClient[Any], method: str, headers: Mapping[str, str], body: bytes
) -> None:
    token = await logged_in(client)

    response = await client.request(method, "/api/logout/", headers=headers, content=body)

    assert_problem(response, 403, "cross_site_request")
    assert "set-cookie" not in response.headers
    assert await still_logged_in(client, token)


OWN: list[tuple[str, Mapping[str, str], Any]] = [
    ("POST", {}, {}),  # what the page sends: JSON
    ("POST", {"Sec-Fetch-Site": "same-origin", "Content-Type": "application/json"}, None),
    ("GET", {"Sec-Fetch-Site": "same-origin"}, None),  # a link on our own page
    ("GET", {"Sec-Fetch-Site": "none"}, None),  # the person typed the address
    ("POST", {"Sec-Fetch-Site": "same-origin"}, None),
]


@pytest.mark.parametrize(("method", "headers", "json"), OWN)
async def test_a_logout_by_the_cookie_from_this_site_ends_the_session(
    client: AsyncTestClient[Any], method: str, headers: Mapping[str, str], json: Any
) -> None:
    token = await logged_in(client)

    response = await client.request(method, "/api/logout/", headers=headers, json=json)

    assert response.status_code == 200, response.text
    assert not client.cookies.get(SESSION_COOKIE)
    assert not await still_logged_in(client, token)


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_logout_with_the_bearer_header_needs_no_more(
    client: AsyncTestClient[Any], method: str
) -> None:
    token = await logged_in(client)

    response = await client.request(
        method, "/api/logout/", headers={**bearer(token), "Sec-Fetch-Site": "cross-site"}
    )

    assert response.status_code == 200, response.text
    assert not await still_logged_in(client, token)


async def test_a_foreign_logout_without_a_cookie_is_harmless(
    client: AsyncTestClient[Any],
) -> None:
    response = await client.get("/api/logout/", headers={"Sec-Fetch-Site": "cross-site"})

    assert response.status_code == 200
