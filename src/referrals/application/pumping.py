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


def allowed(verified: int, policy: Policy, kind: str = "prefix") -> int:
    """The sends a group of ``kind`` may have in the window before it is throttled."""
    justified = math.ceil(verified / policy.pumping_min_conversion)
    volume = policy.pumping_min_volume * (COUNTRY_VOLUME if kind == "country" else 1)
    return max(volume, justified)


@dataclass(frozen=True, slots=True)
class Throttle:
    """The throttle of :class:`~referrals.application.request_code.RequestCode`
    and the counter of :class:`~referrals.application.verify.Verify`."""

    log: ConversionLog
    policy: Policy
    events: EventSink = field(default_factory=Hooks)
    """Where each :class:`SendThrottled` decision goes (metrics count them)."""

    async def before_send(self, phone: Phone, address: str, now: float) -> list[str]:
        """Refuse a send of a throttled group (``enforce``); else the groups to
        count it under once it is queued (:meth:`sent`)."""
        policy = self.policy
        if policy.pumping_mode == "off":
            return []
        found = groups(phone, address, policy.ipv6_network_prefix)
        names = [name for _, name in found]
        counts = await self.log.counts(names, now - policy.pumping_window)
        for (kind, name), (sent, verified, mark) in zip(found, counts, strict=True):
            if mark == "lifted":
                continue
            limit = allowed(verified, policy, kind)
            if mark == "pinned" or sent >= limit:
                decision = SendThrottled(
                    at=now,
                    kind=kind,
                    group=name,
                    sent=sent,
                    verified=verified,
                    allowed=limit,
                    mark=mark,
                    mode=policy.pumping_mode,
                )
                await self.events.publish(decision)
                log.warning(
                    "%s: %s %s sent %d codes and %d verified in %.0f s (below %.0f %%)",
                    "throttled" if policy.pumping_mode == "enforce" else "would throttle",
                    kind,
                    name,
                    sent,
                    verified,
                    policy.pumping_window,
                    policy.pumping_min_conversion * 100,
                )
                if policy.pumping_mode == "enforce":
                    raise RateLimited(policy.pumping_window / 10, limit=f"pumping_{kind}")
                break
        return names

    async def sent(self, names: Sequence[str], now: float) -> None:
        if names:
            await self.log.add(names, "sent", now, self.policy.pumping_window)

    async def verified(self, phone: Phone, address: str, now: float) -> None:
        policy = self.policy
        if policy.pumping_mode == "off":
            return
        names = [name for _, name in groups(phone, address, policy.ipv6_network_prefix)]
        await self.log.add(names, "verified", now, policy.pumping_window)


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


KINDS = {"net": "network", "prefix": "prefix", "cc": "country"}


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
            kind = KINDS.get(name.partition(":")[0], "prefix")
            state = GroupState(name, sent, verified, allowed(verified, self.policy, kind), mark)
            if every or state.throttled or state.mark:
                states.append(state)
        return states

    async def mark(self, group: str, mark: str) -> None:
        if group.partition(":")[0] not in KINDS or mark not in {"pinned", "lifted", ""}:
            raise ValueError(f"not a group: {group!r} (net:…, prefix:…, cc:…)")
        await self.log.mark(group, mark)
