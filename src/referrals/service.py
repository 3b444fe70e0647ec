"""Build a working service: every use case wired, from settings or from adapters of your own.

::

    async with open_service(load_settings()) as service:       # as the HTTP API does
        await service.request_code(CodeRequest(phone="+79991234567", client_ip="10.0.0.1"))

    async with open_service(adapters=Adapters.in_memory(sms_gateway=my_gateway)) as service:
        ...

:func:`open_service` opens what the adapters need (database pool, Redis
client, queue, SMS gateway) on entry and closes it on exit, after the
in-process queue has delivered what it holds. Any adapter given in
:class:`Adapters` replaces the one the settings would pick; adapters are
checked against their ports by a type checker.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from referrals.application.apply_referral import ApplyReferral
from referrals.application.change_phone import ConfirmPhoneChange, RequestPhoneChange
from referrals.application.delete_account import ConfirmDeletion, RequestDeletion
from referrals.application.deliver_code import DeliverCode
from referrals.application.delivery_status import DeliveryStatus
from referrals.application.export import ExportData
from referrals.application.history import HistoryLoop, PurgeHistory
from referrals.application.operations import (
    DeleteUser,
    GetStats,
    ListReferred,
    ResetLimits,
    ReviewReferrals,
    RevokeSessions,
    ShowUser,
)
from referrals.application.own_sessions import (
    ListSessions,
    RevokeOtherSessions,
    RevokeSession,
)
from referrals.application.ports import (
    ActivityLog,
    ChallengeStore,
    CircuitBreaker,
    Clock,
    CodeSender,
    Cooldowns,
    DeliveryLedger,
    DeliveryLog,
    EventSink,
    RateLimiter,
    SessionStore,
    SmsGateway,
    UnitOfWorkFactory,
)
from referrals.application.profile import GetProfile, GetUser
from referrals.application.receipts import RecordReceipts
from referrals.application.relay_loops import RelayLoops
from referrals.application.request_code import RequestCode
from referrals.application.sessions import Authenticate, Logout
from referrals.application.sms_text import SmsText
from referrals.application.verify import Verify
from referrals.application.webhooks import Deliveries, WebhookPoster
from referrals.settings import PURGE_BATCH, Settings, missing_extras

if TYPE_CHECKING:
    from dependency_injector import providers

    from referrals.adapters.readiness import Readiness
    from referrals.container import Container

T = TypeVar("T")

DRAIN_SECONDS = 10.0
"""How long closing a service waits for in-process SMS deliveries under way."""


@dataclass(frozen=True, slots=True)
class Service:
    """Every use case of one service, wired and ready to call."""

    settings: Settings
    request_code: RequestCode
    verify: Verify
    delivery_status: DeliveryStatus
    record_receipts: RecordReceipts
    get_profile: GetProfile
    get_user: GetUser
    apply_referral: ApplyReferral
    authenticate: Authenticate
    logout: Logout
    list_sessions: ListSessions
    revoke_session: RevokeSession
    revoke_other_sessions: RevokeOtherSessions
    request_deletion: RequestDeletion
    confirm_deletion: ConfirmDeletion
    export_data: ExportData
    request_phone_change: RequestPhoneChange
    confirm_phone_change: ConfirmPhoneChange
    deliver_code: DeliverCode
    code_sender: CodeSender
    """The queue :attr:`request_code` hands codes to."""
    show_user: ShowUser
    list_referred: ListReferred
    revoke_sessions: RevokeSessions
    review_referrals: ReviewReferrals
    delete_user: DeleteUser
    reset_limits: ResetLimits
    get_stats: GetStats
    readiness: Readiness
    """Probes of the database, Redis and the queue's Redis, as configured
    (``/health/ready`` and ``referrals health --worker`` run them)."""

    async def drain_deliveries(self, within: float | None = None) -> bool:
        """Wait until the in-process queue has delivered every code handed to it
        (at most ``within`` seconds); ``True`` once none is left. With a
        taskiq queue, delivery is the workers' and this returns at once."""
        from referrals.adapters.memory import InProcessCodeSender

        if isinstance(self.code_sender, InProcessCodeSender):
            return await self.code_sender.drain(within)
        return True

    def sharing(self, unit_of_work: UnitOfWorkFactory) -> Service:
        """This service with every use case's units of work taken from
        ``unit_of_work``, e.g. a host's transaction
        (:class:`~referrals.adapters.sql.SharedTransaction`): a referral, a
        new user and their outbox events then commit or roll back with the
        host's own rows. Codes, sessions, limits and the queue stay where
        they were (see ``docs/host-database.md``). Cheap: build one per
        transaction. A ``SharedTransaction`` given no namespace gets this
        service's tables (``db_table_prefix``, ``db_schema``)."""
        from referrals.adapters.sql.namespace import Namespace

        in_namespace = getattr(unit_of_work, "in_namespace", None)
        if callable(in_namespace):
            settings = self.settings
            unit_of_work = in_namespace(Namespace(settings.db_table_prefix, settings.db_schema))
        return _sharing(self, unit_of_work)


