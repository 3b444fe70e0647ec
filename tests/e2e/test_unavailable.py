"""docs/http-api.md: a store, the database or the queue that does not answer is a 503
``service_unavailable`` with ``Retry-After``, and nothing is half-written."""

from __future__ import annotations

from typing import Any

import pytest

from referrals.adapters import memory
from referrals.application.errors import ServiceUnavailable
from referrals.application.ports import UnitOfWork
from tests.e2e.conftest import (
    OTHER_PHONE,
    PHONE,
    Api,
    MakeApi,
    apply_code,
    assert_problem,
    bearer,
    invite_code,
    login,
    profile,
    sign_in,
    verify,
)


class Outage:
    """Stands in for a store: forwards every call to it, except while
    :attr:`down`, when every call raises :attr:`error` instead."""

    def __init__(self, store: object, error: Exception | None = None) -> None:
        self._store = store
        self.error = error or ServiceUnavailable("redis")
        self.down = False

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._store, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                raise self.error
            return await method(*args, **kwargs)

        return call


def assert_unavailable(response: Any) -> None:
    assert_problem(response, 503, "service_unavailable")
    assert int(response.headers["retry-after"]) >= 1


async def _api_with(
    make_api: MakeApi, name: str, error: Exception | None = None
) -> tuple[Api, Outage]:
    """An app whose ``name`` provider (a store) can be taken down."""
    stores = {
        "challenges": memory.InMemoryChallengeStore,
        "sessions": memory.InMemorySessionStore,
        "limiter": memory.InMemoryRateLimiter,
    }
    outage = Outage(stores[name](), error)
    return await make_api(overrides={name: outage}), outage


# --- the challenge store ----------------------------------------------------


async def test_login_is_503_while_the_challenge_store_is_down(make_api: MakeApi) -> None:
    api, challenges = await _api_with(make_api, "challenges")
    challenges.down = True

    response = await api.client.post("/api/login/", json={"phone": PHONE})

    assert_unavailable(response)
    assert response.headers["retry-after"] == "2"
    assert api.delivered() == []


async def test_a_login_the_challenge_store_failed_leaves_no_cooldown_behind(
    make_api: MakeApi,
) -> None:
    api, challenges = await _api_with(make_api, "challenges")
    challenges.down = True
    assert_unavailable(await api.client.post("/api/login/", json={"phone": PHONE}))
    challenges.down = False

    response = await api.client.post("/api/login/", json={"phone": PHONE})

    assert response.status_code == 200, response.text


async def test_verify_is_503_while_the_challenge_store_is_down(make_api: MakeApi) -> None:
    api, challenges = await _api_with(make_api, "challenges")
    challenge = await login(api.client)
    challenges.down = True

    response = await verify(api.client, challenge.token, challenge.code)

    assert_unavailable(response)
    assert "set-cookie" not in response.headers


async def test_the_same_code_works_once_the_challenge_store_is_back(make_api: MakeApi) -> None:
    api, challenges = await _api_with(make_api, "challenges")
    challenge = await login(api.client)
    challenges.down = True
    assert_unavailable(await verify(api.client, challenge.token, challenge.code))
    challenges.down = False

    response = await verify(api.client, challenge.token, challenge.code)

    assert response.status_code == 200, response.text
    assert response.json()["is_new_user"] is True


# --- the rate limiter -------------------------------------------------------


async def test_login_and_verify_are_503_while_the_rate_limiter_is_down(make_api: MakeApi) -> None:
    api, limiter = await _api_with(make_api, "limiter")
    challenge = await login(api.client)
    limiter.down = True

    assert_unavailable(await api.client.post("/api/login/", json={"phone": OTHER_PHONE}))
    assert_unavailable(await verify(api.client, challenge.token, challenge.code))


# --- the session store ------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/profile/"),
        ("POST", "/api/profile/"),
        ("GET", "/api/logout/"),
        ("POST", "/api/logout/"),
    ],
)
async def test_session_endpoints_are_503_while_the_session_store_is_down(
    make_api: MakeApi, method: str, path: str
) -> None:
    api, sessions = await _api_with(make_api, "sessions")
    token = await sign_in(api.client)
    sessions.down = True

    response = await api.client.request(
        method, path, headers=bearer(token), json={"used_referral_code": "AB12CD"}
    )

    assert_unavailable(response)


