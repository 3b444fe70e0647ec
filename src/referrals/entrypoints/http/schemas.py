"""Request and response bodies (msgspec Structs); field names are the wire names."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal, cast

import msgspec
from msgspec import UNSET, Meta, UnsetType

from referrals.application.export import Export
from referrals.application.own_sessions import OwnSession
from referrals.application.profile import Profile, referral_status
from referrals.domain.codes import INVITE_CODE_TYPED
from referrals.domain.phone import MAX_TYPED_LENGTH

PhoneText = Annotated[
    str,
    Meta(
        max_length=MAX_TYPED_LENGTH,
        description="A phone number as typed: `+79991234567`, `8 999 123-45-67`…",
        examples=["+79991234567"],
    ),
]


class LoginIn(msgspec.Struct, frozen=True):
    phone: PhoneText


class UserPhone(msgspec.Struct, frozen=True):
    phone: Annotated[str, Meta(description="E.164", examples=["+79991234567"])]


class LoginOut(msgspec.Struct, frozen=True, omit_defaults=True):
    user: UserPhone
    token: Annotated[str, Meta(description="Send it back to the verify endpoint.")]
    next_page: Annotated[
        str,
        Meta(
            description="The verify endpoint for this token: absolute when the server has a"
            " public URL (`REFERRALS_PUBLIC_URL`), else a path."
        ),
    ]
    expires_in: Annotated[int, Meta(description="Seconds the code stays valid.")]
    resend_after: Annotated[int, Meta(description="Seconds before a new code may be sent.")]
    confirm_code: Annotated[
        str | UnsetType,
        Meta(description="Only when `REFERRALS_EXPOSE_CODES=true` (development)."),
    ] = UNSET
    channel: Annotated[
        str | UnsetType,
        Meta(
            description="The first channel of the phone's route (`telegram`, `smsru`…): where"
            " the code goes first. Absent for a test phone (no code is sent).",
            examples=["telegram"],
        ),
    ] = UNSET


class DeliveryStatusOut(msgspec.Struct, frozen=True):
    """Where a login's code is; nothing about the code itself."""

    channel: Annotated[
        str | None,
        Meta(description="The channel carrying the code now (`telegram`, `smsru`…)."),
    ]
    status: Annotated[
        str,
        Meta(
            description="`queued`, `sent` (a provider took it), `delivered` (its receipt"
            " came) or `delivery_failed` (every channel of the route failed).",
            examples=["sent"],
        ),
    ]
    failed_over: Annotated[
        bool, Meta(description="Whether the code moved past the route's first channel.")
    ]


class VerifyIn(msgspec.Struct, frozen=True):
    confirm_code: Annotated[str, Meta(max_length=32, examples=["1234"])]


class ProfileOut(msgspec.Struct, frozen=True):
    """The wire names of :class:`~referrals.application.profile.Profile` (docs/http-api.md)."""

    id: int
    phone: Annotated[str, Meta(description="E.164")]
    used_referral_code: Annotated[str | None, Meta(description="The invite code applied, if any.")]
    invite_referral_code: Annotated[str, Meta(description="The user's own invite code.")]
    referred_users: Annotated[
        list[str], Meta(description="One page of the phones that applied it, oldest first.")
    ]
    referred_users_count: Annotated[int, Meta(description="All of them, every page together.")]
    next_cursor: Annotated[
        str | None, Meta(description="Pass as `cursor` for the next page; null on the last.")
    ]
    used_referral_status: Annotated[
        Literal["applied", "pending_review"] | None,
        Meta(
            description="`pending_review` while the referral is held for an operator's "
            "review (a self-referral signal), `applied` once it counts; null without one."
        ),
    ] = None

    @classmethod
    def of(cls, profile: Profile) -> ProfileOut:
        return cls(
            id=profile.id,
            phone=profile.phone,
            used_referral_code=profile.used_invite_code,
            invite_referral_code=profile.invite_code,
            referred_users=list(profile.referred_phones),
            referred_users_count=profile.referred_count,
            next_cursor=profile.next_cursor,
            used_referral_status=cast(
                'Literal["applied", "pending_review"] | None', profile.used_referral_status
            ),
        )


class VerifyOut(msgspec.Struct, frozen=True):
    access_token: str
    token_type: str
    expires_in: Annotated[int, Meta(description="Seconds the session lasts.")]
    is_new_user: bool
    user: ProfileOut


