"""Redis adapters: challenges, sessions, rate limits, the delivery ledger and log, circuits.

Every check-then-write is one Lua script or one command, so it is atomic
across all the processes that share the server. Every script touches one
key (the rate limiter's, one per quota when on a cluster), so all of them
run on Redis Cluster too (``redis+cluster://`` URLs, see
:func:`connect_redis`). Every expiry is decided with the caller's ``now``;
Redis TTLs only clean up. Driver errors leave as
:class:`~referrals.application.errors.ServiceUnavailable`.
"""

from referrals.adapters.redis.activity import RedisActivityLog
from referrals.adapters.redis.challenges import RedisChallengeStore
from referrals.adapters.redis.circuit import RedisCircuitBreaker
from referrals.adapters.redis.client import RedisClient, connect_redis
from referrals.adapters.redis.conversion import RedisConversionLog
from referrals.adapters.redis.cooldowns import RedisCooldowns
from referrals.adapters.redis.delivery import RedisDeliveryLedger
from referrals.adapters.redis.delivery_log import RedisDeliveryLog
from referrals.adapters.redis.rate_limiter import RedisRateLimiter
from referrals.adapters.redis.sessions import RedisSessionStore
from referrals.adapters.redis.spend import RedisSpendLedger

__all__ = [
    "RedisActivityLog",
    "RedisChallengeStore",
    "RedisCircuitBreaker",
    "RedisClient",
    "RedisConversionLog",
    "RedisCooldowns",
    "RedisDeliveryLedger",
    "RedisDeliveryLog",
    "RedisRateLimiter",
    "RedisSessionStore",
    "RedisSpendLedger",
    "connect_redis",
]
