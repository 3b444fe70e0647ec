"""docs/http-api.md: every path answers with and without the trailing slash, and
directly (no redirect, which would lose a POST body)."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.e2e.conftest import (
    OTHER_PHONE,
    PHONE,
    assert_problem,
    bearer,
    invite_code,
    login,
    sign_in,
)

SPELLINGS = pytest.mark.parametrize("slash", ["/", ""], ids=["with-slash", "without-slash"])


@SPELLINGS
async def test_login_answers_on_both_spellings(client: AsyncTestClient[Any], slash: str) -> None:
    response = await client.post(
        f"/api/login{slash}", json={"phone": PHONE}, follow_redirects=False
    )

    assert response.status_code == 200
    assert response.json()["next_page"].endswith("/")


@SPELLINGS
async def test_verify_answers_on_both_spellings(client: AsyncTestClient[Any], slash: str) -> None:
    challenge = await login(client)

    response = await client.post(
        f"/api/verify/{challenge.token}{slash}",
        json={"confirm_code": challenge.code},
        follow_redirects=False,
    )

    assert response.status_code == 200
    assert response.json()["is_new_user"] is True


@SPELLINGS
async def test_the_next_page_url_is_the_verify_endpoint(
    client: AsyncTestClient[Any], slash: str
) -> None:
    challenge = await login(client)
    next_page = challenge.response.json()["next_page"]
    assert next_page.endswith(f"/api/verify/{challenge.token}/")

    link = client.base_url.join(next_page)  # a link as a browser follows it
    response = await client.post(
        str(link).rstrip("/") + slash, json={"confirm_code": challenge.code}
    )

    assert response.status_code == 200


@SPELLINGS
async def test_reading_the_profile_answers_on_both_spellings(
    client: AsyncTestClient[Any], slash: str
) -> None:
    token = await sign_in(client)

    response = await client.get(f"/api/profile{slash}", headers=bearer(token))
    anonymous = await client.get(f"/api/profile{slash}", follow_redirects=False)

    assert response.status_code == 200
    assert_problem(anonymous, 401, "not_authenticated")


@SPELLINGS
async def test_applying_a_code_answers_on_both_spellings(
    client: AsyncTestClient[Any], slash: str
) -> None:
    referrer = await sign_in(client, PHONE)
    user = await sign_in(client, OTHER_PHONE)
    code = await invite_code(client, referrer)

    response = await client.post(
        f"/api/profile{slash}",
        json={"used_referral_code": code},
        headers=bearer(user),
        follow_redirects=False,
    )

    assert response.status_code == 200
    assert response.json()["used_referral_code"] == code


@SPELLINGS
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_logout_answers_on_both_spellings(
    client: AsyncTestClient[Any], slash: str, method: str
) -> None:
    token = await sign_in(client)

    response = await client.request(
        method, f"/api/logout{slash}", headers=bearer(token), follow_redirects=False
    )

    assert response.status_code == 200
    assert_problem(await client.get("/api/profile/", headers=bearer(token)), 401)


@pytest.mark.standalone  # a host answers requests that match no route of the API
async def test_an_unknown_path_is_a_problem_404(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/api/nothing-here/")

    assert_problem(response, 404)
