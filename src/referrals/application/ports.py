"""The ports: what the use cases need from the world, and the contract of each.

Only Protocols live here; the values their methods take and give live beside
the domain (``referrals.domain.limits``, ``.messages``, ``.sessions``,
``.user``) and are imported from here too, as before.

Every adapter (memory, SQL, Redis, taskiq, SMS) implements one of these and is
checked by the shared contract suite in ``tests/contract``. Any method may
raise :class:`~referrals.application.errors.ServiceUnavailable` when its
backing service does not answer; none raises driver-specific errors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self

from referrals.application.events import Event
from referrals.domain.challenge import Attempt, Challenge
from referrals.domain.codes import InviteCode
from referrals.domain.completion import Completed, Completion
from referrals.domain.delivery import CircuitState, DeliveryRecord, DeliveryStep
from referrals.domain.device import NO_DEVICE, Device
from referrals.domain.integrity import Screening
from referrals.domain.limits import Charge, Limit, Pumping, Quota, Refusal, Rule, SendDecision
from referrals.domain.logins import LoginRecord
from referrals.domain.messages import Claim, CodeDelivery, SmsMessage
from referrals.domain.phone import Phone
from referrals.domain.sessions import SessionInfo
from referrals.domain.user import AppliedCode, Referral, Totals, User

if TYPE_CHECKING:
    from referrals.application.outbox import OutboxEvent


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch. Every expiry is decided with this."""
        ...


class SpendLedger(Protocol):
    """What SMS cost, shared by every process (docs/sending-codes.md, *Spend*)."""

    async def reserve(self, charge: Charge, caps: Sequence[Limit]) -> float | None:
        """Add ``charge`` unless a cap is already reached, in one atomic step.

        A cap ``Limit(count, window)`` is reached when the amounts charged
        in ``(at - window, at]`` add up to ``count`` or more. So of any
        number of concurrent reservations at the edge, exactly the ones that
        find room pass, and the spend passes a cap by less than one charge.
        A ledger may sum charges in buckets (ours do, per ``SPEND_BUCKET``):
        then a window counts every bucket it touches, so a cap refuses up to
        one bucket early, never late. Returns ``None`` when charged, else
        the seconds until the fullest cap may have room. With no caps it
        only adds.
        """
        ...

    async def refund(self, charge: Charge) -> None:
        """Take back a reserved charge (its SMS was never queued)."""
        ...

    async def day(self, day: str) -> Mapping[tuple[str, str], float]:
        """The day's charges by (channel, country)."""
        ...


class RateLimiter(Protocol):
    """Sliding-window event logs shared by every process that serves the API.

    An event recorded at ``t`` is inside a rule's window at ``now`` while
    ``t > now - window``. Times are the callers' ``now`` (never a server's
    clock), so a fake clock drives every adapter alike.
    """

    async def acquire(
        self, quotas: Sequence[Quota], now: float, ticket: str | None = None
    ) -> Refusal | None:
        """Take one event from every quota, or none at all.

        Each quota is decided in one atomic step: the event is recorded (on
        quotas with ``count=True``) only if every rule of that quota still
        has room for it. So concurrent acquisitions never exceed a rule
        together: of 50 at once against a limit of 10, exactly 10 pass when
        nothing else refuses them. If any quota refuses, the events this
        acquisition recorded on the others are removed again before it
        returns (nothing is recorded net) and the refusal with the longest
        wait is returned; ``None`` means every quota took the event.

        An adapter may decide all quotas in one atomic step (the in-memory
        one and Redis on one server do). One that decides them quota by
        quota (Redis Cluster: one key per step) may let a concurrent
        acquisition see an event that is removed a moment later, and refuse
        it too: under contention refusals may err on the safe side, passes
        never exceed a rule.

        ``ticket``, unique per acquisition, names the events so that
        :meth:`refund` can find them. The quotas of one acquisition have
        distinct keys.
        """
        ...

    async def refund(self, quotas: Sequence[Quota], ticket: str) -> None:
        """Forget the events named ``ticket`` on these quotas: the request they
        paid for turned out not to count (a right code after a charged attempt,
        a code that could not be queued). No-op for events that are not there."""
        ...

    async def reset(self, keys: Sequence[str]) -> None:
        """Forget every event of these quota keys (an operator lifting a lock)."""
        ...


