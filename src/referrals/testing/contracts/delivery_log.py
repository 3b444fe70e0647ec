"""The DeliveryLog contract, for every adapter."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from referrals.application.ports import DeliveryLog
from referrals.domain.delivery import DeliveryRecord, DeliveryStep, Status, Step

RECENT = 3
"""Logins kept per phone: build the adapter with it (and a ``keep`` of an hour or more)."""
NOW = 1_000_000.0


def an_alias() -> str:
    return secrets.token_hex(16)


def a_record(alias: str, at: float = NOW) -> DeliveryRecord:
    login = f"{alias}.{secrets.token_hex(32)}"
    return DeliveryRecord(login, ("telegram", "smsru"), "RU", at)


class DeliveryLogContract:
    """Subclass it and give a ``delivery_log`` fixture built with :data:`RECENT`."""

    pytestmark = pytest.mark.asyncio

    async def test_a_record_reads_back_as_written_with_its_steps_in_order(
        self, delivery_log: DeliveryLog
    ) -> None:
        record = a_record(an_alias())
        await delivery_log.open(record)
        sent = DeliveryStep(NOW + 1, Step.SENT, "telegram", "msg-1")
        after = await delivery_log.add(record.login, sent)
        delivered = DeliveryStep(NOW + 2.5, Step.DELIVERED, "telegram")
        await delivery_log.add(record.login, delivered)
        assert after == record.with_step(sent)
        read = await delivery_log.get(record.login)
        assert read == record.with_step(sent).with_step(delivered)
        assert read is not None
        assert read.status is Status.DELIVERED

    async def test_a_step_for_an_unknown_login_writes_nothing(
        self, delivery_log: DeliveryLog
    ) -> None:
        record = a_record(an_alias())
        assert await delivery_log.add(record.login, DeliveryStep(NOW, Step.SENT, "x")) is None
        assert await delivery_log.get(record.login) is None

    async def test_opening_a_record_twice_keeps_the_first_and_its_steps(
        self, delivery_log: DeliveryLog
    ) -> None:
        record = a_record(an_alias())
        await delivery_log.open(record)
        await delivery_log.add(record.login, DeliveryStep(NOW, Step.SENT, "telegram"))
        await delivery_log.open(record)
        read = await delivery_log.get(record.login)
        assert read is not None
        assert len(read.steps) == 1
        assert [r.login for r in await delivery_log.recent(record.login[:32], RECENT)] == [
            record.login
        ]

    async def test_concurrent_steps_are_all_kept(self, delivery_log: DeliveryLog) -> None:
        record = a_record(an_alias())
        await delivery_log.open(record)
        steps = [DeliveryStep(NOW + i, Step.FAILED, f"channel-{i}") for i in range(20)]
        await asyncio.gather(*(delivery_log.add(record.login, step) for step in steps))
        read = await delivery_log.get(record.login)
        assert read is not None
        assert sorted(read.steps, key=lambda s: s.at) == steps

    async def test_a_phone_lists_its_recent_logins_newest_first(
        self, delivery_log: DeliveryLog
    ) -> None:
        alias = an_alias()
        records = [a_record(alias, NOW + i) for i in range(RECENT + 1)]
        for record in records:
            await delivery_log.open(record)
        await delivery_log.open(a_record(an_alias()))  # another phone's
        recent = await delivery_log.recent(alias, 10)
        assert [r.login for r in recent] == [r.login for r in reversed(records)][:RECENT]
        assert [r.login for r in await delivery_log.recent(alias, 1)] == [records[-1].login]
        assert await delivery_log.recent(an_alias(), 10) == []

    async def test_a_provider_message_id_leads_to_its_login(
        self, delivery_log: DeliveryLog
    ) -> None:
        record = a_record(an_alias())
        await delivery_log.link("twilio", "SM123", record.login)
        assert await delivery_log.login_of("twilio", "SM123") == record.login
        assert await delivery_log.login_of("smsru", "SM123") is None
        assert await delivery_log.login_of("twilio", "SM124") is None
