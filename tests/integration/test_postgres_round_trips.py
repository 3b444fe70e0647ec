"""PostgreSQL round trips of a unit of work, counted on the wire.

A forwarder between the pool and the server counts the client's turns: each
time the client speaks again after the server answered is one round trip.
A writing unit sends its BEGIN together with its first statement.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable
from urllib.parse import urlsplit, urlunsplit

import pytest

from referrals.adapters.sql.database import Database, open_database
from referrals.domain.codes import InviteCode
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
