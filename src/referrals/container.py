"""The composition root: the only place that picks adapters.

:class:`Container` builds every port from :class:`~referrals.settings.Settings`:
SQL users (SQLite by default, PostgreSQL by URL), Redis stores when
``redis_url`` is set or in-process ones otherwise, a Redis-stream broker when
``broker_url`` is set or the in-process one otherwise. Tests and library
users override providers (``container.units.override(...)``) to swap any of
them; :func:`in_memory_container` swaps all of them at once.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from dependency_injector import containers, providers
from taskiq import InMemoryBroker

from referrals.adapters import memory
from referrals.adapters.sms import ConsoleSmsGateway
from referrals.adapters.taskiq import TaskiqCodeSender, build_broker, register_tasks
from referrals.application.apply_referral import ApplyReferral
from referrals.application.deliver_code import DeliverCode
from referrals.application.ports import UnitOfWorkFactory
from referrals.application.profile import GetProfile
from referrals.application.request_code import RequestCode
from referrals.application.sessions import Authenticate, Logout
from referrals.application.verify import Verify
from referrals.settings import Settings


async def _database(settings: Settings) -> AsyncIterator[Any]:
    from referrals.adapters.sql import Database

    database = Database(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        timeout=settings.dependency_timeout,
    )
    try:
        await database.prepare()
        yield database
    finally:
        await database.dispose()


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


def _units(database: Any) -> UnitOfWorkFactory:
    return database.unit_of_work  # type: ignore[no-any-return]


def _store(name: str, settings: Settings, client: Any) -> Any:
    """The Redis adapter ``Redis{name}`` when Redis is configured, else ``InMemory{name}``."""
    if client is None:
        return getattr(memory, f"InMemory{name}")()
    from referrals.adapters import redis as redis_adapters

    return getattr(redis_adapters, f"Redis{name}")(client, settings.redis_prefix)


async def _gateway(settings: Settings) -> AsyncIterator[Any]:
    if settings.sms_gateway != "webhook":
        yield ConsoleSmsGateway(settings.sms_delay)
        return
    from referrals.adapters.sms import WebhookSmsGateway

    url, secret = settings.sms_webhook_url, settings.sms_webhook_secret
    if not (url and secret):  # load_settings refuses this; a hand-built Settings may not
        raise ValueError("the webhook gateway needs sms_webhook_url and sms_webhook_secret")
    gateway = WebhookSmsGateway(url, secret, timeout=settings.sms_webhook_timeout)
    try:
        yield gateway
    finally:
        await gateway.aclose()


def _broker(settings: Settings) -> Any:
    return build_broker(
        settings.broker_url,
        queue=f"{settings.redis_prefix}tasks",
        redelivery=settings.broker_redelivery,
        connect_timeout=settings.dependency_timeout,
    )


def _sender(broker: Any, settings: Settings) -> TaskiqCodeSender:
    # The task must finish before its claim on the code lapses (see DeliverCode).
    return TaskiqCodeSender(broker, timeout=settings.policy.delivery_lease * 0.75)


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    policy = providers.Callable(lambda s: s.policy, settings)
    secret = providers.Callable(lambda s: s.secret_key, settings)
    clock = providers.Singleton(memory.SystemClock)

    database = providers.Resource(_database, settings)
    redis = providers.Resource(_redis, settings)
    broker = providers.Singleton(_broker, settings)

    units = providers.Singleton(_units, database)
    challenges = providers.Singleton(_store, "ChallengeStore", settings, redis)
    sessions = providers.Singleton(_store, "SessionStore", settings, redis)
    limiter = providers.Singleton(_store, "RateLimiter", settings, redis)
    ledger = providers.Singleton(_store, "DeliveryLedger", settings, redis)
    sms_gateway = providers.Resource(_gateway, settings)
    code_sender = providers.Singleton(_sender, broker, settings)

    get_profile = providers.Singleton(GetProfile, policy, units)
    request_code = providers.Singleton(
        RequestCode, policy, challenges, limiter, code_sender, clock, secret
    )
    verify = providers.Singleton(
        Verify, policy, challenges, limiter, units, sessions, get_profile, clock, secret
    )
    apply_referral = providers.Singleton(ApplyReferral, policy, units, limiter, get_profile, clock)
    authenticate = providers.Singleton(Authenticate, sessions, clock)
    logout = providers.Singleton(Logout, sessions)
    deliver_code = providers.Singleton(
        DeliverCode, policy, challenges, ledger, sms_gateway, clock, secret
    )


def build_container(settings: Settings) -> Container:
    """A container for ``settings`` with the delivery task registered on its broker."""
    container = Container(settings=settings)
    register_tasks(container.broker(), container.deliver_code)
    return container


async def close(container: Container) -> None:
    """Close every resource the container opened (database, Redis, SMS gateway)."""
    closing = container.shutdown_resources()
    if inspect.isawaitable(closing):
        await closing


async def resolve(provider: Any) -> Any:
    """Call a provider; anything built from an async Resource comes as an awaitable."""
    value = provider()
    return await value if inspect.isawaitable(value) else value


@dataclass(frozen=True, slots=True)
class UseCases:
    """What the HTTP API calls, resolved once at start-up (they are stateless)."""

    request_code: RequestCode
    verify: Verify
    get_profile: GetProfile
    apply_referral: ApplyReferral
    authenticate: Authenticate
    logout: Logout


async def resolve_use_cases(container: Container) -> UseCases:
    names = [f.name for f in dataclasses.fields(UseCases)]
    values = [await resolve(getattr(container, name)) for name in names]
    return UseCases(*values)


def in_memory_container(settings: Settings | None = None) -> Container:
    """Every store in memory, SMS recorded instead of sent: for tests and demos.

    The recorded SMS are in ``container.sms_gateway().sent``; the users in
    ``container.units`` are an :class:`~referrals.adapters.memory.InMemoryUsers`.
    """
    container = Container(settings=settings or Settings())
    users = memory.InMemoryUsers()
    container.database.override(providers.Object(None))
    container.redis.override(providers.Object(None))
    container.broker.override(providers.Singleton(InMemoryBroker))
    container.units.override(providers.Object(users.unit_of_work))
    container.sms_gateway.override(providers.Singleton(memory.RecordingSmsGateway))
    register_tasks(container.broker(), container.deliver_code)
    return container
