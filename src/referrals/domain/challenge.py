"""A login in progress: a phone waiting for its one-time code to come back."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from referrals.domain.phone import Phone


@dataclass(frozen=True, slots=True)
class Challenge:
    """What a challenge store keeps for one login request.

    ``id`` is the SHA-256 of the token the client holds; ``code_digest`` the
    HMAC of the code; neither the token nor the code is stored.
    """

    id: str
    phone: Phone
    code_digest: str
    expires_at: float
    max_attempts: int


class AttemptResult(enum.Enum):
    ACCEPTED = "accepted"
    """The code is right; the challenge is still there until consumed."""
    WRONG = "wrong"
    """The code is wrong; the attempt was counted (and at the limit, burned)."""
    GONE = "gone"
    """No live challenge: unknown, expired, consumed, superseded or burned."""


@dataclass(frozen=True, slots=True)
class Attempt:
    result: AttemptResult
    phone: Phone | None = None
    attempts_left: int = 0
    cooldown_until: float | None = None
    """For an accepted code: when the phone's re-registration cooldown ends
    (``docs/account.md``), if one runs; read with the code in one step
    where the stores allow (``CodeCheck``)."""
