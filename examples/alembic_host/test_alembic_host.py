"""The host's ``alembic upgrade head`` migrates its own history and referrals'
in one database: its ``users`` table and ``alembic_version`` stay its own, and
a whole login, verify and apply then works on referrals' tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from host_migrations import upgrade
from referrals import CodeRequest, Policy, Service, Settings, VerifyCode, open_service
from referrals.adapters.sql.migrate import alembic_head

pytestmark = pytest.mark.asyncio


def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


async def sign_in(service: Service, phone: str) -> tuple[int, str]:
    """A user's id and invite code, after a login with the code."""
    requested = await service.request_code(CodeRequest(phone=phone, client_ip="10.0.0.1"))
    assert requested.code is not None
    verified = await service.verify(VerifyCode(requested.token, requested.code, "10.0.0.1"))
    return verified.profile.id, verified.profile.invite_code


async def test_both_histories_reach_their_heads_and_the_flow_works(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/host.sqlite3"

    upgrade(url)
    upgrade(url)  # and again: nothing left to do

    tables = set(inspect(create_engine(url)).get_table_names())
    assert {"users", "orders", "alembic_version"} <= tables
    assert {"referrals_users", "referrals_alembic_version"} <= tables
    assert rows(url, "SELECT version_num FROM alembic_version") == [("host_0002",)]
    assert rows(url, "SELECT version_num FROM referrals_alembic_version") == [(alembic_head(),)]

    settings = Settings(database_url=url, policy=Policy(expose_codes=True))
    async with open_service(settings) as service:
        friend_id, friend_code = await sign_in(service, "+79997654321")
        my_id, _ = await sign_in(service, "+79991234567")
        profile = await service.apply_referral(my_id, friend_code)
        assert profile.used_invite_code == friend_code
        assert (await service.get_profile(friend_id)).referred_count == 1
    assert rows(url, "SELECT count(*) FROM users") == [(0,)]  # the host's users: untouched


async def test_a_host_database_with_its_own_users_and_revision_keeps_them(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/host.sqlite3"
    engine = create_engine(url)
    with engine.begin() as connection:  # the host as it was before it took referrals in
        connection.exec_driver_sql(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(120) NOT NULL UNIQUE)"
        )
        connection.exec_driver_sql("INSERT INTO users (email) VALUES ('ann@example.com')")
        connection.exec_driver_sql(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"
        )
        connection.exec_driver_sql("INSERT INTO alembic_version VALUES ('host_0001')")
    engine.dispose()

    upgrade(url)

    assert rows(url, "SELECT email FROM users") == [("ann@example.com",)]
    assert rows(url, "SELECT version_num FROM alembic_version") == [("host_0002",)]
    assert rows(url, "SELECT version_num FROM referrals_alembic_version") == [(alembic_head(),)]
