"""Logins' delivery records in dicts: the embedded default's, and the tests' fake."""

from __future__ import annotations

from referrals.domain.codes import alias_of
from referrals.domain.delivery import DeliveryRecord, DeliveryStep

SWEEP_EVERY = 1_000


class InMemoryDeliveryLog:
    """A :class:`~referrals.application.ports.DeliveryLog` for one process.

    A phone keeps its ``recent`` newest logins; records queued ``keep``
    seconds ago are swept now and then (on every thousandth :meth:`open`).
    """

    def __init__(self, keep: float, recent: int) -> None:
        self._keep = keep
        self._recent = recent
        self._records: dict[str, DeliveryRecord] = {}
        self._by_alias: dict[str, list[str]] = {}
        self._messages: dict[tuple[str, str], str] = {}
        self._opened = 0

    def _sweep(self, now: float) -> None:
        gone = {k for k, r in self._records.items() if r.queued_at + self._keep <= now}
        for login in gone:
            del self._records[login]
        self._messages = {k: v for k, v in self._messages.items() if v not in gone}
        self._by_alias = {
            a: kept
            for a, logins in self._by_alias.items()
            if (kept := [x for x in logins if x in self._records])
        }

    async def open(self, record: DeliveryRecord) -> None:
        self._opened += 1
        if self._opened % SWEEP_EVERY == 0:
            self._sweep(record.queued_at)
        if record.login in self._records:
            return
        self._records[record.login] = record
        logins = self._by_alias.setdefault(alias_of(record.login), [])
        logins.insert(0, record.login)
        for dropped in logins[self._recent :]:
            self._records.pop(dropped, None)
        del logins[self._recent :]

    async def add(self, login: str, step: DeliveryStep) -> DeliveryRecord | None:
        record = self._records.get(login)
        if record is None:
            return None
        record = self._records[login] = record.with_step(step)
        return record

    async def get(self, login: str) -> DeliveryRecord | None:
        return self._records.get(login)

    async def recent(self, alias: str, limit: int) -> list[DeliveryRecord]:
        logins = self._by_alias.get(alias, [])[:limit]
        return [self._records[login] for login in logins if login in self._records]

    async def link(self, channel: str, message_id: str, login: str) -> None:
        self._messages[(channel, message_id)] = login

    async def login_of(self, channel: str, message_id: str) -> str | None:
        return self._messages.get((channel, message_id))
