"""What ends a login whose code was right: the consume, the session, the notes."""

from __future__ import annotations

from dataclasses import dataclass

from referrals.domain.delivery import DeliveryRecord, DeliveryStep
from referrals.domain.limits import Quota
from referrals.domain.sessions import SessionInfo


@dataclass(frozen=True, slots=True)
class Completion:
    """A login to end: its challenge consumed and, for the one caller that
    consumed it, its session opened; then the login's notes, each kept at
    best (a store that is down loses it, the login stands)."""

    challenge_id: str
    user_id: int
    session: SessionInfo
    """The session to open; its ``created_at`` is now."""
    usual: Quota | None = None
    """The owner's usual network to count (see ``application/lockout.py``)."""
    verified: tuple[str, ...] = ()
    """The conversion groups that count this login verified (docs/rules.md, *SMS pumping*)."""
    keep: float = 0.0
    """How long those counts are kept."""
    mark: DeliveryStep | None = None
    """The step to add to the login's delivery record: its code was used."""


@dataclass(frozen=True, slots=True)
class Completed:
    consumed: bool
    """Whether this call consumed the challenge (and so opened the session)."""
    record: DeliveryRecord | None = None
    """The login's delivery record with the mark, if there is one and it was told."""
