"""PostgreSQL and Redis over Unix sockets, named by their URLs
(``postgresql://user@/db?host=/run/postgresql``, ``unix:///path/redis.sock``):
no TCP stack between the API and its stores on one machine (docs/production.md)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from referrals import Adapters, CodeRequest, Settings, VerifyCode, open_service
from referrals.adapters.memory import RecordingSmsGateway
from referrals.adapters.redis.session_cache import CachedRedisSessionStore
from referrals.adapters.sql import Database
from tests.servers import RedisServer

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

POSTGRES_SOCKETS = Path(os.environ.get("REFERRALS_TEST_PG_SOCKETS", "/var/run/postgresql"))


@pytest.fixture
def redis_socket(tmp_path: Path) -> Iterator[Path]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    socket = tmp_path / "redis.sock"
    server = RedisServer(binary, options=("--unixsocket", str(socket), "--unixsocketperm", "700"))
    try:
        server.start()
        yield socket
    finally:
        server.destroy()


@pytest.fixture
def postgres_socket_url(
    _postgres_migrated: str,
    postgres_database: Database,  # emptied for this test
) -> str:
    if not (POSTGRES_SOCKETS / ".s.PGSQL.5432").exists():
        pytest.skip(f"no PostgreSQL socket in {POSTGRES_SOCKETS}")
    parts = make_url(_postgres_migrated)
    return f"postgresql://{parts.username}@/{parts.database}?host={POSTGRES_SOCKETS}"


async def test_the_service_runs_over_unix_sockets(
    redis_socket: Path, postgres_socket_url: str
) -> None:
    settings = Settings(
        redis_url=f"unix://{redis_socket}",
        database_url=postgres_socket_url,
        secret_key=b"unix-sockets-secret-key-0123456789",
    )
    sms = RecordingSmsGateway()
    async with open_service(settings, adapters=Adapters(sms_gateway=sms)) as api:
        codes = []
        for phone in ("+79991110001", "+79991110002"):
            requested = await api.request_code(CodeRequest(phone, "10.0.0.1"))
            await api.drain_deliveries()
            code = sms.sent[-1].text.split()[3].rstrip(".")
            codes.append(await api.verify(VerifyCode(requested.token, code, "10.0.0.1")))
        owner, fan = codes
        fan_id = await api.authenticate(fan.session.token)
        profile = await api.apply_referral(fan_id, owner.profile.invite_code)
        assert profile.used_invite_code == owner.profile.invite_code

        sessions = api.authenticate.sessions
        assert isinstance(sessions, CachedRedisSessionStore)
        assert sessions.live  # invalidations come over the socket too
