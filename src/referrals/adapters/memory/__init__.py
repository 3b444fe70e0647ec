"""In-memory adapters of every port.

They are the embedded default's stores and the fakes for tests, including
other services' tests: each passes the same contract suite as the real
adapters. They live in one process and one event loop; state is lost on exit.
"""

from referrals.adapters.memory.challenges import InMemoryChallengeStore
from referrals.adapters.memory.clock import FakeClock, SystemClock
from referrals.adapters.memory.delivery import (
    InMemoryDeliveryLedger,
    RecordingCodeSender,
    RecordingSmsGateway,
)
from referrals.adapters.memory.rate_limiter import InMemoryRateLimiter
from referrals.adapters.memory.sessions import InMemorySessionStore
from referrals.adapters.memory.users import InMemoryUnitOfWork, InMemoryUsers

__all__ = [
    "FakeClock",
    "InMemoryChallengeStore",
    "InMemoryDeliveryLedger",
    "InMemoryRateLimiter",
    "InMemorySessionStore",
    "InMemoryUnitOfWork",
    "InMemoryUsers",
    "RecordingCodeSender",
    "RecordingSmsGateway",
    "SystemClock",
]
