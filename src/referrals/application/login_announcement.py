"""What a consumed login leaves behind: its rows in the database and its events."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from referrals.application import outbox
from referrals.application.conversion import RecordConversion
from referrals.application.errors import ServiceUnavailable
from referrals.application.events import Event, LoginSucceeded, UserCreated
from referrals.application.ports import EventSink, UnitOfWorkFactory
from referrals.domain.delivery import DeliveryRecord
from referrals.domain.logins import LoginRecord
from referrals.domain.user import User

log = logging.getLogger("referrals.verify")


@dataclass(frozen=True, slots=True)
class AnnounceLogin:
    """Tell the world of a login that was consumed (its session is open).

    One unit writes it (on PostgreSQL one round trip, all riding with its
    COMMIT): a first login's welcome with its ``user.created`` (written
    only by the one login that welcomes the user), the ``login.succeeded``
    event and the login history's row. Then the events go to the hooks.
    Side by side with all that, the login's marked delivery record is
    announced (:class:`~referrals.application.events.CodeVerified`): neither
    waits for the other.

    The login is done and stays done: if the database fails now, its rows
    are lost (logged), and a new user's next login is reported as new once
    more instead.
    """

    unit_of_work: UnitOfWorkFactory
    events: EventSink
    conversion: RecordConversion | None = None

    async def __call__(
        self, user: User, is_new_user: bool, entry: LoginRecord, record: DeliveryRecord | None
    ) -> None:
        if self.conversion is None or record is None:
            await self._write_and_publish(user, is_new_user, entry)
        else:
            await asyncio.gather(
                self._write_and_publish(user, is_new_user, entry),
                self.conversion.announce(record, entry.at),
            )

    async def _write_and_publish(self, user: User, is_new_user: bool, entry: LoginRecord) -> None:
        at = entry.at
        events: list[Event] = []
        if is_new_user:
            events.append(
                UserCreated(at=at, user_id=user.id, phone=user.phone, invite_code=user.invite_code)
            )
        succeeded = LoginSucceeded(
            at=at, user_id=user.id, phone=user.phone, is_new_user=is_new_user
        )
        try:
            async with self.unit_of_work() as uow:
                if is_new_user:
                    uow.outbox.welcome(user.id, outbox.exported(events[0]))
                outbox.stage(uow, [succeeded])
                uow.outbox.record_login(entry)
                await uow.commit()
        except ServiceUnavailable:
            log.warning("user %d logged in, but the login was not recorded", user.id)
        for event in [*events, succeeded]:
            await self.events.publish(event)
