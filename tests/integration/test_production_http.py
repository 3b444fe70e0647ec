"""`referrals serve --workers 2` on PostgreSQL and Redis: the same flow, and its races.

A login started in one process must verify in another, so the API is
stateless; concurrent requests land on both worker processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from referrals.adapters.sql import Database
from tests.flows import FLOW_SETTINGS, bearer, sign_in, walk_through_the_api
from tests.processes import serving

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

UNLIMITED = "1000000/60"


@pytest.fixture
def production_env(
    postgres_database: Database, redis_server_url: str, redis_prefix: str
) -> dict[str, str]:
    return {
        "REFERRALS_DATABASE_URL": postgres_database.url,
        "REFERRALS_REDIS_URL": redis_server_url,
        "REFERRALS_REDIS_PREFIX": redis_prefix,
        "REFERRALS_SECRET_KEY": "integration-tests-secret-key-0123456789",
        # Every request here comes from 127.0.0.1: lift the per-address limits.
        "REFERRALS_LIMIT_IP_SEND": UNLIMITED,
        "REFERRALS_LIMIT_IP_VERIFY": UNLIMITED,
    } | FLOW_SETTINGS


@pytest.fixture
def two_workers(production_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    with serving(production_env, tmp_path, "--workers", "2") as (url, _):
        yield url


def test_the_whole_flow_works_on_two_processes(two_workers: str) -> None:
    walk_through_the_api(two_workers)


def test_a_login_started_on_one_server_verifies_on_another(
    production_env: dict[str, str], tmp_path: Path
) -> None:
    with (
        serving(production_env, tmp_path) as (first, _),
        serving(production_env, tmp_path) as (
            second,
            _,
        ),
        httpx.Client(base_url=first) as client,
    ):
        verified = sign_in(client, "+79991112233", verify_url=second)
        profile = httpx.get(f"{second}/api/profile/", headers=bearer(verified))
        assert profile.json()["phone"] == "+79991112233"
        assert httpx.get(f"{first}/api/logout/", headers=bearer(verified)).status_code == 200
        assert httpx.get(f"{second}/api/profile/", headers=bearer(verified)).status_code == 401


async def gather_posts(
    url: str, requests: list[tuple[str, dict[str, Any], dict[str, str]]]
) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(requests))
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        return await asyncio.gather(
            *(client.post(path, json=body, headers=headers) for path, body, headers in requests)
        )


def test_fifty_concurrent_verifications_over_http_give_one_session(two_workers: str) -> None:
    login = httpx.post(f"{two_workers}/api/login/", json={"phone": "+79994445566"}).json()
    path = f"/api/verify/{login['token']}/"
    answers = asyncio.run(
        gather_posts(two_workers, [(path, {"confirm_code": login["confirm_code"]}, {})] * 50)
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(200) == 1
    # The others lost the race, or came while ten attempts on the phone were
    # in flight (each is charged before the code is looked at).
    refused = {(a.status_code, a.json()["code"]) for a in answers if a.status_code != 200}
    assert refused <= {(400, "challenge_expired"), (429, "too_many_attempts")}


def test_concurrent_applications_by_one_user_over_http_have_one_winner(two_workers: str) -> None:
    with httpx.Client(base_url=two_workers) as client:
        me = sign_in(client, "+79995550000")
        codes = [
            sign_in(client, f"+7999555{i:04d}")["user"]["invite_referral_code"]
            for i in range(1, 11)
        ]
    requests = [("/api/profile/", {"used_referral_code": c}, bearer(me)) for c in codes]
    answers = asyncio.run(gather_posts(two_workers, requests))
    assert sorted(a.status_code for a in answers) == [200] + [409] * 9


def test_mutual_applications_over_http_never_both_succeed(two_workers: str) -> None:
    with httpx.Client(base_url=two_workers) as client:
        for round_ in range(15):
            a = sign_in(client, f"+7999666{2 * round_:04d}")
            b = sign_in(client, f"+7999666{2 * round_ + 1:04d}")
            requests = [
                (
                    "/api/profile/",
                    {"used_referral_code": b["user"]["invite_referral_code"]},
                    bearer(a),
                ),
                (
                    "/api/profile/",
                    {"used_referral_code": a["user"]["invite_referral_code"]},
                    bearer(b),
                ),
            ]
            answers = asyncio.run(gather_posts(two_workers, requests))
            assert sorted(x.status_code for x in answers) == [200, 409], [x.text for x in answers]
            assert "referral_cycle" in {x.json().get("code") for x in answers}