class ChallengeStore(Protocol):
    """Login challenges. Each method is atomic on its own.

    A challenge is *live* until it expires, is consumed, burned (too many
    wrong codes) or superseded by a newer challenge for the same phone.
    Challenge ids are made by :func:`~referrals.domain.codes.challenge_id`:
    every id of one phone starts with that phone's alias, and adapters may
    rely on it (the Redis one keeps a phone's login under its alias).
    """

    async def put(self, challenge: Challenge, now: float) -> None:
        """Store a challenge and make it the phone's only live one."""
        ...

    async def get(self, challenge_id: str, now: float) -> Challenge | None:
        """The live challenge with this id, or ``None``."""
        ...

    async def attempt(self, challenge_id: str, code_digest: str, now: float) -> Attempt:
        """Compare a code digest with the live challenge, in one atomic step.

        Right: ``ACCEPTED`` (the challenge stays live until :meth:`consume`).
        Wrong: the attempt is counted and ``WRONG`` tells how many are left;
        the attempt that reaches ``max_attempts`` burns the challenge.
        Not live: ``GONE``.
        """
        ...

    async def consume(self, challenge_id: str, now: float) -> bool:
        """End a live challenge; ``True`` for exactly one caller, ever."""
        ...

    async def discard(self, challenge_id: str) -> None:
        """Remove a challenge whose code could not be sent (no-op if absent)."""
        ...


class CodeCheck(Protocol):
    """A login's code checked together with its charge: one step where the
    stores allow it (the in-memory ones; Redis on one server), else the
    charge, the check and the refund one after another, each atomic."""

    async def check(
        self,
        challenge_id: str,
        code_digest: str,
        now: float,
        *,
        address: Sequence[Quota],
        phone: Sequence[Quota],
        ticket: str,
    ) -> Attempt | Refusal:
        """Take one event under ``ticket`` from every quota of ``address`` and
        ``phone`` (all or none, as :meth:`RateLimiter.acquire`); if one
        refuses, return the refusal: the code is not looked at. Else attempt
        the code (as :meth:`ChallengeStore.attempt`) and, unless it was
        ``WRONG``, give back the events of the ``phone`` quotas (as
        :meth:`RateLimiter.refund`; a refund that fails is skipped). If the
        attempt fails (``ServiceUnavailable``) the charge is kept: the code
        may have been looked at. An accepted attempt carries the phone's
        re-registration cooldown end (``Attempt.cooldown_until``, as
        :meth:`Cooldowns.ends` answers it for the challenge's alias) when
        the check has the cooldowns."""
        ...


class LoginCompletion(Protocol):
    """The end of a login whose code was right, in as few steps as the stores allow."""

    async def complete(self, completion: Completion) -> Completed:
        """Consume the live challenge and open the session only if this call
        consumed it: one atomic step where the stores allow (Redis on one
        server), else the session first, then the consume, and the session
        revoked at once if the consume was lost. Either way, exactly one
        caller gets ``consumed`` and keeps a session. ``ServiceUnavailable``
        if that cannot be done: the challenge may then still be live.

        Then the notes (the usual network, the verified counts, the mark),
        each at best: one that fails is lost (logged), never the login. They
        may ride along with the consume in one round trip, and then count a
        caller that lost it too."""
        ...


class SessionStore(Protocol):
    """Server-side sessions, keyed by the SHA-256 of their token."""

    async def create(
        self,
        session_id: str,
        user_id: int,
        expires_at: float,
        now: float,
        device: Device = NO_DEVICE,
    ) -> None:
        """Store a session opened at ``now`` from ``device`` (already masked:
        see :func:`~referrals.domain.device.device_of`); a session id is never
        reused."""
        ...

    async def get(self, session_id: str, now: float) -> int | None:
        """The user id of a live session, or ``None`` if unknown, expired or revoked.

        A live session's last use becomes ``now`` when the recorded one is
        :data:`~referrals.domain.device.SEEN_STEP` seconds old or older, so
        at most one write a minute per session; a session revoked meanwhile
        stays revoked."""
        ...

    async def revoke(self, session_id: str) -> None:
        """End the session at once; no-op if it does not exist."""
        ...

    async def of_user(self, user_id: int, now: float) -> list[SessionInfo]:
        """The user's live sessions (not expired, not revoked), soonest to expire first."""
        ...

    async def revoke_user(self, user_id: int, now: float) -> int:
        """End every live session of the user at once; how many there were.

        A session opened while this runs may survive it (run it again)."""
        ...


