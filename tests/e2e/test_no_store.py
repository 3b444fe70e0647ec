"""Issue 9 item 6: answers that carry tokens, codes or phones are never
cached (``Cache-Control: no-store``), problems of those routes included."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import Api, apply_code, bearer, login, sign_in, verify, wrong


def assert_not_stored(response: httpx.Response) -> None:
    assert response.headers.get("cache-control") == "no-store", response.headers


async def test_the_login_answer_is_not_stored(api: Api) -> None:
    assert_not_stored((await login(api.client)).response)


async def test_the_verify_answer_is_not_stored(api: Api) -> None:
    challenge = await login(api.client)

    response = await verify(api.client, challenge.token, challenge.code)

    assert response.status_code == 200, response.text
    assert_not_stored(response)


async def test_the_profile_is_not_stored(api: Api) -> None:
    token = await sign_in(api.client)

    response = await api.client.get("/api/profile/", headers=bearer(token))

    assert response.status_code == 200, response.text
    assert_not_stored(response)


async def test_the_profile_after_applying_a_code_is_not_stored(api: Api) -> None:
    owner = await sign_in(api.client)
    code = (await api.client.get("/api/profile/", headers=bearer(owner))).json()
    fan = await sign_in(api.client, "+79997654321")

    response = await apply_code(api.client, fan, code["invite_referral_code"])

    assert response.status_code == 200, response.text
    assert_not_stored(response)


async def test_the_logout_answers_are_not_stored(api: Api) -> None:
    token = await sign_in(api.client)

    for method in ("GET", "POST"):
        response = await api.client.request(method, "/api/logout/", headers=bearer(token))
        assert response.status_code == 200, response.text
        assert_not_stored(response)


async def test_problems_of_these_routes_are_not_stored_either(api: Api) -> None:
    challenge = await login(api.client)

    wrong_code = await verify(api.client, challenge.token, wrong(challenge.code))
    anonymous = await api.client.get("/api/profile/")
    not_json = await api.client.post(
        "/api/login/", content=b"{", headers={"Content-Type": "application/json"}
    )

    assert [r.status_code for r in (wrong_code, anonymous, not_json)] == [400, 401, 400]
    for response in (wrong_code, anonymous, not_json):
        assert_not_stored(response)
