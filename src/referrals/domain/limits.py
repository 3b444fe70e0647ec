"""Rate and spend limits as values: a limit, the named rules of a quota, a
refusal, and what one SMS is charged.

The quotas themselves (which keys, which numbers) are in
``referrals.application.rate_limits``; the ``RateLimiter`` and
``SpendLedger`` ports keep their logs (docs/rules.md, "Limits and abuse").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``count`` events in any ``window`` seconds (a sliding window)."""

    count: int
    window: float

    def __post_init__(self) -> None:
        if self.count < 1 or not self.window > 0:
            raise ValueError(f"a limit needs count >= 1 and window > 0, not {self}")

    def __str__(self) -> str:
        return f"{self.count}/{self.window:g}"


@dataclass(frozen=True, slots=True)
class Rule:
    """One limit of a quota, under the stable name refusals carry (``phone_send``).

    With ``per_client`` the limit counts only the events of the acquiring
    quota's ``client`` (wrong codes for one phone *from one address*), else
    every event of the quota.
    """

    name: str
    limit: Limit
    per_client: bool = False


@dataclass(frozen=True, slots=True)
class Quota:
    """A log of events under one key and the rules that bound it; e.g. the codes
    sent to one phone: one a minute, ten a day, three a day per address.

    ``client`` says whom this acquisition's event is from (an address), for
    the per-client rules. With ``count=False`` the quota is only checked: it
    refuses when one more event would break a rule, and records nothing.
    ``forgettable`` says a store short of room may drop the quota's events:
    only for a quota whose events grant something (a usual network lifts a
    lock), so that forgetting them is stricter, never a way round a limit.

    A key may end in a hash tag in braces (``fail:{alias}``, letters and
    digits only): stores keep keys with the same tag together (one Redis
    Cluster slot), so quotas of one phone can be taken in one step with its
    login. Any other key is a place of its own.
    """

    key: str
    rules: tuple[Rule, ...]
    client: str = ""
    count: bool = True
    forgettable: bool = False

    def __post_init__(self) -> None:
        if not self.rules:
            raise ValueError(f"quota {self.key!r} has no rules")

    @property
    def longest_window(self) -> float:
        """How long the quota must remember an event."""
        return max(rule.limit.window for rule in self.rules)


@dataclass(frozen=True, slots=True)
class Refusal:
    """The rule that refused, on which quota, and the seconds until it has room."""

    quota: Quota
    rule: Rule
    retry_after: float


@dataclass(frozen=True, slots=True)
class Charge:
    """What one SMS is reserved at: ``amount`` (in the prices' unit) at ``at``,
    under ``ticket`` (the login), for the day's figures by ``channel`` and
    ``country``; ``day`` is the UTC date (``2026-12-07``) it counts for."""

    ticket: str
    amount: float
    at: float
    channel: str
    country: str
    day: str


@dataclass(frozen=True, slots=True)
class Pumping:
    """The pumping groups a send is checked against and counted under
    (docs/rules.md, *SMS pumping*).

    ``groups`` are (name, volume) pairs, the most specific first: a group
    is throttled when it is marked ``pinned``, or, unless marked ``lifted``,
    when it has sent ``max(volume, ceil(verified / min_conversion))`` codes
    or more since ``now - window``. Sends are counted so they are kept at
    least ``window`` seconds. With ``enforce`` a throttled group refuses
    the send; else the send passes and the group's figures are reported.
    """

    groups: tuple[tuple[str, int], ...]
    min_conversion: float
    window: float
    enforce: bool


@dataclass(frozen=True, slots=True)
class GroupFigures:
    """The first throttled group of a send: its index in ``Pumping.groups``
    and the figures that throttled it."""

    index: int
    sent: int
    verified: int
    allowed: int
    mark: str


@dataclass(frozen=True, slots=True)
class SendDecision:
    """What a gate decided for one send. It passed (and was recorded: its
    quotas, its count under each pumping group, its charge) when ``passed``;
    else nothing was recorded anywhere."""

    refusal: Refusal | None = None
    """The quota that refused, if one did: nothing else was looked at."""
    throttled: GroupFigures | None = None
    """The first throttled group: a refusal with ``Pumping.enforce``, else a
    send that would have been refused."""
    paused: float | None = None
    """Seconds until the spend cap may have room, if it refused."""
    enforced: bool = False
    """Whether ``throttled`` refused the send."""

    @property
    def passed(self) -> bool:
        return self.refusal is None and self.paused is None and not self.enforced
