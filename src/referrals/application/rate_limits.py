"""The quotas of docs/rules.md, "Limits and abuse", by name.

Each :class:`~referrals.application.ports.Rule` carries a stable name (the
``limit`` of a refusal, e.g. ``phone_failure``) that metrics and the HTTP
answer use. Quotas about one phone are keyed by the phone's alias (an HMAC,
see :func:`~referrals.domain.codes.phone_alias`), so a login token leads to
them without a lookup and no key names a phone number.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

from referrals.application.errors import (
    RateLimited,
    SendingPaused,
    ServiceUnavailable,
    TooManyAttempts,
)
from referrals.application.events import LimitReached
from referrals.application.policy import Policy
from referrals.application.ports import Clock, EventSink, RateLimiter
from referrals.domain.codes import phone_alias
from referrals.domain.limits import Limit, Quota, Refusal, Rule
from referrals.domain.phone import Phone, calling_code, number_block

GUESSING = frozenset({"phone_failure", "phone_ip_failure", "ip_verify", "apply_failure"})
"""Limits on guessing: their refusals are :class:`TooManyAttempts`; the others,
limits on sending, :class:`RateLimited`."""


def client_group(address: str, ipv6_prefix: int) -> str:
    """Whom per-address limits count: an IPv4 address as it is (IPv4-mapped
    IPv6 included), an IPv6 address as its network of ``ipv6_prefix`` bits
    (``2001:db8:1:2::/64``), anything else (no address known) as given."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, ipv6_prefix), strict=False))
    return str(ip)


def client_network(address: str, prefix: int) -> str | None:
    """The IPv6 network of ``prefix`` bits an address is in (``2001:db8:1::/56``);
    ``None`` for IPv4 (IPv4-mapped included) or no address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv4Address) or ip.ipv4_mapped is not None:
        return None
    return str(ipaddress.IPv6Network((ip, prefix), strict=False))


def _sends_key(alias: str) -> str:
    return f"send:{alias}"


def _failures_key(alias: str) -> str:
    return f"fail:{phone_tag(alias)}"


def phone_tag(alias: str) -> str:
    """``{alias}``: the hash tag of every quota key of one phone's wrong codes
    (see :class:`~referrals.domain.limits.Quota`), so that they and the
    phone's login (keyed by its alias too) can be taken in one step."""
    return f"{{{alias}}}"


def phone_sends(policy: Policy, alias: str, client: str) -> Quota:
    """Codes sent to one phone: the cooldown, the day's codes, and the day's
    codes asked for from one address."""
    return Quota(
        _sends_key(alias),
        (
            Rule("cooldown", Limit(1, policy.resend_cooldown)),
            Rule("phone_send", policy.phone_send),
            Rule("phone_ip_send", policy.phone_ip_send, per_client=True),
        ),
        client=client,
    )


def phone_failures(
    policy: Policy, alias: str, client: str, *, count: bool = True, owner: bool = False
) -> Quota:
    """Wrong codes for one phone: from anywhere, and from one address with growing
    waits; for the ``owner`` (from a usual network, see
    :mod:`~referrals.application.lockout`) only the latter."""
    per_client = tuple(
        Rule("phone_ip_failure", limit, per_client=True) for limit in policy.phone_ip_failure
    )
    rules = per_client if owner else (Rule("phone_failure", policy.phone_failure), *per_client)
    return Quota(_failures_key(alias), rules, client=client, count=count)


def send_quotas(
    policy: Policy,
    phone: Phone,
    alias: str,
    client: str,
    network: str | None = None,
    *,
    owner: bool = False,
) -> list[Quota]:
    """Every quota a code sent to ``phone`` (whose alias is ``alias``) for
    ``client`` (and its IPv6 ``network``, see :func:`client_network`) takes,
    and the phone's wrong codes, only checked: a phone locked by wrong codes
    (from anywhere, or from this client) gets no code."""
    per_network = (
        [Quota(f"send:net:{network}", (Rule("network_send", policy.network_send),))]
        if network is not None
        else []
    )
    return [
        phone_failures(policy, alias, client, count=False, owner=owner),
        phone_sends(policy, alias, client),
        Quota(f"send:ip:{client}", (Rule("ip_send", policy.ip_send),)),
        *per_network,
        Quota(f"send:prefix:{number_block(phone)}", (Rule("prefix_send", policy.prefix_send),)),
        Quota(f"send:country:{calling_code(phone)}", (Rule("country_send", policy.country_send),)),
        Quota("send:all", (Rule("global_send", policy.global_send),)),
    ]


def ip_verify(policy: Policy, client: str) -> Quota:
    return Quota(f"verify:ip:{client}", (Rule("ip_verify", policy.ip_verify),))


def apply_failures(policy: Policy, user_id: int) -> Quota:
    return Quota(f"fail:apply:{user_id}", (Rule("apply_failure", policy.apply_failure),))


def phone_quota_keys(secret: bytes, phone: Phone) -> list[str]:
    """Every quota key that names ``phone`` (its codes and its wrong codes,
    per address included): what ``RateLimiter.reset`` needs to lift a lock."""
    alias = phone_alias(secret, phone)
    return [_sends_key(alias), _failures_key(alias), f"fail:usual:{phone_tag(alias)}"]


def refusal_error(refusal: Refusal) -> RateLimited:
    """The error a refusal answers with, naming the limit that refused."""
    error = TooManyAttempts if refusal.rule.name in GUESSING else RateLimited
    return error(refusal.retry_after, limit=refusal.rule.name)


async def refund(limiter: RateLimiter, quotas: Sequence[Quota], ticket: str) -> None:
    """Give back what ``ticket`` took of ``quotas``. A refund that fails (the
    limiter's store is down) leaves the charge counted until it leaves its
    window: the limit is stricter for a while, never looser, and the use case
    goes on."""
    with contextlib.suppress(ServiceUnavailable):
        await limiter.refund(quotas, ticket)


@dataclass(frozen=True, slots=True)
class ReportLimits:
    """``async with ReportLimits(events, clock, "login"):`` publishes a
    :class:`RateLimited` raised inside as
    :class:`~referrals.application.events.LimitReached` of that action (with
    the limit's name; ``spend_cap`` for :class:`SendingPaused`), and lets it go on."""

    events: EventSink
    clock: Clock
    action: str

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if isinstance(error, RateLimited):
            reached = LimitReached(at=self.clock.now(), action=self.action, limit=error.limit)
            await self.events.publish(reached)
        elif isinstance(error, SendingPaused):  # the spend cap's alert
            reached = LimitReached(at=self.clock.now(), action=self.action, limit="spend_cap")
            await self.events.publish(reached)
