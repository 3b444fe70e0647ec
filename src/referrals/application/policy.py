"""Every number of SPEC §1 in one frozen value, so library users get the same
protection as the HTTP API (the container builds it from settings)."""

from __future__ import annotations

from dataclasses import dataclass, field

from referrals.application.ports import Limit

DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class Policy:
    code_length: int = 4
    code_ttl: float = 300.0
    code_max_attempts: int = 5
    resend_cooldown: float = 60.0
    phone_send: Limit = Limit(10, DAY)
    phone_failure: Limit = Limit(10, DAY)
    ip_send: Limit = Limit(30, 3_600.0)
    ip_verify: Limit = Limit(60, 300.0)
    apply_failure: Limit = Limit(10, 3_600.0)
    session_ttl: float = 30 * DAY
    default_region: str = "RU"
    allowed_regions: frozenset[str] = field(default_factory=frozenset)
    expose_codes: bool = False
    """Return the code in the login result (demos and tests; refused in prod)."""
    page_size: int = 100
    max_page_size: int = 1_000
    delivery_lease: float = 30.0
    """Seconds one worker may spend sending one SMS before another may retry."""
