"""The lock by wrong codes, and the owner's way through it (docs/rules.md, *Guessing a code*).

Wrong codes for a phone are counted per client address (``phone_ip_failure``)
and in all (``phone_failure``, the guessing bound). Past ``phone_failure``
the phone is locked, but not for the owner's *usual networks*: those a login
of this phone succeeded from within ``usual_network_ttl`` (an IPv4 /24, an
IPv6 network of ``ipv6_network_prefix`` bits). From one of them only the
per-address limits and ``phone_failure`` per usual network apply, so a
stranger who spends the phone's wrong codes from elsewhere no longer locks
its owner out, and a stranger's guesses stay bounded by ``phone_failure``
from everywhere else, and by as much again inside each usual network.

The usual networks cost nothing on the common path: they are looked at only
when ``phone_failure`` refuses, and recorded alongside the user's lookup
after a right code.
"""

from __future__ import annotations

import functools
import ipaddress
import secrets
from collections.abc import Awaitable, Callable, Sequence

from referrals.application import rate_limits
from referrals.application.policy import Policy
from referrals.application.ports import CodeCheck, RateLimiter
from referrals.domain.challenge import Attempt
from referrals.domain.codes import alias_of
from referrals.domain.limits import Limit, Quota, Refusal, Rule

USUAL_IPV4_PREFIX = 24


@functools.lru_cache(maxsize=4096)
def usual_network(address: str, ipv6_prefix: int) -> str:
    """The network an address counts as for the owner's usual networks.

    Kept for the last few thousand addresses: a login asks for it twice (its
    wrong-code quota, its pumping group), and parsing an address is not free."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = USUAL_IPV4_PREFIX if ip.version == 4 else ipv6_prefix
    return str(ipaddress.ip_network((ip, prefix), strict=False))


def usual_networks(policy: Policy, alias: str, address: str, *, count: bool) -> Quota:
    """The phone's usual networks; with ``count=False`` it refuses exactly when
    ``address`` is in one of them."""
    network = usual_network(address, policy.ipv6_network_prefix)
    rule = Rule("usual_network", Limit(1, policy.usual_network_ttl), per_client=True)
    return Quota(
        f"usual:{rate_limits.phone_tag(alias)}",
        (rule,),
        client=network,
        count=count,
        forgettable=True,
    )


def usual_failures(policy: Policy, alias: str, address: str, *, count: bool = True) -> Quota:
    """Wrong codes for the phone from one of its usual networks: at most
    ``phone_failure`` each, so a stranger inside the owner's network is
    bounded too."""
    network = usual_network(address, policy.ipv6_network_prefix)
    rule = Rule("phone_failure", policy.phone_failure, per_client=True)
    return Quota(usual_failures_key(alias), (rule,), client=network, count=count)


def usual_failures_key(alias: str) -> str:
    return f"fail:usual:{rate_limits.phone_tag(alias)}"


async def _owner_passes(
    limiter: RateLimiter, policy: Policy, refusal: Refusal, alias: str, address: str, now: float
) -> bool:
    """Whether ``refusal`` is the phone's lock and ``address`` is in one of
    the owner's usual networks, which pass it."""
    if refusal.rule.name != "phone_failure" or not alias:
        return False
    return (
        await limiter.acquire([usual_networks(policy, alias, address, count=False)], now)
        is not None
    )


async def acquire(
    limiter: RateLimiter,
    policy: Policy,
    quotas: Callable[[bool], Sequence[Quota]],
    alias: str,
    address: str,
    now: float,
    ticket: str | None = None,
    take: Callable[[Sequence[Quota]], Awaitable[Refusal | None]] | None = None,
) -> tuple[Refusal | None, Sequence[Quota]]:
    """Acquire ``quotas(False)``; if the phone's lock refused it and ``address``
    is in one of the owner's usual networks, ``quotas(True)`` (the owner's,
    without the lock) instead. Returns the refusal and the quotas tried last.
    ``take`` acquires instead of ``limiter.acquire`` (a login's send gate)."""

    async def acquired(given: Sequence[Quota]) -> Refusal | None:
        if take is not None:
            return await take(given)
        return await limiter.acquire(given, now, ticket)

    taken = quotas(False)
    refusal = await acquired(taken)
    if refusal is None or not await _owner_passes(limiter, policy, refusal, alias, address, now):
        return refusal, taken
    taken = quotas(True)
    return await acquired(taken), taken


def _wrong_codes(policy: Policy, alias: str, client: str, address: str, owner: bool) -> list[Quota]:
    """The quotas one wrong code for the phone takes (all keyed by its alias)."""
    failures = [rate_limits.phone_failures(policy, alias, client, owner=owner)]
    if owner:
        failures.append(usual_failures(policy, alias, address))
    return failures


async def charge_verification(
    limiter: RateLimiter, policy: Policy, alias: str, address: str, now: float, ticket: str
) -> Sequence[Quota]:
    """Charge one check of a code (a login's or a step-up's) before it is
    looked at: one verification on the address, and one wrong code on the
    phone (from anywhere, and from this address), the owner's usual networks
    passing the phone's lock (see :func:`acquire`). Raises the limit's error
    when full; returns the wrong-code quotas, to give back if the code was
    right (``rate_limits.refund`` with ``ticket``)."""
    client = rate_limits.client_group(address, policy.ipv6_prefix)

    def charged(owner: bool) -> list[Quota]:
        verify = rate_limits.ip_verify(policy, client)
        if not alias:
            return [verify]
        return [verify, *_wrong_codes(policy, alias, client, address, owner)]

    refusal, taken = await acquire(limiter, policy, charged, alias, address, now, ticket)
    if refusal is not None:
        raise rate_limits.refusal_error(refusal)
    return taken[1:]


async def check_code(
    check: CodeCheck,
    limiter: RateLimiter,
    policy: Policy,
    challenge_id: str,
    code_digest: str,
    address: str,
    now: float,
) -> Attempt:
    """Charge one check of a login's code as :func:`charge_verification`
    does, look at the code, and give the wrong-code charge back unless the
    code was wrong (:meth:`CodeCheck.check`). The lock costs one round trip
    more, and the owner's way through it one more again, only when it
    refuses. Raises the limit's error when full."""
    alias = alias_of(challenge_id)
    client = rate_limits.client_group(address, policy.ipv6_prefix)
    ticket = secrets.token_hex(8)

    async def charged(owner: bool) -> Attempt | Refusal:
        return await check.check(
            challenge_id,
            code_digest,
            now,
            address=[rate_limits.ip_verify(policy, client)],
            phone=_wrong_codes(policy, alias, client, address, owner),
            ticket=ticket,
        )

    outcome = await charged(False)
    if isinstance(outcome, Refusal) and await _owner_passes(
        limiter, policy, outcome, alias, address, now
    ):
        outcome = await charged(True)
    if isinstance(outcome, Refusal):
        raise rate_limits.refusal_error(outcome)
    return outcome
