"""No code, token or full phone in any log record: the whole HTTP flow (with
failures) and the worker's deliveries through the Redis queue, every record
of every logger captured at DEBUG on the root logger and scanned (message,
arguments, extra fields, traceback). And the worker's delivery line carries
the request id of the login that queued it."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from taskiq.receiver import Receiver

from referrals.adapters.memory import RecordingSmsGateway
from referrals.adapters.sql import open_database
from referrals.application.policy import Policy
from referrals.entrypoints.http import create_app
from referrals.entrypoints.logs import RequestIdFilter
from referrals.entrypoints.worker import build_worker_broker
from referrals.service import Adapters
from referrals.settings import Settings
from tests.defaults import DATABASE
from tests.e2e.conftest import with_peer
from tests.namespaces import NAMESPACE

pytestmark = pytest.mark.redis

PHONES = ("+79990001111", "+79990002222")
STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.addFilter(RequestIdFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured() -> Iterator[Everything]:
    root, handler = logging.getLogger(), Everything()
    levels = {name: logging.getLogger(name).level for name in ("", "referrals", "taskiq")}
    root.addHandler(handler)
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    # The test's own HTTP client logs each URL it calls (verify URLs hold login
    # tokens): that is the test, not the service.
    client_level = logging.getLogger("httpx").level
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        logging.getLogger("httpx").setLevel(client_level)


def texts(record: logging.LogRecord) -> list[str]:
    """Everything a formatter could print of ``record``."""
    found = [str(record.msg), repr(record.args), record.getMessage()]
    found += [repr(v) for k, v in record.__dict__.items() if k not in STANDARD]
    if record.exc_info:
        found.append(logging.Formatter().formatException(record.exc_info))
    return found


async def _log_in(client: AsyncTestClient[Any], secrets: set[str]) -> list[dict[str, Any]]:
    logins = []
    for i, phone in enumerate(PHONES):
        login = await client.post(
            "/api/login/", json={"phone": phone}, headers={"X-Request-ID": f"login-{i}"}
        )
        assert login.status_code == 200, login.text
        logins.append(login.json())
        secrets |= {logins[-1]["token"], logins[-1]["confirm_code"]}
    return logins


async def _flow(
    client: AsyncTestClient[Any], logins: list[dict[str, Any]], secrets: set[str]
) -> None:
    """Verify both logins (a wrong code first), apply a code, page, log out."""
    tokens = []
    for body in logins:
        wrong = f"{(int(body['confirm_code']) + 1) % 10**8:08d}"
        path = f"/api/verify/{body['token']}/"
        assert (await client.post(path, json={"confirm_code": wrong})).status_code == 400
        verified = await client.post(path, json={"confirm_code": body["confirm_code"]})
        assert verified.status_code == 200, verified.text
        tokens.append(verified.json()["access_token"])
    secrets |= set(tokens)
    owner = {"Authorization": f"Bearer {tokens[0]}"}
    fan = {"Authorization": f"Bearer {tokens[1]}"}
    code = (await client.get("/api/profile/", headers=owner)).json()["invite_referral_code"]
    applied = await client.post("/api/profile/", json={"used_referral_code": code}, headers=fan)
    assert applied.status_code == 200
    assert (await client.get("/api/profile/?limit=1", headers=owner)).status_code == 200
    assert (
        await client.post("/api/profile/", json={"used_referral_code": "ZZZZZZ"}, headers=owner)
    ).status_code == 404
    assert (
        await client.get("/api/profile/", headers={"Authorization": "Bearer nope"})
    ).status_code == 401
    assert (await client.post("/api/login/", json={"phone": "+7999"})).status_code == 400
    assert (await client.post("/api/logout/", headers=fan)).status_code == 200


async def test_no_log_record_holds_a_code_a_token_or_a_full_phone(
    captured: Everything, redis_server_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path}/db.sqlite3"
    await open_database(database_url, namespace=NAMESPACE, **DATABASE).migrate()
    settings = Settings(
        database_url=database_url,
        redis_url=redis_server_url,
        broker_url=redis_server_url,
        redis_prefix=redis_prefix,
        secret_key=b"log-hygiene-secret-key-0123456789",
        policy=Policy(expose_codes=True, code_length=8),
        trusted_proxies=(ipaddress.ip_network("10.0.0.0/8"),),
        cookie_secure=False,
    )
    sms = RecordingSmsGateway()
    worker = build_worker_broker(settings, adapters=Adapters(sms_gateway=sms))
    worker.is_worker_process = True
    await worker.startup()  # creates the consumer group before anything is queued
    messages = worker.listen()
    secrets: set[str] = set()
    try:
        app = with_peer(create_app(settings), "10.0.0.1")
        async with AsyncTestClient(app, base_url="http://testserver.local") as client:
            logins = await _log_in(client, secrets)
            receiver = Receiver(worker, run_startup=False)
            for _ in PHONES:
                message = await asyncio.wait_for(anext(messages), 10)
                await receiver.callback(message, raise_err=True)
            await _flow(client, logins, secrets)
    finally:
        await messages.aclose()
        await worker.shutdown()

    assert [s.phone for s in sms.sent] == list(PHONES)
    secrets |= set(PHONES) | {phone.lstrip("+") for phone in PHONES}
    leaks = [
        (record.name, text)
        for record in captured.records
        for text in texts(record)
        if any(secret in text for secret in secrets)
    ]
    assert captured.records, "nothing was logged: the scan would prove nothing"
    assert leaks == []
    sending = [r for r in captured.records if r.getMessage().startswith("sending a code to")]
    assert sorted(getattr(r, "request_id", "") for r in sending) == ["login-0", "login-1"]
