"""The failover drill: `referrals serve` and TWO `referrals worker` processes on
PostgreSQL and Redis, routing Russian numbers through Telegram, SMS.ru and SMSC
played by local fakes (tests/fakes), each acting out a trouble in turn.

See docs/sending-codes.md (failover, receipts). Each scenario runs alone (the
fakes' scripted troubles go to whichever request comes next); at the end every
login's code went out at most once per channel, and every copy was the same code.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from referrals.adapters.sql.database import run_migrations
from referrals.entrypoints.cli import main
from referrals.testing.contracts.sms_gateway import GATEWAY_TIMEOUT, Delivered, Trouble
from tests.fakes import smsc, smsru, telegram
from tests.fakes.server import FakeProvider, serving
from tests.namespaces import NAMESPACE
from tests.processes import free_port, started
from tests.processes import serving as serving_api

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

RECEIPT_TIMEOUT = 4.0
RECEIPT_SECRET = "drill-receipt-secret"
ROUTE = "telegram,smsru,smsc"
ROUTED, SLOW_SMSRU, ALL_DOWN, NO_RECEIPT = (f"+7999000{n:04d}" for n in (201, 202, 203, 204))

T = TypeVar("T")


def eventually(what: str, probe: Callable[[], T | None], timeout: float = 30.0) -> T:
    """``probe()`` once it gives something other than ``None``/empty."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout} s")
        time.sleep(0.1)


