"""Per-channel circuits in Redis, shared by every worker: one hash per channel."""

from __future__ import annotations

from referrals.adapters.redis.client import RedisClient
from referrals.adapters.redis.support import cleanup_ms, text, translated_errors
from referrals.domain.delivery import CircuitState

# One hash per channel: open_until (while open or half open), probe_until,
# failures (the recent failure times, spaces between). KEYS[1] the hash.
# _STATE is domain.delivery.circuit_state, in Lua.
_STATE = """
local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '')
if not open_until then return 'closed' end
if tonumber(ARGV[1]) < open_until then return 'open' end
return 'half_open'
"""
# ARGV[1] now, [2] probe lease: a half-open circuit grants one probe per lease.
_ALLOWS = """
local now = tonumber(ARGV[1])
local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '')
if not open_until then return 'closed' end
if now < open_until then return 'open' end
if now < tonumber(redis.call('HGET', KEYS[1], 'probe_until') or '0') then return 'open' end
redis.call('HSET', KEYS[1], 'probe_until', tostring(now + tonumber(ARGV[2])))
return 'probe'
"""
# ARGV[1] now.
_SUCCEEDED = """
local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '')
if open_until and tonumber(ARGV[1]) >= open_until then redis.call('DEL', KEYS[1]) end
"""
# ARGV[1] now, [2] window, [3] threshold, [4] cooldown, [5] TTL ms.
_FAILED = """
local now = tonumber(ARGV[1])
local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '')
if open_until and now < open_until then return 'open' end
local kept = {}
for t in string.gmatch(redis.call('HGET', KEYS[1], 'failures') or '', '%S+') do
  if tonumber(t) > now - tonumber(ARGV[2]) then table.insert(kept, t) end
end
table.insert(kept, ARGV[1])
if open_until or #kept >= tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'open_until', tostring(now + tonumber(ARGV[4])))
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return 'open'
end
redis.call('HSET', KEYS[1], 'failures', table.concat(kept, ' '))
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 'closed'
"""


def circuit_key(prefix: str, channel: str) -> str:
    """The hash of ``channel``'s circuit (its ``open_until`` decides the state)."""
    return f"{prefix}circuit:{channel}"


class RedisCircuitBreaker:
    """A :class:`~referrals.application.ports.CircuitBreaker` as
    ``{prefix}circuit:{channel}``: each method one script on one key, so of
    many workers asking a half-open circuit at once exactly one probes."""

    def __init__(
        self,
        client: RedisClient,
        prefix: str,
        threshold: int,
        window: float,
        cooldown: float,
        probe_lease: float,
    ) -> None:
        self._prefix = prefix
        self._threshold = threshold
        self._window = window
        self._cooldown = cooldown
        self._probe_lease = probe_lease
        self._state = client.register_script(_STATE)
        self._allows = client.register_script(_ALLOWS)
        self._succeeded = client.register_script(_SUCCEEDED)
        self._failed = client.register_script(_FAILED)
        self._ttl = cleanup_ms(max(window, cooldown + probe_lease))

    def _key(self, channel: str) -> list[str]:
        return [circuit_key(self._prefix, channel)]

    async def allows(self, channel: str, now: float) -> bool:
        with translated_errors():
            answer = await self._allows(self._key(channel), [repr(now), repr(self._probe_lease)])
        return text(answer) != "open"

    async def succeeded(self, channel: str, now: float) -> None:
        with translated_errors():
            await self._succeeded(self._key(channel), [repr(now)])

    async def failed(self, channel: str, now: float) -> CircuitState:
        args: list[str | int] = [
            repr(now),
            repr(self._window),
            self._threshold,
            repr(self._cooldown),
            self._ttl,
        ]
        with translated_errors():
            return CircuitState(text(await self._failed(self._key(channel), args)))

    async def state(self, channel: str, now: float) -> CircuitState:
        with translated_errors():
            return CircuitState(text(await self._state(self._key(channel), [repr(now)])))
