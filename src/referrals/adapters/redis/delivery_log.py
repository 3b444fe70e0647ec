"""Logins' delivery records in Redis, shared by the API (receipts, status) and workers."""

from __future__ import annotations

import json
from typing import Any

from referrals.adapters.redis.client import RedisClient
from referrals.adapters.redis.support import ScriptCall, cleanup_ms, text, translated_errors
from referrals.domain.codes import alias_of
from referrals.domain.delivery import DeliveryRecord, DeliveryStep, Step

# KEYS[1] the login's list: its header, then one entry per step. ARGV[1] the
# header, [2] TTL ms. 1 if this call created the record.
_OPEN = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""
# ARGV[1] the step. The record afterwards, or nil when there is none.
_ADD = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('RPUSH', KEYS[1], ARGV[1])
return redis.call('LRANGE', KEYS[1], 0, -1)
"""


def _step(entry: bytes | str) -> DeliveryStep:
    at, step, channel, detail = json.loads(entry)
    return DeliveryStep(at, Step(step), channel, detail)


def record_of(login: str, entries: list[Any] | None) -> DeliveryRecord | None:
    """The record a script or a read answered (``None``: there is none)."""
    if not entries:
        return None
    route, country, queued_at = json.loads(entries[0])
    steps = tuple(_step(entry) for entry in entries[1:])
    return DeliveryRecord(login, tuple(route), country, queued_at, steps)


class RedisDeliveryLog:
    """A :class:`~referrals.application.ports.DeliveryLog`: a list per login
    (``{prefix}deliveries:{login}``), the phone's ``recent`` logins under
    its alias, and a key per provider message id; all kept ``keep`` seconds.
    A step is appended by one script, so receipts and workers never
    overwrite each other's steps."""

    def __init__(self, client: RedisClient, prefix: str, keep: float, recent: int) -> None:
        self._client = client
        self._prefix = prefix
        self._recent = recent
        self._ttl = cleanup_ms(keep)
        self._open = client.register_script(_OPEN)
        self._add = client.register_script(_ADD)

    @property
    def client(self) -> RedisClient:
        """The client the store talks through (stores on one client may share a round trip)."""
        return self._client

    def _key(self, login: str) -> str:
        return f"{self._prefix}deliveries:{login}"

    def _phone_key(self, alias: str) -> str:
        return f"{self._prefix}deliveries:phone:{alias}"

    def _message_key(self, channel: str, message_id: str) -> str:
        return f"{self._prefix}deliveries:message:{channel}:{message_id}"

    async def open(self, record: DeliveryRecord) -> None:
        header = json.dumps([list(record.route), record.country, record.queued_at])
        index = self._phone_key(alias_of(record.login))
        with translated_errors():
            if not await self._open([self._key(record.login)], [header, self._ttl]):
                return
            for step in record.steps:
                await self.add(record.login, step)
            await self._client.lpush(index, record.login)
            await self._client.ltrim(index, 0, self._recent - 1)
            await self._client.pexpire(index, self._ttl)

    def add_call(self, login: str, step: DeliveryStep) -> ScriptCall:
        """The script that adds ``step``; :func:`record_of` reads its reply."""
        entry = json.dumps([step.at, str(step.step), step.channel, step.detail])
        return ScriptCall(self._add, [self._key(login)], [entry])

    async def add(self, login: str, step: DeliveryStep) -> DeliveryRecord | None:
        return record_of(login, await self.add_call(login, step).run())

    async def get(self, login: str) -> DeliveryRecord | None:
        with translated_errors():
            entries = await self._client.lrange(self._key(login), 0, -1)
        return record_of(login, entries)

    async def recent(self, alias: str, limit: int) -> list[DeliveryRecord]:
        with translated_errors():
            logins = await self._client.lrange(self._phone_key(alias), 0, limit - 1)
        records = [await self.get(text(login)) for login in logins]
        return [record for record in records if record is not None]

    async def link(self, channel: str, message_id: str, login: str) -> None:
        with translated_errors():
            await self._client.set(self._message_key(channel, message_id), login, px=self._ttl)

    async def login_of(self, channel: str, message_id: str) -> str | None:
        with translated_errors():
            login = await self._client.get(self._message_key(channel, message_id))
        return None if login is None else text(login)
