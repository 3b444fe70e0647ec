"""The quotas of SPEC §1 by name, and the refusal each one answers with."""

from __future__ import annotations

from referrals.application.errors import RateLimited, TooManyAttempts
from referrals.application.policy import Policy
from referrals.application.ports import Limit, Quota, Refusal


def cooldown(policy: Policy, phone: str) -> Quota:
    return Quota(f"cooldown:{phone}", Limit(1, policy.resend_cooldown))


def phone_send(policy: Policy, phone: str) -> Quota:
    return Quota(f"send:phone:{phone}", policy.phone_send)


def ip_send(policy: Policy, ip: str) -> Quota:
    return Quota(f"send:ip:{ip}", policy.ip_send)


def phone_failure(policy: Policy, phone: str, *, count: bool) -> Quota:
    return Quota(f"fail:phone:{phone}", policy.phone_failure, count=count)


def ip_verify(policy: Policy, ip: str) -> Quota:
    return Quota(f"verify:ip:{ip}", policy.ip_verify)


def apply_failure(policy: Policy, user_id: int, *, count: bool) -> Quota:
    return Quota(f"fail:apply:{user_id}", policy.apply_failure, count=count)


def refusal_error(refusal: Refusal) -> RateLimited:
    """Limits on guessing are :class:`TooManyAttempts`; on sending, :class:`RateLimited`."""
    guessing = refusal.quota.key.startswith(("fail:", "verify:"))
    return (TooManyAttempts if guessing else RateLimited)(refusal.retry_after)
