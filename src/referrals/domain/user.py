"""The user and the rules of applying someone's invite code."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from referrals.domain.codes import InviteCode
from referrals.domain.errors import (
    DomainError,
    OwnReferralCode,
    ReferralAlreadyApplied,
    ReferralCodeNotFound,
    ReferralCycle,
)
from referrals.domain.integrity import Action
from referrals.domain.phone import Phone


@dataclass(frozen=True, slots=True)
class User:
    """A person who logged in at least once.

    ``referrer_id`` and ``used_invite_code`` are set at most once, together,
    when the user applies someone's code (a held referral's are cleared
    again if an operator voids it); ``referred_count`` is how many
    users applied this user's code. ``created_by`` names the login that
    created the user (see :func:`~referrals.domain.codes.login_tag`) until
    one of the user's logins succeeds: then it is ``None`` for good.
    """

    id: int
    phone: Phone
    invite_code: InviteCode
    referrer_id: int | None = None
    used_invite_code: InviteCode | None = None
    referred_count: int = 0
    created_by: str | None = None
    referral_status: str | None = None
    """``pending_review`` while the referral is held (docs/rules.md,
    "Referral integrity"); ``None`` when applied, or when there is none."""
    referral_signals: tuple[str, ...] = ()
    """The self-referral signals the referral was decided with."""
    cooldown_until: float | None = None
    """When the re-registration cooldown of the user's number ends
    (``docs/account.md``), as it ran when the user was created on it or
    moved to it; ``None``: none ran; :data:`COOLDOWN_UNKNOWN`: the row
    predates the column (migration 0008), so the store is asked."""

    def cooling_down(self, now: float) -> bool:
        """Whether the user's number is still in its cooldown at ``now``:
        no invite code applies (``ReferralCooldown``)."""
        return self.cooldown_until is not None and self.cooldown_until > now

    @property
    def referral_held(self) -> bool:
        """Whether the user's referral waits for an operator's review."""
        return self.referral_status is not None

    @property
    def erased(self) -> bool:
        """Whether the account was deleted: its row stays, anonymous, so the
        referral counts stay true (``docs/account.md``)."""
        return self.phone.startswith(ERASED_MARK)


COOLDOWN_UNKNOWN = 0.0
"""``User.cooldown_until`` of a user who had not applied a code when
migration 0008 added the column: whether their number cools down is read
from the cooldowns' store when they apply (``ApplyReferral``). No cooldown
ends at the epoch, so the rows' check lets it through."""

ERASED_MARK = "~"
"""What a deleted account's phone starts with: no phone number does (E.164
starts with ``+``)."""
DELETED_USER = "deleted user"
"""How a deleted account shows in someone's list of referrals."""


def erased_phone(user_id: int) -> Phone:
    """What a deleted account keeps in place of its phone: unique, and no number."""
    return Phone(f"{ERASED_MARK}{user_id}")


def ensure_can_apply(user: User, owner: User | None, owner_referrers: Collection[int]) -> User:
    """Raise the refusal that applies, if any, to ``user`` entering ``owner``'s code.

    ``owner`` is the user whose invite code was entered (``None``: no such
    code). ``owner_referrers`` are the ids of everyone above the owner in the
    referral chain (the owner's referrer, theirs, and so on). Applying the
    code makes the owner the user's referrer, so if the user is already above
    the owner, the new link would close a cycle of some length. Returns the
    owner, who is then the user's referrer-to-be.
    """
    if user.referrer_id is not None:
        raise ReferralAlreadyApplied()
    if owner is None:
        raise ReferralCodeNotFound()
    if owner.id == user.id:
        raise OwnReferralCode()
    if user.id in owner_referrers:
        raise ReferralCycle()
    return owner


@dataclass(frozen=True, slots=True)
class AppliedCode:
    """What applying an invite code did (``UserRepository.apply_code``)."""

    user: User | None
    """The user as they are now, their referrer set if it was applied;
    ``None``: no such user."""
    referrer: User | None
    """The code's owner, who became the user's referrer (``None`` if refused)."""
    refusal: DomainError | None
    """The rule that refused it (:func:`ensure_can_apply`'s); nothing was written."""
    page: list[Referral]
    """The user's first referrals, as a profile reads them (none if refused)."""
    signals: tuple[str, ...] = ()
    """The self-referral signals it was decided with (once the rules passed)."""
    action: Action = Action.ALLOW
    """What they decided: ``hold`` wrote it ``pending_review``, ``refuse``
    is ``refusal`` (``SuspectedSelfReferral``)."""


@dataclass(frozen=True, slots=True)
class Referral:
    """One user who applied someone's code; ``rank`` is 1 for the first."""

    rank: int
    phone: Phone


@dataclass(frozen=True, slots=True)
class Totals:
    """Figures over all users, for operators."""

    users: int
    users_since: int
    """Users created at or after the ``since`` asked for."""
    referrals: int
    """Users who applied someone's code (held ones not yet: they await review)."""
    referrals_since: int
    top_referrers: list[User]
    """Users with the most referrals, most first (ties: lower id first)."""
