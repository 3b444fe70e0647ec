"""Prometheus metrics of real processes: ``referrals serve`` and ``referrals
worker`` on a throwaway Redis, scraped after a whole flow.

The flow (login, a wrong code, verify, apply, a refused referral, a 429)
must leave every metric docs/operations.md lists with the values it implies; a
Redis stopped at the end shows as a dependency error and the queue as
unreachable. Under ``--workers 2`` the counts of both processes add up.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.workers import redis_env, wait_for_log
from tests.processes import free_port, serving, started
from tests.servers import RedisServer, redis_server

pytestmark = pytest.mark.slow

A, B = "+79990000001", "+79990000002"


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    """Every sample of ``url`` by (name, labels)."""
    answer = httpx.get(url, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    assert key in samples, f"{name}{labels} is missing from:\n" + "\n".join(
        f"{other}{dict(its)}" for other, its in samples if other.startswith(name[:20])
    )
    return samples[key]


def flow(url: str) -> None:
    """Login, a wrong code, verify; a second user applies the first's code
    twice (the second time refused); a login within the cooldown (429)."""
    with httpx.Client(base_url=url, timeout=10) as client:

        def sign_in(phone: str, wrong_first: bool = False) -> dict[str, object]:
            login = client.post("/api/login/", json={"phone": phone}).json()
            path = f"/api/verify/{login['token']}/"
            if wrong_first:
                wrong = "0000" if login["confirm_code"] != "0000" else "1111"
                assert client.post(path, json={"confirm_code": wrong}).status_code == 400
            verified = client.post(path, json={"confirm_code": login["confirm_code"]})
            assert verified.status_code == 200, verified.text
            return dict(verified.json())

        owner = sign_in(A, wrong_first=True)
        fan = sign_in(B)
        code = owner["user"]["invite_referral_code"]  # type: ignore[index]
        headers = {"Authorization": f"Bearer {fan['access_token']}"}
        body = {"used_referral_code": code}
        assert client.post("/api/profile/", json=body, headers=headers).status_code == 200
        assert client.post("/api/profile/", json=body, headers=headers).status_code == 409
        assert client.post("/api/login/", json={"phone": A}).status_code == 429
        assert client.get("/no/such/path").status_code == 404


def test_a_scrape_after_the_flow_shows_every_metric(tmp_path: Path, redis: RedisServer) -> None:
    env = redis_env(tmp_path, redis.url, "metrics:", sms_delay="0.2-0.2")
    metrics_port = free_port()
    worker_args = ["worker", "--metrics-port", str(metrics_port)]
    with (
        started(worker_args, env, tmp_path / "worker.log") as worker,
        serving(env, tmp_path) as (url, api),
    ):
        flow(url)
        worker_metrics = f"http://127.0.0.1:{metrics_port}/metrics"
        wait_for_log(worker, r"(SMS to|dropped a stale code for) \+7999000", timeout=30, count=2)
        http = scrape(f"{url}/metrics")

        login = {"route": "/api/login", "method": "POST"}
        verify = {"route": "/api/verify/{token}", "method": "POST"}
        profile = {"route": "/api/profile", "method": "POST"}
        assert value(http, "referrals_http_requests_total", **login, status="200") == 2
        assert value(http, "referrals_http_requests_total", **login, status="429") == 1
        assert value(http, "referrals_http_requests_total", **verify, status="400") == 1
        assert value(http, "referrals_http_requests_total", **verify, status="200") == 2
        assert value(http, "referrals_http_requests_total", **profile, status="200") == 1
        assert value(http, "referrals_http_requests_total", **profile, status="409") == 1
        unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
        assert value(http, "referrals_http_requests_total", **unmatched) == 1
        assert value(http, "referrals_http_request_duration_seconds_count", **login) == 3
        slowest = value(http, "referrals_http_request_duration_seconds_sum", **login)
        assert 0 < slowest < 30
        buckets = "referrals_http_request_duration_seconds_bucket"
        assert value(http, buckets, **login, le="+Inf") == 3
        assert value(http, "referrals_codes_requested_total") == 2
        assert value(http, "referrals_verifications_total", outcome="success") == 2
        assert value(http, "referrals_verifications_total", outcome="code_invalid") == 1
        cooldown = {"limit": "cooldown", "action": "login"}
        assert value(http, "referrals_rate_limited_total", **cooldown) == 1
        assert value(http, "referrals_referrals_applied_total") == 1
        refused = {"reason": "referral_already_applied"}
        assert value(http, "referrals_referrals_refused_total", **refused) == 1
        decided = {"decision": "applied", "signal": "none"}  # from 127.0.0.1: no network
        assert value(http, "referrals_referral_decisions_total", **decided) == 1
        assert value(http, "referrals_users_created_total") == 2
        assert value(http, "referrals_queue_up") == 1
        assert value(http, "referrals_queue_depth") == 0  # both delivered
        assert value(http, "referrals_queue_pending") == 0
        assert value(http, "referrals_queue_overdue") == 0
        assert value(http, "referrals_circuit_state", channel="console") == 0  # closed
        assert not any("+7999" in str(labels) for _, labels in http)  # no phone as a label

        # A code whose login was verified before the worker took it is stale.
        worker_samples = scrape(worker_metrics)
        outcomes = {
            dict(labels)["outcome"]: count
            for name, labels in worker_samples
            if name == "referrals_codes_sent_total"
            for count in [worker_samples[(name, labels)]]
        }
        assert outcomes.get("sent", 0) >= 1 and set(outcomes) <= {"sent", "stale"}, outcomes
        assert sum(outcomes.values()) == 2, outcomes
        sent = outcomes["sent"]
        assert value(worker_samples, "referrals_code_delivery_seconds_count") == sent
        console = {"route": "console", "channel": "console", "outcome": "sent"}
        assert value(worker_samples, "referrals_deliveries_total", **console) == sent
        # Each code waited for the gateway's 0.2 s delay, and not for long beyond.
        delivery = value(worker_samples, "referrals_code_delivery_seconds_sum")
        assert 0.2 * sent <= delivery < 60 * sent

        redis.stop()
        with httpx.Client(base_url=url, timeout=30) as client:
            assert client.post("/api/login/", json={"phone": B}).status_code == 503
        down = scrape(f"{url}/metrics")
        assert value(down, "referrals_dependency_errors_total", dependency="redis") >= 1
        assert value(down, "referrals_queue_up") == 0
        assert api.popen.poll() is None, api.output()


def per_process_counts(directory: Path, route: str) -> dict[str, float]:
    """Requests to ``route`` by the process whose file counted them."""
    counts: dict[str, float] = {}
    for file in directory.glob("counter_*.db"):
        for key, count, *_ in MmapedDict.read_all_values_from_file(str(file)):
            if '"referrals_http_requests_total"' in key and f'"{route}"' in key:
                counts[file.stem] = counts.get(file.stem, 0) + count
    return counts


def test_counts_from_two_api_processes_add_up(tmp_path: Path, redis: RedisServer) -> None:
    directory = tmp_path / "metrics"
    metrics_port = free_port()
    env = redis_env(tmp_path, redis.url, "metrics:", metrics_port=metrics_port)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    sent = 0
    with serving(env, tmp_path, "--workers", "2") as (url, _):
        assert httpx.get(f"{url}/metrics", timeout=10).status_code == 404  # moved to its port

        def hit(_: int) -> int:
            with contextlib.suppress(httpx.HTTPError):
                return httpx.get(f"{url}/health/live", timeout=10).status_code
            return 0

        with ThreadPoolExecutor(16) as pool:
            for _ in range(30):  # until both processes have answered some (bounded)
                statuses = list(pool.map(hit, range(100)))
                assert statuses == [200] * 100
                sent += len(statuses)
                counts = per_process_counts(directory, "/health/live")
                if len([c for c in counts.values() if c > 0]) >= 2:
                    break
        assert len([c for c in counts.values() if c > 0]) >= 2, counts
        samples = scrape(f"http://127.0.0.1:{metrics_port}/metrics")
        live = {"route": "/health/live", "method": "GET", "status": "200"}
        assert value(samples, "referrals_http_requests_total", **live) == sent
        assert sum(counts.values()) == sent
