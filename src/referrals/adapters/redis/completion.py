"""The end of a login in Redis: one round trip on one server, the counts stats reads with it."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from redis.asyncio.cluster import RedisCluster

from referrals.adapters.redis.activity import TTL, RedisActivityLog
from referrals.adapters.redis.challenges import LIVE_FUNCTION, RedisChallengeStore
from referrals.adapters.redis.conversion import RedisConversionLog
from referrals.adapters.redis.delivery_log import RedisDeliveryLog, record_of
from referrals.adapters.redis.rate_limiter import RedisRateLimiter
from referrals.adapters.redis.sessions import RedisSessionStore
from referrals.adapters.redis.support import ScriptCall, run_in_one_trip
from referrals.application.activity import CODE_VERIFIED, per_channel
from referrals.application.completion import StepwiseCompletion, lost
from referrals.application.errors import ServiceUnavailable
from referrals.domain.completion import Completed, Completion

# KEYS[1] the phone's login hash, [2] the session, [3] the user's sessions,
# [4] the login's delivery record; then, when counted, [5] the hour's count
# of logins verified and from [6] its count per channel.
# ARGV[1] the challenge id, [2] now; then what RedisSessionStore.creation
# gives: [3] the session's value, [4] its TTL ms, [5] its id, [6] its
# expiry, [7] now; [8] the mark's entry ('' for none), [9] the counts' TTL
# seconds, from [10] the channels of KEYS[6..] in order.
# {0} if this call did not consume the login; else {1} and, if the record
# was marked, its entries.
_COMPLETE = (
    LIVE_FUNCTION
    + """
if not live(KEYS[1], ARGV[1], ARGV[2]) then return {0} end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[7])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
local entries = false
if ARGV[8] ~= '' and redis.call('EXISTS', KEYS[4]) == 1 then
  redis.call('RPUSH', KEYS[4], ARGV[8])
  entries = redis.call('LRANGE', KEYS[4], 0, -1)
end
local function count(key)
  if redis.call('INCR', key) == 1 then redis.call('EXPIRE', key, ARGV[9]) end
end
if #KEYS >= 5 then count(KEYS[5]) end
if entries and #KEYS >= 6 then
  -- the channel that carries the code, as DeliveryRecord.channel says:
  -- the last that delivered it, else the last that accepted it
  local delivered, sent
  for i = 2, #entries do
    local ok, step = pcall(cjson.decode, entries[i])
    if ok and type(step) == 'table' then
      if step[2] == 'delivered' then delivered = step[3] end
      if step[2] == 'sent' then sent = step[3] end
    end
  end
  local channel = delivered or sent
  for i = 6, #KEYS do
    if ARGV[i + 4] == channel then count(KEYS[i]) end
  end
end
if entries then return {1, entries} end
return {1}
"""
)


class RedisCompletion:
    """:class:`~referrals.application.ports.LoginCompletion` over the Redis
    stores of one client.

    On one server, one pipeline (one round trip): a script that consumes
    the login and, only if it did, writes the session (so no other caller
    ever holds a session of a consumed login, and there is nothing to
    revoke), marks the login's delivery record and counts the login
    verified for ``referrals stats``: in the hour, and by the channel that
    carried its code (the record's, found in the script; ``channels`` are
    those stats reads, each count's key declared to the script). Then the
    notes' scripts (the usual network, the pumping counts), which run
    whatever the consume did. On Redis Cluster the session and the login
    live in different slots: :class:`StepwiseCompletion` (session, consume,
    revoke if lost, then the rest side by side).
    """

    def __init__(
        self,
        challenges: RedisChallengeStore,
        sessions: RedisSessionStore,
        limiter: RedisRateLimiter,
        conversion: RedisConversionLog | None = None,
        delivery_log: RedisDeliveryLog | None = None,
        activity: RedisActivityLog | None = None,
        channels: Sequence[str] = (),
    ) -> None:
        self._client = challenges.client
        self._challenges, self._sessions, self._limiter = challenges, sessions, limiter
        self._conversion, self._delivery_log = conversion, delivery_log
        self._activity, self._channels = activity, tuple(channels)
        self._stepwise = StepwiseCompletion(
            challenges, sessions, limiter, conversion, delivery_log, activity
        )
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
        for (note, _), reply in zip(notes, replies, strict=True):
            if isinstance(reply, ServiceUnavailable):
                lost(note)
        if not int(consumed[0]):
            return Completed(consumed=False)
        entries = consumed[1] if len(consumed) > 1 else None
        return Completed(consumed=True, record=record_of(completion.challenge_id, entries))

    def _consume(self, completion: Completion) -> ScriptCall:
        keys, args = self._sessions.creation(completion.user_id, completion.session)
        login = self._challenges.key(completion.challenge_id)
        now = completion.session.created_at
        mark, record = "", login  # no record: the login's key, never touched
        if self._delivery_log is not None and completion.mark is not None:
            entry = self._delivery_log.add_call(completion.challenge_id, completion.mark)
            mark, record = str(entry.args[0]), entry.keys[0]
        counts: list[str] = []
        if self._activity is not None:
            names = [CODE_VERIFIED, *(per_channel(CODE_VERIFIED, c) for c in self._channels)]
            counts = [self._activity.key(name, now) for name in names]
        return ScriptCall(
            self._complete,
            [login, *keys, record, *counts],
            [completion.challenge_id, repr(now), *args, mark, TTL, *self._channels],
        )

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
        return notes
