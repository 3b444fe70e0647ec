"""The UnitOfWork and UserRepository contract, for every adapter."""

from __future__ import annotations

import asyncio
import itertools
import random
import secrets
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from referrals.application.errors import ConcurrencyConflict
from referrals.application.ports import UnitOfWork, UnitOfWorkFactory
from referrals.domain.codes import InviteCode, generate_invite_code
from referrals.domain.phone import Phone
from referrals.domain.user import Referral, User, erased_phone

T = TypeVar("T")


def a_phone() -> Phone:
    return Phone(f"+7999{secrets.randbelow(10**7):07d}")


async def referrals(
    unit: UnitOfWork, referrer_id: int, after_rank: int, limit: int
) -> list[Referral]:
    """The page part of ``profile``: what these tests look at."""
    found = await unit.users.profile(referrer_id, after_rank, limit)
    assert found is not None
    return found[1]


async def in_unit(uow: UnitOfWorkFactory, body: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    """Run ``body`` in a unit, again after each lost race, as the port asks callers to."""
    for attempt in range(30):
        try:
            async with uow() as unit:
                return await body(unit)
        except ConcurrencyConflict:
            await asyncio.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 6)))  # backoff
    raise AssertionError("the unit kept losing races")


async def new_user(
    uow: UnitOfWorkFactory,
    phone: Phone | None = None,
    code: InviteCode | None = None,
    created_by: str | None = None,
) -> User:
    async with uow() as unit:
        user = await unit.users.add(
            phone or a_phone(), code or generate_invite_code(), created_by or secrets.token_hex(16)
        )
        assert user is not None
        await unit.commit()
        return user


async def refer(uow: UnitOfWorkFactory, user: User, referrer: User) -> None:
    async with uow() as unit:
        await unit.users.set_referrer(user, referrer)
        await unit.commit()


async def reread(uow: UnitOfWorkFactory, user: User) -> User:
    async with uow(read_only=True) as unit:
        found = await unit.users.get(user.id)
        assert found is not None
        return found