class Cooldowns(Protocol):
    """Numbers of deleted accounts, kept as their keyed hash (the phone alias,
    see :func:`~referrals.domain.codes.phone_alias`) until their cooldown
    ends, so that deleting an account and signing up again earns no second
    invite code (``docs/account.md``). Nothing else of the number is kept."""

    async def start(self, alias: str, until: float, now: float) -> None:
        """Keep ``alias`` until ``until``; a cooldown running already ends at
        the later of the two."""
        ...

    async def ends(self, alias: str, now: float) -> float | None:
        """When ``alias``'s cooldown ends, or ``None`` if none runs at ``now``."""
        ...


class ActivityLog(Protocol):
    """Counts of what happened (codes sent, logins), by hour, shared by every
    process, so an operator sees the whole service's figures.

    Counts are kept in hourly buckets for at least a day and a half; a
    count ``since`` a time covers the bucket that time falls in whole.
    """

    async def add(self, name: str, at: float) -> None:
        """Count one ``name`` (e.g. ``code_sent``) at time ``at``."""
        ...

    async def count(self, name: str, since: float, until: float) -> int:
        """How many ``name`` were counted in the hours from ``since`` to ``until``."""
        ...


class ConversionLog(Protocol):
    """Codes sent and verified per group (a country, a number prefix, a client
    network), in rolling windows, shared by every process
    (:mod:`~referrals.application.pumping`).

    Counts are summed in buckets of the adapter's size: a window covers every
    bucket it touches, so it may count up to one bucket more, never less.
    """

    async def counts(self, groups: Sequence[str], since: float) -> list[tuple[int, int, str]]:
        """(sent, verified, mark) of each group, in order, from ``since`` on; the
        mark an operator set (``pinned``, ``lifted``) or ``""``."""
        ...

    async def mark(self, group: str, mark: str) -> None:
        """Set a group's mark (``pinned``, ``lifted``; ``""`` clears it); a mark
        stays until it is changed."""
        ...

    async def groups(self) -> list[str]:
        """Every group with counts kept or a mark (an operator's listing)."""
        ...

    async def add(
        self, groups: Sequence[str], kind: str, at: float, keep: float, by: int = 1
    ) -> None:
        """Count ``by`` (one; -1 takes one back) ``kind`` (``sent`` or
        ``verified``) for every group at ``at``; keep the counts at least
        ``keep`` seconds."""
        ...


class SendGate(Protocol):
    """A login's whole decision to send a code, in one step: its quotas
    (:class:`RateLimiter`), its pumping groups (:class:`ConversionLog`) and
    its charge (:class:`SpendLedger`), kept where those ports keep them, so
    their own readers (``referrals pumping``, ``referrals stats``) see it.
    """

    async def acquire(
        self,
        quotas: Sequence[Quota],
        now: float,
        ticket: str,
        pumping: Pumping | None = None,
        charge: Charge | None = None,
        caps: Sequence[Limit] = (),
        challenge: Challenge | None = None,
    ) -> SendDecision:
        """Check every quota, then the pumping groups, then the spend caps;
        record all of it (an event on each counted quota, a ``sent`` under
        each group, the charge) and store ``challenge`` (as
        :meth:`ChallengeStore.put`: the phone's only live one) only if
        nothing refused. The first refusal in that order is the answer, and
        nothing is recorded net: a refused send leaves the phone's live
        challenge as it was.

        As with :meth:`RateLimiter.acquire`, an adapter may decide it all in
        one atomic step (memory; Redis on one server) or part by part and
        take back what the others recorded (Redis Cluster: one step per
        slot): refusals may then err on the safe side under contention,
        passes never exceed a quota, a throttle or a cap (a cap by less
        than one charge, as :meth:`SpendLedger.reserve`).
        """
        ...

    async def give_back(
        self,
        quotas: Sequence[Quota],
        now: float,
        ticket: str,
        pumping: Pumping | None = None,
        charge: Charge | None = None,
    ) -> None:
        """Take back everything a passed :meth:`acquire` with these arguments
        recorded (its code was never queued). Raises ``ServiceUnavailable``
        when a store is down, after taking back what it could; what stays
        recorded leaves its windows by itself."""
        ...