class ApplyReferralIn(msgspec.Struct, frozen=True):
    used_referral_code: Annotated[
        str,
        Meta(
            max_length=32,
            # Documented, not enforced here: the use case refuses with its own message.
            extra_json_schema={
                "description": "Six letters and digits, any case; `O`, `I` and `L` are read"
                " as `0`, `1` and `1`; blanks around are ignored.",
                "examples": ["TRB7W4"],
                "extra": {"pattern": f"^{INVITE_CODE_TYPED}$"},
            },
        ),
    ]


class LogoutOut(msgspec.Struct, frozen=True):
    detail: str = "Logged out."


class SessionOut(msgspec.Struct, frozen=True):
    """One of the caller's sessions (docs/account.md)."""

    id: Annotated[
        str, Meta(description="What `DELETE /sessions/{id}/` takes; not the session's token.")
    ]
    created_at: datetime
    last_seen: Annotated[datetime, Meta(description="Moves at most once a minute.")]
    expires_at: datetime
    address: Annotated[
        str, Meta(description="The network it was opened from: /24 (IPv4) or /48 (IPv6).")
    ]
    user_agent: str
    current: Annotated[bool, Meta(description="The session this request came with.")]

    @classmethod
    def of(cls, session: OwnSession) -> SessionOut:
        return cls(
            id=session.id,
            created_at=_time(session.created_at),
            last_seen=_time(session.last_seen),
            expires_at=_time(session.expires_at),
            address=session.device.address,
            user_agent=session.device.user_agent,
            current=session.current,
        )


class SessionsOut(msgspec.Struct, frozen=True):
    sessions: Annotated[list[SessionOut], Meta(description="Newest first.")]


class RevokedOut(msgspec.Struct, frozen=True):
    revoked: Annotated[int, Meta(description="How many sessions were ended.")]


def _time(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class DeletedOut(msgspec.Struct, frozen=True):
    detail: str = "Account deleted."


class ExportedStep(msgspec.Struct, frozen=True):
    at: datetime
    step: str
    channel: str


class ExportedLogin(msgspec.Struct, frozen=True):
    """One login of the history: how its code travelled (never the code)."""

    requested_at: datetime
    country: str
    route: list[str]
    status: str
    steps: list[ExportedStep]


class ExportedHistoryEntry(msgspec.Struct, frozen=True):
    """One successful login: when, and from where as a session keeps it."""

    at: datetime
    address: Annotated[str, Meta(description="The network only (/24 or /48); empty if unknown.")]
    user_agent: str


class ExportedAccount(msgspec.Struct, frozen=True):
    id: int
    phone: str
    invite_referral_code: str
    used_referral_code: str | None
    referrer_invite_code: Annotated[
        str | None, Meta(description="The invite code of whoever referred this account.")
    ]
    referred_users: Annotated[list[str], Meta(description="All of them, oldest first.")]
    referred_users_count: int
    used_referral_status: Annotated[
        str | None, Meta(description="`applied` or `pending_review`; null without a code.")
    ] = None
    referral_signals: Annotated[
        list[str],
        Meta(description="The self-referral signals the code applied was decided with."),
    ] = []


class ExportOut(msgspec.Struct, frozen=True):
    """Everything the service holds about the caller (docs/account.md)."""

    account: ExportedAccount
    sessions: list[SessionOut]
    logins: Annotated[list[ExportedLogin], Meta(description="Logins still kept, newest first.")]
    login_history: Annotated[
        list[ExportedHistoryEntry],
        Meta(description="Successful logins still kept (REFERRALS_HISTORY_KEEP), newest first."),
    ]
    consents: Annotated[list[str], Meta(description="None are collected.")]

    @classmethod
    def of(cls, export: Export) -> ExportOut:
        user = export.user
        return cls(
            account=ExportedAccount(
                id=user.id,
                phone=user.phone,
                invite_referral_code=user.invite_code,
                used_referral_code=user.used_invite_code,
                referrer_invite_code=export.referrer_invite_code,
                referred_users=list(export.referred_phones),
                referred_users_count=user.referred_count,
                used_referral_status=referral_status(user),
                referral_signals=list(user.referral_signals),
            ),
            sessions=[SessionOut.of(session) for session in export.sessions],
            logins=[
                ExportedLogin(
                    requested_at=_time(record.queued_at),
                    country=record.country,
                    route=list(record.route),
                    status=str(record.status),
                    steps=[ExportedStep(_time(s.at), str(s.step), s.channel) for s in record.steps],
                )
                for record in export.logins
            ],
            login_history=[
                ExportedHistoryEntry(_time(entry.at), entry.network, entry.user_agent)
                for entry in export.history
            ],
            consents=list(export.consents),
        )
