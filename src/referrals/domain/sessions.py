"""A live session as its owner or an operator sees it (docs/account.md)."""

from __future__ import annotations

from dataclasses import dataclass

from referrals.domain.device import Device


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A live session as its owner or an operator sees it: never its token."""

    session_id: str
    """The SHA-256 of the token (what the store keys it by): opens nothing."""
    expires_at: float
    created_at: float
    last_seen: float
    """When it was last used, within :data:`~referrals.domain.device.SEEN_STEP`."""
    device: Device
