"""What happened: the events a host service can react to, and the hooks that deliver them.

Use cases publish an event only once its change is final (committed, and
for a login, once the login is consumed), to an
:class:`~referrals.application.ports.EventSink`. :class:`Hooks` is the sink a
host gives at build time::

    hooks = Hooks()

    @hooks.on(UserCreated)
    async def welcome(event: UserCreated) -> None:
        await crm.add_contact(event.phone)

Delivery: each hook is awaited in turn, in the process that made the
change, before the use case returns (so the caller, and a test, can rely on
it having run). A hook that raises is logged and skipped: it never undoes
nor fails the user's action. Events are not stored: if the process dies
between the change and the hook, the hook does not run (at most once).
A hook that must never miss an event should record the change in its own
store and reconcile from the database.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from referrals.domain.codes import InviteCode
from referrals.domain.phone import Phone

log = logging.getLogger("referrals.events")


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every event; ``at`` is when it happened (the service's clock)."""

    at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class UserCreated(Event):
    """A phone logged in for the first time and became a user."""

    user_id: int
    phone: Phone
    invite_code: InviteCode


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginSucceeded(Event):
    """A code was verified and a session opened (new and returning users)."""

    user_id: int
    phone: Phone
    is_new_user: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferralApplied(Event):
    """``user_id`` applied the invite code of ``referrer_id`` (outright, or an
    operator approved it after a hold); ``signals``: the self-referral
    signals it was decided with (docs/rules.md, "Referral integrity")."""

    user_id: int
    referrer_id: int
    invite_code: InviteCode
    signals: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PhoneChanged(Event):
    """``user_id`` moved their account from ``old_phone`` to ``new_phone``."""

    user_id: int
    old_phone: Phone
    new_phone: Phone


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountDeleted(Event):
    """``user_id`` deleted their account (or an operator did): its phone is
    erased; the id stays, anonymous, in referral counts."""

    user_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeSent(Event):
    """The SMS gateway accepted a login code for ``phone`` (in the process
    that delivers codes: the worker, or the API with the in-process queue)."""

    phone: Phone
    language: str
    requested_at: float | None = None
    """When the login asked for the code (``None`` for tasks queued before
    this field existed): ``at - requested_at`` is the delivery latency."""
    channel: str = ""
    """The channel of the route that accepted it (``telegram``, ``smsru``…)."""
    country: str = ""
    """The phone's ISO region (``RU``)."""
    route: str = ""
    """The route's chain of channels, commas between."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeDelivered(Event):
    """A provider's receipt says the login's code reached the phone."""

    channel: str
    country: str
    route: str
    seconds: float | None
    """From the channel accepting it to the receipt, when known."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeVerified(Event):
    """A login's code was used: ``channel`` carried it to a phone of ``country``."""

    channel: str
    country: str
    delivered: bool
    """Whether a receipt had said "delivered" by then."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeUndelivered(Event):
    """A provider's receipt says the login's code did not reach the phone."""

    channel: str
    country: str
    route: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeUndeliverable(Event):
    """Every channel of a login's route failed: the login ends ``delivery_failed``."""

    phone: Phone
    country: str
    route: str


# --- what did not happen: for metrics and alerting (no effect to react to) ---


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelFailed(Event):
    """A channel did not take a login's code: ``reason`` is ``transient``,
    ``unreachable``, ``permanent`` or ``insufficient_balance`` (the provider's
    account ran dry: an operator must top it up)."""

    channel: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeQueued(Event):
    """A login was granted its code: queued for delivery (or, for a test phone, fixed)."""

    phone: Phone


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeNotSent(Event):
    """A queued code did not go out this time: ``outcome`` is ``stale`` (the
    login is over), ``duplicate`` (sent already), ``busy`` (another worker
    holds it; retried) or ``failed`` (the gateway or a store failed; retried)."""

    phone: Phone
    outcome: str
    unavailable: str | None = None
    """When it failed because a dependency was away: which (``Redis``…)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VerificationFailed(Event):
    """A code was refused: ``reason`` is ``code_invalid`` or ``challenge_expired``."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SendThrottled(Event):
    """Conversion-driven throttling judged a login's ``group`` (``kind``:
    ``network``, ``prefix`` or ``country``) throttled: ``sent`` codes and
    ``verified`` logins in the window against ``allowed`` (or an operator's
    ``mark``); ``mode`` ``enforce`` refused the code, ``shadow`` only reports."""

    kind: str
    group: str
    sent: int
    verified: int
    allowed: int
    mark: str
    mode: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitReached(Event):
    """A rate limit refused ``action`` (``login``, ``verify`` or ``apply``);
    ``limit`` is its stable name (``cooldown``, ``phone_failure``…)."""

    action: str
    limit: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferralRefused(Event):
    """``user_id``'s invite code was refused by a rule: ``reason`` is
    ``referral_code_not_found``, ``referral_already_applied``,
    ``own_referral_code`` or ``referral_cycle``."""

    user_id: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferralDecided(Event):
    """What became of ``user_id``'s application of ``invite_code`` by the
    referral integrity rules: ``decision`` is ``applied``, ``held``,
    ``refused`` (at apply time), ``approved`` or ``voided`` (an operator's),
    with the ``signals`` that made it (none: applied outright)."""

    user_id: int
    invite_code: str
    decision: str
    signals: tuple[str, ...] = ()


E = TypeVar("E", bound=Event)
Hook = Callable[[E], Awaitable[None]]


class Hooks:
    """Async callbacks by event type; the :class:`EventSink` hosts give at build time."""

    def __init__(self) -> None:
        self._hooks: dict[type[Event], list[Callable[[Any], Awaitable[None]]]] = {}

    def add(self, kind: type[E], hook: Hook[E]) -> None:
        """Call ``hook`` with every event of type ``kind``, after the hooks added before it."""
        self._hooks.setdefault(kind, []).append(hook)

    def on(self, kind: type[E]) -> Callable[[Hook[E]], Hook[E]]:
        """Decorator form of :meth:`add`."""

        def register(hook: Hook[E]) -> Hook[E]:
            self.add(kind, hook)
            return hook

        return register

    def __bool__(self) -> bool:
        return bool(self._hooks)

    async def publish(self, event: Event) -> None:
        """Run the hooks of ``event``'s type; log and swallow what they raise."""
        for hook in self._hooks.get(type(event), ()):
            try:
                await hook(event)
            except Exception:
                name = type(event).__name__
                log.exception("a %s hook failed (%r); the action stands", name, hook)
