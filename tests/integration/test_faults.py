"""docs/http-api.md under real outages: the running API against servers that go away and come back.

Each test starts ``referrals serve`` against a throwaway PostgreSQL cluster
and throwaway Redis servers of its own (:mod:`tests.servers`, never the
shared 5432/6379), takes one of them away, and checks that

* every request that needs it answers 503 ``service_unavailable`` as
  problem details with ``Retry-After``, within a bound (no hang), while
  requests that do not need it still work;
* once the server is back, the same API process serves again, without a
  restart, and nothing was half-done (a login code is still good, a
  cooldown was given back);
* no answer is a 500, and the process is alive at the end.

"Away" is either stopped (connections are refused: the fast case) or frozen
with SIGSTOP (connections are accepted and nothing answers, as behind a
network that drops packets: only the client's own deadlines end the wait).

Measured times are printed (run with ``-s`` to see them) as ``[faults]`` lines.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.processes import BIN, Process, child_env, serving
from tests.servers import PostgresCluster, RedisServer

pytestmark = pytest.mark.slow

DEPENDENCY_TIMEOUT = 2.0
BOUND = 3 * DEPENDENCY_TIMEOUT
"""Seconds within which an outage must be answered: "no hang", not a benchmark."""
RECOVERY = 20.0
"""Seconds the API may take to serve again once its server is back."""
SECRET = "fault-tests-secret-key-0123456789abcdef"

PHONES = iter(f"+7999{n:07d}" for n in range(1_000_000, 9_999_999, 7919))
TIMINGS: list[tuple[str, float]] = []


def note(what: str, seconds: float) -> None:
    TIMINGS.append((what, seconds))
    print(f"[faults] {what}: {seconds:.3f} s")


@pytest.fixture(scope="module", autouse=True)
def _summary() -> Iterator[None]:
    yield
    if TIMINGS:
        width = max(len(what) for what, _ in TIMINGS)
        lines = [f"  {what:<{width}}  {seconds:6.3f} s" for what, seconds in TIMINGS]
        print("\n[faults] measured times:\n" + "\n".join(lines))


@dataclass
class Api:
    """A client of the running server that remembers every status it was answered."""

    client: httpx.Client
    process: Process
    statuses: list[tuple[str, int]] = field(default_factory=list)

    def request(
        self, method: str, path: str, *, token: str | None = None, **kwargs: Any
    ) -> tuple[httpx.Response, float]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        started = time.monotonic()
        response = self.client.request(method, path, headers=headers, **kwargs)
        elapsed = time.monotonic() - started
        self.statuses.append((f"{method} {path}", response.status_code))
        return response, elapsed

    def login(self, phone: str) -> tuple[httpx.Response, float]:
        return self.request("POST", "/api/login/", json={"phone": phone})

    def verify(self, token: str, code: str) -> tuple[httpx.Response, float]:
        return self.request("POST", f"/api/verify/{token}/", json={"confirm_code": code})

    def profile(self, token: str) -> tuple[httpx.Response, float]:
        return self.request("GET", "/api/profile/", token=token)

    def sign_in(self, phone: str) -> str:
        login, _ = self.login(phone)
        assert login.status_code == 200, login.text
        verify, _ = self.verify(login.json()["token"], login.json()["confirm_code"])
        assert verify.status_code == 200, verify.text
        return str(verify.json()["access_token"])

    def check_healthy_end(self) -> None:
        """No answer was a 500 and the server still runs (scenario d)."""
        errors = [
            (what, status) for what, status in self.statuses if status >= 500 and status != 503
        ]
        assert not errors, f"{errors}\n{self.process.output()}"
        assert self.process.popen.poll() is None, self.process.output()
        assert "unexpected error" not in self.process.output()


@contextmanager
def running_api(
    tmp_path: Path,
    database_url: str,
    redis_url: str,
    broker_url: str | None = None,
    *,
    extra: dict[str, str] | None = None,
) -> Iterator[Api]:
    """``referrals migrate``, then ``referrals serve`` on these servers."""
    env = {
        **(extra or {}),
        "REFERRALS_DATABASE_URL": database_url,
        "REFERRALS_REDIS_URL": redis_url,
        "REFERRALS_SECRET_KEY": SECRET,
        "REFERRALS_DEPENDENCY_TIMEOUT": str(DEPENDENCY_TIMEOUT),
    }
    if broker_url is not None:
        env["REFERRALS_BROKER_URL"] = broker_url
    subprocess.run([str(BIN / "referrals"), "migrate"], env=child_env(env), check=True, timeout=60)
    with (
        serving(env, tmp_path) as (url, process),
        httpx.Client(base_url=url, timeout=BOUND * 5) as client,
    ):
        api = Api(client, process)
        yield api
        api.check_healthy_end()


def assert_unavailable(response: httpx.Response, elapsed: float) -> None:
    """A 503 problem with ``Retry-After``, answered within :data:`BOUND`."""
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert body["status"] == 503
    assert int(response.headers["retry-after"]) >= 1
    assert elapsed < BOUND, f"the 503 took {elapsed:.1f} s"


def concurrently(
    count: int, call: Callable[[], tuple[httpx.Response, float]]
) -> list[tuple[httpx.Response, float]]:
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: call(), range(count)))


def first_success(call: Callable[[], tuple[httpx.Response, float]]) -> tuple[httpx.Response, float]:
    """Repeat ``call`` until it answers 200; meanwhile only 503s are acceptable.

    Returns the success and the seconds it took from the first call.
    """
    started = time.monotonic()
    while True:
        response, elapsed = call()
        if response.status_code == 200:
            return response, time.monotonic() - started
        assert_unavailable(response, elapsed)
        assert time.monotonic() - started < RECOVERY, "the API did not recover"
        time.sleep(0.1)


def test_postgres_down_answers_503_and_the_api_recovers_when_it_is_back(
    tmp_path: Path, postgres: PostgresCluster, stores_redis: RedisServer
) -> None:
    with running_api(tmp_path, postgres.url, stores_redis.url) as api:
        session = api.sign_in(next(PHONES))
        pending, _ = api.login(next(PHONES))  # a new user, to be verified during the outage
        assert pending.status_code == 200, pending.text

        postgres.stop()

        profile, elapsed = api.profile(session)
        assert_unavailable(profile, elapsed)
        note("postgres down: GET /api/profile/ -> 503", elapsed)
        verify, elapsed = api.verify(pending.json()["token"], pending.json()["confirm_code"])
        assert_unavailable(verify, elapsed)
        note("postgres down: POST /api/verify/ -> 503", elapsed)
        # Logging in does not touch the database.
        login, elapsed = api.login(next(PHONES))
        assert login.status_code == 200, login.text
        note("postgres down: POST /api/login/ -> 200", elapsed)

        postgres.start()

        profile, recovered = first_success(lambda: api.profile(session))
        note("postgres back: first 200 on GET /api/profile/", recovered)
        # The verification tried during the outage neither used up nor burned the code.
        verify, _ = api.verify(pending.json()["token"], pending.json()["confirm_code"])
        assert verify.status_code == 200, verify.text
        assert verify.json()["is_new_user"] is True
        verify, _ = api.verify(login.json()["token"], login.json()["confirm_code"])
        assert verify.status_code == 200, verify.text
        assert api.profile(session)[0].status_code == 200


def test_redis_down_answers_503_and_a_fresh_redis_serves_new_logins(
    tmp_path: Path, postgres: PostgresCluster, stores_redis: RedisServer
) -> None:
    with running_api(tmp_path, postgres.url, stores_redis.url) as api:
        session = api.sign_in(next(PHONES))
        pending, _ = api.login(next(PHONES))
        assert pending.status_code == 200, pending.text

        stores_redis.stop()

        login, elapsed = api.login(next(PHONES))
        assert_unavailable(login, elapsed)
        note("redis down: POST /api/login/ -> 503", elapsed)
        verify, elapsed = api.verify(pending.json()["token"], pending.json()["confirm_code"])
        assert_unavailable(verify, elapsed)
        note("redis down: POST /api/verify/ -> 503", elapsed)
        profile, elapsed = api.profile(session)
        assert_unavailable(profile, elapsed)
        note("redis down: GET /api/profile/ -> 503", elapsed)

        stores_redis.start()  # empty: nothing was persisted

        phone = next(PHONES)
        login, recovered = first_success(lambda: api.login(phone))
        note("redis back: first 200 on POST /api/login/", recovered)
        verify, _ = api.verify(login.json()["token"], login.json()["confirm_code"])
        assert verify.status_code == 200, verify.text
        assert api.profile(verify.json()["access_token"])[0].status_code == 200
        # What lived in the old Redis is gone, and says so as it would for any stale token.
        profile, _ = api.profile(session)
        assert profile.status_code == 401, profile.text
        assert profile.json()["code"] == "not_authenticated"
        assert profile.headers["www-authenticate"] == "Bearer"
        verify, _ = api.verify(pending.json()["token"], pending.json()["confirm_code"])
        assert verify.status_code == 400, verify.text
        assert verify.json()["code"] == "challenge_expired"


OUTAGES = {
    "down": ("stop", "start", "back"),
    "frozen": ("freeze", "thaw", "thawed"),  # accepts connections, never answers
}


@pytest.mark.parametrize("outage", list(OUTAGES))
def test_a_broker_outage_answers_503_in_bounded_time_and_gives_the_login_back(
    tmp_path: Path,
    postgres: PostgresCluster,
    stores_redis: RedisServer,
    broker_redis: RedisServer,
    outage: str,
) -> None:
    cut, restore, restored = OUTAGES[outage]
    with running_api(tmp_path, postgres.url, stores_redis.url, broker_redis.url) as api:
        api.sign_in(next(PHONES))  # the queue works before the outage

        getattr(broker_redis, cut)()

        phone = next(PHONES)
        login, elapsed = api.login(phone)
        assert_unavailable(login, elapsed)
        note(f"broker {outage}: POST /api/login/ -> 503", elapsed)

        getattr(broker_redis, restore)()

        # The challenge and the cooldown were given back: the same phone logs
        # in again at once (a 429 here would fail first_success).
        login, recovered = first_success(lambda: api.login(phone))
        note(f"broker {restored}: first 200 on POST /api/login/ (same phone)", recovered)
        verify, _ = api.verify(login.json()["token"], login.json()["confirm_code"])
        assert verify.status_code == 200, verify.text
        assert verify.json()["is_new_user"] is True


def test_a_frozen_postgres_answers_503_in_bounded_time_and_leaks_no_connection(
    tmp_path: Path, postgres: PostgresCluster, stores_redis: RedisServer
) -> None:
    """A server that accepts connections but never answers (SIGSTOP), which the
    kernel does not refuse: only the client's own deadlines end the wait. A pool
    of two connections shows that every connection the outage touched came back."""
    pool = {"REFERRALS_DB_POOL_SIZE": "2"}
    with running_api(tmp_path, postgres.url, stores_redis.url, extra=pool) as api:
        session = api.sign_in(next(PHONES))
        assert api.profile(session)[0].status_code == 200  # a pooled connection is open

        postgres.freeze()

        answers = concurrently(6, lambda: api.profile(session))
        for response, elapsed in answers:
            assert_unavailable(response, elapsed)
        note(
            "postgres frozen: 6 concurrent GET /api/profile/ -> 503 (slowest)",
            max(e for _, e in answers),
        )

        postgres.thaw()

        _, recovered = first_success(lambda: api.profile(session))
        note("postgres thawed: first 200 on GET /api/profile/", recovered)
        for _ in range(10):
            assert api.profile(session)[0].status_code == 200
        api.sign_in(next(PHONES))  # and a write


def test_a_frozen_redis_answers_503_in_bounded_time(
    tmp_path: Path, postgres: PostgresCluster, stores_redis: RedisServer
) -> None:
    with running_api(tmp_path, postgres.url, stores_redis.url) as api:
        session = api.sign_in(next(PHONES))

        stores_redis.freeze()

        login, elapsed = api.login(next(PHONES))
        assert_unavailable(login, elapsed)
        note("redis frozen: POST /api/login/ -> 503", elapsed)
        answers = concurrently(6, lambda: api.profile(session))
        for response, elapsed in answers:
            assert_unavailable(response, elapsed)
        note(
            "redis frozen: 6 concurrent GET /api/profile/ -> 503 (slowest)",
            max(e for _, e in answers),
        )

        stores_redis.thaw()

        _, recovered = first_success(lambda: api.profile(session))
        note("redis thawed: first 200 on GET /api/profile/ (same session)", recovered)
        api.sign_in(next(PHONES))
