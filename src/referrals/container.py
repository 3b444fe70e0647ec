"""The composition root: the only place that picks adapters.

:class:`Container` builds every port from :class:`~referrals.settings.Settings`:
SQL users (SQLite by default, PostgreSQL by URL), Redis stores when
``redis_url`` is set or in-process ones otherwise, a taskiq Redis-stream
broker when ``broker_url`` is set or the in-process queue otherwise. Drivers
are imported only by the providers that use them, so a service built on
in-memory adapters loads no database, Redis or taskiq module.

This module is internal: build services with :func:`referrals.open_service`,
which overrides providers with the adapters, hooks and SMS texts it is given.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from dependency_injector import containers, providers

from referrals.adapters import memory
from referrals.adapters.clock import SystemClock
from referrals.application.activity import CountingEvents
from referrals.application.apply_referral import ApplyReferral
from referrals.application.change_phone import ConfirmPhoneChange, RequestPhoneChange
from referrals.application.code_check import StepwiseCodeCheck
from referrals.application.completion import StepwiseCompletion
from referrals.application.conversion import RecordConversion
from referrals.application.delete_account import ConfirmDeletion, EraseAccount, RequestDeletion
from referrals.application.deliver_code import DeliverCode
from referrals.application.delivery import Route
from referrals.application.delivery_status import DeliveryStatus
from referrals.application.events import Hooks
from referrals.application.export import ExportData
from referrals.application.operations import (
    DeleteUser,
    GetStats,
    ListReferred,
    ResetLimits,
    ReviewReferrals,
    RevokeSessions,
    ShowDeliveries,
    ShowUser,
)
from referrals.application.outbox import EXPORTED, STATE_CHANGES, OutboxEvents
from referrals.application.own_sessions import (
    ListSessions,
    RevokeOtherSessions,
    RevokeSession,
)
from referrals.application.policy import Policy
from referrals.application.ports import (
    ActivityLog,
    ChallengeStore,
    CircuitBreaker,
    Clock,
    CodeCheck,
    CodeSender,
    ConversionLog,
    Cooldowns,
    DeliveryLedger,
    DeliveryLog,
    EventSink,
    LoginCompletion,
    RateLimiter,
    SendGate,
    SessionStore,
    SmsGateway,
    SpendLedger,
    UnitOfWorkFactory,
)
from referrals.application.profile import GetProfile, GetUser
from referrals.application.pumping import CONVERSION_BUCKET, PumpingGroups, Throttle
from referrals.application.receipts import ReceiptReader, RecordReceipts
from referrals.application.relay import Backoff, Relay
from referrals.application.request_code import RequestCode
from referrals.application.send_gate import SteppedSendGate
from referrals.application.sessions import Authenticate, Logout
from referrals.application.sms_text import SmsText
from referrals.application.spend import SPEND_BUCKET, SpendCap
from referrals.application.step_up import CheckStepUp
from referrals.application.verify import Verify
from referrals.application.webhook_desk import WebhookDesk
from referrals.application.webhooks import Deliveries, WebhookPoster
from referrals.domain.routes import Routes
from referrals.settings import (
    PROVIDERS,
    RECEIPT_CHANNELS,
    RECENT_LOGINS,
    WEBHOOK_BACKOFF_LIMIT,
    WEBHOOK_BATCH,
    WEBHOOK_CONCURRENCY,
    WEBHOOK_LEASE_FACTOR,
    Settings,
)

log = logging.getLogger("referrals.sms")

if TYPE_CHECKING:
    from taskiq import AsyncBroker

    from referrals.adapters.readiness import Readiness
    from referrals.adapters.redis import RedisClient
    from referrals.adapters.sms.provider import ProviderGateway
    from referrals.adapters.sql import Database

S = TypeVar("S")
T = TypeVar("T")

if TYPE_CHECKING:

    class _Container:
        """What we use of dependency-injector's container, without the
        catch-all ``__getattr__`` of its stubs: a misspelt provider is a mypy error."""

        def __init__(self, **overriding: object) -> None: ...
        def shutdown_resources(self) -> Awaitable[None] | None: ...

else:
    _Container = containers.DeclarativeContainer


async def _database(settings: Settings) -> AsyncIterator[Database]:
    from referrals.adapters.sql import Namespace, open_database

    database = open_database(
        settings.database_url,
        namespace=Namespace(settings.db_table_prefix, settings.db_schema),
        pool_size=settings.db_pool_size,
        timeout=settings.dependency_timeout,
        prepared_statements=not settings.db_transaction_pooler,
    )
    await database.prepare()
    try:
        yield database
    finally:
        await database.close()


async def _redis(settings: Settings) -> AsyncIterator[RedisClient | None]:
    if settings.redis_url is None:
        yield None
        return
    from referrals.adapters.redis import connect_redis

    client = connect_redis(settings.redis_url, timeout=settings.dependency_timeout)
    try:
        yield client
    finally:
        await client.aclose()


def _unit_of_work(database: Database) -> UnitOfWorkFactory:
    from referrals.adapters.sql import sql_unit_of_work

    return sql_unit_of_work(database)


@dataclass(frozen=True, slots=True, kw_only=True)
class Stores:
    """The stores that live in Redis when ``redis_url`` is set, else in this process."""

    challenges: ChallengeStore
    sessions: SessionStore
    limiter: RateLimiter
    delivery_ledger: DeliveryLedger
    activity: ActivityLog
    circuit: CircuitBreaker
    delivery_log: DeliveryLog
    spend: SpendLedger
    conversion: ConversionLog
    cooldowns: Cooldowns
    gate: SendGate | None = None
    """The login's quotas, throttle and spend in one step, over ``limiter``,
    ``conversion`` and ``spend``'s keys; ``None``: :func:`_send_gate` steps."""