class UnitOfWorkContract:
    """The UnitOfWork contract: subclass it and give a ``unit_of_work`` fixture
    (a factory of units on an empty store)."""

    pytestmark = pytest.mark.asyncio

    async def test_an_added_user_is_found_by_id_phone_and_invite_code(
        self,
        unit_of_work: UnitOfWorkFactory,
    ) -> None:
        phone, code, login = a_phone(), generate_invite_code(), secrets.token_hex(16)
        user = await new_user(unit_of_work, phone, code, login)
        assert user == User(id=user.id, phone=phone, invite_code=code, created_by=login)
        async with unit_of_work(read_only=True) as unit:
            assert await unit.users.get(user.id) == user
            assert await unit.users.get_by_phone(phone) == user
            assert await unit.users.get_by_invite_code(code) == user

    async def test_welcoming_a_user_clears_the_login_that_created_it_for_good(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        user, other = await new_user(unit_of_work), await new_user(unit_of_work)
        for _ in range(2):  # idempotent
            async with unit_of_work() as unit:
                unit.outbox.welcome(user.id, None)
                unit.outbox.welcome(987654, None)  # nobody: nothing happens
                await unit.commit()
            assert (await reread(unit_of_work, user)).created_by is None
        assert await reread(unit_of_work, other) == other

    async def test_a_welcome_left_without_commit_writes_nothing(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        user = await new_user(unit_of_work)
        async with unit_of_work() as unit:
            unit.outbox.welcome(user.id, None)
        assert await reread(unit_of_work, user) == user

    async def test_get_or_add_adds_a_new_phone_once_and_then_finds_it(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        phone, code, login = a_phone(), generate_invite_code(), secrets.token_hex(16)
        for autocommit, draw in ((True, code), (False, generate_invite_code())):
            async with unit_of_work(autocommit=autocommit) as unit:
                found = await unit.users.get_or_add(phone, draw, login, 10)
                await unit.commit()
            assert found is not None  # the second draw is not used: the phone is found
            user, page = found
            assert (user.phone, user.invite_code, user.created_by, page) == (phone, code, login, [])
        assert await reread(unit_of_work, user) == user

    async def test_get_or_add_reads_a_users_first_referrals_with_them(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        owner = await new_user(unit_of_work)
        fans = [await new_user(unit_of_work) for _ in range(3)]
        for fan in fans:
            await refer(unit_of_work, fan, owner)
        async with unit_of_work(autocommit=True) as unit:
            found = await unit.users.get_or_add(
                owner.phone, generate_invite_code(), secrets.token_hex(16), 2
            )
            await unit.commit()
        assert found is not None
        assert found[0] == await reread(unit_of_work, owner)
        assert found[0].referred_count == 3
        assert found[1] == [Referral(1, fans[0].phone), Referral(2, fans[1].phone)]

    async def test_get_or_add_with_a_taken_invite_code_gives_none_and_writes_nothing(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        first, phone = await new_user(unit_of_work), a_phone()
        async with unit_of_work(autocommit=True) as unit:
            assert await unit.users.get_or_add(phone, first.invite_code, "t", 10) is None
            await unit.commit()
        async with unit_of_work(read_only=True) as unit:
            assert await unit.users.get_by_phone(phone) is None

    async def test_concurrent_get_or_add_of_one_phone_make_one_user(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        phone = a_phone()

        async def enter() -> User:
            for _ in range(30):  # as verify does: a None means "again"
                async with unit_of_work(autocommit=True) as unit:
                    found = await unit.users.get_or_add(
                        phone, generate_invite_code(), secrets.token_hex(16), 10
                    )
                    await unit.commit()
                if found is not None:
                    return found[0]
            raise AssertionError("get_or_add kept finding nobody")

        users = await asyncio.gather(*(enter() for _ in range(8)))
        assert len({(user.id, user.invite_code, user.created_by) for user in users}) == 1

    async def test_unknown_ids_phones_and_codes_find_nobody(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        async with unit_of_work(read_only=True) as unit:
            assert await unit.users.get(12345) is None
            assert await unit.users.get_by_phone(a_phone()) is None
            assert await unit.users.get_by_invite_code(generate_invite_code()) is None

    async def test_users_get_distinct_ids(self, unit_of_work: UnitOfWorkFactory) -> None:
        users = [await new_user(unit_of_work) for _ in range(3)]
        assert len({user.id for user in users}) == 3

    async def test_a_unit_sees_its_own_writes_before_commit(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        phone = a_phone()
        async with unit_of_work() as unit:
            user = await unit.users.add(phone, generate_invite_code(), secrets.token_hex(16))
            assert await unit.users.get_by_phone(phone) == user

    async def test_adding_a_taken_phone_gives_none_and_writes_nothing(
        self,
        unit_of_work: UnitOfWorkFactory,
    ) -> None:
        first = await new_user(unit_of_work)
        other_code = generate_invite_code()
        async with unit_of_work() as unit:
            assert await unit.users.add(first.phone, other_code, secrets.token_hex(16)) is None
            await unit.commit()
        async with unit_of_work(read_only=True) as unit:
            assert await unit.users.get_by_invite_code(other_code) is None
            assert await unit.users.get_by_phone(first.phone) == first

    async def test_adding_a_taken_invite_code_gives_none_and_writes_nothing(
        self,
        unit_of_work: UnitOfWorkFactory,
    ) -> None:
        first = await new_user(unit_of_work)
        other_phone = a_phone()
        async with unit_of_work() as unit:
            assert (
                await unit.users.add(other_phone, first.invite_code, secrets.token_hex(16)) is None
            )
            await unit.commit()
        async with unit_of_work(read_only=True) as unit:
            assert await unit.users.get_by_phone(other_phone) is None
            assert await unit.users.get_by_invite_code(first.invite_code) == first

    async def test_a_unit_left_without_commit_writes_nothing(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        referrer = await new_user(unit_of_work)
        phone = a_phone()
        async with unit_of_work() as unit:
            user = await unit.users.add(phone, generate_invite_code(), secrets.token_hex(16))
            assert user is not None
            await unit.users.set_referrer(user, referrer)
        async with unit_of_work(read_only=True) as unit:
            assert await unit.users.get_by_phone(phone) is None
            assert await unit.users.get(referrer.id) == referrer
            assert await referrals(unit, referrer.id, 0, 10) == []

    async def test_a_unit_left_by_an_error_writes_nothing(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        phone = a_phone()

        async def failing_use_case() -> None:
            async with unit_of_work() as unit:
                await unit.users.add(phone, generate_invite_code(), secrets.token_hex(16))
                raise RuntimeError("the use case failed")

        with pytest.raises(RuntimeError):
            await failing_use_case()
        async with unit_of_work(read_only=True) as unit:
            assert await unit.users.get_by_phone(phone) is None

    async def test_applying_a_code_sets_the_referrer_and_counts_the_referral(
        self,
        unit_of_work: UnitOfWorkFactory,
    ) -> None:
        referrer, user = await new_user(unit_of_work), await new_user(unit_of_work)
        await refer(unit_of_work, user, referrer)
        assert await reread(unit_of_work, user) == User(
            id=user.id,
            phone=user.phone,
            invite_code=user.invite_code,
            referrer_id=referrer.id,
            used_invite_code=referrer.invite_code,
            created_by=user.created_by,
        )
        assert (await reread(unit_of_work, referrer)).referred_count == 1
        async with unit_of_work(read_only=True) as unit:
            assert await referrals(unit, referrer.id, 0, 10) == [Referral(1, user.phone)]

    async def test_each_referral_gets_the_next_rank_oldest_first(
        self,
        unit_of_work: UnitOfWorkFactory,
    ) -> None:
        referrer = await new_user(unit_of_work)
        users = [await new_user(unit_of_work) for _ in range(5)]
        for user in users:
            await refer(unit_of_work, user, referrer)
        assert (await reread(unit_of_work, referrer)).referred_count == 5
        async with unit_of_work(read_only=True) as unit:
            page = await referrals(unit, referrer.id, 0, 100)
        assert page == [Referral(rank, user.phone) for rank, user in enumerate(users, 1)]

    async def test_referrals_come_one_page_at_a_time_after_a_rank(
        self,
        unit_of_work: UnitOfWorkFactory,
    ) -> None:
        referrer = await new_user(unit_of_work)
        users = [await new_user(unit_of_work) for _ in range(5)]
        for user in users:
            await refer(unit_of_work, user, referrer)
        pages: list[list[Referral]] = []
        after = 0
        async with unit_of_work(read_only=True) as unit:
            while page := await referrals(unit, referrer.id, after, 2):
                pages.append(page)
                after = page[-1].rank
        assert [[r.rank for r in page] for page in pages] == [[1, 2], [3, 4], [5]]
        assert [r.phone for page in pages for r in page] == [user.phone for user in users]

    async def test_referrals_of_one_user_do_not_list_anothers(
        self,
        unit_of_work: UnitOfWorkFactory,
    ) -> None:
        mine, theirs = await new_user(unit_of_work), await new_user(unit_of_work)
        for referrer in (mine, theirs, mine):
            await refer(unit_of_work, await new_user(unit_of_work), referrer)
        async with unit_of_work(read_only=True) as unit:
            assert [r.rank for r in await referrals(unit, mine.id, 0, 10)] == [1, 2]
            assert [r.rank for r in await referrals(unit, theirs.id, 0, 10)] == [1]
            assert await referrals(unit, mine.id, 2, 10) == []

    @pytest.mark.parametrize("length", [0, 1, 3])
    async def test_the_referrers_of_a_user_come_nearest_first(
        self, unit_of_work: UnitOfWorkFactory, length: int
    ) -> None:
        chain = [await new_user(unit_of_work) for _ in range(length + 1)]
        for user, referrer in itertools.pairwise(chain):
            await refer(unit_of_work, user, referrer)
        async with unit_of_work() as unit:
            assert await unit.users.referrers_of(chain[0].id) == [u.id for u in chain[1:]]

    async def test_concurrent_adds_of_one_phone_create_exactly_one_user(
        self,
        unit_of_work: UnitOfWorkFactory,
    ) -> None:
        phone = a_phone()

        async def add(unit: UnitOfWork) -> User | None:
            user = await unit.users.add(phone, generate_invite_code(), secrets.token_hex(16))
            if user is not None:
                await unit.commit()
            return user

        added = await asyncio.gather(*(in_unit(unit_of_work, add) for _ in range(20)))
        winners = [user for user in added if user is not None]
        assert len(winners) == 1
        async with unit_of_work(read_only=True) as unit:
            assert await unit.users.get_by_phone(phone) == winners[0]

    async def test_a_locked_user_is_changed_by_one_unit_at_a_time(
        self,
        unit_of_work: UnitOfWorkFactory,
    ) -> None:
        user = await new_user(unit_of_work)
        referrers = [await new_user(unit_of_work) for _ in range(10)]

        def apply(referrer: User) -> Callable[[UnitOfWork], Awaitable[bool]]:
            async def body(unit: UnitOfWork) -> bool:
                locked = await unit.users.lock(user.id)
                assert locked is not None
                if locked.referrer_id is not None:
                    return False
                await unit.users.set_referrer(locked, referrer)
                await unit.commit()
                return True

            return body

        applied = await asyncio.gather(*(in_unit(unit_of_work, apply(r)) for r in referrers))
        assert applied.count(True) == 1
        counts = [(await reread(unit_of_work, r)).referred_count for r in referrers]
        assert sorted(counts) == [0] * 9 + [1]

    @pytest.mark.parametrize("size", [2, 3])
    async def test_users_applying_each_others_codes_at_once_never_close_a_cycle(
        self, unit_of_work: UnitOfWorkFactory, size: int
    ) -> None:
        ring = [await new_user(unit_of_work) for _ in range(size)]

        def apply(user: User, owner: User) -> Callable[[UnitOfWork], Awaitable[bool]]:
            async def body(unit: UnitOfWork) -> bool:
                locked = await unit.users.lock(user.id)
                assert locked is not None
                if user.id in await unit.users.referrers_of(owner.id):
                    return False
                await unit.users.set_referrer(locked, owner)
                await unit.commit()
                return True

            return body

        jobs = [apply(user, ring[(i + 1) % size]) for i, user in enumerate(ring)]
        applied = await asyncio.gather(*(in_unit(unit_of_work, job) for job in jobs))
        assert applied.count(True) == size - 1
        linked = [(await reread(unit_of_work, user)).referrer_id for user in ring]
        assert linked.count(None) == 1

    async def test_locking_a_user_reads_it(self, unit_of_work: UnitOfWorkFactory) -> None:
        user = await new_user(unit_of_work)
        async with unit_of_work() as unit:
            assert await unit.users.lock(user.id) == user
            assert await unit.users.lock(user.id + 1000) is None

    async def test_a_profile_of_nobody_is_none(self, unit_of_work: UnitOfWorkFactory) -> None:
        async with unit_of_work(read_only=True) as unit:
            assert await unit.users.profile(424242, 0, 10) is None

    async def test_a_profile_reads_the_user_with_the_page(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        async with unit_of_work() as unit:
            owner = await unit.users.add(Phone("+79990001000"), InviteCode("PR0F11"), "t" * 32)
            fan = await unit.users.add(Phone("+79990001001"), InviteCode("PR0F12"), "t" * 32)
            assert owner is not None
            assert fan is not None
            await unit.users.set_referrer(fan, owner)
            await unit.commit()
        async with unit_of_work(read_only=True) as unit:
            found = await unit.users.profile(owner.id, 0, 10)
        assert found is not None
        user, page = found
        assert (user.id, user.phone, user.invite_code, user.referred_count) == (
            owner.id,
            owner.phone,
            owner.invite_code,
            1,
        )
        assert page == [Referral(1, fan.phone)]

    async def test_the_chain_above_a_user_goes_up_to_the_root_nearest_first(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        root, middle, user, below = [await new_user(unit_of_work) for _ in range(4)]
        await refer(unit_of_work, middle, root)
        await refer(unit_of_work, user, middle)
        await refer(unit_of_work, below, user)
        async with unit_of_work(read_only=True) as unit:
            chain = await unit.users.chain_above(user.id)
            assert [u.phone for u in chain] == [middle.phone, root.phone]
            assert await unit.users.chain_above(root.id) == []
            assert await unit.users.chain_above(424242) == []

    async def test_totals_count_users_and_referrals_and_rank_the_top_referrers(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        import time

        before = time.time() - 60
        big, small, fan1, fan2, fan3 = [await new_user(unit_of_work) for _ in range(5)]
        await refer(unit_of_work, fan1, big)
        await refer(unit_of_work, fan2, big)
        await refer(unit_of_work, fan3, small)
        async with unit_of_work(read_only=True) as unit:
            recent = await unit.users.totals(before, 10)
            later = await unit.users.totals(time.time() + 3600, 1)
        assert (recent.users, recent.users_since, recent.referrals, recent.referrals_since) == (
            5,
            5,
            3,
            3,
        )
        assert [(u.id, u.referred_count) for u in recent.top_referrers] == [
            (big.id, 2),
            (small.id, 1),
        ]
        assert (later.users, later.users_since, later.referrals, later.referrals_since) == (
            5,
            0,
            3,
            0,
        )
        assert [u.id for u in later.top_referrers] == [big.id]

    # --- deleting an account (docs/account.md) ---

    async def test_erasing_a_user_frees_the_phone_and_keeps_the_row(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        user = await new_user(unit_of_work)
        async with unit_of_work() as unit:
            erased = await unit.users.erase(user.id)
            await unit.commit()
        assert erased == user
        async with unit_of_work(read_only=True) as unit:
            assert await unit.users.get_by_phone(user.phone) is None
            found = await unit.users.get(user.id)
            by_code = await unit.users.get_by_invite_code(user.invite_code)
        assert found is not None
        assert found.erased
        assert found.phone == erased_phone(user.id)
        assert (found.invite_code, found.created_by) == (user.invite_code, None)
        assert by_code == found  # the code stays taken: never drawn again

    async def test_an_erased_account_stays_in_its_referrers_count_and_pages(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        owner, fan, other = [await new_user(unit_of_work) for _ in range(3)]
        await refer(unit_of_work, fan, owner)
        await refer(unit_of_work, other, owner)
        async with unit_of_work() as unit:
            await unit.users.erase(fan.id)
            await unit.commit()
        assert (await reread(unit_of_work, owner)).referred_count == 2
        async with unit_of_work(read_only=True) as unit:
            page = await referrals(unit, owner.id, 0, 10)
        assert [r.phone for r in page] == [erased_phone(fan.id), other.phone]
        assert (await reread(unit_of_work, fan)).referrer_id == owner.id

    async def test_erasing_twice_or_nobody_gives_none(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        user = await new_user(unit_of_work)
        async with unit_of_work() as unit:
            assert await unit.users.erase(user.id) is not None
            await unit.commit()
        async with unit_of_work() as unit:
            assert await unit.users.erase(user.id) is None
            assert await unit.users.erase(user.id + 1000) is None

    async def test_an_erasure_left_without_commit_keeps_the_phone(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        user = await new_user(unit_of_work)
        async with unit_of_work() as unit:
            await unit.users.erase(user.id)
        async with unit_of_work(read_only=True) as unit:
            assert await unit.users.get_by_phone(user.phone) == user

    async def test_an_erased_phone_signs_up_again_as_a_new_user(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        user = await new_user(unit_of_work)
        async with unit_of_work() as unit:
            await unit.users.erase(user.id)
            await unit.commit()
        again = await new_user(unit_of_work, phone=user.phone)
        assert again.id != user.id
        assert not again.erased

    # --- changing one's phone (docs/account.md) ---

    async def test_a_user_moves_to_a_free_phone_and_keeps_the_rest(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        owner, user = await new_user(unit_of_work), await new_user(unit_of_work)
        await refer(unit_of_work, user, owner)
        phone = a_phone()
        async with unit_of_work() as unit:
            before = await unit.users.change_phone(user.id, phone)
            await unit.commit()
        assert before is not None
        assert before.phone == user.phone
        async with unit_of_work(read_only=True) as unit:
            assert await unit.users.get_by_phone(user.phone) is None
            moved = await unit.users.get_by_phone(phone)
        assert moved is not None
        assert (moved.id, moved.invite_code, moved.referrer_id) == (
            user.id,
            user.invite_code,
            owner.id,
        )

    async def test_a_taken_phone_moves_nobody(self, unit_of_work: UnitOfWorkFactory) -> None:
        mine, theirs = await new_user(unit_of_work), await new_user(unit_of_work)
        async with unit_of_work() as unit:
            assert await unit.users.change_phone(mine.id, theirs.phone) is None
            assert await unit.users.change_phone(mine.id, mine.phone) is None
        assert (await reread(unit_of_work, mine)).phone == mine.phone

    async def test_a_move_left_without_commit_keeps_both_phones(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        user = await new_user(unit_of_work)
        phone = a_phone()
        async with unit_of_work() as unit:
            await unit.users.change_phone(user.id, phone)
        async with unit_of_work(read_only=True) as unit:
            assert await unit.users.get_by_phone(user.phone) == user
            assert await unit.users.get_by_phone(phone) is None

    async def test_two_users_moving_to_one_phone_at_once_one_wins_every_time(
        self, unit_of_work: UnitOfWorkFactory
    ) -> None:
        for _ in range(50):
            first, second = await new_user(unit_of_work), await new_user(unit_of_work)
            phone = a_phone()

            async def move(user: User, phone: Phone = phone) -> bool:
                async def body(unit: UnitOfWork) -> bool:
                    moved = await unit.users.change_phone(user.id, phone)
                    await unit.commit()
                    return moved is not None

                return await in_unit(unit_of_work, body)

            results = await asyncio.gather(move(first), move(second))
            assert sorted(results) == [False, True]
            async with unit_of_work(read_only=True) as unit:
                owner = await unit.users.get_by_phone(phone)
            assert owner is not None
            assert owner.id == (first.id if results[0] else second.id)
