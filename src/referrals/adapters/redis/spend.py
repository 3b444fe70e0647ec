"""The spend ledger in Redis: charges summed in buckets, each cap's running total
kept, each step one script.

Every key shares the hash tag ``{spend}``, so on Redis Cluster one script
still sees them all: the caps are decided together, atomically, for every
process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from referrals.adapters.redis.client import RedisClient
from referrals.adapters.redis.support import TOTALS_RESYNC, text, translated_errors
from referrals.domain.limits import Charge, Limit
from referrals.domain.spend import SPENT

DAY_KEPT = 2 * 86_400

# The spend in a script (shared with the send gate, adapters/redis/send_gate.py).
# KEYS bkey (the buckets: bucket number -> amount), dkey (the day) and tkey
# (the caps' running totals: ``caps``, the windows they were kept for, and
# per window ``from:<window>``, the first bucket its ``total:<window>``
# counts). reserve_spend's arguments from argv[a] (ARGV, or a table a script
# made): amount, bucket, bucket size, at, "channel:country", cap count n, n
# pairs (cap, window), the day's TTL. Answers the wait (a string) when a cap
# is reached, else records the charge and answers false. refund_spend: argv
# from ``a``: bucket, "channel:country", amount; a day's figure refunded to
# nothing is dropped.
#
# A login costs O(1): each cap's total moves with its window, the buckets
# left behind subtracted (and, past the longest window, deleted) one HGET
# each. The whole hash is read only when that would cost more (a window
# that moved back or further than the hash has fields), when the totals are
# missing (a hash the code before them wrote) or were kept for other caps,
# and once every TOTALS_RESYNC buckets, so a total that drifted (a process of the
# old code still charging during a rolling upgrade) is right again within
# TOTALS_RESYNC buckets.
SPEND_LUA = (
    f"local SPENT = {SPENT!r}\nlocal SPEND_RESYNC = {TOTALS_RESYNC}\n"
    + """
local function spend_scan(bkey, firsts, oldest)
  local totals = {}
  for i = 1, #firsts do totals[i] = 0 end
  local flat = redis.call('HGETALL', bkey)
  for j = 1, #flat, 2 do
    local b = tonumber(flat[j])
    if b < oldest then
      redis.call('HDEL', bkey, flat[j])
    else
      local value = tonumber(flat[j + 1])
      for i = 1, #firsts do
        if b >= firsts[i] then totals[i] = totals[i] + value end
      end
    end
  end
  return totals
end

local function spend_step(bkey, total, from, first)
  for b = from, first - 1 do
    local value = redis.call('HGET', bkey, b)
    if value then total = total - tonumber(value) end
  end
  for b = first, from - 1 do
    local value = redis.call('HGET', bkey, b)
    if value then total = total + tonumber(value) end
  end
  return total
end

local function spend_totals(bkey, tkey, windows, firsts, oldest)
  local n, names = #windows, {'caps'}
  for i = 1, n do
    names[2 * i], names[2 * i + 1] = 'from:' .. windows[i], 'total:' .. windows[i]
  end
  local got = redis.call('HMGET', tkey, unpack(names))
  local fields = redis.call('HLEN', bkey)
  local totals, moved, lowest = {}, false, nil
  local kept = fields > 0 and got[1] == table.concat(windows, ' ')
  for i = 1, n do
    if not kept then break end
    local from, total = tonumber(got[2 * i]), tonumber(got[2 * i + 1])
    if from == nil or total == nil or math.abs(firsts[i] - from) > fields
      or math.floor(firsts[i] / SPEND_RESYNC) ~= math.floor(from / SPEND_RESYNC) then
      kept = false
    elseif from == firsts[i] then
      totals[i] = total
    else
      totals[i], moved = spend_step(bkey, total, from, firsts[i]), true
      if lowest == nil or from < lowest then lowest = from end
    end
  end
  if kept then
    if lowest ~= nil then
      for b = lowest, oldest - 1 do redis.call('HDEL', bkey, b) end
    end
    return totals, moved
  end
  if fields == 0 then
    for i = 1, n do totals[i] = 0 end
    return totals, true
  end
  return spend_scan(bkey, firsts, oldest), true
end

