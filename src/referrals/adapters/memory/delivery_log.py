"""Logins' delivery records in dicts: the embedded default's, and the tests' fake."""

from __future__ import annotations

from referrals.domain.codes import alias_of
from referrals.domain.delivery import DeliveryRecord, DeliveryStep

CAPACITY = 10_000
"""Records one embedded process keeps (about 5.5 MB): the oldest go first. At the
shipped global limit (10,000 codes an hour) an hour of logins, twelve times a
code's life: the status page asks while the code lives."""
SWEEP_EVERY = 1_000


class InMemoryDeliveryLog:
    """A :class:`~referrals.application.ports.DeliveryLog` for one process.

    Bounded by design (docs/performance.md): a phone keeps its ``recent``
    newest logins; records queued ``keep`` seconds ago are swept now and
    then (on every thousandth :meth:`open`), and at most ``capacity`` are
    kept, the oldest going first (its status then reads as unknown, as after
    ``keep``). A receipt's message id is kept while its login's record is.
    """

    def __init__(self, keep: float, recent: int, capacity: int = CAPACITY) -> None:
        self._keep = keep
        self._recent = recent
        self._capacity = capacity
        self._records: dict[str, DeliveryRecord] = {}
        """Oldest first."""
        self._by_alias: dict[str, tuple[str, ...]] = {}
        """Newest first."""
        self._messages: dict[tuple[str, str], str] = {}
        self._opened = 0

    def sizes(self) -> dict[str, int]:
        """Entries held, by kind (for tests and the memory bench)."""
        return {
            "records": len(self._records),
            "phones": len(self._by_alias),
            "messages": len(self._messages),
        }

    def _sweep(self, now: float) -> None:
        gone = {k for k, r in self._records.items() if r.queued_at + self._keep <= now}
        for login in gone:
            self._drop(login)

    def _drop(self, login: str) -> None:
        if self._records.pop(login, None) is None:
            return
        alias = alias_of(login)
        kept = tuple(x for x in self._by_alias.get(alias, ()) if x != login)
        if kept:
            self._by_alias[alias] = kept
        else:
            self._by_alias.pop(alias, None)

    def _forget_messages(self) -> None:
        self._messages = {k: v for k, v in self._messages.items() if v in self._records}

    async def open(self, record: DeliveryRecord) -> None:
        self._opened += 1
        if self._opened % SWEEP_EVERY == 0:
            self._sweep(record.queued_at)
            self._forget_messages()
        if record.login in self._records:
            return
        while len(self._records) >= self._capacity:
            self._drop(next(iter(self._records)))
        self._records[record.login] = record
        alias = alias_of(record.login)
        logins = (record.login, *self._by_alias.get(alias, ()))
        for dropped in logins[self._recent :]:
            self._records.pop(dropped, None)
        self._by_alias[alias] = logins[: self._recent]

    async def add(self, login: str, step: DeliveryStep) -> DeliveryRecord | None:
        record = self._records.get(login)
        if record is None:
            return None
        record = self._records[login] = record.with_step(step)
        return record

    async def get(self, login: str) -> DeliveryRecord | None:
        return self._records.get(login)

    async def recent(self, alias: str, limit: int) -> list[DeliveryRecord]:
        logins = self._by_alias.get(alias, ())[:limit]
        return [self._records[login] for login in logins if login in self._records]

    async def link(self, channel: str, message_id: str, login: str) -> None:
        while len(self._messages) >= self._capacity:  # the oldest: their logins went first
            del self._messages[next(iter(self._messages))]
        self._messages[(channel, message_id)] = login

    async def login_of(self, channel: str, message_id: str) -> str | None:
        return self._messages.get((channel, message_id))
