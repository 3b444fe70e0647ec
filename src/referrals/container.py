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

import inspect
from collections.abc import AsyncIterator
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from dependency_injector import containers, providers

from referrals.adapters import memory
from referrals.adapters.clock import SystemClock
from referrals.application.activity import CountingEvents
from referrals.application.apply_referral import ApplyReferral
from referrals.application.deliver_code import DeliverCode
from referrals.application.events import Hooks
from referrals.application.operations import (
    GetStats,
    ListReferred,
    ResetLimits,
    RevokeSessions,
    ShowUser,
)
from referrals.application.ports import CodeSender, SmsGateway, UnitOfWorkFactory
from referrals.application.profile import GetProfile, GetUser
from referrals.application.request_code import RequestCode
from referrals.application.sessions import Authenticate, Logout
from referrals.application.sms_text import SmsText
from referrals.application.verify import Verify
from referrals.settings import Settings

if TYPE_CHECKING:
    from taskiq import AsyncBroker

    from referrals.adapters.readiness import Readiness
    from referrals.adapters.sql import Database


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


async def _redis(settings: Settings) -> AsyncIterator[Any]:
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


def _store(name: str, settings: Settings, client: Any) -> Any:
    """The Redis adapter ``Redis{name}`` when Redis is configured, else ``InMemory{name}``."""
    if client is None:
        return getattr(memory, f"InMemory{name}")()
    from referrals.adapters import redis as redis_adapters

    return getattr(redis_adapters, f"Redis{name}")(client, settings.redis_prefix)


async def _sms_gateway(settings: Settings) -> AsyncIterator[SmsGateway]:
    if settings.sms_gateway == "console":
        from referrals.adapters.sms.console import ConsoleSmsGateway

        yield ConsoleSmsGateway(settings.sms_delay)
        return
    from referrals.adapters.sms.webhook import WebhookSmsGateway

    url, secret = settings.sms_webhook_url, settings.sms_webhook_secret
    if not (url and secret):  # Settings refuses this; keep mypy sure of it
        raise ValueError("the webhook gateway needs sms_webhook_url and sms_webhook_secret")
    gateway = WebhookSmsGateway(url, secret, timeout=settings.sms_webhook_timeout)
    try:
        yield gateway
    finally:
        await gateway.aclose()


def _broker(settings: Settings) -> AsyncBroker | None:
    if settings.broker_url is None:
        return None
    from referrals.adapters.taskiq import build_broker

    return build_broker(
        settings.broker_url,
        queue=f"{settings.redis_prefix}tasks",
        redelivery=settings.broker_redelivery,
        connect_timeout=settings.dependency_timeout,
    )


def _taskiq_sender(broker: AsyncBroker, settings: Settings) -> CodeSender:
    from referrals.adapters.taskiq import TaskiqCodeSender

    return TaskiqCodeSender(broker, timeout=settings.delivery_time_limit)


def _activity_store(settings: Settings) -> str:
    return "redis" if settings.redis_url else "memory"


def _readiness(settings: Settings, database: Any, redis: Any, broker: Any) -> Readiness:
    from referrals.adapters.readiness import build_readiness

    return build_readiness(
        database=database, redis=redis, broker=broker, timeout=settings.ready_timeout
    )


def _queue(settings: Settings) -> str:
    return "taskiq" if settings.broker_url else "in_process"


class Container(containers.DeclarativeContainer):
    """Providers named after the use cases' fields, wired by keyword."""

    settings = providers.Dependency(instance_of=Settings)
    policy = providers.Callable(attrgetter("policy"), settings)
    secret = providers.Callable(attrgetter("secret_key"), settings)
    clock = providers.Singleton(SystemClock)
    hooks = providers.Singleton(Hooks)
    sms_text = providers.Singleton(SmsText)

    database = providers.Resource(_database, settings)
    redis = providers.Resource(_redis, settings)
    broker = providers.Singleton(_broker, settings)

    unit_of_work = providers.Singleton(_unit_of_work, database)
    challenges = providers.Singleton(_store, "ChallengeStore", settings, redis)
    sessions = providers.Singleton(_store, "SessionStore", settings, redis)
    limiter = providers.Singleton(_store, "RateLimiter", settings, redis)
    delivery_ledger = providers.Singleton(_store, "DeliveryLedger", settings, redis)
    activity = providers.Selector(  # no Redis resource (so nothing async) unless configured
        providers.Callable(_activity_store, settings),
        redis=providers.Singleton(_store, "ActivityLog", settings, redis),
        memory=providers.Singleton(memory.InMemoryActivityLog),
    )
    events = providers.Singleton(CountingEvents, activity=activity, hooks=hooks)
    sms_gateway = providers.Resource(_sms_gateway, settings)
    readiness = providers.Singleton(_readiness, settings, database, redis, broker)

    deliver_code = providers.Singleton(
        DeliverCode,
        challenges=challenges,
        delivery_ledger=delivery_ledger,
        sms_gateway=sms_gateway,
        clock=clock,
        events=events,
        secret=secret,
        lease=providers.Callable(attrgetter("delivery_lease"), settings),
        sms_text=sms_text,
    )
    code_sender = providers.Selector(
        providers.Callable(_queue, settings),
        taskiq=providers.Singleton(_taskiq_sender, broker, settings),
        in_process=providers.Singleton(memory.InProcessCodeSender, deliver_code),
    )
    get_profile = providers.Singleton(GetProfile, policy=policy, unit_of_work=unit_of_work)
    get_user = providers.Singleton(GetUser, unit_of_work=unit_of_work)
    request_code = providers.Singleton(
        RequestCode,
        policy=policy,
        challenges=challenges,
        limiter=limiter,
        code_sender=code_sender,
        clock=clock,
        secret=secret,
        events=events,
    )
    verify = providers.Singleton(
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
    )
    apply_referral = providers.Singleton(
        ApplyReferral,
        policy=policy,
        unit_of_work=unit_of_work,
        limiter=limiter,
        get_profile=get_profile,
        clock=clock,
        events=events,
    )
    authenticate = providers.Singleton(Authenticate, sessions=sessions, clock=clock)
    logout = providers.Singleton(Logout, sessions=sessions)

    show_user = providers.Singleton(
        ShowUser, policy=policy, unit_of_work=unit_of_work, sessions=sessions, clock=clock
    )
    list_referred = providers.Singleton(
        ListReferred, policy=policy, unit_of_work=unit_of_work, get_profile=get_profile
    )
    revoke_sessions = providers.Singleton(
        RevokeSessions, policy=policy, unit_of_work=unit_of_work, sessions=sessions, clock=clock
    )
    reset_limits = providers.Singleton(
        ResetLimits, policy=policy, unit_of_work=unit_of_work, limiter=limiter, secret=secret
    )
    get_stats = providers.Singleton(
        GetStats, unit_of_work=unit_of_work, activity=activity, clock=clock
    )


async def resolve(provider: Any) -> Any:
    """Call a provider; anything built from an async Resource comes as an awaitable."""
    value = provider()
    return await value if inspect.isawaitable(value) else value


async def close(container: Container) -> None:
    """Close every resource the container opened (database, Redis, SMS gateway)."""
    closing = container.shutdown_resources()
    if inspect.isawaitable(closing):
        await closing
