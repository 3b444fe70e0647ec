"""The SpendLedger contract (:mod:`referrals.testing.contracts.spend`) on every adapter,
given by the parametrised fixture in conftest.py."""

import pytest

from referrals.adapters.redis import RedisSpendLedger, connect_redis
from referrals.domain.limits import Charge, Limit
from referrals.testing.contracts import SpendLedgerContract
from tests.defaults import TIMEOUT


class TestSpendLedgerContract(SpendLedgerContract):
    pass


NOON = 1_764_417_600.0  # on a minute boundary
START = int(NOON // 60)


@pytest.mark.redis
async def test_buckets_written_before_the_totals_are_summed_whole_once(
    redis_server_url: str, redis_prefix: str
) -> None:
    """A rolling upgrade: the code before the running totals kept buckets only.
    The ledger sums them whole once (dropping those past the longest window),
    and keeps the caps' totals from then on."""
    client = connect_redis(redis_server_url, timeout=TIMEOUT)
    try:
        ledger = RedisSpendLedger(client, redis_prefix, 60.0)
        buckets = f"{redis_prefix}{{spend}}:buckets"
        await client.hset(buckets, mapping={str(START - b): 1.0 for b in range(1500)})
        caps = [Limit(2000, 86_400.0), Limit(62, 3600.0)]

        def at(n: int, when: float) -> Charge:
            return Charge(f"old-{n}", 1.0, when, "smsru", "ru", "2025-11-29")

        assert await ledger.reserve(at(1, NOON), caps) is None  # 1,441 and 61 spent
        assert await client.hlen(buckets) == 1441  # those before the day's window dropped
        wait = await ledger.reserve(at(2, NOON + 1), caps)  # 62 in the hour
        assert wait == (START - 60 + 1) * 60 + 3600 - (NOON + 1)  # the earliest bucket's end
        await ledger.refund(at(1, NOON))
        assert await ledger.reserve(at(3, NOON + 2), caps) is None
        totals = await client.hgetall(f"{redis_prefix}{{spend}}:totals")
        assert float(totals[b"total:3600.0"]) == 62.0
        assert float(totals[b"total:86400.0"]) == 1442.0
    finally:
        await client.aclose()