def _circuit_values(settings: Settings) -> tuple[int, float, float, float]:
    return (
        settings.circuit_failures,
        settings.circuit_window,
        settings.circuit_cooldown,
        settings.delivery_lease,  # a probe's claim on a channel lasts as long
    )


async def _redis_sessions(settings: Settings, client: RedisClient) -> AsyncIterator[SessionStore]:
    """Sessions in Redis, read from process memory while Redis invalidates them
    (``Settings.session_cache_size``; 0: every read goes to Redis)."""
    from referrals.adapters import redis

    if not settings.session_cache_size:
        yield redis.RedisSessionStore(client, settings.redis_prefix)
        return
    from referrals.adapters.redis.session_cache import CachedRedisSessionStore

    store = CachedRedisSessionStore(
        client,
        settings.redis_prefix,
        capacity=settings.session_cache_size,
        timeout=settings.dependency_timeout,
    )
    await store.start()
    await store.wait_live(settings.dependency_timeout)  # else reads go to Redis until it is
    try:
        yield store
    finally:
        await store.aclose()


def _redis_stores(settings: Settings, client: RedisClient, sessions: SessionStore) -> Stores:
    from referrals.adapters import redis

    prefix = settings.redis_prefix
    return Stores(
        challenges=redis.RedisChallengeStore(client, prefix),
        sessions=sessions,
        limiter=redis.RedisRateLimiter(client, prefix),
        delivery_ledger=redis.RedisDeliveryLedger(client, prefix),
        activity=redis.RedisActivityLog(client, prefix),
        circuit=redis.RedisCircuitBreaker(client, prefix, *_circuit_values(settings)),
        delivery_log=redis.RedisDeliveryLog(
            client, prefix, settings.delivery_history, RECENT_LOGINS
        ),
        spend=redis.RedisSpendLedger(client, prefix, SPEND_BUCKET),
        conversion=redis.RedisConversionLog(client, prefix, CONVERSION_BUCKET),
        cooldowns=redis.RedisCooldowns(client, prefix),
        gate=redis.RedisSendGate(client, prefix, CONVERSION_BUCKET, SPEND_BUCKET),
    )


