"""Conversion-driven throttling against SMS pumping (docs/rules.md, *SMS pumping*).

Organic traffic verifies most of the codes it asks for; pumping verifies
almost none. Every code sent and every login verified is counted per group:
the phone's country calling code, its number prefixes (the E.164 number
without its last 3 and without its last 5 digits) and the client's network
(an IPv4 /24, an IPv6 /56). A group that has sent at least ``min_volume``
codes in the window (a country: ten times that) is throttled while its
sends reach what its verifications justify, ``verified / min_conversion``: a group at 1 %
conversion against a ``min_conversion`` of 20 % gets no more codes until
its old sends leave the window or its logins verify. It recovers by itself.

``enforce`` refuses (429 ``rate_limited``, ``limit`` naming the group's kind:
``pumping_country``, ``pumping_prefix``, ``pumping_network``); ``shadow``
only logs and counts what it would have refused; ``off`` does nothing.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from referrals.application.errors import RateLimited
from referrals.application.events import Hooks, SendThrottled
from referrals.application.lockout import usual_network
from referrals.application.policy import Policy
from referrals.application.ports import ConversionLog, EventSink
from referrals.domain.limits import GroupFigures, Pumping, SendDecision
from referrals.domain.phone import Phone, calling_code

log = logging.getLogger("referrals.pumping")

CONVERSION_BUCKET = 60.0
"""Seconds per bucket the counts are summed in."""
PREFIX_CUTS = (3, 5)
"""Trailing digits dropped for the prefixes counted: blocks of 1,000 and 100,000 numbers."""


def groups(phone: Phone, address: str, ipv6_network_prefix: int) -> list[tuple[str, str]]:
    """(kind, group) of a login, the most specific first."""
    found = [("network", f"net:{usual_network(address, ipv6_network_prefix)}")]
    found += [("prefix", f"prefix:{phone[:-cut]}") for cut in PREFIX_CUTS]
    found.append(("country", f"cc:{calling_code(phone)}"))
    return found


COUNTRY_VOLUME = 10
"""A country carries all its ranges' traffic, organic and pumped alike: it is
judged from ten times the volume, so a pumped range is throttled by its
prefix long before it can throttle its country's organic logins."""


def volume(policy: Policy, kind: str) -> int:
    """The sends a group of ``kind`` may have in the window whatever it verified."""
    return policy.pumping_min_volume * (COUNTRY_VOLUME if kind == "country" else 1)


def allowed(verified: int, policy: Policy, kind: str = "prefix") -> int:
    """The sends a group of ``kind`` may have in the window before it is throttled.
    (The send gates judge by the same rule: ``Pumping``'s docstring, and the
    Redis one's script, adapters/redis/send_gate.py.)"""
    return max(volume(policy, kind), math.ceil(verified / policy.pumping_min_conversion))


def first_throttled(
    pumping: Pumping, counts: Sequence[tuple[int, int, str]]
) -> GroupFigures | None:
    """The first of ``pumping``'s groups that its (sent, verified, mark) throttle."""
    for index, ((_, least), (sent, verified, mark)) in enumerate(
        zip(pumping.groups, counts, strict=True)
    ):
        if mark == "lifted":
            continue
        limit = max(least, math.ceil(verified / pumping.min_conversion))
        if mark == "pinned" or sent >= limit:
            return GroupFigures(index, sent, verified, limit, mark)
    return None


KINDS = {"net": "network", "prefix": "prefix", "cc": "country"}


def kind_of(group: str) -> str:
    """``network``, ``prefix`` or ``country``: the kind of a group's name."""
    return KINDS.get(group.partition(":")[0], "prefix")


@dataclass(frozen=True, slots=True)
class Throttle:
    """The throttle of :class:`~referrals.application.request_code.RequestCode`
    and the counter of :class:`~referrals.application.verify.Verify`.

    A login's groups are checked, and its send counted, by the login's
    :class:`~referrals.application.ports.SendGate` in the same step as its
    quotas (:meth:`check` says what to check, :meth:`decided` reports it).
    """

    log: ConversionLog
    policy: Policy
    events: EventSink = field(default_factory=Hooks)
    """Where each :class:`SendThrottled` decision goes (metrics count them)."""

    def check(self, phone: Phone, address: str) -> Pumping | None:
        """What a send to ``phone`` from ``address`` is judged by; ``None``: off."""
        policy = self.policy
        if policy.pumping_mode == "off":
            return None
        return Pumping(
            tuple(
                (name, volume(policy, kind))
                for kind, name in groups(phone, address, policy.ipv6_network_prefix)
            ),
            policy.pumping_min_conversion,
            policy.pumping_window,
            enforce=policy.pumping_mode == "enforce",
        )

    async def decided(self, pumping: Pumping, decision: SendDecision, now: float) -> None:
        """Report the gate's throttle decision (an event and a log line), and
        refuse the send if it was refused (``enforce``)."""
        figures = decision.throttled
        if figures is None:
            return
        policy = self.policy
        name = pumping.groups[figures.index][0]
        kind = kind_of(name)
        await self.events.publish(
            SendThrottled(
                at=now,
                kind=kind,
                group=name,
                sent=figures.sent,
                verified=figures.verified,
                allowed=figures.allowed,
                mark=figures.mark,
                mode=policy.pumping_mode,
            )
        )
        log.warning(
            "%s: %s %s sent %d codes and %d verified in %.0f s (below %.0f %%)",
            "throttled" if decision.enforced else "would throttle",
            kind,
            name,
            figures.sent,
            figures.verified,
            policy.pumping_window,
            policy.pumping_min_conversion * 100,
        )
        if decision.enforced:
            raise RateLimited(policy.pumping_window / 10, limit=f"pumping_{kind}")

    async def verified(self, phone: Phone, address: str, now: float) -> None:
        names = self.verified_groups(phone, address)
        if names:
            await self.log.add(names, "verified", now, self.policy.pumping_window)

    def verified_groups(self, phone: Phone, address: str) -> tuple[str, ...]:
        """The groups a login verified counts under (none when ``off``), kept
        ``pumping_window``: :meth:`verified` counts them, or a
        :class:`~referrals.domain.completion.Completion` does."""
        policy = self.policy
        if policy.pumping_mode == "off":
            return ()
        return tuple(name for _, name in groups(phone, address, policy.ipv6_network_prefix))


@dataclass(frozen=True, slots=True)
class GroupState:
    """One group's figures in the window, and whether it is throttled."""

    group: str
    sent: int
    verified: int
    allowed: int
    mark: str

    @property
    def throttled(self) -> bool:
        if self.mark:
            return self.mark == "pinned"
        return self.sent >= self.allowed


@dataclass(frozen=True, slots=True)
class PumpingGroups:
    """The operator's view (``referrals pumping``): list the groups that are
    throttled or marked, pin one (throttled whatever its figures), lift one
    (never throttled), clear a mark."""

    log: ConversionLog
    policy: Policy

    async def list(self, now: float, *, every: bool = False) -> list[GroupState]:
        names = await self.log.groups()
        counts = await self.log.counts(names, now - self.policy.pumping_window)
        states = []
        for name, (sent, verified, mark) in zip(names, counts, strict=True):
            kind = kind_of(name)
            state = GroupState(name, sent, verified, allowed(verified, self.policy, kind), mark)
            if every or state.throttled or state.mark:
                states.append(state)
        return states

    async def mark(self, group: str, mark: str) -> None:
        if group.partition(":")[0] not in KINDS or mark not in {"pinned", "lifted", ""}:
            raise ValueError(f"not a group: {group!r} (net:…, prefix:…, cc:…)")
        await self.log.mark(group, mark)