@dataclass
class Drill:
    url: str
    env: dict[str, str]
    telegram: telegram.FakeTelegramGateway
    smsru: smsru.FakeSmsRu
    smsc: smsc.FakeSmsc
    worker_metrics: list[str]
    answers: list[httpx.Response]

    @property
    def fakes(self) -> dict[str, FakeProvider]:
        return {"telegram": self.telegram, "smsru": self.smsru, "smsc": self.smsc}

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        answer = httpx.request(method, f"{self.url}{path}", timeout=15, **kwargs)
        self.answers.append(answer)
        return answer

    def login(self, phone: str) -> tuple[str, str]:
        answer = self.call("POST", "/api/login/", json={"phone": phone})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["channel"] == "telegram"  # the route's first, named without asking anyone
        return body["token"], body["confirm_code"]

    def status(self, token: str) -> dict[str, Any]:
        answer = self.call("GET", f"/api/verify/{token}/")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def to(self, channel: str, phone: str) -> list[Delivered]:
        return [d for d in self.fakes[channel].delivered() if d.phone == phone]

    def deliveries(self, phone: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
        """``referrals deliveries show PHONE --json``, as an operator runs it."""
        for name, value in self.env.items():
            monkeypatch.setenv(name, value)
        return _cli_json(["deliveries", "show", phone])

    def quiet(self, *channels: str) -> None:
        """Drop the troubles still scripted for ``channels`` (the scenario is over)."""
        for channel in channels:
            fake = self.fakes[channel]
            with fake.lock:
                fake.script.clear()


def _cli_json(argv: list[str]) -> dict[str, Any]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main([*argv, "--json"])
    assert status == 0, out.getvalue()
    return dict(json.loads(out.getvalue()))


def carries(delivered: Delivered, code: str) -> bool:
    """Whether a copy carries ``code``: Telegram gets the code alone, SMS a text with it."""
    return delivered.code == code if delivered.text is None else code in delivered.text


@pytest.fixture
def drill(
    tmp_path: Path, empty_postgres_url: str, redis_server_url: str, redis_prefix: str
) -> Iterator[Drill]:
    asyncio.run(run_migrations(empty_postgres_url, NAMESPACE, prepared_statements=True))
    with ExitStack() as stack:
        fake_telegram = stack.enter_context(serving(telegram.FakeTelegramGateway()))
        fake_smsru = stack.enter_context(serving(smsru.FakeSmsRu()))
        fake_smsc = stack.enter_context(serving(smsc.FakeSmsc()))
        env = {
            "REFERRALS_DATABASE_URL": empty_postgres_url,
            "REFERRALS_REDIS_URL": redis_server_url,
            "REFERRALS_BROKER_URL": redis_server_url,
            "REFERRALS_REDIS_PREFIX": redis_prefix,
            "REFERRALS_SECRET_KEY": "failover-drill-secret-0123456789abcdef",
            "REFERRALS_EXPOSE_CODES": "true",
            "REFERRALS_SMS_ROUTES": f"ru={ROUTE}",
            "REFERRALS_RECEIPT_TIMEOUT": str(RECEIPT_TIMEOUT),
            "REFERRALS_RECEIPT_SECRET": RECEIPT_SECRET,
            "REFERRALS_SMS_TIMEOUT": str(GATEWAY_TIMEOUT),
            "REFERRALS_CIRCUIT_FAILURES": "1000",  # the drill is about the chain, not circuits
            "REFERRALS_LIMIT_IP_VERIFY": "1000/60",
            "REFERRALS_PUBLIC_URL": "https://login.example.com",
            "REFERRALS_TELEGRAM_TOKEN": telegram.TOKEN,
            "REFERRALS_TELEGRAM_BASE_URL": fake_telegram.url,
            "REFERRALS_SMSRU_API_ID": smsru.API_ID,
            "REFERRALS_SMSRU_BASE_URL": fake_smsru.url,
            "REFERRALS_SMSC_LOGIN": smsc.LOGIN,
            "REFERRALS_SMSC_PASSWORD": smsc.PASSWORD,
            "REFERRALS_SMSC_BASE_URL": fake_smsc.url,
        }
        ports = [free_port(), free_port()]
        for n, port in enumerate(ports):
            worker = ["worker", "--metrics-port", str(port)]
            stack.enter_context(started(worker, env, tmp_path / f"worker-{n}.log"))
        url, _ = stack.enter_context(serving_api(env, tmp_path))
        metrics = [f"http://127.0.0.1:{port}/metrics" for port in ports]
        yield Drill(url, env, fake_telegram, fake_smsru, fake_smsc, metrics, [])


def worker_samples(drill: Drill, name: str, **labels: str) -> float:
    """``name{labels}`` summed over both workers' scrapes."""
    total = 0.0
    for url in drill.worker_metrics:
        text = httpx.get(url, timeout=10).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(
                    sample.labels.get(k) == v for k, v in labels.items()
                ):
                    total += sample.value
    return total


def test_the_chain_fails_over_and_every_login_gets_one_code(
    drill: Drill, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes: dict[str, str] = {}

    # Telegram says "no account": SMS.ru carries the code, and its receipt ends the wait.
    drill.telegram.answer_next(Trouble.UNREACHABLE)
    token, codes[ROUTED] = drill.login(ROUTED)
    eventually("SMS.ru text", lambda: drill.to("smsru", ROUTED))
    shown = drill.deliveries(ROUTED, monkeypatch)
    [sms_id] = [
        s["detail"] for s in shown["steps"] if (s["step"], s["channel"]) == ("sent", "smsru")
    ]
    receipt = {"data[0]": f"sms_status\n{sms_id}\n103"}
    answer = drill.call("POST", f"/api/receipts/smsru/?key={RECEIPT_SECRET}", data=receipt)
    assert (answer.status_code, answer.text) == (200, "100")
    assert drill.status(token) == {"channel": "smsru", "status": "delivered", "failed_over": True}

    # SMS.ru times out (its retry too): SMSC carries the code.
    drill.telegram.answer_next(Trouble.UNREACHABLE)
    for _ in range(4):
        drill.smsru.answer_next(Trouble.SLOW)
    token, codes[SLOW_SMSRU] = drill.login(SLOW_SMSRU)
    eventually("SMSC text", lambda: drill.to("smsc", SLOW_SMSRU))
    drill.quiet("smsru")
    assert drill.to("smsru", SLOW_SMSRU) == []
    assert drill.status(token)["channel"] == "smsc"

    # Every provider is down: the login ends delivery_failed, visible to the page,
    # the operator and the metrics.
    for fake in drill.fakes.values():
        for _ in range(6):
            fake.answer_next(Trouble.BUSY)
    token, codes[ALL_DOWN] = drill.login(ALL_DOWN)
    eventually(
        "delivery_failed",
        lambda: drill.deliveries(ALL_DOWN, monkeypatch)["logins"][0]["status"] == "delivery_failed",
    )
    drill.quiet(*drill.fakes)
    assert drill.status(token) == {
        "channel": "telegram",
        "status": "delivery_failed",
        "failed_over": True,
    }
    failed = {"route": ROUTE, "channel": "none", "outcome": "delivery_failed"}
    assert (
        eventually(
            "the metric", lambda: worker_samples(drill, "referrals_deliveries_total", **failed)
        )
        == 1
    )
    assert all(not drill.to(channel, ALL_DOWN) for channel in drill.fakes)

    # No receipt ever comes: after the timeout the next channel gets the same code.
    token, codes[NO_RECEIPT] = drill.login(NO_RECEIPT)
    eventually("Telegram code", lambda: drill.to("telegram", NO_RECEIPT))
    eventually("SMS.ru text", lambda: drill.to("smsru", NO_RECEIPT), timeout=RECEIPT_TIMEOUT + 30)
    steps = [(s["step"], s["channel"]) for s in drill.deliveries(NO_RECEIPT, monkeypatch)["steps"]]
    assert ("timeout", "telegram") in steps
    assert drill.status(token)["channel"] in {"smsru", "smsc"}

    # The receipt of the first login stopped its follow-up: SMSC never got that code.
    time.sleep(RECEIPT_TIMEOUT + 1)
    assert drill.to("smsc", ROUTED) == []

    # Each login's code went out at most once per channel, and always the same code.
    for phone, code in codes.items():
        for channel in drill.fakes:
            copies = drill.to(channel, phone)
            assert len(copies) <= 1, (phone, channel, copies)
            assert all(carries(copy, code) for copy in copies), (phone, channel, copies, code)
    assert not [a for a in drill.answers if a.status_code >= 500]
