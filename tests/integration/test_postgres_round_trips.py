"""PostgreSQL round trips of a unit of work, counted on the wire.

A forwarder between the pool and the server counts the client's turns: each
time the client speaks again after the server answered is one round trip.
A writing unit sends its BEGIN together with its first statement.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable
from urllib.parse import urlsplit, urlunsplit

import pytest

from referrals.adapters.sql.database import Database, open_database
from referrals.domain.codes import InviteCode, generate_invite_code
from referrals.domain.errors import ReferralCodeNotFound
from referrals.domain.phone import parse_phone
from tests.defaults import DATABASE
from tests.namespaces import NAMESPACE

pytestmark = pytest.mark.postgres


class TurnCounter:
    """Forwards ``127.0.0.1:{port}`` to the server; :attr:`turns` counts round trips."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._client_spoke_last = False
        self.turns = 0
        self.port = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> TurnCounter:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        self._server.close()
        for task in self._tasks:
            task.cancel()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(*self._target)
        for pump in (self._pump(client_r, server_w, True), self._pump(server_r, client_w, False)):
            task = asyncio.create_task(pump)
            self._tasks.add(task)

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, up: bool) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await src.read(65536):
                if up and not self._client_spoke_last:
                    self.turns += 1
                self._client_spoke_last = up
                dst.write(data)
                await dst.drain()
        dst.close()


@pytest.fixture
async def counted(_postgres_migrated: str) -> AsyncIterator[tuple[TurnCounter, Database]]:
    parts = urlsplit(_postgres_migrated)
    async with TurnCounter(parts.hostname or "127.0.0.1", parts.port or 5432) as counter:
        netloc = f"{parts.username or ''}@127.0.0.1:{counter.port}"
        database = open_database(
            urlunsplit(parts._replace(netloc=netloc)),
            namespace=NAMESPACE,
            **(DATABASE | {"pool_size": 1}),
        )
        await database.open()
        try:
            yield counter, database
        finally:
            await database.close()


async def _turns(counter: TurnCounter, action: Awaitable[None]) -> int:
    await asyncio.sleep(0.05)  # the pool's own chatter at opening is done
    before = counter.turns
    await action
    return counter.turns - before


async def test_a_writing_unit_sends_begin_with_its_first_statement(
    counted: tuple[TurnCounter, Database],
) -> None:
    counter, database = counted

    async def add_and_commit(n: int) -> None:
        async with database.unit_of_work() as uow:
            await uow.users.add(parse_phone(f"+7999000000{n}"), InviteCode(f"AAAAA{n}"), "t")
            await uow.commit()

    await add_and_commit(1)  # the connection prepares the statement at its first use
    assert await _turns(counter, add_and_commit(2)) == 2  # BEGIN + INSERT, COMMIT


async def test_a_writing_unit_that_runs_nothing_sends_nothing(
    counted: tuple[TurnCounter, Database],
) -> None:
    counter, database = counted

    async def nothing() -> None:
        async with database.unit_of_work() as uow:
            await uow.commit()

    assert await _turns(counter, nothing()) == 0


async def test_a_unit_that_only_read_and_failed_keeps_the_prepared_statements(
    counted: tuple[TurnCounter, Database],
) -> None:
    """psycopg forgets every prepared statement on ROLLBACK: ending a unit that
    wrote nothing with COMMIT instead spares the next units preparing again."""
    counter, database = counted

    async def add_and_commit(n: int) -> None:
        async with database.unit_of_work() as uow:
            await uow.users.add(parse_phone(f"+7999000000{n}"), InviteCode(f"AAAAA{n}"), "t")
            await uow.commit()

    async def refused() -> None:
        with contextlib.suppress(LookupError):
            async with database.unit_of_work() as uow:
                await uow.users.get_by_invite_code(InviteCode("ZZZZZZ"))
                raise LookupError("refused, as an unknown invite code is")

    await add_and_commit(1)
    await refused()
    assert await _turns(counter, add_and_commit(2)) == 2  # BEGIN + INSERT, COMMIT: as before