def _code_check(
    challenges: ChallengeStore, limiter: RateLimiter, cooldowns: Cooldowns
) -> CodeCheck:
    """One Lua script when the stores are Redis's on one client (it reads the
    phone's cooldown too), else one call after another."""
    if "referrals.adapters.redis" not in sys.modules:  # no Redis store in this process
        return StepwiseCodeCheck(limiter, challenges, cooldowns)
    from referrals.adapters import redis

    if (
        isinstance(challenges, redis.RedisChallengeStore)
        and isinstance(limiter, redis.RedisRateLimiter)
        and isinstance(cooldowns, redis.RedisCooldowns)
        and challenges.client is limiter.client is cooldowns.client
    ):
        return redis.RedisCodeCheck(limiter, challenges, cooldowns)
    return StepwiseCodeCheck(limiter, challenges, cooldowns)


def _completion(
    challenges: ChallengeStore,
    sessions: SessionStore,
    limiter: RateLimiter,
    conversion: ConversionLog,
    delivery_log: DeliveryLog,
    activity: ActivityLog,
    channels: tuple[str, ...],
) -> LoginCompletion:
    """One round trip when the stores are Redis's on one client, else one call
    after another; either counts the logins verified that stats reads (by
    ``channels``, the routes' channels)."""
    if "referrals.adapters.redis" in sys.modules:  # else no Redis store in this process
        from referrals.adapters import redis

        if (
            isinstance(challenges, redis.RedisChallengeStore)
            and isinstance(sessions, redis.RedisSessionStore)
            and isinstance(limiter, redis.RedisRateLimiter)
            and isinstance(conversion, redis.RedisConversionLog)
            and isinstance(delivery_log, redis.RedisDeliveryLog)
            and isinstance(activity, redis.RedisActivityLog)
            and challenges.client is sessions.client is limiter.client
            and limiter.client is conversion.client is delivery_log.client is activity.client
        ):
            return redis.RedisCompletion(
                challenges, sessions, limiter, conversion, delivery_log, activity, channels
            )
    return StepwiseCompletion(challenges, sessions, limiter, conversion, delivery_log, activity)


def _memory_stores(settings: Settings) -> Stores:
    return Stores(
        challenges=memory.InMemoryChallengeStore(),
        sessions=memory.InMemorySessionStore(),
        limiter=memory.InMemoryRateLimiter(),
        delivery_ledger=memory.InMemoryDeliveryLedger(),
        activity=memory.InMemoryActivityLog(),
        circuit=memory.InMemoryCircuitBreaker(*_circuit_values(settings)),
        delivery_log=memory.InMemoryDeliveryLog(settings.delivery_history, RECENT_LOGINS),
        spend=memory.InMemorySpendLedger(),
        conversion=memory.InMemoryConversionLog(CONVERSION_BUCKET),
        cooldowns=memory.InMemoryCooldowns(),
    )


def _send_gate(
    stores: Stores,
    limiter: RateLimiter,
    conversion: ConversionLog,
    spend: SpendLedger,
    challenges: ChallengeStore,
) -> SendGate:
    """The stores' own gate; the ports' steps over a limiter or challenge
    store given instead (atomic under a lock when the limiter is the
    in-memory one)."""
    own = limiter is stores.limiter and challenges is stores.challenges
    if stores.gate is not None and own:
        return stores.gate
    lock = asyncio.Lock() if isinstance(limiter, memory.InMemoryRateLimiter) else None
    return SteppedSendGate(limiter, conversion, spend, challenges, lock)


def _stores_place(settings: Settings) -> str:
    return "redis" if settings.redis_url else "memory"