class UserRepository(Protocol):
    """Users, inside the transaction of the unit of work that owns it."""

    async def get(self, user_id: int) -> User | None: ...

    async def get_by_phone(self, phone: Phone) -> User | None: ...

    async def get_by_invite_code(self, code: InviteCode) -> User | None: ...

    async def add(
        self,
        phone: Phone,
        invite_code: InviteCode,
        created_by: str,
        cooldown_until: float | None = None,
    ) -> User | None:
        """Insert a new user; ``None`` (and nothing written) if the phone or
        the invite code is already taken, including by a concurrent insert.
        ``created_by`` (a login tag) is kept and read back in ``User.created_by``,
        ``cooldown_until`` (when the number's cooldown ends) in ``User.cooldown_until``."""
        ...

    async def change_phone(
        self, user_id: int, phone: Phone, cooldown_until: float | None = None
    ) -> User | None:
        """Move the user to ``phone`` with its cooldown end ``cooldown_until``
        (``None``: none runs; id, invite code and referrals stay);
        the user as it was, or ``None`` (nothing written) if ``phone``
        belongs to any account or the user is unknown or deleted. Two units
        moving two users to one phone at once: one of them moves (the other
        may get ``ConcurrencyConflict``, and ``None`` when run again)."""
        ...

    async def erase(self, user_id: int) -> User | None:
        """Delete an account: its phone becomes
        :func:`~referrals.domain.user.erased_phone` (its row, id, invite code
        and referral edges stay, anonymous) and the events of theirs already
        in the outbox are dropped (they hold the phone). The user as it was,
        or ``None`` (nothing written) for an unknown or already deleted one.
        Their login history goes too."""
        ...

    async def logins(self, user_id: int, since: float, limit: int) -> list[LoginRecord]:
        """Up to ``limit`` of the user's logins at or after ``since``, newest first."""
        ...

    async def purge_logins(self, before: float, limit: int) -> int:
        """Delete up to ``limit`` logins (anyone's) older than ``before``, the
        oldest first; how many went. A bounded batch: call again while it
        returns ``limit``."""
        ...

    async def get_or_add(
        self,
        phone: Phone,
        invite_code: InviteCode,
        created_by: str,
        limit: int,
        cooldown_until: float | None = None,
    ) -> tuple[User, list[Referral]] | None:
        """The user of ``phone`` and their first ``limit`` referrals (as
        :meth:`profile` reads them), added first as :meth:`add` does when
        there is none, all in one step (PostgreSQL: one statement). ``None``
        (nothing written) when it could not be added: a concurrent unit added
        that phone (call again: it is found) or ``invite_code`` is taken
        (call again with another)."""
        ...

    async def apply_code(
        self,
        user_id: int,
        code: InviteCode,
        limit: int,
        screening: Screening | None = None,
        now: float | None = None,
    ) -> AppliedCode:
        """Apply ``code`` for the user: the rules checked (as
        :func:`~referrals.domain.user.ensure_can_apply` orders them; a deleted
        account's code is not found); then the number's cooldown, running at
        ``now`` (``User.cooling_down``; ``None``: not checked), refuses with
        ``ReferralCooldown``; then the self-referral signals of
        ``screening`` (the login history read for ``same_network`` and
        ``same_device`` as :meth:`shared_logins` does) decide: ``refuse`` is
        ``SuspectedSelfReferral`` (nothing written), else the referral is
        written as :meth:`set_referrer` does (``hold``: held), with its
        signals. The user and the referrer chain are held until the unit
        ends as :meth:`lock` and :meth:`referrers_of` hold them. With the
        user's first ``limit`` referrals. ``None``: no signals. PostgreSQL:
        one statement, which answers how it went. May raise
        ``ConcurrencyConflict`` (nothing written): run the unit again."""
        ...

    async def lock(self, user_id: int) -> User | None:
        """Read a user and hold it until the unit ends: no concurrent unit can
        change it (or apply a code for it) meanwhile."""
        ...

    async def referrers_of(self, user_id: int) -> list[int]:
        """Ids above ``user_id`` in the referral chain, nearest first.

        The chain is guaranteed not to change until the unit of work ends
        (adapters lock what they must), so a cycle check on it stays true.
        """
        ...

    async def set_referrer(
        self, user: User, referrer: User, *, signals: Sequence[str] = (), held: bool = False
    ) -> None:
        """Record that ``user`` applied ``referrer``'s code: set the user's
        referrer and used code, and give the user the next rank among the
        referrer's referrals. Raises ``ConcurrencyConflict`` (writing
        nothing) if the user has a referrer already. ``signals`` are kept
        with it; a ``held`` one is ``pending_review``: the user has a
        referrer (no other code, cycles count it) but the referrer's list
        and count leave it out until :meth:`approve_referral`."""
        ...

    async def shared_logins(
        self, user_id: int, code: InviteCode, network: str, device: str, since: float
    ) -> tuple[bool, bool]:
        """``(same_network, same_device)`` by the login history: whether the
        owner of ``code`` logged in at or after ``since`` from ``network``,
        and whether with ``device`` (a device key) or one ``user_id`` logged
        in with since then. Empty ``network`` or ``device``: unknown, shared
        with nobody."""
        ...

    async def held_referrals(self, after: int, limit: int) -> list[User]:
        """Up to ``limit`` users whose referral is held, by id above ``after``."""
        ...

    async def approve_referral(self, user_id: int) -> User | None:
        """Apply a held referral (ranked and counted now); the user as it was,
        or ``None`` (nothing written) if their referral is not held."""
        ...

    async def void_referral(self, user_id: int) -> User | None:
        """Remove a held referral: the user has no referrer and may apply a
        code again; the user as it was, or ``None`` if it is not held."""
        ...

    async def profile(
        self, user_id: int, after_rank: int, limit: int
    ) -> tuple[User, list[Referral]] | None:
        """The user and up to ``limit`` of their referrals ranked above
        ``after_rank``, oldest first, read together; ``None`` if there is no
        such user. One page costs the same at any depth."""
        ...

    async def chain_above(self, user_id: int) -> list[User]:
        """The users above ``user_id`` in the referral chain, nearest first, up
        to the root; a plain read (no locks), for showing, not for deciding."""
        ...

    async def totals(self, since: float, top: int) -> Totals:
        """Counts of users and referrals (all, and since ``since``, epoch
        seconds), and the ``top`` users with the most referrals. Scans the
        table: for operators, not for requests."""
        ...


