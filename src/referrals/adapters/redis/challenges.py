"""Login challenges in Redis: one hash per phone, each method one Lua script."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.commands.core import AsyncScript

from referrals.adapters.redis.client import RedisClient
from referrals.adapters.redis.support import cleanup_ms, text, translated_errors
from referrals.domain.challenge import Attempt, AttemptResult, Challenge
from referrals.domain.codes import alias_of
from referrals.domain.phone import Phone

# live(key, id, now) answers the fields of the login in hash ``key`` if it is
# this id's and has not expired at the caller's ``now``; an expired one is
# deleted, a newer login of the phone is left alone. Scripts pass KEYS[1] the
# phone's login hash, ARGV[1] the challenge id, ARGV[2] the caller's now.
LIVE_FUNCTION = """
local function live(key, id, now)
  local f = redis.call('HMGET', key, 'id', 'phone', 'digest', 'expires_at', 'max_attempts')
  if f[1] ~= id then return nil end
  if tonumber(f[4]) <= tonumber(now) then
    redis.call('DEL', key)
    return nil
  end
  return f
end
"""
# attempt(key, id, now, digest): {'gone'}, {'accepted', phone} or {'wrong',
# phone, attempts left}; the wrong attempt that reaches the limit burns the login.
ATTEMPT_FUNCTION = (
    LIVE_FUNCTION
    + """
local function attempt(key, id, now, digest)
  local f = live(key, id, now)
  if not f then return {'gone'} end
  if f[3] == digest then return {'accepted', f[2]} end
  local left = tonumber(f[5]) - redis.call('HINCRBY', key, 'failures', 1)
  if left <= 0 then
    redis.call('DEL', key)
    left = 0
  end
  return {'wrong', f[2], left}
end
"""
)
# put(key, argv, a): the login in hash ``key`` becomes the phone's only one;
# from argv[a] (ARGV, or a table a script made): id, phone, digest,
# expires_at, max attempts, TTL ms (``put_args``). The send gate's script
# calls it too (adapters/redis/send_gate.py).
PUT_FUNCTION = """
local function put(key, argv, a)
  redis.call('DEL', key)
  redis.call('HSET', key, 'id', argv[a], 'phone', argv[a + 1], 'digest', argv[a + 2],
    'expires_at', argv[a + 3], 'max_attempts', argv[a + 4], 'failures', 0)
  redis.call('PEXPIRE', key, argv[a + 5])
end
"""
_PUT = PUT_FUNCTION + "put(KEYS[1], ARGV, 1)"
_GET = (
    LIVE_FUNCTION
    + """
local f = live(KEYS[1], ARGV[1], ARGV[2])
if not f then return false end
return {f[2], f[3], f[4], f[5]}
"""
)
# ARGV[3] the digest of the code given.
_ATTEMPT = ATTEMPT_FUNCTION + "return attempt(KEYS[1], ARGV[1], ARGV[2], ARGV[3])"
_CONSUME = (
    LIVE_FUNCTION
    + """
if not live(KEYS[1], ARGV[1], ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
return 1
"""
)
_DISCARD = """
if redis.call('HGET', KEYS[1], 'id') == ARGV[1] then redis.call('DEL', KEYS[1]) end
"""


class RedisChallengeStore:
    """Each phone's one login as a hash ``{prefix}login:{{alias}}`` (challenge
    id, phone, code digest, expiry, attempt limit, wrong attempts), where
    ``alias`` is the phone's HMAC alias that every challenge id starts with
    (:func:`~referrals.domain.codes.challenge_id`).

    One key per phone makes "a new login supersedes the previous one" a plain
    overwrite, and every method a script over that one key: atomic on one
    server, and on Redis Cluster too (the braces put the key in the alias's
    slot). Redis runs a script with nothing else in between, so the check
    that a login is live (this id's, stored ``expires_at`` after the
    caller's ``now``) and what follows from it are one step: two consumes
    never both win, and concurrent wrong codes never get past
    ``max_attempts``. TTLs only clean up and never decide liveness, so a
    fake clock behaves as with the memory store.

    The digest comparison inside :meth:`attempt` is plain string equality,
    which may take longer the more leading characters match. That leaks
    nothing useful: the stored value is an HMAC under the server's secret,
    so a guesser cannot choose codes whose digests share a prefix with it,
    and learning how much of an unrelated digest matched says nothing about
    which code is right. Guessing stays bounded by ``max_attempts``.
    """

    def __init__(self, client: RedisClient, prefix: str) -> None:
        self.client = client
        self._prefix = prefix
        self._put = client.register_script(_PUT)
        self._get = client.register_script(_GET)
        self._attempt = client.register_script(_ATTEMPT)
        self._consume = client.register_script(_CONSUME)
        self._discard = client.register_script(_DISCARD)

    def key(self, challenge_id: str) -> str:
        """The login hash of the challenge's phone: its alias is the hash tag."""
        return f"{self._prefix}login:{{{alias_of(challenge_id)}}}"

    @staticmethod
    def put_args(challenge: Challenge, now: float) -> list[str | int]:
        """The arguments ``put`` (the Lua function) reads for ``challenge``."""
        return [
            challenge.id,
            challenge.phone,
            challenge.code_digest,
            repr(challenge.expires_at),
            challenge.max_attempts,
            cleanup_ms(challenge.expires_at - now),
        ]

    async def put(self, challenge: Challenge, now: float) -> None:
        with translated_errors():
            await self._put([self.key(challenge.id)], self.put_args(challenge, now))

    async def _run(self, script: AsyncScript, challenge_id: str, now: float, *extra: str) -> Any:
        with translated_errors():
            return await script([self.key(challenge_id)], [challenge_id, repr(now), *extra])

    async def get(self, challenge_id: str, now: float) -> Challenge | None:
        found = await self._run(self._get, challenge_id, now)
        if not found:
            return None
        phone, digest, expires_at, max_attempts = (text(v) for v in found)
        return Challenge(challenge_id, Phone(phone), digest, float(expires_at), int(max_attempts))

    async def attempt(self, challenge_id: str, code_digest: str, now: float) -> Attempt:
        return attempt_of(await self._run(self._attempt, challenge_id, now, code_digest))

    async def consume(self, challenge_id: str, now: float) -> bool:
        return bool(await self._run(self._consume, challenge_id, now))

    async def discard(self, challenge_id: str) -> None:
        with translated_errors():
            await self._discard([self.key(challenge_id)], [challenge_id])


def attempt_of(reply: Sequence[Any]) -> Attempt:
    """The :class:`Attempt` the Lua ``attempt`` answered."""
    result = AttemptResult(text(reply[0]))
    if result is AttemptResult.GONE:
        return Attempt(result)
    left = int(reply[2]) if result is AttemptResult.WRONG else 0
    return Attempt(result, Phone(text(reply[1])), left)