def login_sms_text(settings: Settings, given: SmsText | None = None) -> SmsText:
    """The login SMS of ``settings`` (or ``given``'s templates); a warning for
    each language whose SMS takes more than one message (each is billed)."""
    text = settings.sms_text(given)
    for language, size in text.sizes(settings.policy.code_length).items():
        if size.segments > 1:
            log.warning(
                "the %s login SMS needs %d SMS (%s, %d characters): each code costs %d"
                " messages instead of one; shorten the template (docs/sending-codes.md)",
                language,
                size.segments,
                size.encoding,
                size.units,
                size.segments,
            )
    return text


def provider_gateway(channel: str, settings: Settings) -> ProviderGateway:
    """The adapter of a provider channel (``telegram``…), from its settings."""
    timeout, connections = settings.sms_timeout, settings.sms_connections
    if channel == "telegram" and settings.telegram_token:
        from referrals.adapters.sms.telegram import TelegramGateway

        return TelegramGateway(
            settings.telegram_token,
            base_url=settings.telegram_base_url,
            public_url=settings.public_url,
            timeout=timeout,
            connections=connections,
        )
    if channel == "twilio" and settings.twilio_account_sid and settings.twilio_auth_token:
        from referrals.adapters.sms.twilio import TwilioGateway

        return TwilioGateway(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            sender=settings.twilio_from,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            base_url=settings.twilio_base_url,
            public_url=settings.public_url,
            timeout=timeout,
            connections=connections,
        )
    if channel == "smsru" and settings.smsru_api_id:
        from referrals.adapters.sms.smsru import SmsRuGateway

        return SmsRuGateway(
            settings.smsru_api_id,
            base_url=settings.smsru_base_url,
            timeout=timeout,
            connections=connections,
        )
    if channel == "smsc" and settings.smsc_login and settings.smsc_password:
        from referrals.adapters.sms.smsc import SmscGateway

        return SmscGateway(
            settings.smsc_login,
            settings.smsc_password,
            base_url=settings.smsc_base_url,
            timeout=timeout,
            connections=connections,
        )
    # Settings refuses a route naming a provider without its credentials.
    raise ValueError(f"the {channel} channel is not configured")


@asynccontextmanager
async def _gateway(channel: str, settings: Settings) -> AsyncIterator[SmsGateway]:
    """The adapter of one channel named in the routes, open until the block ends."""
    if channel == "console":
        from referrals.adapters.sms.console import ConsoleSmsGateway

        yield ConsoleSmsGateway(settings.sms_delay)
        return
    if channel in PROVIDERS:
        gateway = provider_gateway(channel, settings)
        try:
            yield gateway
        finally:
            await gateway.aclose()
        return
    from referrals.adapters.sms.webhook import WebhookSmsGateway

    url, secret = settings.sms_webhook_url, settings.sms_webhook_secret
    if not (url and secret):  # Settings refuses this; keep mypy sure of it
        raise ValueError("the webhook gateway needs sms_webhook_url and sms_webhook_secret")
    gateway = WebhookSmsGateway(
        url, secret, timeout=settings.sms_webhook_timeout, connections=settings.sms_connections
    )
    try:
        yield gateway
    finally:
        await gateway.aclose()


async def _sms_channels(settings: Settings) -> AsyncIterator[Mapping[str, SmsGateway]]:
    """A gateway for every channel the routes name."""
    async with AsyncExitStack() as stack:
        yield {
            channel: await stack.enter_async_context(_gateway(channel, settings))
            for channel in settings.routes.channels
        }


def _in_process_sender(deliver: DeliverCode) -> CodeSender:
    """The in-process queue, which also takes the follow-ups of its own deliveries."""
    routed: list[DeliverCode] = []
    sender = memory.InProcessCodeSender(lambda delivery: routed[0](delivery))  # noqa: PLW0108 (bound below)
    routed.append(dataclasses.replace(deliver, follow_ups=sender))
    return sender


def _broker(settings: Settings) -> AsyncBroker | None:
    if settings.broker_url is None:
        return None
    from referrals.adapters.taskiq import build_broker

    return build_broker(
        settings.broker_url,
        queue=settings.task_queue,
        redelivery=settings.broker_redelivery,
        connect_timeout=settings.dependency_timeout,
    )