class Outbox(Protocol):
    """The events of a unit of work, written in its transaction (``docs/events.md``)."""

    def add(self, event: OutboxEvent) -> None:
        """Write ``event`` with the unit: stored if and only if the unit commits.

        Adapters may hold it until :meth:`UnitOfWork.commit` and send it
        with the commit (PostgreSQL: in the COMMIT's own round trip). An
        event id is written once: a second row with the same id is an error.
        """
        ...

    def record_login(self, login: LoginRecord) -> None:
        """Write ``login`` to the login history with the unit, as :meth:`add`
        does an event (PostgreSQL: in the COMMIT's round trip)."""
        ...

    def welcome(self, user_id: int, created: OutboxEvent | None) -> None:
        """Record the user's first successful login with the unit's commit:
        their ``created_by`` becomes ``None`` for good, and ``created`` (their
        ``user.created``) is written only if this unit is the one that cleared
        it, ahead of the unit's other events. Idempotent; nothing happens for
        an unknown id. PostgreSQL: in the COMMIT's round trip, as :meth:`add`."""
        ...


class UnitOfWork(Protocol):
    """One transaction. Leaving the block without :meth:`commit` rolls back.

    :meth:`commit` (or any read inside) may raise
    :class:`~referrals.application.errors.ConcurrencyConflict`: nothing was
    written and the caller should run the whole unit again.
    """

    @property
    def users(self) -> UserRepository: ...

    @property
    def outbox(self) -> Outbox: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False, autocommit: bool = False) -> UnitOfWork:
        """A new unit; ``read_only`` promises it writes nothing, so adapters
        may run it without taking write locks. ``autocommit`` lets each
        statement commit as it runs (PostgreSQL: no BEGIN and COMMIT, so a
        unit of one statement is one round trip): for units whose statements
        each stand alone, which may be kept even when the unit is left
        without :meth:`UnitOfWork.commit`. Call ``commit`` all the same."""
        ...


class CodeSender(Protocol):
    async def send(self, delivery: CodeDelivery) -> None:
        """Queue the delivery and return without waiting for the SMS."""
        ...


