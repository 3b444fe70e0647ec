"""SMS delivery through taskiq workers on a real Redis: queued, retried, delivered once.

The process tests run `referrals serve` and `referrals worker` as real
processes, each test under its own Redis key prefix (so its own task
stream), and read the console gateway's log lines as the delivered SMS.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from taskiq import AckableMessage, AsyncBroker, InMemoryBroker
from taskiq.kicker import AsyncKicker
from taskiq.result import TaskiqResult

from referrals.adapters.memory import RecordingCodeSender, SentSms
from referrals.adapters.redis import (
    RedisChallengeStore,
    RedisCircuitBreaker,
    RedisDeliveryLedger,
    RedisDeliveryLog,
    RedisRateLimiter,
    connect_redis,
)
from referrals.adapters.taskiq import DELIVER_CODE, TaskiqCodeSender, build_broker, register_tasks
from referrals.application.deliver_code import DeliverCode
from referrals.application.delivery import Route
from referrals.application.errors import ServiceUnavailable
from referrals.application.policy import Policy
from referrals.application.ports import CodeDelivery, SmsMessage
from referrals.application.request_code import CodeRequest, RequestCode
from referrals.domain.phone import Phone
from referrals.domain.routes import Routes
from referrals.settings import Settings
from referrals.testing import FakeClock
from tests.defaults import BROKER, TIMEOUT
from tests.integration.workers import (
    clean_exit,
    kill_group,
    login,
    queue_state,
    redis_env,
    sms_sent,
    wait_for_log,
    wait_until_drained,
    worker,
)
from tests.processes import free_port, serving

PHONE = "+79991234567"
POLL = 2.0
"""Seconds of one blocking read (build_broker's default ``poll``)."""
SLACK = 3.0
"""Seconds allowed on top of a documented bound, for a loaded machine."""
SENDING = r"sending a code to \+7999\*\*\*4567"


def sms_to(phone: str) -> str:
    return rf"SMS to \{phone}: Your login code"


# Real processes ---------------------------------------------------------------


@pytest.mark.slow
def test_a_worker_killed_mid_delivery_is_replaced_and_the_code_goes_out_once(
    tmp_path: Path,
    redis_server_url: str,
    redis_prefix: str,
    record_property: Callable[[str, object], None],
) -> None:
    # The SMS takes 4 s; a task may run 0.6 x redelivery = 4.8 s before it is cut off.
    redelivery, delay = 8.0, 4.0
    env = redis_env(
        tmp_path, redis_server_url, redis_prefix, broker_redelivery=redelivery, sms_delay="4-4"
    )
    with serving(env, tmp_path) as (url, _), worker(env, tmp_path / "worker-a.log") as a:
        wait_for_log(a, "ready", 30)
        code = login(url, PHONE)
        wait_for_log(a, SENDING, 10)
        kill_group(a)  # the worker and its forked children, mid-send
        killed = time.monotonic()
        assert sms_sent([a]) == []
        with worker(env, tmp_path / "worker-b.log") as b:
            # Documented bound: started again within redelivery + poll of A's
            # read (which came just before the kill), then one SMS delay.
            bound = redelivery + POLL + delay
            delivered = wait_for_log(b, sms_to(PHONE), bound + SLACK)
            takeover = delivered - killed
            record_property("seconds_from_sigkill_to_delivery", round(takeover, 2))
            print(f"SIGKILL to delivery by worker B: {takeover:.2f} s (bound {bound} s)")
            assert takeover <= bound + SLACK
            assert sms_sent([a, b]) == [(PHONE, code)]
            wait_until_drained(redis_server_url, redis_prefix, 5)
            time.sleep(redelivery + POLL + 1)  # past another redelivery period
            assert sms_sent([a, b]) == [(PHONE, code)]
        clean_exit(b.output())


@pytest.mark.slow
def test_a_code_requested_while_no_worker_runs_is_delivered_once_a_worker_starts(
    tmp_path: Path, redis_server_url: str, redis_prefix: str
) -> None:
    env = redis_env(tmp_path, redis_server_url, redis_prefix, broker_redelivery=3)
    with serving(env, tmp_path) as (url, _):
        code = login(url, PHONE)  # answered before any worker process existed
        assert queue_state(redis_server_url, redis_prefix) == (1, 0)  # queued, unread
        with worker(env, tmp_path / "worker.log") as w:
            wait_for_log(w, sms_to(PHONE), 15)
            wait_until_drained(redis_server_url, redis_prefix, 5)
        # Acknowledged means deleted: nothing is left that could be sent again.
        assert sms_sent([w]) == [(PHONE, code)]
        clean_exit(w.output())


@pytest.mark.slow
def test_competing_workers_deliver_every_code_exactly_once(
    tmp_path: Path, redis_server_url: str, redis_prefix: str
) -> None:
    phones = [f"+7999123450{i}" for i in range(8)]
    env = redis_env(
        tmp_path, redis_server_url, redis_prefix, broker_redelivery=3, sms_delay="0.2-0.6"
    )
    with (
        serving(env, tmp_path) as (url, _),
        worker(env, tmp_path / "worker-1.log", "--workers", "2") as one,
        worker(env, tmp_path / "worker-2.log", "--workers", "2") as two,
    ):
        wait_for_log([one, two], "ready", 30, count=4)
        codes = {phone: login(url, phone) for phone in phones}
        wait_for_log([one, two], "SMS to ", 20, count=len(phones))
        wait_until_drained(redis_server_url, redis_prefix, 5)
        assert sorted(sms_sent([one, two])) == sorted(codes.items())
    for process in (one, two):
        assert process.popen.returncode == 0  # SIGTERM stopped both worker processes
        clean_exit(process.output())


@pytest.mark.slow
def test_an_idle_worker_survives_and_sigterm_lets_the_delivery_under_way_finish(
    tmp_path: Path, redis_server_url: str, redis_prefix: str
) -> None:
    env = redis_env(tmp_path, redis_server_url, redis_prefix, broker_redelivery=8, sms_delay="2-2")
    with serving(env, tmp_path) as (url, _), worker(env, tmp_path / "worker.log") as w:
        wait_for_log(w, "ready", 30)
        # Idle for longer than redis-py 8's default 5 s socket timeout: a
        # blocking read must not fail (and restart the worker) meanwhile.
        time.sleep(6.5)
        code = login(url, PHONE)
        wait_for_log(w, SENDING, 10)
        assert w.stop(signal.SIGTERM) == 0
        assert sms_sent([w]) == [(PHONE, code)]  # finished before the exit
        assert queue_state(redis_server_url, redis_prefix) == (0, 0)  # and acknowledged
    output = w.output()
    clean_exit(output)
    assert "worker-0 stopped" in output
    assert output.count("worker-0 ready") == 1  # never restarted


@pytest.mark.slow
def test_a_task_over_its_time_limit_is_cut_off_and_retried_until_its_code_expires(
    tmp_path: Path, redis_server_url: str, redis_prefix: str
) -> None:
    # Tasks may run 0.6 x 2 = 1.2 s, the gateway needs 3 s: every send is cut off.
    env = redis_env(
        tmp_path,
        redis_server_url,
        redis_prefix,
        broker_redelivery=2,
        sms_delay="3-3",
        code_ttl=7,
    )
    with serving(env, tmp_path) as (url, _), worker(env, tmp_path / "worker.log") as w:
        wait_for_log(w, "ready", 30)
        assert "the SMS gateway may take 3 s, but a delivery task is cut off" in w.output()
        login(url, PHONE)
        wait_for_log(w, SENDING, 10, count=2)  # the first try was cut off, then retried
        wait_for_log(w, "dropped a stale code", 15)  # the code expired: retries stop
        wait_until_drained(redis_server_url, redis_prefix, 5)
    output = w.output()
    assert "cut off by the task's time limit (1.2 s)" in output
    assert sms_sent([w]) == []
    clean_exit(output)  # one line per cut-off, not taskiq's traceback


# The task and the broker in this process, on the real Redis -------------------


class SlowGateway:
    """Records each SMS after ``delay`` seconds."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.sent: list[SentSms] = []

    async def send(self, message: SmsMessage) -> None:
        await asyncio.sleep(self.delay)
        self.sent.append(message)


LEASE = Settings().delivery_lease


@dataclass
class Deliveries:
    """RequestCode and the delivery task over the Redis stores, with a fake clock."""

    clock: FakeClock
    policy: Policy
    request_code: RequestCode
    queued: list[CodeDelivery]
    gateway: SlowGateway
    broker: AsyncBroker

    async def login(self, phone: str = PHONE) -> tuple[CodeDelivery, str]:
        requested = await self.request_code(CodeRequest(phone, "203.0.113.7"))
        assert requested.code is not None
        return self.queued[-1], requested.code

    async def run_task(self, delivery: CodeDelivery, time_limit: float = 5.0) -> TaskiqResult[str]:
        """Run the registered task once, as a worker would for one message."""
        kicker: AsyncKicker[..., str] = AsyncKicker(
            DELIVER_CODE, self.broker, labels={"timeout": time_limit, "ack_type": "manual"}
        )
        task = await kicker.kiq(
            challenge_id=delivery.challenge_id,
            phone=delivery.phone,
            sealed_code=delivery.sealed_code,
            expires_at=delivery.expires_at,
        )
        return await task.wait_result(timeout=10)


@pytest.fixture
async def deliveries(redis_server_url: str, redis_prefix: str) -> AsyncIterator[Deliveries]:
    client = connect_redis(redis_server_url, timeout=TIMEOUT)
    clock = FakeClock(time.time())
    policy = Policy(expose_codes=True)
    secret = b"k" * 32
    challenges = RedisChallengeStore(client, redis_prefix)
    sender = RecordingCodeSender()
    gateway = SlowGateway()
    request_code = RequestCode(
        policy=policy,
        challenges=challenges,
        limiter=RedisRateLimiter(client, redis_prefix),
        code_sender=sender,
        clock=clock,
        secret=secret,
    )
    delivery_log = RedisDeliveryLog(client, redis_prefix, keep=3600, recent=10)
    route = Route(
        channels={"console": gateway},
        circuit=RedisCircuitBreaker(client, redis_prefix, 5, 60, 30, LEASE),
        delivery_ledger=RedisDeliveryLedger(client, redis_prefix),
        delivery_log=delivery_log,
        clock=clock,
        lease=LEASE,
        retries=0,
    )
    deliver = DeliverCode(
        challenges=challenges,
        route=route,
        routes=Routes.single("console"),
        delivery_log=delivery_log,
        clock=clock,
        secret=secret,
        receipt_timeout=20,
    )
    broker = InMemoryBroker(await_inplace=True)
    register_tasks(broker, lambda: deliver, clock=clock.now)
    await broker.startup()
    try:
        yield Deliveries(clock, policy, request_code, sender.queued, gateway, broker)
    finally:
        await broker.shutdown()
        await client.aclose()


@pytest.mark.redis
async def test_a_redelivered_task_sends_its_code_once(deliveries: Deliveries) -> None:
    delivery, code = await deliveries.login()
    first = await deliveries.run_task(delivery)
    again = await deliveries.run_task(delivery)
    assert (first.return_value, again.return_value) == ("sent", "duplicate")
    [sms] = deliveries.gateway.sent
    assert sms.phone == PHONE and code in sms.text
    assert sms.idempotency_key == delivery.challenge_id


@pytest.mark.redis
async def test_copies_of_one_task_running_at_once_send_its_code_once(
    deliveries: Deliveries,
) -> None:
    deliveries.gateway.delay = 0.2
    delivery, _ = await deliveries.login()
    results = await asyncio.gather(*(deliveries.run_task(delivery) for _ in range(5)))
    assert sorted(r.return_value for r in results) == ["busy"] * 4 + ["sent"]
    assert len(deliveries.gateway.sent) == 1


@pytest.mark.redis
async def test_the_task_of_a_superseded_challenge_is_dropped(deliveries: Deliveries) -> None:
    old, _ = await deliveries.login()
    deliveries.clock.advance(deliveries.policy.resend_cooldown)
    new, code = await deliveries.login()
    assert (await deliveries.run_task(old)).return_value == "stale"
    assert (await deliveries.run_task(new)).return_value == "sent"
    [sms] = deliveries.gateway.sent
    assert code in sms.text


@pytest.mark.redis
async def test_the_task_of_an_expired_challenge_is_dropped(deliveries: Deliveries) -> None:
    delivery, _ = await deliveries.login()
    deliveries.clock.advance(deliveries.policy.code_ttl)
    assert (await deliveries.run_task(delivery)).return_value == "stale"
    assert deliveries.gateway.sent == []


@pytest.mark.redis
async def test_the_timeout_label_cuts_a_slow_send_off_and_a_later_retry_sends(
    deliveries: Deliveries,
) -> None:
    deliveries.gateway.delay = 2.0
    delivery, code = await deliveries.login()
    started = time.monotonic()
    cut = await deliveries.run_task(delivery, time_limit=0.2)
    assert time.monotonic() - started < 1.5
    assert cut.is_err and isinstance(cut.error, TimeoutError)
    assert deliveries.gateway.sent == []
    # The queue hands the task out again only after the claim's lease ended.
    deliveries.gateway.delay = 0.0
    deliveries.clock.advance(LEASE)
    assert (await deliveries.run_task(delivery)).return_value == "sent"
    [sms] = deliveries.gateway.sent
    assert code in sms.text


# The Redis stream broker against the real Redis --------------------------------


async def acknowledge(message: bytes | AckableMessage) -> None:
    assert isinstance(message, AckableMessage)
    done = message.ack()
    if done is not None:
        await done


def a_delivery(challenge_id: str = "challenge-1") -> CodeDelivery:
    return CodeDelivery(
        challenge_id=challenge_id,
        phone=Phone(PHONE),
        sealed_code="sealed",
        expires_at=time.time() + 300,
        requested_at=time.time(),
    )


@pytest.fixture(
    params=[
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("redis-cluster", marks=pytest.mark.redis_cluster),
    ]
)
def queue_server(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(URL, key prefix) of a Redis server, then of the tests' Redis Cluster."""
    if request.param == "redis":
        return request.getfixturevalue("redis_server_url"), request.getfixturevalue("redis_prefix")
    return request.getfixturevalue("redis_cluster_url"), f"referrals-test:{secrets.token_hex(6)}:"


async def test_a_queued_delivery_reads_back_with_its_arguments_and_labels(
    queue_server: tuple[str, str],
) -> None:
    redis_server_url, redis_prefix = queue_server
    broker = build_broker(
        redis_server_url, **(BROKER | {"queue": f"{redis_prefix}tasks"}), poll=0.2
    )
    await broker.startup()
    messages = broker.listen()
    try:
        delivery = a_delivery()
        await TaskiqCodeSender(broker, timeout=4.5).send(delivery)
        received = await asyncio.wait_for(anext(messages), 5)
        assert isinstance(received, AckableMessage)
        message = broker.formatter.loads(received.data)
        assert message.task_name == DELIVER_CODE
        assert message.kwargs == {
            "challenge_id": delivery.challenge_id,
            "phone": PHONE,
            "sealed_code": "sealed",
            "expires_at": delivery.expires_at,
            "language": None,
            "requested_at": delivery.requested_at,
        }
        assert float(message.labels["timeout"]) == 4.5
        assert message.labels["ack_type"] == "manual"
        await acknowledge(received)
        assert queue_state(redis_server_url, redis_prefix) == (0, 0)  # acked and deleted
    finally:
        await messages.aclose()
        await broker.shutdown()


async def test_an_unacknowledged_task_is_taken_over_within_redelivery_plus_poll(
    queue_server: tuple[str, str],
) -> None:
    redis_server_url, redis_prefix = queue_server
    redelivery, poll = 1.0, 0.3
    queue = f"{redis_prefix}tasks"
    crashed = build_broker(
        redis_server_url, queue=queue, redelivery=redelivery, connect_timeout=TIMEOUT, poll=poll
    )
    taker = build_broker(
        redis_server_url, queue=queue, redelivery=redelivery, connect_timeout=TIMEOUT, poll=poll
    )
    for broker in (crashed, taker):
        await broker.startup()
    dead, alive = crashed.listen(), taker.listen()
    try:
        await TaskiqCodeSender(crashed, timeout=1).send(a_delivery())
        await asyncio.wait_for(anext(dead), 5)  # read, never acknowledged: a crash
        read = time.monotonic()
        taken = await asyncio.wait_for(anext(alive), redelivery + poll + SLACK)
        waited = time.monotonic() - read
        assert redelivery - 0.1 <= waited <= redelivery + poll + 1.0
        await acknowledge(taken)
        assert queue_state(redis_server_url, redis_prefix) == (0, 0)
    finally:
        for generator in (dead, alive):
            await generator.aclose()
        for broker in (crashed, taker):
            await broker.shutdown()


@pytest.mark.slow
@pytest.mark.redis
async def test_a_blocking_read_longer_than_redis_py_default_socket_timeout_does_not_fail(
    redis_server_url: str, redis_prefix: str
) -> None:
    # redis-py 8 gives every socket a 5 s timeout by default: a longer blocking
    # read would raise and restart the worker unless the broker raises it.
    queue = f"{redis_prefix}tasks"
    broker = build_broker(
        redis_server_url, **(BROKER | {"queue": queue, "connect_timeout": 1}), poll=5.5
    )
    await broker.startup()
    messages = broker.listen()
    try:
        waiting = asyncio.ensure_future(anext(messages))
        await asyncio.sleep(6)  # past 5 s inside the first blocking read
        assert not waiting.done()
        await TaskiqCodeSender(broker, timeout=1).send(a_delivery())
        await acknowledge(await asyncio.wait_for(waiting, 7))
    finally:
        await messages.aclose()
        await broker.shutdown()


@pytest.mark.redis
async def test_tasks_queued_before_any_worker_created_the_group_are_not_skipped(
    redis_server_url: str, redis_prefix: str
) -> None:
    queue = f"{redis_prefix}tasks"
    sender_only = build_broker(
        redis_server_url, **(BROKER | {"queue": queue})
    )  # never started: no group
    await TaskiqCodeSender(sender_only, timeout=1).send(a_delivery())
    await sender_only.shutdown()
    consumer = build_broker(redis_server_url, **(BROKER | {"queue": queue}), poll=0.2)
    await consumer.startup()
    messages = consumer.listen()
    try:
        received = await asyncio.wait_for(anext(messages), 5)
        await acknowledge(received)
    finally:
        await messages.aclose()
        await consumer.shutdown()


async def test_an_unreachable_queue_is_reported_as_service_unavailable() -> None:
    broker = build_broker(
        f"redis://127.0.0.1:{free_port()}/0", **(BROKER | {"queue": "nowhere:tasks"})
    )
    try:
        with pytest.raises(ServiceUnavailable):
            await TaskiqCodeSender(broker, timeout=1).send(a_delivery())
    finally:
        await broker.shutdown()