def _taskiq_sender(broker: AsyncBroker, settings: Settings) -> CodeSender:
    from referrals.adapters.taskiq import TaskiqCodeSender

    return TaskiqCodeSender(broker, timeout=settings.delivery_time_limit)


def _readiness(settings: Settings, database: Any, redis: Any, broker: Any) -> Readiness:
    from referrals.adapters.readiness import build_readiness

    return build_readiness(
        database=database, redis=redis, broker=broker, timeout=settings.ready_timeout
    )


def _receipt_readers(settings: Settings) -> dict[str, ReceiptReader]:
    from referrals.adapters.sms.receipts import receipt_readers

    return receipt_readers(settings)


def _ledger_events(settings: Settings) -> str:
    """``outbox`` when an endpoint wants events that change no state (``code.sent``…)."""
    return "outbox" if _wanted_types(settings) - STATE_CHANGES else "plain"


def _wanted_types(settings: Settings) -> frozenset[str]:
    """The event types some endpoint subscribes to."""
    every = frozenset(EXPORTED.values())
    return frozenset(kind for kind in every if any(e.wants(kind) for e in settings.webhooks))


def _sql_deliveries(database: Database | None) -> Deliveries | None:
    if database is None:  # users in a store of the host's: no deliveries unless given
        return None
    from referrals.adapters.sql.deliveries import SqlDeliveries

    return SqlDeliveries(database)


async def _webhook_poster(settings: Settings) -> AsyncIterator[WebhookPoster | None]:
    if not settings.webhooks:
        yield None
        return
    from referrals.adapters.webhooks import HttpWebhookPoster

    poster = HttpWebhookPoster(settings.webhook_timeout)
    try:
        yield poster
    finally:
        await poster.aclose()


def _webhook_desk(
    settings: Settings, deliveries: Deliveries | None, clock: Clock
) -> WebhookDesk | None:
    if deliveries is None:
        return None
    return WebhookDesk(deliveries, settings.webhooks, clock)


def _relay(
    settings: Settings,
    deliveries: Deliveries | None,
    poster: WebhookPoster | None,
    clock: Clock,
    events: EventSink,
) -> Relay | None:
    """The relay of ``settings.webhooks``; ``None`` when there is none to send to."""
    if not settings.webhooks or deliveries is None or poster is None:
        return None
    return Relay(
        deliveries=deliveries,
        poster=poster,
        endpoints=settings.webhooks,
        clock=clock,
        retry_for=settings.webhook_retry_for,
        backoff=Backoff(settings.webhook_backoff, WEBHOOK_BACKOFF_LIMIT),
        lease=settings.webhook_timeout * WEBHOOK_LEASE_FACTOR,
        batch=WEBHOOK_BATCH,
        concurrency=WEBHOOK_CONCURRENCY,
        events=events,
    )


def _queue_place(settings: Settings) -> str:
    return "taskiq" if settings.broker_url else "in_process"


def _of(provider: providers.Provider[S], part: Callable[[S], T]) -> providers.Provider[T]:
    """``part`` of what ``provider`` gives (a typed lambda: mypy checks the
    attribute it reads), read again on each call."""
    return providers.Callable(part, provider)


