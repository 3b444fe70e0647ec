"""The self-referral signals of an application, as ApplyReferral reads them
(docs/rules.md, "Referral integrity").

* ``code_burst``: applications of one invite code from one client network
  (an IPv4 /24, an IPv6 network of ``ipv6_network_prefix`` bits, as
  :func:`~referrals.application.lockout.usual_network` groups them) are
  counted in the rate-limit store (``apply:code:{code}``, per network);
  past ``referral_burst`` in its window, each is flagged. The count rides
  in the acquisition that charges the user's unknown-code quota: no round
  trip of its own, one more only when it fires (to charge that quota alone).
* ``same_network``: the code's owner logged in within ``referral_window``
  from the network the applier applies from (its /24, IPv6 /48, as the
  login history keeps it, ``REFERRALS_HISTORY_KEEP``).
* ``same_device``: the owner logged in within the window with the device
  the applier applies from, or one the applier logged in with in that
  window. Devices are compared by key
  (:func:`~referrals.domain.integrity.device_key`), never raw.

The last two are read from the login history after the charge (an
application refused by its limit costs the database nothing), in the
repository's step that applies the code (``UserRepository.apply_code``: on
PostgreSQL in its one statement), from the :class:`Screening`
:meth:`Signals.screening` gives. Only global addresses
count as networks: a loopback, private or documentation address is what
a server sees behind a proxy it was not told to trust
(``REFERRALS_TRUSTED_PROXIES``), where every caller would share one
network. Without a client address (a library call) neither network signal
fires.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from referrals.application import rate_limits
from referrals.application.lockout import usual_network
from referrals.application.policy import Policy
from referrals.application.ports import RateLimiter
from referrals.domain.codes import InviteCode
from referrals.domain.device import mask_address
from referrals.domain.integrity import (
    CODE_BURST,
    Screening,
    decide,
    device_key,
    ordered,
)
from referrals.domain.limits import Quota, Rule

__all__ = ["Signals", "burst_quota", "decide", "ordered", "public"]


def public(address: str) -> bool:
    """Whether ``address`` is a global one (IPv4-mapped IPv6 as its IPv4)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global


def burst_quota(policy: Policy, code: InviteCode, address: str) -> Quota:
    """Applications of ``code`` from ``address``'s network."""
    network = usual_network(address, policy.ipv6_network_prefix)
    rule = Rule(CODE_BURST, policy.referral_burst, per_client=True)
    return Quota(f"apply:code:{code}", (rule,), client=network)


@dataclass(frozen=True, slots=True)
class Signals:
    """Reads the signals of one application."""

    policy: Policy
    limiter: RateLimiter
    secret: bytes = field(repr=False)

    async def charge(
        self, failures: Quota, code: InviteCode, address: str, now: float, ticket: str
    ) -> tuple[str, ...]:
        """Charge ``failures`` (raising its limit's error when full) and count
        the application toward ``code_burst``; the signals that fired."""
        quotas = [failures]
        if public(address):
            quotas.append(burst_quota(self.policy, code, address))
        refusal = await self.limiter.acquire(quotas, now, ticket)
        if refusal is None:
            return ()
        if refusal.rule.name != CODE_BURST:
            raise rate_limits.refusal_error(refusal)
        refusal = await self.limiter.acquire([failures], now, ticket)
        if refusal is not None:
            raise rate_limits.refusal_error(refusal)
        return (CODE_BURST,)

    def screening(
        self, flagged: tuple[str, ...], address: str, device: str | None, now: float
    ) -> Screening:
        """What the repository decides the application's action from, with
        ``same_network`` and ``same_device`` read from the login history in
        the step that applies it."""
        return Screening(
            self.policy.referral_policy,
            flagged,
            mask_address(address) if public(address) else "",
            device_key(self.secret, device),
            now - self.policy.referral_window,
        )
