"""A deleted account's phone is nowhere (docs/account.md): every table of the
database (SQLite, PostgreSQL) and every key of Redis is scanned for it."""

from __future__ import annotations

import os
from typing import Any

import pytest
import redis
from sqlalchemy import MetaData, select

from referrals.adapters.sql.database import run_migrations
from referrals.application.policy import Policy
from referrals.application.request_code import CodeRequest
from referrals.application.verify import VerifyCode
from referrals.domain.errors import ReferralCooldown
from referrals.service import Service, open_service
from referrals.settings import Settings
from tests.conftest import sqlalchemy_engine
from tests.namespaces import NAMESPACE

PHONE = "+79991234567"
DIGITS = PHONE.removeprefix("+7")
"""Found in any spelling of the number that keeps its digits together."""
FRIEND = "+79997654321"
FAN = "+79995550011"
IP = "203.0.113.7"


async def signed_in(service: Service, phone: str) -> tuple[int, str]:
    asked = await service.request_code(CodeRequest(phone, IP))
    assert asked.code is not None
    verified = await service.verify(VerifyCode(asked.token, asked.code, IP, "Firefox"))
    return verified.profile.id, verified.session.token


async def a_deleted_account(service: Service) -> None:
    """Sign the phone in, refer and be referred, then delete the account."""
    user_id, token = await signed_in(service, PHONE)
    friend_id, _ = await signed_in(service, FRIEND)
    fan_id, _ = await signed_in(service, FAN)
    friend = await service.get_profile(friend_id)
    mine = await service.apply_referral(user_id, friend.invite_code)
    await service.apply_referral(fan_id, mine.invite_code)
    assert await service.list_sessions(user_id, token)
    step = await service.request_deletion(user_id, IP)
    assert step.code is not None
    await service.confirm_deletion(user_id, step.token, step.code, IP)
    assert await service.drain_deliveries(10)


def database_rows(url: str) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    with sqlalchemy_engine(url) as engine, engine.connect() as conn:
        metadata = MetaData()
        metadata.reflect(conn)
        assert metadata.tables, "no tables to scan"
        for table in metadata.sorted_tables:
            found += [(table.name, row) for row in conn.execute(select(table))]
    return found


def redis_entries(url: str, prefix: str) -> list[tuple[str, Any]]:
    client = redis.Redis.from_url(url)
    read = {
        b"string": client.get,
        b"hash": client.hgetall,
        b"list": lambda k: client.lrange(k, 0, -1),
        b"set": client.smembers,
        b"zset": lambda k: client.zrange(k, 0, -1, withscores=True),
        b"stream": client.xrange,
    }
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        assert keys, "no keys to scan"
        return [(key.decode(), read[client.type(key)](key)) for key in keys]
    finally:
        client.close()


def holding_the_phone(entries: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [(where, what) for where, what in entries if DIGITS in f"{where} {what!r}"]


def settings_for(database_url: str, redis_url: str, prefix: str) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        redis_prefix=prefix,
        policy=Policy(expose_codes=True, resend_cooldown=0.001),
        sms_delay=(0.0, 0.0),
        secret_key=os.urandom(32),
    )


@pytest.mark.redis
async def test_nothing_in_sqlite_or_redis_holds_a_deleted_accounts_phone(
    tmp_path: Any, redis_server_url: str, redis_prefix: str
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/erasure.sqlite3"
    async with open_service(settings_for(url, redis_server_url, redis_prefix)) as service:
        await a_deleted_account(service)

    assert holding_the_phone(database_rows(url)) == []
    assert holding_the_phone(redis_entries(redis_server_url, redis_prefix)) == []
    friend_rows = [row for _, row in database_rows(url) if FRIEND in repr(row)]
    assert friend_rows, "the scan sees the other users' phones"


@pytest.mark.postgres
@pytest.mark.redis
async def test_nothing_in_postgresql_or_redis_holds_a_deleted_accounts_phone(
    empty_postgres_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    settings = settings_for(empty_postgres_url, redis_server_url, redis_prefix)
    await run_migrations(empty_postgres_url, NAMESPACE, prepared_statements=True)
    async with open_service(settings) as service:
        await a_deleted_account(service)

    assert holding_the_phone(database_rows(empty_postgres_url)) == []
    assert holding_the_phone(redis_entries(redis_server_url, redis_prefix)) == []
    assert any(FRIEND in repr(row) for _, row in database_rows(empty_postgres_url))


@pytest.mark.postgres
@pytest.mark.redis
async def test_the_number_signed_up_again_on_postgresql_and_redis_applies_no_code(
    empty_postgres_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    """The cooldown read with the verify's code lands on the new user's row,
    which the apply statement checks (docs/account.md)."""
    settings = settings_for(empty_postgres_url, redis_server_url, redis_prefix)
    await run_migrations(empty_postgres_url, NAMESPACE, prepared_statements=True)
    async with open_service(settings) as service:
        await a_deleted_account(service)
        again, _ = await signed_in(service, PHONE)
        friend, _ = await signed_in(service, FRIEND)
        code = (await service.get_profile(friend)).invite_code

        with pytest.raises(ReferralCooldown):
            await service.apply_referral(again, code)
        assert (await service.get_profile(again)).used_invite_code is None