def _sharing(value: T, unit_of_work: UnitOfWorkFactory) -> T:
    """``value`` (a dataclass) with ``unit_of_work`` in every field of that
    name, its own and its parts' (``ApplyReferral.get_profile``)."""
    changes: dict[str, object] = {}
    for spec in fields(value):  # type: ignore[arg-type]
        current = getattr(value, spec.name)
        if spec.name == "unit_of_work":
            changes[spec.name] = unit_of_work
        elif is_dataclass(current) and not isinstance(current, type):
            rebound = _sharing(current, unit_of_work)
            if rebound is not current:
                changes[spec.name] = rebound
    return replace(value, **changes) if changes else value  # type: ignore[type-var]


@dataclass(frozen=True, slots=True, kw_only=True)
class Adapters:
    """Port implementations that replace the ones settings would pick; ``None``
    keeps the settings' choice. Each passes the contract suite in
    :mod:`referrals.testing.contracts` (run it against your own)."""

    unit_of_work: UnitOfWorkFactory | None = None
    challenges: ChallengeStore | None = None
    sessions: SessionStore | None = None
    limiter: RateLimiter | None = None
    delivery_ledger: DeliveryLedger | None = None
    activity: ActivityLog | None = None
    code_sender: CodeSender | None = None
    sms_gateway: SmsGateway | None = None
    """Every channel of the routes through this one gateway."""
    sms_channels: Mapping[str, SmsGateway] | None = None
    """A gateway per channel name (``{"telegram": …, "smsru": …}``); a
    channel the routes name and this lacks is an error at start."""
    circuit: CircuitBreaker | None = None
    delivery_log: DeliveryLog | None = None
    cooldowns: Cooldowns | None = None
    clock: Clock | None = None
    deliveries: Deliveries | None = None
    """The webhooks' deliveries over the outbox of ``unit_of_work``'s store
    (without it, a store of your own sends no webhooks)."""
    webhook_poster: WebhookPoster | None = None
    """How webhooks are posted (by default over HTTP, signed: docs/events.md)."""

    @classmethod
    def in_memory(
        cls, *, sms_gateway: SmsGateway | None = None, clock: Clock | None = None
    ) -> Adapters:
        """Every store in this process's memory (users too): nothing to run
        beside it, nothing kept after it. SMS go to ``sms_gateway`` (by
        default the settings' one: the console gateway logs them)."""
        from referrals.adapters import memory

        users = memory.InMemoryUsers()
        return cls(
            unit_of_work=users.unit_of_work,
            deliveries=memory.InMemoryDeliveries(users.outbox),
            challenges=memory.InMemoryChallengeStore(),
            sessions=memory.InMemorySessionStore(),
            limiter=memory.InMemoryRateLimiter(),
            delivery_ledger=memory.InMemoryDeliveryLedger(),
            activity=memory.InMemoryActivityLog(),
            sms_gateway=sms_gateway,
            clock=clock,
        )


def build_container(
    settings: Settings,
    *,
    adapters: Adapters | None = None,
    hooks: EventSink | None = None,
    sms_text: SmsText | None = None,
) -> Container:
    """The dependency-injector container behind :func:`open_service`, with the
    given adapters, hooks and SMS texts in place (for entry points that manage
    resources themselves, such as the taskiq worker)."""
    from dependency_injector import providers

    from referrals.container import Container, login_sms_text, use

    if settings.tracing:
        from referrals.adapters.tracing import start_tracing

        start_tracing()
    chosen = adapters or Adapters()
    missing_extras(settings, database=chosen.unit_of_work is None)
    container = Container(settings=settings)
    use(container.unit_of_work, chosen.unit_of_work)
    use(container.challenges, chosen.challenges)
    use(container.sessions, chosen.sessions)
    use(container.limiter, chosen.limiter)
    use(container.delivery_ledger, chosen.delivery_ledger)
    use(container.activity, chosen.activity)
    use(container.code_sender, chosen.code_sender)
    use(container.circuit, chosen.circuit)
    use(container.delivery_log, chosen.delivery_log)
    use(container.cooldowns, chosen.cooldowns)
    use(container.clock, chosen.clock)
    use(container.deliveries, chosen.deliveries)
    use(container.webhook_poster, chosen.webhook_poster)
    use(container.hooks, hooks)
    use(container.sms_text, login_sms_text(settings, sms_text) if sms_text else None)
    if chosen.sms_gateway is not None and chosen.sms_channels is None:
        use(container.sms_channels, dict.fromkeys(settings.routes.channels, chosen.sms_gateway))
    elif chosen.sms_channels is not None:
        missing = set(settings.routes.channels) - set(chosen.sms_channels)
        if missing:
            raise ValueError(f"no gateway given for the channels {sorted(missing)}")
        use(container.sms_channels, chosen.sms_channels)
    if chosen.unit_of_work is not None:
        container.database.override(providers.Object(None))
    return container


