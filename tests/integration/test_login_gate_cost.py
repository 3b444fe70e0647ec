"""What the send gate reads per login, counted, not timed: with a daily cap's
1,440 spend buckets and four groups with a full window of buckets, the gate
keeps running totals and reads no whole hash at a login (the code before
them ran HGETALL on each of those five hashes at every login). Redis on a
server of its own (``INFO commandstats`` counts every client's commands);
the in-memory stores count the buckets they read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from referrals.adapters.memory import InMemoryConversionLog, InMemorySpendLedger
from referrals.adapters.redis import RedisSendGate, connect_redis
from referrals.adapters.redis.client import RedisClient
from referrals.domain.limits import Charge, Limit, Pumping
from tests.defaults import TIMEOUT
from tests.servers import RedisServer, redis_server

NOON = 1_764_417_600.0  # on a minute boundary (and an hour's: no resync in the run)
START = int(NOON // 60)
HOUR, DAY = 3600.0, 86_400.0
GROUPS = ("cc:7", "prefix:+7999", "prefix:+7999123", "net:10.0.0.0/24")
CAPS = [Limit(1_000_000, DAY), Limit(100_000, HOUR)]
LOGINS = 1_000


@pytest.fixture
def server() -> Iterator[RedisServer]:
    with redis_server() as started:
        yield started


async def _calls(client: RedisClient) -> dict[str, int]:
    stats = await client.info("commandstats")
    return {name: int(stat["calls"]) for name, stat in stats.items()}


async def test_a_redis_login_reads_no_whole_hash(server: RedisServer) -> None:
    client = connect_redis(server.url, timeout=TIMEOUT)
    try:
        gate = RedisSendGate(client, "cost:", 60.0, 60.0)
        await client.hset("cost:{spend}:buckets", mapping={START - b: 0.01 for b in range(1440)})
        for group in GROUPS:
            fields = {f"sent:{START - b}": 3 for b in range(61)}
            fields.update({f"verified:{START - b}": 1 for b in range(61)})
            await client.hset(f"cost:conv:{{{group}}}", mapping=fields)
        pumping = Pumping(tuple((group, 1_000_000) for group in GROUPS), 0.2, HOUR, True)

        def login(n: int) -> tuple[float, Charge]:
            at = NOON + n * 0.5  # 1,000 logins over 8 minutes: 8 buckets move on
            return at, Charge(f"t-{n}", 0.01, at, "smsru", "ru", "2025-11-29")

        at, charge = login(0)  # the hashes have no totals yet: each summed whole once
        assert (await gate.acquire([], at, "t-0", pumping, charge, CAPS)).passed
        before = await _calls(client)
        for n in range(1, LOGINS + 1):
            at, charge = login(n)
            assert (await gate.acquire([], at, f"t-{n}", pumping, charge, CAPS)).passed
        after = await _calls(client)

        def per_login(command: str) -> float:
            name = f"cmdstat_{command}"
            return (after.get(name, 0) - before.get(name, 0)) / LOGINS

        assert per_login("evalsha") == 1
        assert per_login("hgetall") == 0
        # a group's pruning of the buckets it no longer keeps, at most once a bucket
        assert per_login("hkeys") <= len(GROUPS) * 9 / LOGINS
        # each login: per group one HMGET reads its state; the caps' HMGET; a
        # few more as the buckets move on
        assert per_login("hmget") + per_login("hget") < len(GROUPS) + 1.5
        # and everything else: per group, what it read serves the count too
        # (two HINCRBYs and a PEXPIRE, no EXISTS, HEXISTS or HLEN)
        run = sum(after[name] - before.get(name, 0) for name in after) / LOGINS
        assert per_login("exists") + per_login("hexists") == 0
        assert run - per_login("evalsha") - per_login("info") < 4 * len(GROUPS) + 9
    finally:
        await client.aclose()


async def test_an_in_memory_login_reads_a_few_buckets() -> None:
    ledger, log = InMemorySpendLedger(60.0), InMemoryConversionLog(60.0)
    for b in range(1440):  # a day of charges, a bucket each minute
        at = NOON - DAY + 60 * (b + 1)
        charge = Charge(f"day-{b}", 0.01, at, "smsru", "ru", "2025-11-29")
        assert await ledger.reserve(charge, CAPS) is None
        await log.add(list(GROUPS), "sent", at, HOUR)
        await log.add(list(GROUPS), "verified", at, HOUR)
    read_before = ledger.visited, log.visited
    for n in range(LOGINS):
        at = NOON + n * 0.5
        charge = Charge(f"t-{n}", 0.01, at, "smsru", "ru", "2025-11-29")
        await log.counts(list(GROUPS), at - HOUR)
        assert await ledger.reserve(charge, CAPS) is None
        await log.add(list(GROUPS), "sent", at, HOUR)
    spend_read, groups_read = ledger.visited - read_before[0], log.visited - read_before[1]

    # 8 buckets passed: each cap's window and each group's steps over them once
    assert spend_read <= 2 * 9
    assert groups_read <= len(GROUPS) * (61 + 9)  # the first read moves a day's totals on
