"""The drill's own servers: one PostgreSQL cluster, two Redis servers (stores
and queue), two SMS providers (the operator's webhook, played by a sink, and
SMS.ru, played by its fake: the route ``ru=webhook,smsru``), the API
(``referrals serve --workers 2``) and one ``referrals worker``.

Everything runs on free 127.0.0.1 ports through the test suite's helpers
(:mod:`tests.servers`, :mod:`tests.processes`, :mod:`tests.integration.sms_sink`),
each in its own process group, and is stopped when the block ends, whatever
happened. Both Redis servers keep an append-only file, as docs/production.md asks
of production (queued codes must survive a restart of the broker).
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fakes import smsru
from tests.fakes.server import serving
from tests.integration.sms_sink import SmsSink, sms_sink
from tests.integration.workers import kill_group, worker
from tests.processes import BIN, Process, child_env, free_port, started, wait_until_serving
from tests.servers import PostgresCluster, RedisServer, postgres_cluster, redis_server

SECRET_KEY = "soak-drill-secret-key-0123456789abcdef"  # noqa: S105 - throwaway servers
WEBHOOK_SECRET = "soak-drill-webhook-secret-0123456789"  # noqa: S105
PREFIX = "soak:"
API_PROCESSES = 2
ROUTE = "ru=webhook,smsru"
"""The webhook first, SMS.ru when it fails (the drill takes the webhook's sink away once)."""


@dataclass
class TimedSmsRu(smsru.FakeSmsRu):
    """SMS.ru's fake, noting when each text arrived (``time.monotonic()``)."""

    arrivals: list[tuple[float, str, str]] = field(default_factory=list)
    """(when, phone, text) of every text it took."""

    def deliver(self, delivered: Any) -> None:
        super().deliver(delivered)
        with self.lock:
            self.arrivals.append((time.monotonic(), delivered.phone, delivered.text or ""))

    def texts(self) -> list[tuple[float, str, str]]:
        with self.lock:
            return list(self.arrivals)


def drill_settings(
    postgres: PostgresCluster,
    stores: RedisServer,
    broker: RedisServer,
    sink: SmsSink,
    second: TimedSmsRu,
) -> dict[str, str]:
    """Production's shape with the product's own limits; only the timings are
    shortened so a killed worker's tasks come back within the drill."""
    return {
        "REFERRALS_ENV": "dev",  # plain-http sink on 127.0.0.1
        "REFERRALS_DATABASE_URL": postgres.url,
        "REFERRALS_REDIS_URL": stores.url,
        "REFERRALS_BROKER_URL": broker.url,
        "REFERRALS_REDIS_PREFIX": PREFIX,
        "REFERRALS_SECRET_KEY": SECRET_KEY,
        "REFERRALS_EXPOSE_CODES": "false",  # people read their codes from the SMS
        "REFERRALS_SMS_GATEWAY": "webhook",
        "REFERRALS_SMS_WEBHOOK_URL": sink.url,
        "REFERRALS_SMS_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "REFERRALS_SMS_WEBHOOK_TIMEOUT": "1",
        "REFERRALS_SMS_ROUTES": ROUTE,
        "REFERRALS_SMSRU_API_ID": smsru.API_ID,
        "REFERRALS_SMSRU_BASE_URL": second.url,
        "REFERRALS_RECEIPT_TIMEOUT": "3600",  # no receipts here: the chain moves on failures only
        "REFERRALS_BROKER_REDELIVERY": "10",
        "REFERRALS_DEPENDENCY_TIMEOUT": "2",
        "REFERRALS_TRUSTED_PROXIES": "127.0.0.1",  # each person has an address of its own
        # Every person is a +7 number of a few blocks: the ceilings per block,
        # per country and in all are an SMS budget, not what the drill tests.
        "REFERRALS_LIMIT_PREFIX_SEND": "1000000/3600",
        "REFERRALS_LIMIT_COUNTRY_SEND": "1000000/3600",
        "REFERRALS_LIMIT_GLOBAL_SEND": "1000000/3600",
    }


@dataclass
class Stack:
    """The running servers, and the worker, which the drill kills and restarts."""

    postgres: PostgresCluster
    stores: RedisServer
    broker: RedisServer
    sink: SmsSink
    smsru: TimedSmsRu
    env: dict[str, str]
    logs: Path
    api: Process
    api_url: str
    workers: list[Process] = field(default_factory=list)
    """Every worker started, the live one last."""
    _worker: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def start_worker(self) -> None:
        log = self.logs / f"worker-{len(self.workers) + 1}.log"
        self.workers.append(self._worker.enter_context(worker(self.env, log)))

    def kill_worker(self) -> None:
        """SIGKILL the worker and every process it forked: no shutdown, no ack."""
        kill_group(self.workers[-1])
        self._worker.close()

    def stop_worker(self) -> None:
        self._worker.close()

    def output(self, what: str) -> str:
        """``api`` or ``worker`` (every incarnation's log, in order)."""
        processes = [self.api] if what == "api" else self.workers
        return "\n".join(p.output() for p in processes)


def migrate(env: dict[str, str], log: Path) -> None:
    with log.open("wb") as sink:
        subprocess.run(
            [str(BIN / "referrals"), "migrate"],
            env=child_env(env),
            stdout=sink,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=120,
        )


@contextlib.contextmanager
def running_stack(logs: Path) -> Iterator[Stack]:
    """Start everything (migrating the database first); stop it all at the end."""
    with contextlib.ExitStack() as stop:
        postgres = stop.enter_context(postgres_cluster())
        stores = stop.enter_context(redis_server(persist=True))
        broker = stop.enter_context(redis_server(persist=True))
        sink = stop.enter_context(sms_sink())
        second = stop.enter_context(serving(TimedSmsRu()))
        env = drill_settings(postgres, stores, broker, sink, second)
        migrate(env, logs / "migrate.log")
        port = free_port()
        args = ["serve", "--port", str(port), "--workers", str(API_PROCESSES)]
        api = stop.enter_context(started(args, env, logs / "api.log"))
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url, api, timeout=60)
        stack = Stack(postgres, stores, broker, sink, second, env, logs, api, url)
        stop.callback(stack.stop_worker)
        stack.start_worker()
        yield stack
