"""A login's quotas, pumping groups and spend in one Lua script (docs/performance.md).

The keys are the ones :class:`RedisRateLimiter`, :class:`RedisConversionLog`
and :class:`RedisSpendLedger` keep, so the limiter's refunds and resets, the
throttle's verified counts, ``referrals pumping`` and ``referrals stats`` see
what the gate records.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.asyncio.cluster import RedisCluster

from referrals.adapters.redis.challenges import PUT_FUNCTION, RedisChallengeStore
from referrals.adapters.redis.client import RedisClient
from referrals.adapters.redis.conversion import GROUPS_LUA, conversion_key, count_args
from referrals.adapters.redis.rate_limiter import (
    ACQUIRE_FUNCTION,
    RedisRateLimiter,
    event_name,
)
from referrals.adapters.redis.spend import SPEND_LUA, RedisSpendLedger
from referrals.adapters.redis.support import text, translated_errors
from referrals.application.errors import ServiceUnavailable
from referrals.domain.challenge import Challenge
from referrals.domain.limits import Charge, GroupFigures, Limit, Pumping, Quota, SendDecision

# Each argument costs the client about a microsecond to pack (redis-py packs in
# Python), so the gate's own figures travel as a few words-lists, split here.
_WORDS = """
local function words(s)
  local found = {}
  for word in string.gmatch(s, '%S+') do found[#found + 1] = word end
  return found
end
"""

# KEYS: the quotas (nq), the groups (ng), the spend's three keys (if charged),
# the phone's login hash (if a challenge is stored). ARGV[1] now, ARGV[2] the
# ticket, ARGV[3] the words: nq, ng, enforce (1/0), min conversion, first
# bucket in the window, the "sent:<bucket>" field, oldest bucket kept, the
# groups' TTL ms, and the ng volumes; ARGV[4] the challenge's put arguments,
# ARGV[5] the spend's reserve arguments, as words ("-": none); then the
# quotas' arguments. Replies {1, key, rule, oldest} (a quota refused); else
# {status, wait, and the first throttled group: index, sent, verified,
# allowed, mark}: status 2 the group refused, 3 the spend cap did (wait), 0
# passed, recorded and the challenge stored.
_ACQUIRE = (
    ACQUIRE_FUNCTION
    + GROUPS_LUA
    + SPEND_LUA
    + PUT_FUNCTION
    + _WORDS
    + """
local head, login, spend = words(ARGV[3]), words(ARGV[4]), words(ARGV[5])
local nq, ng, quotas = tonumber(head[1]), tonumber(head[2]), {}
for i = 1, nq do quotas[i] = KEYS[i] end
local refused, plan = check_quotas(quotas, 6)
if refused then return {1, refused[1], refused[2], refused[3]} end
local conv, first, throttled, states = tonumber(head[4]), tonumber(head[5]), {}, {}
for g = 1, ng do
  local sent, verified, mark, state = group_sums(KEYS[nq + g], first)
  states[g] = state
  if mark ~= 'lifted' then
    local allowed = math.max(tonumber(head[8 + g]), math.ceil(verified / conv))
    if mark == 'pinned' or sent >= allowed then
      throttled = {g, sent, verified, allowed, mark}
      break
    end
  end
end
if throttled[1] and head[3] == '1' then return {2, '', unpack(throttled)} end
if #spend > 1 then
  local wait = reserve_spend(KEYS[nq + ng + 1], KEYS[nq + ng + 2], KEYS[nq + ng + 3], spend, 1)
  if wait then return {3, wait, unpack(throttled)} end
end
record_quotas(quotas, plan)
for g = 1, ng do
  count_group(KEYS[nq + g], head[6], 1, tonumber(head[7]), head[8], states[g])
end
if #login > 1 then put(KEYS[#KEYS], login, 1) end
return {0, '', unpack(throttled)}
"""
)

# KEYS as _ACQUIRE's (counted quotas only). ARGV: nq, ng, charged (1/0), the
# "sent:<bucket>" field, nq event names, the spend's refund arguments.
_GIVE_BACK = (
    GROUPS_LUA
    + SPEND_LUA
    + """
local nq, ng = tonumber(ARGV[1]), tonumber(ARGV[2])
for i = 1, nq do redis.call('ZREM', KEYS[i], ARGV[4 + i]) end
for g = 1, ng do add_to_group(KEYS[nq + g], ARGV[4], -1) end
if ARGV[3] == '1' then
  refund_spend(KEYS[nq + ng + 1], KEYS[nq + ng + 2], KEYS[nq + ng + 3], ARGV, 5 + nq)
end
return 1
"""
)


def _words(values: Sequence[str | int]) -> str:
    """Values as one argument of words (``-``: none); a value must be one word."""
    words = " ".join(map(str, values))
    if len(words.split()) != len(values):
        raise ValueError(f"not one word each: {values!r}")
    return words or "-"


class RedisSendGate:
    """:class:`~referrals.application.ports.SendGate` in Redis.

    On one server, :meth:`acquire` is one script: the quotas' check, the
    groups' sums and the spend caps, then every record, with nothing run in
    between, so it costs one round trip and is atomic for every process.

    On Redis Cluster each quota and each group is its own slot and the spend
    one more: each is decided by the same script on its own, all sent at
    once, and what passed is taken back (``give_back``'s script) if another
    refused. Nothing is exceeded; under contention a send may be refused by
    a count that is about to be taken back.
    """

    def __init__(
        self, client: RedisClient, prefix: str, conversion_bucket: float, spend_bucket: float
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._bucket = conversion_bucket
        self._limiter = RedisRateLimiter(client, prefix)
        self._spend = RedisSpendLedger(client, prefix, spend_bucket)
        self._challenges = RedisChallengeStore(client, prefix)
        self._cluster = isinstance(client, RedisCluster)
        self._acquire = client.register_script(_ACQUIRE)
        self._give_back = client.register_script(_GIVE_BACK)

    def _keys(
        self,
        quotas: Sequence[Quota],
        pumping: Pumping | None,
        charge: Charge | None,
        challenge: Challenge | None = None,
    ) -> list[str]:
        keys = [self._limiter.key(quota.key) for quota in quotas]
        keys += [conversion_key(self._prefix, name) for name, _ in _groups(pumping)]
        keys += self._spend.keys(charge) if charge is not None else []
        return keys + ([self._challenges.key(challenge.id)] if challenge is not None else [])

    async def _decide(
        self,
        quotas: Sequence[Quota],
        now: float,
        ticket: str,
        pumping: Pumping | None,
        charge: Charge | None,
        caps: Sequence[Limit],
        first: int = 0,
        challenge: Challenge | None = None,
    ) -> SendDecision:
        """One script over these parts; ``first``: the index of ``pumping``'s
        first group among the whole send's."""
        groups = _groups(pumping)
        window = pumping.window if pumping is not None else 0.0
        head: list[str | int] = [
            len(quotas),
            len(groups),
            int(pumping is not None and pumping.enforce),
            repr(pumping.min_conversion if pumping is not None else 1.0),
            int((now - window) // self._bucket),
            *count_args(self._bucket, "sent", now, window),
            *(volume for _, volume in groups),
        ]
        args: list[str | int] = [
            repr(now),
            ticket,
            _words(head),
            _words(self._challenges.put_args(challenge, now) if challenge is not None else []),
            _words(self._spend.reserve_args(charge, caps) if charge is not None else []),
            *self._limiter.quota_args(quotas, now),
        ]
        with translated_errors():
            reply = await self._acquire(self._keys(quotas, pumping, charge, challenge), args)
        if int(reply[0]) == 1:
            return SendDecision(refusal=self._limiter.refusal(quotas, reply[1:], now))
        throttled = _figures(reply[2:], first)
        return SendDecision(
            throttled=throttled,
            paused=float(text(reply[1])) if int(reply[0]) == 3 else None,
            enforced=int(reply[0]) == 2,
        )

    async def acquire(
        self,
        quotas: Sequence[Quota],
        now: float,
        ticket: str,
        pumping: Pumping | None = None,
        charge: Charge | None = None,
        caps: Sequence[Limit] = (),
        challenge: Challenge | None = None,
    ) -> SendDecision:
        if not self._cluster:
            return await self._decide(quotas, now, ticket, pumping, charge, caps, 0, challenge)
        parts = _parts(quotas, pumping, charge)
        decided = await asyncio.gather(
            *(self._decide(q, now, ticket, p, c, caps, i) for q, p, c, i in parts),
            return_exceptions=True,
        )
        decisions = [d for d in decided if isinstance(d, SendDecision)]
        decision = _overall(decisions)
        failed: list[BaseException] = [d for d in decided if isinstance(d, BaseException)]
        if not failed and decision.passed and challenge is not None:
            try:  # the phone's login hash is a slot of its own: stored once all passed
                await self._challenges.put(challenge, now)
            except ServiceUnavailable as exc:
                failed.append(exc)
        if failed or not decision.passed:
            passed = [part for part, d in zip(parts, decided, strict=True) if _recorded(d)]
            await asyncio.gather(
                *(self._take_back(q, now, ticket, p, c) for q, p, c, _ in passed),
                return_exceptions=True,
            )
        if failed:
            raise failed[0]
        return decision

    async def give_back(
        self,
        quotas: Sequence[Quota],
        now: float,
        ticket: str,
        pumping: Pumping | None = None,
        charge: Charge | None = None,
    ) -> None:
        if not self._cluster:
            await self._take_back(quotas, now, ticket, pumping, charge)
            return
        parts = _parts(quotas, pumping, charge)
        results = await asyncio.gather(
            *(self._take_back(q, now, ticket, p, c) for q, p, c, _ in parts),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _take_back(
        self,
        quotas: Sequence[Quota],
        now: float,
        ticket: str,
        pumping: Pumping | None,
        charge: Charge | None,
    ) -> None:
        counted = [quota for quota in quotas if quota.count]
        groups = _groups(pumping)
        if not counted and not groups and charge is None:
            return
        window = pumping.window if pumping is not None else 0.0
        field = count_args(self._bucket, "sent", now, window)[0]
        args: list[str | int] = [len(counted), len(groups), int(charge is not None), field]
        args += [event_name(quota, ticket) for quota in counted]
        if charge is not None:
            args += self._spend.refund_args(charge)
        with translated_errors():
            await self._give_back(self._keys(counted, pumping, charge), args)


_Part = tuple[list[Quota], Pumping | None, Charge | None, int]
"""What one slot decides on a cluster: a quota, a group (and its index), or the charge."""


def _parts(quotas: Sequence[Quota], pumping: Pumping | None, charge: Charge | None) -> list[_Part]:
    parts: list[_Part] = [([quota], None, None, 0) for quota in quotas]
    parts += [([], _one(pumping, i), None, i) for i in range(len(_groups(pumping)))]
    return parts + ([([], None, charge, 0)] if charge is not None else [])


def _groups(pumping: Pumping | None) -> tuple[tuple[str, int], ...]:
    return pumping.groups if pumping is not None else ()


def _one(pumping: Pumping | None, index: int) -> Pumping | None:
    if pumping is None:
        return None
    return Pumping(
        (pumping.groups[index],), pumping.min_conversion, pumping.window, pumping.enforce
    )


def _figures(reply: Sequence[Any], first: int) -> GroupFigures | None:
    if not reply:
        return None
    index, sent, verified, allowed = (int(value) for value in reply[:4])
    return GroupFigures(first + index - 1, sent, verified, allowed, text(reply[4]))


def _recorded(decided: SendDecision | BaseException) -> bool:
    return isinstance(decided, SendDecision) and decided.passed


def _overall(decisions: Sequence[SendDecision]) -> SendDecision:
    """The decision of a send decided part by part: a quota's refusal (the
    longest wait), else the first group that refused, else the spend cap,
    with the first throttled group's figures."""
    refusals = [d.refusal for d in decisions if d.refusal is not None]
    if refusals:
        return SendDecision(refusal=max(refusals, key=lambda r: r.retry_after))
    figures = sorted(
        (d.throttled for d in decisions if d.throttled is not None), key=lambda f: f.index
    )
    enforced = sorted(
        (d.throttled for d in decisions if d.enforced and d.throttled is not None),
        key=lambda f: f.index,
    )
    paused = [d.paused for d in decisions if d.paused is not None]
    return SendDecision(
        throttled=enforced[0] if enforced else (figures[0] if figures else None),
        paused=None if enforced or not paused else paused[0],
        enforced=bool(enforced),
    )