class SmsGateway(Protocol):
    async def send(self, message: SmsMessage) -> str | None:
        """Hand one message to the carrier: the provider's message id (what
        its delivery receipts name), or ``None`` when it has none.

        Raises :class:`~referrals.application.errors.DeliveryFailed`, whose
        ``failure`` tells routing whether the next try or the next channel
        may do better (see docs/sending-codes.md).
        """
        ...


class DeliveryLedger(Protocol):
    """Which codes were sent, so a redelivered task sends at most once.

    Routing claims a login's code once per channel: its ids are
    ``{challenge id}/{channel}`` (see ``referrals.application.delivery``).
    """

    async def claim(self, challenge_id: str, claimant: str, lease: float, now: float) -> Claim:
        """Take the right to send for ``lease`` seconds, atomically: of many
        concurrent claims one is ``GRANTED``. ``claimant`` is unique per
        attempt, so only its owner can release it."""
        ...

    async def mark_sent(self, challenge_id: str, keep_until: float, now: float) -> None:
        """Record the sending; later claims fail until ``keep_until``."""
        ...

    async def release(self, challenge_id: str, claimant: str) -> None:
        """Give back ``claimant``'s claim after a failed send, so a retry may
        send. A sent mark or another claimant's claim is left alone."""
        ...


class EventSink(Protocol):
    """Where use cases report what happened (see :mod:`referrals.application.events`)."""

    async def publish(self, event: Event) -> None:
        """Deliver ``event``; never raises (a failing receiver is logged and skipped)."""
        ...


class CircuitBreaker(Protocol):
    """Per-channel circuits shared by every process that sends codes.

    A closed circuit lets every attempt through. ``threshold`` failures
    within ``window`` seconds (the adapter's settings) open it: for
    ``cooldown`` seconds no attempt goes to the channel. Then it is half
    open: :meth:`allows` grants one probe at a time (for ``probe_lease``
    seconds); the probe's success closes the circuit, its failure opens it
    for another ``cooldown``. Times are the callers' ``now``.
    """

    async def allows(self, channel: str, now: float) -> bool:
        """Whether an attempt may go to ``channel`` now; on a half-open
        circuit, ``True`` for one caller per ``probe_lease`` (the probe)."""
        ...

    async def succeeded(self, channel: str, now: float) -> None:
        """Record a success: a half-open circuit closes."""
        ...

    async def failed(self, channel: str, now: float) -> CircuitState:
        """Record a failure; the circuit's state afterwards (``OPEN`` when
        this failure opened or re-opened it)."""
        ...

    async def state(self, channel: str, now: float) -> CircuitState:
        """The circuit's state, read only (for metrics and operators)."""
        ...


class DeliveryLog(Protocol):
    """Each login's delivery record (see :mod:`referrals.domain.delivery`),
    kept for the adapter's ``keep`` seconds, shared by the API and workers.

    Logins are challenge ids: every id of one phone starts with that phone's
    alias (see ``ChallengeStore``), which :meth:`recent` looks up.
    """

    async def open(self, record: DeliveryRecord) -> None:
        """Start a login's record (its steps, if any, are kept); a record
        already there is left alone (a redelivered task)."""
        ...

    async def add(self, login: str, step: DeliveryStep) -> DeliveryRecord | None:
        """Append a step, atomically; the record afterwards, or ``None`` (and
        nothing written) if the login has no record."""
        ...

    async def get(self, login: str) -> DeliveryRecord | None: ...

    async def recent(self, alias: str, limit: int) -> list[DeliveryRecord]:
        """The phone's last ``limit`` logins that are still kept, newest first."""
        ...

    async def link(self, channel: str, message_id: str, login: str) -> None:
        """Remember that ``channel``'s message ``message_id`` carries ``login``'s code."""
        ...

    async def login_of(self, channel: str, message_id: str) -> str | None:
        """The login a provider's message id belongs to (for its receipts)."""
        ...


__all__ = [
    "ActivityLog",
    "ChallengeStore",
    "Charge",
    "CircuitBreaker",
    "Claim",
    "Clock",
    "CodeDelivery",
    "CodeSender",
    "DeliveryLedger",
    "DeliveryLog",
    "EventSink",
    "Limit",
    "Outbox",
    "Quota",
    "RateLimiter",
    "Referral",
    "Refusal",
    "Rule",
    "SessionInfo",
    "SessionStore",
    "SmsGateway",
    "SmsMessage",
    "SpendLedger",
    "Totals",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "UserRepository",
]
