"""Workers and API processes ride out outages of the queue's own Redis."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.workers import clean_exit, login, redis_env, sms_sent, wait_for_log, worker
from tests.processes import serving
from tests.servers import redis_server

pytestmark = [pytest.mark.slow, pytest.mark.redis]

PHONE = "+79997776655"


def test_a_worker_and_an_api_started_while_the_queue_is_down_serve_once_it_is_up(
    tmp_path: Path, redis_server_url: str, redis_prefix: str
) -> None:
    with redis_server() as queue:
        env = redis_env(tmp_path, redis_server_url, redis_prefix, broker_redelivery=3)
        env["REFERRALS_BROKER_URL"] = queue.url
        queue.stop()
        with worker(env, tmp_path / "worker.log") as w, serving(env, tmp_path) as (url, _):
            wait_for_log(w, "queue's Redis is unreachable", 20)
            queue.start()
            code = login(url, PHONE)
            wait_for_log(w, f"SMS to \\{PHONE}", 20)
        assert sms_sent([w]) == [(PHONE, code)]
        assert "is dead. Scheduling reload" not in w.output()  # no crash-restart loop


def test_a_worker_recreates_its_group_when_the_queue_comes_back_empty(
    tmp_path: Path, redis_server_url: str, redis_prefix: str
) -> None:
    with redis_server() as queue:
        env = redis_env(tmp_path, redis_server_url, redis_prefix, broker_redelivery=3)
        env["REFERRALS_BROKER_URL"] = queue.url
        with worker(env, tmp_path / "worker.log") as w, serving(env, tmp_path) as (url, _):
            wait_for_log(w, "ready", 20)
            queue.stop()
            queue.start()  # nothing persisted: the stream and its group are gone
            code = login(url, PHONE)
            wait_for_log(w, f"SMS to \\{PHONE}", 20)
        assert sms_sent([w]) == [(PHONE, code)]
        assert "consumer group is gone; creating it again" in w.output()
        clean_exit(w.output())
