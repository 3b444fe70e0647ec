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
from referrals.domain.spend import SPENT

DAY_KEPT = 2 * 86_400

# The spend in a script (shared with the send gate, adapters/redis/send_gate.py).
# reserve_spend: KEYS bkey (the buckets) and dkey (the day); its arguments
# from argv[a] (ARGV, or a table a script made): amount, bucket, bucket size,
# at, "channel:country", cap count n, n pairs (cap, window), the day's TTL.
# Answers the wait (a string) when a cap is reached, else records the charge
# and answers false. refund_spend: argv from ``a``: bucket,
# "channel:country", amount; a day's figure refunded to nothing is dropped.
SPEND_LUA = (
    f"local SPENT = {SPENT!r}\n"
    + """
local function reserve_spend(bkey, dkey, argv, a)
  local amount, bucket = tonumber(argv[a]), tonumber(argv[a + 1])
  local size, at = tonumber(argv[a + 2]), tonumber(argv[a + 3])
  local n = tonumber(argv[a + 5])
  local longest = 0
  for i = 1, n do longest = math.max(longest, tonumber(argv[a + 5 + 2 * i])) end
  local sums = {}
  local flat = redis.call('HGETALL', bkey)
  local oldest = math.floor((at - longest) / size)
  for i = 1, #flat, 2 do
    local b = tonumber(flat[i])
    if b < oldest then redis.call('HDEL', bkey, flat[i]) else sums[b] = tonumber(flat[i + 1]) end
  end
  local wait = 0
  for i = 1, n do
    local cap, window = tonumber(argv[a + 4 + 2 * i]), tonumber(argv[a + 5 + 2 * i])
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
    redis.call('HINCRBYFLOAT', bkey, bucket, amount)
    redis.call('PEXPIRE', bkey, math.ceil((longest + size) * 1000))
  end
  redis.call('HINCRBYFLOAT', dkey, argv[a + 4], amount)
  redis.call('EXPIRE', dkey, argv[a + 6 + 2 * n])
  return false
end

local function refund_spend(bkey, dkey, argv, a)
  if redis.call('HEXISTS', bkey, argv[a]) == 1 then
    redis.call('HINCRBYFLOAT', bkey, argv[a], -tonumber(argv[a + 2]))
  end
  local left = redis.call('HINCRBYFLOAT', dkey, argv[a + 1], -tonumber(argv[a + 2]))
  if tonumber(left) < SPENT then redis.call('HDEL', dkey, argv[a + 1]) end
end
"""
)

_RESERVE = SPEND_LUA + "return reserve_spend(KEYS[1], KEYS[2], ARGV, 1)"

_REFUND = SPEND_LUA + "refund_spend(KEYS[1], KEYS[2], ARGV, 1)\nreturn 1"


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

    def keys(self, charge: Charge) -> list[str]:
        """The keys a charge is kept in: the buckets, its day."""
        return [self._buckets, self._day_key(charge.day)]

    def reserve_args(self, charge: Charge, caps: Sequence[Limit]) -> list[str | int]:
        """``reserve_spend``'s arguments (``SPEND_LUA``)."""
        args: list[str | int] = [
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
        return args

    def refund_args(self, charge: Charge) -> list[str | int]:
        """``refund_spend``'s arguments (``SPEND_LUA``)."""
        return [self._bucket(charge.at), f"{charge.channel}:{charge.country}", repr(charge.amount)]

    async def reserve(self, charge: Charge, caps: Sequence[Limit]) -> float | None:
        with translated_errors():
            wait = await self._reserve(self.keys(charge), self.reserve_args(charge, caps))
        return None if wait is None else float(text(wait))

    async def refund(self, charge: Charge) -> None:
        with translated_errors():
            await self._refund(self.keys(charge), self.refund_args(charge))

    async def day(self, day: str) -> Mapping[tuple[str, str], float]:
        with translated_errors():
            flat = await self._client.hgetall(self._day_key(day))
        totals: dict[tuple[str, str], float] = {}
        for name, value in flat.items():
            channel, _, country = text(name).rpartition(":")
            totals[(channel, country)] = float(text(value))
        return totals
