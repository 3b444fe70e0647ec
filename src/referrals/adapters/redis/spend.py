"""The spend ledger in Redis: charges summed in buckets, each step one script.

Every key shares the hash tag ``{spend}``, so on Redis Cluster one script
still sees them all: the caps are decided together, atomically, for every
process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from referrals.adapters.redis.client import RedisClient
from referrals.adapters.redis.support import text, translated_errors
from referrals.domain.limits import Charge, Limit

DAY_KEPT = 2 * 86_400

_RESERVE = """
local amount, bucket = tonumber(ARGV[1]), tonumber(ARGV[2])
local size, at = tonumber(ARGV[3]), tonumber(ARGV[4])
local n = tonumber(ARGV[6])
local longest = 0
for i = 1, n do longest = math.max(longest, tonumber(ARGV[6 + 2 * i])) end
local sums = {}
local flat = redis.call('HGETALL', KEYS[1])
local oldest = math.floor((at - longest) / size)
for i = 1, #flat, 2 do
  local b = tonumber(flat[i])
  if b < oldest then redis.call('HDEL', KEYS[1], flat[i]) else sums[b] = tonumber(flat[i + 1]) end
end
local wait = 0
for i = 1, n do
  local cap, window = tonumber(ARGV[5 + 2 * i]), tonumber(ARGV[6 + 2 * i])
  local first = math.floor((at - window) / size)
  local spent, earliest = 0, nil
  for b, value in pairs(sums) do
    if b >= first and value > 0 then
      spent = spent + value
      if earliest == nil or b < earliest then earliest = b end
    end
  end
  if spent >= cap then wait = math.max(wait, (earliest + 1) * size + window - at) end
end
if wait > 0 then return tostring(wait) end
if n > 0 then
  redis.call('HINCRBYFLOAT', KEYS[1], bucket, amount)
  redis.call('PEXPIRE', KEYS[1], math.ceil((longest + size) * 1000))
end
redis.call('HINCRBYFLOAT', KEYS[2], ARGV[5], amount)
redis.call('EXPIRE', KEYS[2], ARGV[7 + 2 * n])
return false
"""

_REFUND = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('HINCRBYFLOAT', KEYS[1], ARGV[1], -tonumber(ARGV[3]))
end
redis.call('HINCRBYFLOAT', KEYS[2], ARGV[2], -tonumber(ARGV[3]))
return 1
"""


class RedisSpendLedger:
    """:class:`~referrals.application.ports.SpendLedger` in Redis.

    Charges are summed per ``bucket`` seconds (a hash of buckets); a cap's
    window counts every bucket it touches, so it refuses up to one bucket
    early, never late. The day's figures are a hash per UTC date, kept two
    days.
    """

    def __init__(self, client: RedisClient, prefix: str, bucket: float) -> None:
        self._client = client
        self._buckets = f"{prefix}{{spend}}:buckets"
        self._prefix = prefix
        self._size = bucket
        self._reserve = client.register_script(_RESERVE)
        self._refund = client.register_script(_REFUND)

    def _day_key(self, day: str) -> str:
        return f"{self._prefix}{{spend}}:day:{day}"

    def _bucket(self, at: float) -> int:
        return int(at // self._size)

    async def reserve(self, charge: Charge, caps: Sequence[Limit]) -> float | None:
        args: list[str | int | float] = [
            repr(charge.amount),
            self._bucket(charge.at),
            repr(self._size),
            repr(charge.at),
            f"{charge.channel}:{charge.country}",
            len(caps),
        ]
        for cap in caps:
            args += [cap.count, repr(cap.window)]
        args.append(DAY_KEPT)
        with translated_errors():
            wait = await self._reserve([self._buckets, self._day_key(charge.day)], args)
        return None if wait is None else float(text(wait))

    async def refund(self, charge: Charge) -> None:
        keys = [self._buckets, self._day_key(charge.day)]
        args: list[str | int] = [
            self._bucket(charge.at),
            f"{charge.channel}:{charge.country}",
            repr(charge.amount),
        ]
        with translated_errors():
            await self._refund(keys, args)

    async def day(self, day: str) -> Mapping[tuple[str, str], float]:
        with translated_errors():
            flat = await self._client.hgetall(self._day_key(day))
        totals: dict[tuple[str, str], float] = {}
        for name, value in flat.items():
            channel, _, country = text(name).rpartition(":")
            totals[(channel, country)] = float(text(value))
        return totals
