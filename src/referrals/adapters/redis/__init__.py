"""Redis adapters: challenges, sessions, rate limits, the delivery ledger and log, circuits.

Every check-then-write is one Lua script or one command, so it is atomic
across all the processes that share the server. On Redis Cluster every
script touches one slot (the rate limiter's and the send gate's, one per
quota, pumping group or the spend; the code check's, the keys of one phone,
which share its alias as hash tag), so all of them run there too
(``redis+cluster://`` URLs, see
:func:`connect_redis`). Every expiry is decided with the caller's ``now``;
Redis TTLs only clean up. Driver errors leave as
:class:`~referrals.application.errors.ServiceUnavailable`.
"""

from referrals.adapters.redis.activity import RedisActivityLog
from referrals.adapters.redis.challenges import RedisChallengeStore
from referrals.adapters.redis.circuit import RedisCircuitBreaker
from referrals.adapters.redis.client import RedisClient, connect_redis
from referrals.adapters.redis.code_check import RedisCodeCheck
from referrals.adapters.redis.completion import RedisCompletion
from referrals.adapters.redis.conversion import RedisConversionLog
from referrals.adapters.redis.cooldowns import RedisCooldowns
from referrals.adapters.redis.delivery import RedisDeliveryLedger
from referrals.adapters.redis.delivery_log import RedisDeliveryLog
from referrals.adapters.redis.rate_limiter import RedisRateLimiter
from referrals.adapters.redis.send_gate import RedisSendGate
from referrals.adapters.redis.sessions import RedisSessionStore
from referrals.adapters.redis.spend import RedisSpendLedger

__all__ = [
    "RedisActivityLog",
    "RedisChallengeStore",
    "RedisCircuitBreaker",
    "RedisClient",
    "RedisCodeCheck",
    "RedisCompletion",
    "RedisConversionLog",
    "RedisCooldowns",
    "RedisDeliveryLedger",
    "RedisDeliveryLog",
    "RedisRateLimiter",
    "RedisSendGate",
    "RedisSessionStore",
    "RedisSpendLedger",
    "connect_redis",
]
