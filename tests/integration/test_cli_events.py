"""`referrals events …` and `referrals endpoints …` on SQLite and PostgreSQL
(docs/events.md): list, show with attempts, dead letters, replay, pause."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from referrals import Adapters, CodeRequest, VerifyCode, open_service
from referrals.adapters.memory import RecordingSmsGateway
from referrals.adapters.sql.database import run_migrations
from referrals.container import close, resolve
from referrals.entrypoints.cli import main
from referrals.service import build_container
from referrals.settings import Settings, load_settings
from tests.namespaces import NAMESPACE
from tests.processes import free_port

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PHONE = "+79990000201"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def env(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.param == "sqlite":
        database_url = f"sqlite:///{tmp_path}/events.sqlite3"
    else:
        database_url = request.getfixturevalue("empty_postgres_url")
    asyncio.run(run_migrations(database_url, NAMESPACE, prepared_statements=True))
    nobody = f"http://127.0.0.1:{free_port()}/hooks"  # refuses every connection
    webhooks = [{"name": "crm", "url": nobody, "secret": SECRET, "events": ["*"]}]
    values = {
        "REFERRALS_DATABASE_URL": database_url,
        "REFERRALS_EXPOSE_CODES": "true",
        "REFERRALS_WEBHOOKS": json.dumps(webhooks),
        "REFERRALS_WEBHOOK_RETRY_FOR": "0.001",  # the first failure is the last
        "REFERRALS_WEBHOOK_POLL": "3600",  # the test drives the relay itself
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)


async def _sign_in(settings: Settings) -> None:
    adapters = Adapters(sms_gateway=RecordingSmsGateway())
    async with open_service(settings, adapters=adapters) as api:
        requested = await api.request_code(CodeRequest(PHONE, "10.0.0.1"))
        assert requested.code is not None
        await api.drain_deliveries()
        await api.verify(VerifyCode(requested.token, requested.code, "10.0.0.1"))


async def _relay_once(settings: Settings) -> None:
    container = build_container(settings)
    try:
        relay = await resolve(container.relay)
        assert relay is not None
        await relay.fan_out()
        for endpoint in relay.endpoints:
            await relay.send(endpoint)
    finally:
        await close(container)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    status = main([*argv, "--json"])
    out, err = capsys.readouterr()
    return status, json.loads(out) if status == 0 else None, err


@pytest.mark.usefixtures("env")
def test_an_operator_sees_dead_letters_with_their_attempts_and_replays_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = load_settings()
    asyncio.run(_sign_in(settings))

    status, listed, _ = run(capsys, "events", "list")
    assert status == 0
    types = [event["type"] for event in listed["events"]]
    assert "user.created" in types
    assert "login.succeeded" in types
    status, created, _ = run(capsys, "events", "list", "--type", "user.created", "--since", "1h")
    [event] = created["events"]

    asyncio.run(_relay_once(settings))

    status, dead, _ = run(capsys, "events", "dead")
    assert event["id"] in [e["id"] for e in dead["dead"]]
    status, shown, _ = run(capsys, "events", "show", event["id"])
    assert status == 0
    assert shown["data"]["phone"] == PHONE
    assert [(d["endpoint"], d["state"]) for d in shown["deliveries"]] == [("crm", "dead")]
    [attempt] = shown["attempts"]
    assert attempt["status"] is None
    assert "ConnectError" in attempt["error"]

    status, replayed, _ = run(capsys, "events", "replay", "--since", "1h", "--endpoint", "crm")
    assert status == 0
    assert replayed["replayed"] >= 2  # user.created and login.succeeded at least
    status, dead, _ = run(capsys, "events", "dead")
    assert dead["dead"] == []

    status, paused, _ = run(capsys, "endpoints", "pause", "crm")
    assert (paused["name"], paused["events"], paused["paused"]) == ("crm", "*", True)
    status, listed_endpoints, _ = run(capsys, "endpoints", "list")
    assert [e["paused"] for e in listed_endpoints["endpoints"]] == [True]
    status, resumed, _ = run(capsys, "endpoints", "resume", "crm")
    assert resumed["paused"] is False


@pytest.mark.usefixtures("env")
def test_an_unknown_endpoint_or_event_or_time_is_refused_with_status_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, _, err = run(capsys, "endpoints", "pause", "shop")
    assert status == 2
    assert "No endpoint is named 'shop'; known: crm" in err
    status, _, err = run(capsys, "events", "show", "0193a8f2-6b1e-7c4d-9a2b-3f4e5d6c7b8a")
    assert status == 2
    assert "No event has the id" in err
    status, _, err = run(capsys, "events", "replay", "--since", "yesterday")
    assert status == 2
    assert "--since 'yesterday'" in err