local function spend_keep(tkey, windows, firsts, totals, ttl)
  local values = {'caps', table.concat(windows, ' ')}
  for i = 1, #windows do
    values[#values + 1] = 'from:' .. windows[i]
    values[#values + 1] = firsts[i]
    values[#values + 1] = 'total:' .. windows[i]
    values[#values + 1] = string.format('%.17g', totals[i])
  end
  redis.call('HSET', tkey, unpack(values))
  redis.call('PEXPIRE', tkey, ttl)
end

local function spend_earliest(bkey, first, last, fields)
  if last - first < fields then
    for b = first, last do
      local value = redis.call('HGET', bkey, b)
      if value and tonumber(value) > 0 then return b end
    end
  end
  local flat, earliest = redis.call('HGETALL', bkey), nil
  for j = 1, #flat, 2 do
    local b = tonumber(flat[j])
    if b >= first and tonumber(flat[j + 1]) > 0 and (earliest == nil or b < earliest) then
      earliest = b
    end
  end
  return earliest or last
end

local function reserve_spend(bkey, dkey, tkey, argv, a)
  local amount, bucket = tonumber(argv[a]), tonumber(argv[a + 1])
  local size, at = tonumber(argv[a + 2]), tonumber(argv[a + 3])
  local n = tonumber(argv[a + 5])
  local longest, windows, firsts = 0, {}, {}
  for i = 1, n do
    windows[i] = argv[a + 5 + 2 * i]
    local window = tonumber(windows[i])
    firsts[i] = math.floor((at - window) / size)
    longest = math.max(longest, window)
  end
  local ttl = math.ceil((longest + size) * 1000)
  if n > 0 then
    local oldest = math.floor((at - longest) / size)
    local totals, moved = spend_totals(bkey, tkey, windows, firsts, oldest)
    local wait, fields = 0, nil
    for i = 1, n do
      local cap, window = tonumber(argv[a + 4 + 2 * i]), tonumber(windows[i])
      if totals[i] >= cap then
        fields = fields or redis.call('HLEN', bkey)
        local earliest = spend_earliest(bkey, firsts[i], bucket, fields)
        wait = math.max(wait, (earliest + 1) * size + window - at)
      end
    end
    if wait > 0 then
      if moved then spend_keep(tkey, windows, firsts, totals, ttl) end
      return tostring(wait)
    end
    for i = 1, n do totals[i] = totals[i] + amount end
    redis.call('HINCRBYFLOAT', bkey, bucket, amount)
    redis.call('PEXPIRE', bkey, ttl)
    spend_keep(tkey, windows, firsts, totals, ttl)
  end
  redis.call('HINCRBYFLOAT', dkey, argv[a + 4], amount)
  redis.call('EXPIRE', dkey, argv[a + 6 + 2 * n])
  return false
end

local function refund_spend(bkey, dkey, tkey, argv, a)
  local amount = tonumber(argv[a + 2])
  if redis.call('HEXISTS', bkey, argv[a]) == 1 then
    redis.call('HINCRBYFLOAT', bkey, argv[a], -amount)
    local caps, b, seen = redis.call('HGET', tkey, 'caps'), tonumber(argv[a]), {}
    for window in string.gmatch(caps or '', '%S+') do
      local got = redis.call('HMGET', tkey, 'from:' .. window, 'total:' .. window)
      local from, total = tonumber(got[1]), tonumber(got[2])
      if not seen[window] and from ~= nil and total ~= nil and from <= b then
        redis.call('HSET', tkey, 'total:' .. window, string.format('%.17g', total - amount))
      end
      seen[window] = true
    end
  end
  local left = redis.call('HINCRBYFLOAT', dkey, argv[a + 1], -amount)
  if tonumber(left) < SPENT then redis.call('HDEL', dkey, argv[a + 1]) end
end
"""
)

_RESERVE = SPEND_LUA + "return reserve_spend(KEYS[1], KEYS[2], KEYS[3], ARGV, 1)"

_REFUND = SPEND_LUA + "refund_spend(KEYS[1], KEYS[2], KEYS[3], ARGV, 1)\nreturn 1"


class RedisSpendLedger:
    """:class:`~referrals.application.ports.SpendLedger` in Redis.

    Charges are summed per ``bucket`` seconds (a hash of buckets); a cap's
    window counts every bucket it touches, so it refuses up to one bucket
    early, never late. Each cap window's running total is kept in
    ``{spend}:totals`` (a key of its own in the same slot, so the code before
    the totals, which reads every field of the buckets as a number, still
    runs beside it in a rolling upgrade): a login costs O(1) however many
    buckets a window holds. The day's figures are a hash per UTC date, kept
    two days.
    """

    def __init__(self, client: RedisClient, prefix: str, bucket: float) -> None:
        self._client = client
        self._buckets = f"{prefix}{{spend}}:buckets"
        self._totals = f"{prefix}{{spend}}:totals"
        self._prefix = prefix
        self._size = bucket
        self._reserve = client.register_script(_RESERVE)
        self._refund = client.register_script(_REFUND)

    def _day_key(self, day: str) -> str:
        return f"{self._prefix}{{spend}}:day:{day}"

    def _bucket(self, at: float) -> int:
        return int(at // self._size)

    def keys(self, charge: Charge) -> list[str]:
        """The keys a charge is kept in: the buckets, its day, the caps' totals."""
        return [self._buckets, self._day_key(charge.day), self._totals]

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