async def test_an_application_is_one_round_trip_and_a_refused_one_keeps_the_statements(
    counted: tuple[TurnCounter, Database],
) -> None:
    """The apply statement writes only when the rules pass (``writes_when``):
    refused, its unit ends with COMMIT, and psycopg keeps what it prepared."""
    counter, database = counted
    # The migrated database is shared by the session's tests: numbers and codes of its own.
    base = secrets.randbelow(10**6)
    codes = {n: generate_invite_code() for n in (1, 2, 3)}

    async def add_and_commit(n: int) -> int:
        async with database.unit_of_work() as uow:
            user = await uow.users.add(parse_phone(f"+7999{base:06d}{n}"), codes[n], "t")
            await uow.commit()
        assert user is not None
        return user.id

    async def apply(user_id: int, code: str, refusal: type[Exception] | None) -> None:
        async with database.unit_of_work() as uow:
            done = await uow.users.apply_code(user_id, InviteCode(code), 10)
            assert type(done.refusal) is (refusal or type(None))
            if refusal is None:  # a refused one is left without commit, as ApplyReferral does
                await uow.commit()

    fan = await add_and_commit(1)
    await add_and_commit(2)
    await apply(fan, "ZZZZZZ", ReferralCodeNotFound)  # prepares the statement
    assert await _turns(counter, apply(fan, "ZZZZZZ", ReferralCodeNotFound)) == 2
    assert await _turns(counter, add_and_commit(3)) == 2  # BEGIN + INSERT, COMMIT: still prepared
    assert await _turns(counter, apply(fan, codes[2], None)) == 2  # BEGIN + apply, COMMIT


async def _verify_and_apply_turns(
    counter: TurnCounter, url: str, webhooks: str, phones: tuple[str, str]
) -> list[int]:
    """Round trips of a first login's verify and of an application, with
    ``REFERRALS_WEBHOOKS`` as given (the relay in this process, idle by then)."""
    from referrals import Adapters, CodeRequest, VerifyCode, open_service
    from referrals.adapters.memory import RecordingSmsGateway
    from referrals.settings import load_settings

    settings = load_settings(
        {
            "REFERRALS_DATABASE_URL": url,
            "REFERRALS_EXPOSE_CODES": "true",
            "REFERRALS_DB_POOL_SIZE": "1",
            "REFERRALS_WEBHOOKS": webhooks,
            "REFERRALS_WEBHOOK_POLL": "3600",
        }
    )
    async with open_service(settings, adapters=Adapters(sms_gateway=RecordingSmsGateway())) as api:
        profiles = []
        turns = []
        for phone in phones:
            requested = await api.request_code(CodeRequest(phone, "10.0.0.1"))
            assert requested.code is not None
            await api.drain_deliveries()
            verifying = api.verify(VerifyCode(requested.token, requested.code, "10.0.0.1"))
            turns.append(await _turns(counter, _done(verifying, profiles)))
        owner, fan = profiles
        turns.append(await _turns(counter, _done(api.apply_referral(fan, owner), [])))
    return turns


async def _done(action: Awaitable[object], into: list[object]) -> None:
    result = await action
    profile = getattr(result, "profile", None)
    if profile is not None:
        into.append(profile.invite_code if not into else profile.id)


async def test_webhooks_add_no_round_trip_to_a_login_or_an_application(
    request: pytest.FixtureRequest,
) -> None:
    import json

    migrated: str = request.getfixturevalue("_postgres_migrated")

    parts = urlsplit(migrated)
    endpoint = {"name": "crm", "url": "http://127.0.0.1:9/", "events": ["*"]}
    endpoint["secret"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    async with TurnCounter(parts.hostname or "127.0.0.1", parts.port or 5432) as counter:
        netloc = f"{parts.username or ''}@127.0.0.1:{counter.port}"
        url = urlunsplit(parts._replace(netloc=netloc))
        without = await _verify_and_apply_turns(
            counter, url, "[]", ("+79990000701", "+79990000702")
        )
    async with TurnCounter(parts.hostname or "127.0.0.1", parts.port or 5432) as counter:
        netloc = f"{parts.username or ''}@127.0.0.1:{counter.port}"
        url = urlunsplit(parts._replace(netloc=netloc))
        webhooks = json.dumps([endpoint])
        phones = ("+79990000703", "+79990000704")
        with_webhooks = await _verify_and_apply_turns(counter, url, webhooks, phones)
    # The first verify of each run warms its connection up; compare the rest:
    # a new user's verify (its user.created and login.succeeded ride in the
    # COMMIT) and an application (its referral.applied too).
    assert with_webhooks[1:] == without[1:]