def service_of(container: Container) -> providers.Provider[Service]:
    """Every use case of ``container`` in one :class:`Service`: call it when
    every adapter is in memory, :func:`~referrals.container.resolve` it otherwise."""
    from dependency_injector import providers

    return providers.Singleton(
        Service,
        settings=container.settings,
        request_code=container.request_code,
        verify=container.verify,
        delivery_status=container.delivery_status,
        record_receipts=container.record_receipts,
        get_profile=container.get_profile,
        get_user=container.get_user,
        apply_referral=container.apply_referral,
        authenticate=container.authenticate,
        logout=container.logout,
        list_sessions=container.list_sessions,
        revoke_session=container.revoke_session,
        revoke_other_sessions=container.revoke_other_sessions,
        request_deletion=container.request_deletion,
        confirm_deletion=container.confirm_deletion,
        delete_user=container.delete_user,
        export_data=container.export_data,
        request_phone_change=container.request_phone_change,
        confirm_phone_change=container.confirm_phone_change,
        deliver_code=container.deliver_code,
        code_sender=container.code_sender,
        show_user=container.show_user,
        list_referred=container.list_referred,
        revoke_sessions=container.revoke_sessions,
        review_referrals=container.review_referrals,
        reset_limits=container.reset_limits,
        get_stats=container.get_stats,
        readiness=container.readiness,
    )


async def resolve_service(container: Container) -> Service:
    """Resolve every use case of ``container`` (opening the resources they need)."""
    from referrals.container import resolve

    service = await resolve(service_of(container))
    if service.settings.tracing:
        from referrals.adapters.tracing import TracedUseCase, active

        if active():  # a span around each use case; nothing is wrapped otherwise
            untraced = {"settings", "code_sender"}
            traced: dict[str, Any] = {  # each stands in for its use case
                spec.name: TracedUseCase(getattr(service, spec.name))
                for spec in fields(service)
                if spec.name not in untraced
            }
            service = replace(service, **traced)
    return service


async def start_relay(container: Container, settings: Settings) -> RelayLoops | None:
    """Start the webhook relay's loops in this process (docs/events.md)."""
    from referrals.container import resolve

    relay = await resolve(container.relay)
    if relay is None:
        return None
    loops = RelayLoops(relay, settings.webhook_poll, settings.outbox_keep, PURGE_BATCH)
    loops.start()
    return loops


async def start_history_purge(container: Container, settings: Settings) -> HistoryLoop:
    """Start purging the login history in this process (docs/account.md).

    The database is opened at the first purge, not here: a worker starting
    beside a server on a new SQLite file must not migrate it at the same
    time (both would create the tables)."""
    from referrals.container import resolve

    opened: list[PurgeHistory] = []

    async def purge() -> int:
        if not opened:
            unit_of_work = await resolve(container.unit_of_work)
            clock = await resolve(container.clock)
            opened.append(PurgeHistory(unit_of_work, clock, settings.history_keep, PURGE_BATCH))
        return await opened[0]()

    loop = HistoryLoop(purge)
    loop.start()
    return loop


@asynccontextmanager
async def open_service(
    settings: Settings | None = None,
    *,
    adapters: Adapters | None = None,
    hooks: EventSink | None = None,
    sms_text: SmsText | None = None,
) -> AsyncIterator[Service]:
    """Open a service for ``settings`` (default: ``Settings()``, the embedded
    default), with ``adapters`` in place of the settings' choices, ``hooks``
    receiving its events (see :class:`~referrals.application.events.Hooks`)
    and ``sms_text`` for the login SMS. Everything is closed on exit."""
    from referrals.adapters.memory import InProcessCodeSender
    from referrals.container import close

    settings = settings or Settings()
    container = build_container(settings, adapters=adapters, hooks=hooks, sms_text=sms_text)
    service: Service | None = None
    broker = None
    loops: RelayLoops | None = None
    purging: HistoryLoop | None = None
    try:
        service = await resolve_service(container)
        if not (adapters and adapters.code_sender):
            broker = container.broker()  # None unless settings.broker_url
        if broker is not None:
            await broker.startup()
        if settings.webhooks and settings.broker_url is None:  # else the workers relay
            loops = await start_relay(container, settings)
        if settings.broker_url is None:  # else the workers purge
            purging = await start_history_purge(container, settings)
        yield service
    finally:
        try:
            if purging is not None:
                await purging.stop()
            if loops is not None:
                await loops.stop()
            if service is not None and isinstance(service.code_sender, InProcessCodeSender):
                await service.code_sender.aclose(DRAIN_SECONDS)
            if broker is not None:
                await broker.shutdown()
        finally:
            await close(container)
