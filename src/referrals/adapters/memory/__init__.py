"""In-memory adapters of every port, public.

They are the embedded default's stores and the fakes for tests, including
other services' tests: each passes the same contract suite as the real
adapters (:mod:`referrals.testing.contracts`). They live in one process and
one event loop; state is lost on exit.
"""

from referrals.adapters.memory.activity import InMemoryActivityLog
from referrals.adapters.memory.challenges import InMemoryChallengeStore
from referrals.adapters.memory.circuit import InMemoryCircuitBreaker
from referrals.adapters.memory.conversion import InMemoryConversionLog
from referrals.adapters.memory.cooldowns import InMemoryCooldowns
from referrals.adapters.memory.deliveries import InMemoryDeliveries
from referrals.adapters.memory.delivery import (
    InMemoryDeliveryLedger,
    RecordingCodeSender,
    RecordingSmsGateway,
    SentSms,
)
from referrals.adapters.memory.delivery_log import InMemoryDeliveryLog
from referrals.adapters.memory.rate_limiter import InMemoryRateLimiter
from referrals.adapters.memory.sender import InProcessCodeSender
from referrals.adapters.memory.sessions import InMemorySessionStore
from referrals.adapters.memory.spend import InMemorySpendLedger
from referrals.adapters.memory.users import InMemoryUnitOfWork, InMemoryUsers

__all__ = [
    "InMemoryActivityLog",
    "InMemoryChallengeStore",
    "InMemoryCircuitBreaker",
    "InMemoryConversionLog",
    "InMemoryCooldowns",
    "InMemoryDeliveries",
    "InMemoryDeliveryLedger",
    "InMemoryDeliveryLog",
    "InMemoryRateLimiter",
    "InMemorySessionStore",
    "InMemorySpendLedger",
    "InMemoryUnitOfWork",
    "InMemoryUsers",
    "InProcessCodeSender",
    "RecordingCodeSender",
    "RecordingSmsGateway",
    "SentSms",
]
