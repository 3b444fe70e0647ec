"""The end of a login in Redis: one round trip on one server."""

from __future__ import annotations

import secrets

from redis.asyncio.cluster import RedisCluster

from referrals.adapters.redis.challenges import LIVE_FUNCTION, RedisChallengeStore
from referrals.adapters.redis.conversion import RedisConversionLog
from referrals.adapters.redis.delivery_log import RedisDeliveryLog, record_of
from referrals.adapters.redis.rate_limiter import RedisRateLimiter
from referrals.adapters.redis.sessions import RedisSessionStore
from referrals.adapters.redis.support import ScriptCall, run_in_one_trip
from referrals.application.completion import StepwiseCompletion, lost
from referrals.application.errors import ServiceUnavailable
from referrals.domain.completion import Completed, Completion

# KEYS[1] the phone's login hash, [2] the session, [3] the user's sessions.
# ARGV[1] the challenge id, [2] now; then what RedisSessionStore.creation
# gives: [3] the session's value, [4] its TTL ms, [5] its id, [6] its
# expiry, [7] now. 1 if this call consumed the login (and wrote the session).
_COMPLETE = (
    LIVE_FUNCTION
    + """
if not live(KEYS[1], ARGV[1], ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[7])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
return 1
"""
)


class RedisCompletion:
    """:class:`~referrals.application.ports.LoginCompletion` over the Redis
    stores of one client.

    On one server, one pipeline (one round trip): a script that consumes
    the login and writes the session only if it did (so no other caller
    ever holds a session of a consumed login, and there is nothing to
    revoke), then the notes' scripts (the usual network, the verified
    counts, the delivery record's mark), which run whatever the consume
    did. On Redis Cluster the session and the login live in different
    slots: :class:`StepwiseCompletion` (session, consume, revoke if lost).
    """

    def __init__(
        self,
        challenges: RedisChallengeStore,
        sessions: RedisSessionStore,
        limiter: RedisRateLimiter,
        conversion: RedisConversionLog | None = None,
        delivery_log: RedisDeliveryLog | None = None,
    ) -> None:
        self._client = challenges.client
        self._challenges, self._sessions, self._limiter = challenges, sessions, limiter
        self._conversion, self._delivery_log = conversion, delivery_log
        self._stepwise = StepwiseCompletion(challenges, sessions, limiter, conversion, delivery_log)
        self._cluster = isinstance(self._client, RedisCluster)
        self._complete = self._client.register_script(_COMPLETE)

    async def complete(self, completion: Completion) -> Completed:
        if self._cluster:
            return await self._stepwise.complete(completion)
        notes = self._notes(completion)
        consumed, *replies = await run_in_one_trip(
            self._client, [self._consume(completion), *(call for _, call in notes)]
        )
        if isinstance(consumed, ServiceUnavailable):
            raise consumed
        record = None
        for (note, _), reply in zip(notes, replies, strict=True):
            if isinstance(reply, ServiceUnavailable):
                lost(note)
            elif note == "delivery record":
                record = record_of(completion.challenge_id, reply)
        return Completed(consumed=bool(int(consumed)), record=record)

    def _consume(self, completion: Completion) -> ScriptCall:
        keys, args = self._sessions.creation(completion.user_id, completion.session)
        login = self._challenges.key(completion.challenge_id)
        now = repr(completion.session.created_at)
        return ScriptCall(self._complete, [login, *keys], [completion.challenge_id, now, *args])

    def _notes(self, completion: Completion) -> list[tuple[str, ScriptCall]]:
        """Each note's script, under the name a log gives it if it is lost."""
        now = completion.session.created_at
        notes = []
        if completion.usual is not None:
            ticket = secrets.token_hex(8)
            notes.append(
                ("usual network", self._limiter.acquire_call([completion.usual], now, ticket))
            )
        if self._conversion is not None and completion.verified:
            counts = self._conversion.add_calls(
                completion.verified, "verified", now, completion.keep
            )
            notes += [("conversion count", call) for call in counts]
        if self._delivery_log is not None and completion.mark is not None:
            mark = self._delivery_log.add_call(completion.challenge_id, completion.mark)
            notes.append(("delivery record", mark))
        return notes
