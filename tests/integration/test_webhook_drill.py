"""The webhook drill (bench/webhook_drill.py) scaled down for CI, and dead letters:
every event reaches the real receiver through outages, kills and restarts
(docs/events.md)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bench.webhook_drill import SECRET, Receiver, embedded_drill, queue_drill

from referrals import Adapters, CodeRequest, Policy, VerifyCode, open_service
from referrals.adapters.clock import SystemClock
from referrals.adapters.memory import RecordingSmsGateway
from referrals.adapters.sql import open_database
from referrals.adapters.sql.deliveries import SqlDeliveries
from referrals.application.webhook_desk import WebhookDesk
from referrals.application.webhooks import Endpoint, State
from referrals.settings import Settings
from tests.defaults import DATABASE
from tests.namespaces import NAMESPACE

pytestmark = pytest.mark.slow

RETRY_FOR = 1.5


@pytest.mark.postgres
@pytest.mark.redis
def test_every_event_arrives_through_503s_a_receiver_restart_and_a_killed_worker(
    tmp_path: Path, empty_postgres_url: str, redis_server_url: str
) -> None:
    report = queue_drill(empty_postgres_url, redis_server_url, tmp_path, 30, 15, busy=3.0)
    assert report.lost == []
    assert report.out_of_order == 0
    assert report.arrived == report.events >= 30 * 2 + 15


def test_every_event_arrives_on_the_embedded_default_across_a_killed_server(
    tmp_path: Path,
) -> None:
    report = embedded_drill(tmp_path, 20, 10, busy=3.0)
    assert report.lost == []
    assert report.out_of_order == 0
    assert report.arrived == report.events >= 20 * 2 + 10


@contextlib.asynccontextmanager
async def never_answering() -> AsyncIterator[int]:
    """A server that takes connections and never says a word; its port."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            await reader.read()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0, family=socket.AF_INET)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def test_a_receiver_that_never_answers_gets_dead_letters_that_a_replay_delivers(
    tmp_path: Path,
) -> None:
    database_url = f"sqlite:///{tmp_path}/dead.sqlite3"
    async with never_answering() as port:
        endpoint = Endpoint("shop", f"http://127.0.0.1:{port}/webhooks", SECRET, frozenset({"*"}))
        settings = Settings(
            database_url=database_url,
            policy=Policy(expose_codes=True),
            secret_key=b"dead-letter-test-secret-key-0123456789",
            webhooks=(endpoint,),
            webhook_timeout=0.2,
            webhook_retry_for=RETRY_FOR,
            webhook_backoff=0.1,
            webhook_poll=0.02,
        )
        database = open_database(database_url, namespace=NAMESPACE, **DATABASE)
        async with open_service(
            settings, adapters=Adapters(sms_gateway=RecordingSmsGateway())
        ) as api:
            await database.open()
            desk = WebhookDesk(SqlDeliveries(database), (endpoint,), SystemClock())
            requested = await api.request_code(CodeRequest("+79990000301", "10.0.0.1"))
            assert requested.code is not None
            await api.drain_deliveries()
            await api.verify(VerifyCode(requested.token, requested.code, "10.0.0.1"))
            deliveries = desk.deliveries
            async with asyncio.timeout(30):  # until nothing is pending: every one died
                while (figures := await deliveries.figures(0.0)).oldest_pending or (  # noqa: ASYNC110
                    figures.oldest_unfanned is not None
                ):
                    await asyncio.sleep(0.05)
            dead = await desk.dead(10)
            assert {r.event.type for r in dead} >= {"user.created", "login.succeeded"}
            for report in dead:
                [delivery] = report.deliveries
                assert delivery.state is State.DEAD
                first, last = delivery.attempts[0], delivery.attempts[-1]
                assert len(delivery.attempts) > 1
                # Its window opened when the first try was claimed (before it ended).
                assert last.at >= first.at - first.seconds + RETRY_FOR
                assert delivery.attempts[-1].error == "no answer within 0.2 s"
            receiver = Receiver(tmp_path)
            receiver.port, receiver.url = port, f"http://127.0.0.1:{port}/webhooks"
    # The same address answers now: a replay delivers what died.
    receiver.start()
    try:
        async with open_service(settings, adapters=Adapters(sms_gateway=RecordingSmsGateway())):
            assert await desk.replay(0.0, "shop") == len(dead)
            async with asyncio.timeout(30):
                while await desk.dead(10) or len(receiver.received()) < len(dead):  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
        assert {row[0] for row in receiver.received()} == {r.event.id for r in dead}
    finally:
        receiver.kill()
        await database.close()
