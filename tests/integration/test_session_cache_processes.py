"""A logout in one API process stops the session in another that cached it
(adapters/redis/session_cache.py, docs/performance.md)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.workers import redis_env
from tests.processes import serving

pytestmark = pytest.mark.redis

ROUNDS = 20


def signed_in(url: str, phone: str) -> str:
    answer = httpx.post(f"{url}/api/login/", json={"phone": phone}, timeout=10).json()
    token, code = answer["token"], answer["confirm_code"]
    verified = httpx.post(f"{url}/api/verify/{token}/", json={"confirm_code": code}, timeout=10)
    assert verified.status_code == 200, verified.text
    bearer: str = verified.json()["access_token"]
    return bearer


def test_a_logout_in_one_process_stops_the_session_in_the_other(
    tmp_path: Path, redis_server_url: str, redis_prefix: str
) -> None:
    env = redis_env(tmp_path, redis_server_url, redis_prefix)
    del env["REFERRALS_BROKER_URL"]  # codes through the in-process queue: no worker needed
    stopped_after: list[float] = []
    with (
        serving(env, tmp_path) as (here, _),
        serving(env, tmp_path) as (there, _),
        httpx.Client(timeout=10) as http,
    ):
        for n in range(ROUNDS):
            bearer = signed_in(here, f"+7999123{n:04d}")
            auth = {"Authorization": f"Bearer {bearer}"}
            for url in (here, there, there):  # the second read is served from memory
                assert http.get(f"{url}/api/profile/", headers=auth).status_code == 200
            assert http.post(f"{here}/api/logout/", headers=auth).status_code == 200
            revoked = time.monotonic()
            while http.get(f"{there}/api/profile/", headers=auth).status_code == 200:
                assert time.monotonic() - revoked < 1.0, "the other process kept the session"
            stopped_after.append(time.monotonic() - revoked)
    print(
        f"session stopped in the other process after: median "
        f"{statistics.median(stopped_after) * 1000:.1f} ms, "
        f"worst {max(stopped_after) * 1000:.1f} ms over {ROUNDS} logouts"
    )
