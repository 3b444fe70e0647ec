"""The embedded default's stores stay under their caps however many logins pass
(docs/performance.md, "The embedded default's memory"), and each cap's policy
lets nothing in that its limit would refuse."""

from __future__ import annotations

from pathlib import Path

import pytest

from referrals import Settings, open_service
from referrals.adapters import memory
from referrals.application.errors import NotAuthenticated, ServiceUnavailable
from referrals.application.policy import Policy
from referrals.application.request_code import CodeRequest
from referrals.application.verify import VerifyCode
from referrals.domain.device import SEEN_STEP
from referrals.domain.limits import Limit, Quota, Rule
from referrals.service import Adapters

CAP = 40
LOGINS = 300
LIFTED = Limit(1_000_000, 3_600.0)
ADDRESS = "203.0.113.9"


def settings(tmp_path: Path) -> Settings:
    lifted = dict.fromkeys(
        ("ip_send", "prefix_send", "country_send", "global_send", "ip_verify"), LIFTED
    )
    policy = Policy(expose_codes=True, resend_cooldown=0.001, pumping_mode="shadow", **lifted)
    return Settings(
        database_url=f"sqlite:///{tmp_path}/db.sqlite3", policy=policy, sms_delay=(0.0, 0.0)
    )


async def test_many_logins_keep_every_store_under_its_cap(tmp_path: Path) -> None:
    stores = {
        "challenges": memory.InMemoryChallengeStore(capacity=CAP),
        "sessions": memory.InMemorySessionStore(capacity=CAP),
        "delivery_ledger": memory.InMemoryDeliveryLedger(capacity=CAP),
        "delivery_log": memory.InMemoryDeliveryLog(86_400.0, 10, capacity=CAP),
        "limiter": memory.InMemoryRateLimiter(capacity=3 * LOGINS, forgettable_capacity=CAP),
    }
    tokens: list[str] = []
    async with open_service(settings(tmp_path), adapters=Adapters(**stores)) as service:
        for n in range(LOGINS):
            asked = await service.request_code(CodeRequest(f"+7994{n:07d}", ADDRESS))
            assert asked.code is not None
            if n % 3:  # a third never verified: their challenges wait for their codes
                verified = await service.verify(VerifyCode(asked.token, asked.code, ADDRESS))
                tokens.append(verified.session.token)
            await service.drain_deliveries()
            sizes = {name: store.sizes() for name, store in stores.items()}
            assert sizes.pop("limiter")["logs"] <= 3 * LOGINS
            assert max(max(kinds.values()) for kinds in sizes.values()) <= CAP, sizes

        # A send log per phone, CAP usual networks, a few shared ones (the address,
        # the number block, the country, all); no empty log of a quota only checked.
        assert stores["limiter"].sizes()["logs"] <= LOGINS + CAP + 10
        assert await service.authenticate(tokens[-1])
        with pytest.raises(NotAuthenticated):  # past the cap: signs in again
            await service.authenticate(tokens[0])


async def test_past_the_cap_the_least_recently_seen_session_ends() -> None:
    store = memory.InMemorySessionStore(capacity=3)
    for n in range(3):
        await store.create(f"s{n}", n, expires_at=1e9, now=1000.0)
    assert await store.get("s0", 1000.0 + SEEN_STEP) == 0  # seen again: now the freshest
    await store.create("s3", 3, expires_at=1e9, now=1000.0 + SEEN_STEP)
    assert await store.get("s1", 2000.0) is None
    assert [await store.get(s, 2000.0) for s in ("s0", "s2", "s3")] == [0, 2, 3]
    assert store.sizes() == {"sessions": 3, "users": 3}


async def test_a_full_limiter_refuses_new_keys_and_forgets_nothing_counted() -> None:
    limiter = memory.InMemoryRateLimiter(capacity=2)
    rule = Rule("phone_send", Limit(1, 60.0))
    first, second, third = (Quota(f"send:{n}", (rule,)) for n in range(3))
    assert await limiter.acquire([first], 0.0) is None
    assert await limiter.acquire([second], 0.0) is None
    with pytest.raises(ServiceUnavailable):
        await limiter.acquire([third], 1.0)
    assert await limiter.acquire([first], 1.0) is not None  # still counted: refused
    assert await limiter.acquire([Quota("send:2", (rule,), count=False)], 1.0) is None
    # Once the first two logs' events have left their window, a sweep makes room.
    assert await limiter.acquire([third], 61.0) is None
    assert limiter.sizes()["logs"] == 1


async def test_a_full_limiter_forgets_a_forgettable_log_first() -> None:
    limiter = memory.InMemoryRateLimiter(capacity=2)
    usual = Rule("usual_network", Limit(1, 86_400.0), per_client=True)
    send = Rule("phone_send", Limit(1, 86_400.0))
    assert await limiter.acquire([Quota("usual:a", (usual,), "net", forgettable=True)], 0.0) is None
    assert await limiter.acquire([Quota("send:a", (send,))], 0.0) is None
    assert await limiter.acquire([Quota("send:b", (send,))], 1.0) is None  # usual:a went
    checked = Quota("usual:a", (usual,), "net", count=False, forgettable=True)
    assert await limiter.acquire([checked], 1.0) is None  # forgotten: not a usual network
    assert await limiter.acquire([Quota("send:a", (send,))], 1.0) is not None  # still counted


async def test_usual_networks_past_their_cap_are_forgotten_oldest_first() -> None:
    limiter = memory.InMemoryRateLimiter(forgettable_capacity=2)
    usual = Rule("usual_network", Limit(1, 86_400.0), per_client=True)
    for phone in "abc":
        await limiter.acquire([Quota(f"usual:{phone}", (usual,), "net", forgettable=True)], 0.0)
    known = [
        await limiter.acquire([Quota(f"usual:{p}", (usual,), "net", count=False)], 1.0) is not None
        for p in "abc"
    ]
    assert known == [False, True, True]


async def test_a_refund_that_empties_a_log_drops_it() -> None:
    limiter = memory.InMemoryRateLimiter()
    quota = Quota("fail:alias", (Rule("phone_failure", Limit(10, 86_400.0)),))
    assert await limiter.acquire([quota], 0.0, "login") is None
    await limiter.refund([quota], "login")
    assert limiter.sizes() == {"logs": 0, "events": 0}
