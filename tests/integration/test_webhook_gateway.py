"""The webhook SMS gateway against a real local HTTP server, and end to end."""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from referrals.adapters.sms import WebhookSmsGateway
from referrals.application.errors import DeliveryFailed
from referrals.application.ports import SmsMessage
from referrals.domain.phone import Phone
from tests.integration.sms_sink import Received, SmsSink, sms_sink
from tests.integration.workers import login, redis_env, wait_for_log, wait_until_drained, worker
from tests.processes import free_port, serving

SECRET = b"webhook-secret-for-tests"
PHONE = Phone("+79991234567")
TEXT = "Your login code: 1234. Do not share it with anyone."
KEY = "challenge-id-0123456789"
MESSAGE = SmsMessage(PHONE, TEXT, KEY)
BACKOFF = 0.1


@pytest.fixture
def sink() -> Iterator[SmsSink]:
    with sms_sink() as running:
        yield running


@contextlib.asynccontextmanager
async def gateway(
    url: str,
    *,
    attempts: int = 3,
    per_attempt: float = 2.0,
    client: httpx.AsyncClient | None = None,
) -> AsyncIterator[WebhookSmsGateway]:
    sms = WebhookSmsGateway(
        url, SECRET, timeout=per_attempt, attempts=attempts, backoff=BACKOFF, client=client
    )
    try:
        yield sms
    finally:
        await sms.aclose()


def gaps(received: list[Received]) -> list[float]:
    return [later.at - earlier.at for earlier, later in itertools.pairwise(received)]


def assert_one_message(received: list[Received]) -> None:
    """Every attempt carried the same message, key and a valid signature."""
    assert {r.body for r in received} == {received[0].body}
    assert {r.headers["idempotency-key"] for r in received} == {KEY}
    assert all(r.signed_by(SECRET) for r in received)


async def test_the_gateway_posts_the_sms_as_signed_json_with_an_idempotency_key(
    sink: SmsSink,
) -> None:
    async with gateway(sink.url) as sms:
        await sms.send(MESSAGE)
    [request] = sink.received
    assert request.path == "/sms"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {"id": KEY, "to": PHONE, "text": TEXT}
    assert request.headers["idempotency-key"] == KEY
    assert abs(int(request.headers["x-referrals-timestamp"]) - time.time()) < 5
    assert request.headers["x-referrals-signature"].startswith("sha256=")
    assert request.signed_by(SECRET)
    assert not request.signed_by(b"another secret")


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_server_errors_and_429_are_retried_with_growing_pauses(
    sink: SmsSink, status: int
) -> None:
    sink.script = [status, status]
    async with gateway(sink.url, attempts=3) as sms:
        await sms.send(MESSAGE)
    received = sink.received
    assert [r.status for r in received] == [status, status, 200]
    assert_one_message(received)
    first, second = gaps(received)
    assert first >= BACKOFF and second >= 2 * BACKOFF


async def test_a_timed_out_attempt_is_retried(sink: SmsSink) -> None:
    sink.script = [(200, 3.0)]  # answers only after the caller gave up
    started = time.monotonic()
    async with gateway(sink.url, per_attempt=0.3) as sms:
        await sms.send(MESSAGE)
    assert time.monotonic() - started < 2.0  # did not wait for the slow answer
    received = sink.received
    assert len(received) == 2
    assert_one_message(received)  # the receiver can drop the repeat by its key
    assert gaps(received)[0] >= 0.3 + BACKOFF - 0.05  # the first arrived a little after its start