async def test_a_session_survives_a_session_store_outage(make_api: MakeApi) -> None:
    api, sessions = await _api_with(make_api, "sessions")
    token = await sign_in(api.client)
    sessions.down = True
    assert_unavailable(await api.client.post("/api/logout/", headers=bearer(token)))
    sessions.down = False

    assert (await profile(api.client, token))["phone"] == PHONE


async def test_verify_is_503_while_the_session_store_is_down(make_api: MakeApi) -> None:
    api, sessions = await _api_with(make_api, "sessions")
    challenge = await login(api.client)
    sessions.down = True

    response = await verify(api.client, challenge.token, challenge.code)

    assert_unavailable(response)
    assert "set-cookie" not in response.headers


async def test_the_same_code_works_once_the_session_store_is_back(make_api: MakeApi) -> None:
    api, sessions = await _api_with(make_api, "sessions")
    challenge = await login(api.client)
    sessions.down = True
    assert_unavailable(await verify(api.client, challenge.token, challenge.code))
    sessions.down = False

    response = await verify(api.client, challenge.token, challenge.code)

    assert response.status_code == 200, response.text


# --- the database and the queue ---------------------------------------------


class _DownUnit:
    async def __aenter__(self) -> UnitOfWork:
        raise ServiceUnavailable("the database")

    async def __aexit__(self, *exc: object) -> None:
        return None


class _Database:
    """The in-memory users behind a switch: while :attr:`down`, every unit of
    work fails to start with ``ServiceUnavailable``."""

    def __init__(self, units: Any) -> None:
        self._units = units
        self.down = False

    def __call__(self, *, read_only: bool = False, autocommit: bool = False) -> Any:
        return _DownUnit() if self.down else self._units(read_only=read_only, autocommit=autocommit)


async def _api_with_database(make_api: MakeApi) -> tuple[Api, _Database]:
    database = _Database(memory.InMemoryUsers().unit_of_work)
    return await make_api(overrides={"unit_of_work": database}), database


async def test_profile_endpoints_are_503_while_the_database_is_down(make_api: MakeApi) -> None:
    api, database = await _api_with_database(make_api)
    token = await sign_in(api.client)
    database.down = True

    assert_unavailable(await api.client.get("/api/profile/", headers=bearer(token)))
    assert_unavailable(await apply_code(api.client, token, "AB12CD"))


async def test_the_same_code_works_once_the_database_is_back(make_api: MakeApi) -> None:
    api, database = await _api_with_database(make_api)
    challenge = await login(api.client)
    database.down = True
    assert_unavailable(await verify(api.client, challenge.token, challenge.code))
    database.down = False

    response = await verify(api.client, challenge.token, challenge.code)

    assert response.status_code == 200, response.text
    assert response.json()["is_new_user"] is True


async def test_an_apply_that_failed_can_be_retried(make_api: MakeApi) -> None:
    api, database = await _api_with_database(make_api)
    referrer = await sign_in(api.client, OTHER_PHONE)
    user = await sign_in(api.client)
    code = await invite_code(api.client, referrer)
    database.down = True
    assert_unavailable(await apply_code(api.client, user, code))
    database.down = False

    response = await apply_code(api.client, user, code)

    assert response.status_code == 200, response.text
    assert (await profile(api.client, referrer))["referred_users_count"] == 1


async def test_login_is_503_while_the_queue_is_down(make_api: MakeApi) -> None:
    api = await make_api()
    sender = Outage(api.service.code_sender, ServiceUnavailable("the task queue"))
    down = await make_api(overrides={"code_sender": sender})
    sender.down = True

    refused = await down.client.post("/api/login/", json={"phone": PHONE})
    sender.down = False
    retried = await down.client.post("/api/login/", json={"phone": PHONE})

    assert_unavailable(refused)
    assert retried.status_code == 200, retried.text


async def test_a_driver_error_from_a_store_is_503_too(make_api: MakeApi) -> None:
    api, challenges = await _api_with(make_api, "challenges", ConnectionRefusedError(111, "no"))
    challenges.down = True

    response = await api.client.post("/api/login/", json={"phone": PHONE})

    assert_unavailable(response)
