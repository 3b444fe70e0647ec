"""Applying an invite code step by step, over a repository's primitives.

What :meth:`~referrals.application.ports.UserRepository.apply_code` does on
the adapters with no one-statement form of it (memory, SQLite, a host's
transaction): the user locked, the code's owner read, the chain above them
held, the rules checked, then the number's cooldown (``User.cooling_down``),
the policy's action taken, the referral written, the profile page read. The
PostgreSQL repository does the same in one statement (docs/performance.md).
"""

from __future__ import annotations

from referrals.application.ports import UserRepository
from referrals.domain.codes import InviteCode
from referrals.domain.errors import DomainError, ReferralCooldown, SuspectedSelfReferral
from referrals.domain.integrity import SAME_DEVICE, SAME_NETWORK, Action, Screening
from referrals.domain.user import AppliedCode, ensure_can_apply


async def apply_in_steps(
    users: UserRepository,
    user_id: int,
    code: InviteCode,
    limit: int,
    screening: Screening | None = None,
    now: float | None = None,
) -> AppliedCode:
    """``users.apply_code(…)``, one step after another."""
    user = await users.lock(user_id)
    if user is None:
        return AppliedCode(None, None, None, [])
    owner = await users.get_by_invite_code(code)
    if owner is not None and owner.erased:  # a deleted account's code is retired
        owner = None
    chain: list[int] = []
    if owner is not None and owner.id != user.id and user.referrer_id is None:
        chain = await users.referrers_of(owner.id)
    try:
        referrer = ensure_can_apply(user, owner, chain)
    except DomainError as refusal:
        return AppliedCode(user, None, refusal, [])
    if now is not None and user.cooling_down(now):
        return AppliedCode(user, None, ReferralCooldown(), [])
    signals, action = await _screened(users, user_id, code, screening or Screening())
    if action is Action.REFUSE:
        return AppliedCode(user, None, SuspectedSelfReferral(signals), [], signals, action)
    await users.set_referrer(user, referrer, signals=signals, held=action is Action.HOLD)
    found = await users.profile(user_id, 0, limit)
    if found is None:  # held since the lock: cannot happen
        raise RuntimeError(f"user {user_id} vanished while locked")
    return AppliedCode(found[0], referrer, None, found[1], signals, action)


async def _screened(
    users: UserRepository, user_id: int, code: InviteCode, screening: Screening
) -> tuple[tuple[str, ...], Action]:
    shared: list[str] = []
    if screening.since is not None:
        network, device = await users.shared_logins(
            user_id, code, screening.network, screening.device, screening.since
        )
        shared = [SAME_NETWORK] * network + [SAME_DEVICE] * device
    return screening.decided(shared)