class Container(_Container):
    """Every port and use case, each a provider of its type; use cases are wired by keyword."""

    settings: providers.Provider[Settings] = providers.Dependency(instance_of=Settings)
    policy: providers.Provider[Policy] = _of(settings, lambda s: s.policy)
    secret: providers.Provider[bytes] = _of(settings, lambda s: s.secret_key)
    routes: providers.Provider[Routes] = _of(settings, lambda s: s.routes)
    clock: providers.Provider[Clock] = providers.Singleton(SystemClock)
    hooks: providers.Provider[EventSink] = providers.Singleton(Hooks)
    sms_text: providers.Provider[SmsText] = providers.Singleton(login_sms_text, settings)

    database: providers.Provider[Database] = providers.Resource(_database, settings)
    redis: providers.Provider[RedisClient | None] = providers.Resource(_redis, settings)
    broker: providers.Provider[AsyncBroker | None] = providers.Singleton(_broker, settings)

    unit_of_work: providers.Provider[UnitOfWorkFactory] = providers.Singleton(
        _unit_of_work, database
    )
    stores: providers.Provider[Stores] = providers.Selector(  # nothing async unless on Redis
        providers.Callable(_stores_place, settings),
        redis=providers.Singleton(
            _redis_stores, settings, redis, providers.Resource(_redis_sessions, settings, redis)
        ),
        memory=providers.Singleton(_memory_stores, settings),
    )
    challenges: providers.Provider[ChallengeStore] = _of(stores, lambda s: s.challenges)
    sessions: providers.Provider[SessionStore] = _of(stores, lambda s: s.sessions)
    limiter: providers.Provider[RateLimiter] = _of(stores, lambda s: s.limiter)
    cooldowns: providers.Provider[Cooldowns] = _of(stores, lambda s: s.cooldowns)
    code_check: providers.Provider[CodeCheck] = providers.Singleton(
        _code_check, challenges, limiter, cooldowns
    )
    delivery_ledger: providers.Provider[DeliveryLedger] = _of(stores, lambda s: s.delivery_ledger)
    activity: providers.Provider[ActivityLog] = _of(stores, lambda s: s.activity)
    circuit: providers.Provider[CircuitBreaker] = _of(stores, lambda s: s.circuit)
    delivery_log: providers.Provider[DeliveryLog] = _of(stores, lambda s: s.delivery_log)
    spend_ledger: providers.Provider[SpendLedger] = _of(stores, lambda s: s.spend)
    conversion: providers.Provider[ConversionLog] = _of(stores, lambda s: s.conversion)
    pumping_groups: providers.Provider[PumpingGroups] = providers.Singleton(
        PumpingGroups, log=conversion, policy=policy
    )
    spend: providers.Provider[SpendCap] = providers.Singleton(
        SpendCap,
        ledger=spend_ledger,
        prices=providers.Callable(lambda s: s.sms_prices, settings),
        caps=providers.Callable(lambda s: s.spend_cap, settings),
    )
    counted_events: providers.Provider[EventSink] = providers.Singleton(
        CountingEvents, activity=activity, hooks=hooks
    )
    events: providers.Provider[EventSink] = providers.Selector(  # no database unless wanted
        providers.Callable(_ledger_events, settings),
        outbox=providers.Singleton(
            OutboxEvents,
            unit_of_work=unit_of_work,
            wanted=providers.Callable(_wanted_types, settings),
            then=counted_events,
        ),
        plain=counted_events,
    )
    sms_channels: providers.Provider[Mapping[str, SmsGateway]] = providers.Resource(
        _sms_channels, settings
    )
    readiness: providers.Provider[Readiness] = providers.Singleton(
        _readiness, settings, database, redis, broker
    )

    route: providers.Provider[Route] = providers.Singleton(
        Route,
        channels=sms_channels,
        circuit=circuit,
        delivery_ledger=delivery_ledger,
        delivery_log=delivery_log,
        clock=clock,
        lease=_of(settings, lambda s: s.delivery_lease),
        retries=_of(settings, lambda s: s.sms_retries),
        events=events,
    )
    taskiq_sender: providers.Provider[CodeSender] = providers.Singleton(
        _taskiq_sender, broker, settings
    )
    deliver_code: providers.Provider[DeliverCode] = providers.Singleton(
        DeliverCode,
        challenges=challenges,
        route=route,
        routes=routes,
        delivery_log=delivery_log,
        clock=clock,
        events=events,
        secret=secret,
        sms_text=sms_text,
        receipt_timeout=_of(settings, lambda s: s.receipt_timeout),
        receipt_channels=providers.Object(RECEIPT_CHANNELS),
        follow_ups=providers.Selector(
            providers.Callable(_queue_place, settings),
            taskiq=taskiq_sender,
            in_process=providers.Object(None),  # _in_process_sender binds its own
        ),
    )
    code_sender: providers.Provider[CodeSender] = providers.Selector(
        providers.Callable(_queue_place, settings),
        taskiq=taskiq_sender,
        in_process=providers.Singleton(_in_process_sender, deliver_code),
    )
    throttle: providers.Provider[Throttle] = providers.Singleton(
        Throttle, log=conversion, policy=policy, events=events
    )
    send_gate: providers.Provider[SendGate] = providers.Singleton(
        _send_gate, stores, limiter, conversion, spend_ledger, challenges
    )
    get_profile: providers.Provider[GetProfile] = providers.Singleton(
        GetProfile, policy=policy, unit_of_work=unit_of_work
    )
    get_user: providers.Provider[GetUser] = providers.Singleton(GetUser, unit_of_work=unit_of_work)
    request_code: providers.Provider[RequestCode] = providers.Singleton(
        RequestCode,
        routes=routes,
        throttle=throttle,
        gate=send_gate,
        spend=spend,
        sms_text=sms_text,
        policy=policy,
        challenges=challenges,
        limiter=limiter,
        code_sender=code_sender,
        clock=clock,
        secret=secret,
        events=events,
    )
    verify: providers.Provider[Verify] = providers.Singleton(
        Verify,
        policy=policy,
        challenges=challenges,
        limiter=limiter,
        unit_of_work=unit_of_work,
        sessions=sessions,
        get_profile=get_profile,
        clock=clock,
        secret=secret,
        events=events,
        conversion=providers.Singleton(RecordConversion, delivery_log=delivery_log, events=events),
        throttle=throttle,
        code_check=code_check,
        completion=providers.Singleton(
            _completion,
            challenges,
            sessions,
            limiter,
            conversion,
            delivery_log,
            activity,
            _of(routes, lambda r: r.channels),
        ),
    )
    apply_referral: providers.Provider[ApplyReferral] = providers.Singleton(
        ApplyReferral,
        policy=policy,
        unit_of_work=unit_of_work,
        limiter=limiter,
        get_profile=get_profile,
        clock=clock,
        events=events,
        cooldowns=cooldowns,
        secret=secret,
    )
    check_step_up: providers.Provider[CheckStepUp] = providers.Singleton(
        CheckStepUp,
        policy=policy,
        challenges=challenges,
        limiter=limiter,
        clock=clock,
        secret=secret,
    )
    erase_account: providers.Provider[EraseAccount] = providers.Singleton(
        EraseAccount,
        policy=policy,
        unit_of_work=unit_of_work,
        sessions=sessions,
        cooldowns=cooldowns,
        clock=clock,
        secret=secret,
        events=events,
    )
    request_deletion: providers.Provider[RequestDeletion] = providers.Singleton(
        RequestDeletion, unit_of_work=unit_of_work, request_code=request_code
    )
    confirm_deletion: providers.Provider[ConfirmDeletion] = providers.Singleton(
        ConfirmDeletion, check=check_step_up, erase=erase_account
    )
    delivery_status: providers.Provider[DeliveryStatus] = providers.Singleton(
        DeliveryStatus,
        policy=policy,
        secret=secret,
        challenges=challenges,
        limiter=limiter,
        delivery_log=delivery_log,
        routes=routes,
        clock=clock,
    )
    record_receipts: providers.Provider[RecordReceipts] = providers.Singleton(
        RecordReceipts,
        readers=providers.Singleton(_receipt_readers, settings),
        delivery_log=delivery_log,
        clock=clock,
        events=events,
    )
    authenticate: providers.Provider[Authenticate] = providers.Singleton(
        Authenticate, sessions=sessions, clock=clock
    )
    logout: providers.Provider[Logout] = providers.Singleton(Logout, sessions=sessions)
    list_sessions: providers.Provider[ListSessions] = providers.Singleton(
        ListSessions, sessions=sessions, clock=clock
    )
    revoke_session: providers.Provider[RevokeSession] = providers.Singleton(
        RevokeSession, sessions=sessions, clock=clock
    )
    revoke_other_sessions: providers.Provider[RevokeOtherSessions] = providers.Singleton(
        RevokeOtherSessions, sessions=sessions, clock=clock
    )
    request_phone_change: providers.Provider[RequestPhoneChange] = providers.Singleton(
        RequestPhoneChange,
        policy=policy,
        sessions=sessions,
        clock=clock,
        request_code=request_code,
    )
    confirm_phone_change: providers.Provider[ConfirmPhoneChange] = providers.Singleton(
        ConfirmPhoneChange,
        check=check_step_up,
        unit_of_work=unit_of_work,
        revoke_others=revoke_other_sessions,
        get_profile=get_profile,
        clock=clock,
        events=events,
        cooldowns=cooldowns,
    )
    export_data: providers.Provider[ExportData] = providers.Singleton(
        ExportData,
        unit_of_work=unit_of_work,
        list_sessions=list_sessions,
        delivery_log=delivery_log,
        clock=clock,
        history_keep=_of(settings, lambda s: s.history_keep),
        secret=secret,
    )
    delete_user: providers.Provider[DeleteUser] = providers.Singleton(
        DeleteUser, policy=policy, unit_of_work=unit_of_work, erase=erase_account
    )
    show_user: providers.Provider[ShowUser] = providers.Singleton(
        ShowUser, policy=policy, unit_of_work=unit_of_work, sessions=sessions, clock=clock
    )
    list_referred: providers.Provider[ListReferred] = providers.Singleton(
        ListReferred, policy=policy, unit_of_work=unit_of_work, get_profile=get_profile
    )
    revoke_sessions: providers.Provider[RevokeSessions] = providers.Singleton(
        RevokeSessions, policy=policy, unit_of_work=unit_of_work, sessions=sessions, clock=clock
    )
    review_referrals: providers.Provider[ReviewReferrals] = providers.Singleton(
        ReviewReferrals, unit_of_work=unit_of_work, clock=clock, events=events
    )
    reset_limits: providers.Provider[ResetLimits] = providers.Singleton(
        ResetLimits, policy=policy, unit_of_work=unit_of_work, limiter=limiter, secret=secret
    )
    show_deliveries: providers.Provider[ShowDeliveries] = providers.Singleton(
        ShowDeliveries, policy=policy, delivery_log=delivery_log, secret=secret
    )
    get_stats: providers.Provider[GetStats] = providers.Singleton(
        GetStats,
        unit_of_work=unit_of_work,
        activity=activity,
        clock=clock,
        channels=_of(routes, lambda r: r.channels),
        spend=spend_ledger,
    )

    deliveries: providers.Provider[Deliveries | None] = providers.Singleton(
        _sql_deliveries, database
    )
    webhook_poster: providers.Provider[WebhookPoster | None] = providers.Resource(
        _webhook_poster, settings
    )
    webhook_desk: providers.Provider[WebhookDesk | None] = providers.Callable(
        _webhook_desk, settings, deliveries, clock
    )
    relay: providers.Provider[Relay | None] = providers.Callable(
        _relay, settings, deliveries, webhook_poster, clock, counted_events
    )


def use(provider: providers.Provider[T], value: T | None) -> None:
    """Put ``value`` in place of what ``provider`` would build (``None``: keep it)."""
    if value is not None:
        provider.override(providers.Object(value))


async def resolve(provider: providers.Provider[T]) -> T:
    """Call a provider; anything built from an async Resource comes as an awaitable."""
    value: T | Awaitable[T] = provider()
    return await value if inspect.isawaitable(value) else value


async def close(container: Container) -> None:
    """Close every resource the container opened (database, Redis, SMS gateway)."""
    closing = container.shutdown_resources()
    if inspect.isawaitable(closing):
        await closing