async def test_a_refused_connection_is_retried_until_the_server_is_up() -> None:
    port = free_port()  # nothing listens there yet
    servers = contextlib.ExitStack()
    attempts = 0

    async def on_request(_: httpx.Request) -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 3:  # the server comes up before the third attempt
            servers.enter_context(sms_sink(port))

    client = httpx.AsyncClient(event_hooks={"request": [on_request]})
    with servers:
        async with gateway(f"http://127.0.0.1:{port}/sms", attempts=3, client=client) as sms:
            await sms.send(MESSAGE)
        assert attempts == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_a_4xx_answer_fails_at_once_without_a_retry(sink: SmsSink, status: int) -> None:
    sink.script = [status]
    async with gateway(sink.url, attempts=5) as sms:
        with pytest.raises(DeliveryFailed, match=f"HTTP {status}"):
            await sms.send(MESSAGE)
    assert len(sink.received) == 1


@pytest.mark.parametrize("attempts", [1, 4])
async def test_failing_every_attempt_raises_after_exactly_that_many_tries(
    sink: SmsSink, attempts: int
) -> None:
    sink.script = [503] * 10
    async with gateway(sink.url, attempts=attempts) as sms:
        with pytest.raises(DeliveryFailed, match="HTTP 503"):
            await sms.send(MESSAGE)
    assert len(sink.received) == attempts


async def test_an_unreachable_webhook_fails_after_every_attempt() -> None:
    async with gateway(f"http://127.0.0.1:{free_port()}/sms", attempts=3) as sms:
        with pytest.raises(DeliveryFailed, match="ConnectError"):
            await sms.send(MESSAGE)


# End to end: `referrals serve` + `referrals worker` with the webhook gateway ----


def webhook_env(tmp_path: Path, redis_url: str, prefix: str, sink: SmsSink, **extra: Any) -> Any:
    return redis_env(
        tmp_path,
        redis_url,
        prefix,
        sms_gateway="webhook",
        sms_webhook_url=sink.url,
        sms_webhook_secret=SECRET.decode(),
        **extra,
    )


@pytest.mark.slow
def test_a_login_makes_one_signed_webhook_call_carrying_the_code(
    tmp_path: Path, redis_server_url: str, redis_prefix: str, sink: SmsSink
) -> None:
    env = webhook_env(tmp_path, redis_server_url, redis_prefix, sink, broker_redelivery=3)
    with serving(env, tmp_path) as (url, _), worker(env, tmp_path / "worker.log") as w:
        code = login(url, PHONE)
        sink.wait_for(1, 15)
        wait_until_drained(redis_server_url, redis_prefix, 5)  # acknowledged: no repeat
        wait_for_log(w, r"accepted by the webhook \(HTTP 200\)", 5)
    [call] = sink.received
    assert call.signed_by(SECRET)
    body = call.json()
    assert body["to"] == PHONE and f"code: {code}." in body["text"]
    assert call.headers["idempotency-key"] == body["id"]
    assert f"code: {code}" not in w.output()  # the worker's log does not leak the code


@pytest.mark.slow
def test_a_webhook_outage_longer_than_one_send_is_retried_on_the_same_channel(
    tmp_path: Path, redis_server_url: str, redis_prefix: str, sink: SmsSink
) -> None:
    # One send makes 3 attempts (pauses 0.5 s and 1 s), all refused; the route
    # then tries the channel once more (REFERRALS_SMS_RETRIES=1) with the same
    # idempotency key and the same code, and it goes through (docs/sending-codes.md).
    sink.script = [503, 503, 503]
    env = webhook_env(tmp_path, redis_server_url, redis_prefix, sink, broker_redelivery=5)
    with serving(env, tmp_path) as (url, _), worker(env, tmp_path / "worker.log") as w:
        code = login(url, PHONE)
        received = sink.wait_for(4, 15)
        wait_until_drained(redis_server_url, redis_prefix, 5)
        wait_for_log(w, "webhook did not take the code", 1)
    assert [r.status for r in received] == [503, 503, 503, 200]
    assert {r.body for r in received} == {received[0].body}
    assert len({r.headers["idempotency-key"] for r in received}) == 1
    assert all(r.signed_by(SECRET) for r in received)
    assert f"code: {code}." in received[-1].json()["text"]
