"""Login challenges in Redis, each method one Lua script."""

from __future__ import annotations

from typing import Any

import redis.asyncio
from redis.commands.core import AsyncScript

from referrals.adapters.redis.support import cleanup_ms, text, translated_errors
from referrals.domain.challenge import Attempt, AttemptResult, Challenge
from referrals.domain.phone import Phone

# Shared by the scripts below. ARGV[1] is the challenge id, ARGV[2] the
# caller's now, ARGV[3] the key prefix; KEYS[1] is the challenge's hash.
_LIVE = """
local function drop(key, pointer, id)
  redis.call('DEL', key)
  if redis.call('GET', pointer) == id then redis.call('DEL', pointer) end
end
local function live()
  local f = redis.call('HMGET', KEYS[1], 'phone', 'digest', 'expires_at', 'max_attempts')
  if not f[1] then return nil end
  local pointer = ARGV[3] .. 'challenge-phone:' .. f[1]
  if tonumber(f[3]) <= tonumber(ARGV[2]) or redis.call('GET', pointer) ~= ARGV[1] then
    drop(KEYS[1], pointer, ARGV[1])
    return nil
  end
  return f, pointer
end
"""

# KEYS[2] the phone's pointer; ARGV[1] id, [2] prefix, [3..6] fields, [7] TTL ms.
_PUT = """
local previous = redis.call('GET', KEYS[2])
if previous and previous ~= ARGV[1] then redis.call('DEL', ARGV[2] .. 'challenge:' .. previous) end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'phone', ARGV[3], 'digest', ARGV[4], 'expires_at', ARGV[5],
  'max_attempts', ARGV[6], 'failures', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[7])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[7])
"""
_GET = _LIVE + "return live() or false"
# ARGV[4] the digest of the code given.
_ATTEMPT = (
    _LIVE
    + """
local f, pointer = live()
if not f then return {'gone'} end
if f[2] == ARGV[4] then return {'accepted', f[1]} end
local left = tonumber(f[4]) - redis.call('HINCRBY', KEYS[1], 'failures', 1)
if left <= 0 then
  drop(KEYS[1], pointer, ARGV[1])
  left = 0
end
return {'wrong', f[1], left}
"""
)
_CONSUME = (
    _LIVE
    + """
local f, pointer = live()
if not f then return 0 end
drop(KEYS[1], pointer, ARGV[1])
return 1
"""
)
# ARGV[1] id, [2] prefix.
_DISCARD = """
local phone = redis.call('HGET', KEYS[1], 'phone')
redis.call('DEL', KEYS[1])
if phone then
  local pointer = ARGV[2] .. 'challenge-phone:' .. phone
  if redis.call('GET', pointer) == ARGV[1] then redis.call('DEL', pointer) end
end
"""


class RedisChallengeStore:
    """Challenges as hashes ``{prefix}challenge:{id}`` (phone, code digest,
    expiry, attempt limit, wrong attempts) plus ``{prefix}challenge-phone:{phone}``,
    the id of the phone's one live challenge.

    Each method is one Lua script, and Redis runs a script with nothing else
    in between: the check that a challenge is live (stored ``expires_at``
    after the caller's ``now``, and still its phone's current one) and what
    follows from it happen as one step. So two consumes never both win, and
    concurrent wrong codes never get past ``max_attempts``. A challenge that
    stops being live is deleted when next touched; TTLs clean up the rest
    and never decide liveness, so a fake clock behaves as with the memory store.

    Scripts derive some key names from the prefix, so this needs one Redis
    server (with replicas if wanted), not Redis Cluster.

    The digest comparison inside :meth:`attempt` is plain string equality,
    which may take longer the more leading characters match. That leaks
    nothing useful: the stored value is an HMAC under the server's secret,
    so a guesser cannot choose codes whose digests share a prefix with it,
    and learning how much of an unrelated digest matched says nothing about
    which code is right. Guessing stays bounded by ``max_attempts``.
    """

    def __init__(self, client: redis.asyncio.Redis, prefix: str) -> None:
        self._prefix = prefix
        self._put = client.register_script(_PUT)
        self._get = client.register_script(_GET)
        self._attempt = client.register_script(_ATTEMPT)
        self._consume = client.register_script(_CONSUME)
        self._discard = client.register_script(_DISCARD)

    def _key(self, challenge_id: str) -> str:
        return f"{self._prefix}challenge:{challenge_id}"

    async def put(self, challenge: Challenge, now: float) -> None:
        keys = [self._key(challenge.id), f"{self._prefix}challenge-phone:{challenge.phone}"]
        args: list[str | int] = [
            challenge.id,
            self._prefix,
            challenge.phone,
            challenge.code_digest,
            repr(challenge.expires_at),
            challenge.max_attempts,
            cleanup_ms(challenge.expires_at - now),
        ]
        with translated_errors():
            await self._put(keys, args)

    async def _run(self, script: AsyncScript, challenge_id: str, now: float, *extra: str) -> Any:
        with translated_errors():
            return await script(
                [self._key(challenge_id)], [challenge_id, repr(now), self._prefix, *extra]
            )

    async def get(self, challenge_id: str, now: float) -> Challenge | None:
        found = await self._run(self._get, challenge_id, now)
        if not found:
            return None
        phone, digest, expires_at, max_attempts = (text(v) for v in found)
        return Challenge(challenge_id, Phone(phone), digest, float(expires_at), int(max_attempts))

    async def attempt(self, challenge_id: str, code_digest: str, now: float) -> Attempt:
        reply = await self._run(self._attempt, challenge_id, now, code_digest)
        result = AttemptResult(text(reply[0]))
        if result is AttemptResult.GONE:
            return Attempt(result)
        left = int(reply[2]) if result is AttemptResult.WRONG else 0
        return Attempt(result, Phone(text(reply[1])), left)

    async def consume(self, challenge_id: str, now: float) -> bool:
        return bool(await self._run(self._consume, challenge_id, now))

    async def discard(self, challenge_id: str) -> None:
        with translated_errors():
            await self._discard([self._key(challenge_id)], [challenge_id, self._prefix])
