"""What the operator commands print: plain dicts (the ``--json`` form) and
the tables made from them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from referrals.application.operations import (
    LimitsReset,
    PhoneDeliveries,
    ReferredPage,
    SessionsRevoked,
    Stats,
    UserReport,
)
from referrals.application.profile import referral_status
from referrals.application.pumping import GroupState
from referrals.domain.delivery import DeliveryRecord, Step
from referrals.domain.user import User

UNKNOWN = "unknown: REFERRALS_REDIS_URL is not set (kept inside the serving process)"


def _time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def _user(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "phone": user.phone,
        "invite_code": user.invite_code,
        "used_invite_code": user.used_invite_code,
        "referred_count": user.referred_count,
    }


def user_report(report: UserReport, *, sessions_known: bool) -> dict[str, Any]:
    user = report.user
    return _user(user) | {
        "referral_status": referral_status(user),
        "referral_signals": ",".join(user.referral_signals) or None,
        "referrer_chain": [{"id": u.id, "phone": u.phone} for u in report.referrers],
        "sessions": [
            {"session_id": s.session_id[:12], "expires_at": _time(s.expires_at)}
            for s in report.sessions
        ]
        if sessions_known
        else None,
    }


def referred_page(page: ReferredPage) -> dict[str, Any]:
    return {
        "owner": _user(page.owner),
        "referred_users": list(page.phones),
        "next_cursor": page.next_cursor,
    }


def user_deleted(user: User) -> dict[str, Any]:
    return {"id": user.id, "phone": user.phone, "deleted": True}


def sessions_revoked(result: SessionsRevoked) -> dict[str, Any]:
    return {"id": result.user.id, "phone": result.user.phone, "revoked_sessions": result.revoked}


def limits_reset(result: LimitsReset) -> dict[str, Any]:
    return {"phone": result.phone, "user_id": result.user_id, "limits_reset": True}


def stats(figures: Stats, *, activity_known: bool) -> dict[str, Any]:
    return {
        "users": figures.users,
        "users_last_day": figures.users_last_day,
        "referrals": figures.referrals,
        "referrals_last_day": figures.referrals_last_day,
        "codes_sent_last_day": figures.codes_sent_last_day if activity_known else None,
        "codes_verified_last_day": figures.codes_verified_last_day if activity_known else None,
        "top_referrers": [
            {"id": u.id, "phone": u.phone, "referred_count": u.referred_count}
            for u in figures.top_referrers
        ],
        "channels_last_day": [
            {
                "channel": c.channel,
                "sent": c.sent,
                "delivered": c.delivered,
                "verified": c.verified,
                "conversion": None if c.conversion is None else round(c.conversion, 3),
            }
            for c in figures.channels
        ]
        if activity_known
        else None,
        "spend_today": [
            {"channel": line.channel or "-", "country": line.country, "amount": line.amount}
            for line in figures.spend_today
        ]
        if activity_known
        else None,
    }


def pumping(states: list[GroupState]) -> dict[str, Any]:
    return {
        "groups": [
            {
                "group": state.group,
                "sent": state.sent,
                "verified": state.verified,
                "allowed": state.allowed,
                "mark": state.mark or "-",
                "throttled": state.throttled,
            }
            for state in states
        ]
    }


def _after(record: DeliveryRecord, step: Step) -> float | None:
    at = record.time_of(step)
    return None if at is None else round(at - record.queued_at, 3)


def deliveries(found: PhoneDeliveries) -> dict[str, Any]:
    """A phone's last logins (newest first, numbered from 1) and each one's steps,
    with seconds counted from the login's request."""
    return {
        "phone": found.phone,
        "logins": [
            {
                "login": n,
                "queued_at": _time(r.queued_at),
                "country": r.country,
                "route": ",".join(r.route),
                "channel": r.channel,
                "status": str(r.status),
                "verified": r.verified,
                "sent_after_s": _after(r, Step.SENT),
                "delivered_after_s": _after(r, Step.DELIVERED),
            }
            for n, r in enumerate(found.logins, 1)
        ],
        "steps": [
            {
                "login": n,
                "after_s": round(s.at - r.queued_at, 3),
                "step": str(s.step),
                "channel": s.channel or None,
                "detail": s.detail or None,
            }
            for n, r in enumerate(found.logins, 1)
            for s in r.steps
        ],
    }


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _rows(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return ["  (none)"]
    names = list(rows[0])
    cells = [[_cell(row[name]) for name in names] for row in rows]
    widths = [max(len(n), *(len(c[i]) for c in cells)) for i, n in enumerate(names)]
    lines = [names, *cells]
    return [
        "  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in lines
    ]


def table(result: dict[str, Any]) -> str:
    """``result`` as aligned ``name  value`` lines; lists as tables below their name."""
    scalars = {k: v for k, v in result.items() if not isinstance(v, list | dict)}
    width = max((len(k) for k in scalars), default=0)
    lines: list[str] = []
    for key, value in result.items():
        if isinstance(value, dict):
            lines += [f"{key}:"] + [f"  {k}: {_cell(v)}" for k, v in value.items()]
        elif isinstance(value, list):
            items = [v if isinstance(v, dict) else {"phone": v} for v in value]
            lines += [f"{key}:", *_rows(items)]
        elif value is None and key in {
            "sessions",
            "codes_sent_last_day",
            "codes_verified_last_day",
            "channels_last_day",
        }:
            lines.append(f"{key.ljust(width)}  {UNKNOWN}")
        else:
            lines.append(f"{key.ljust(width)}  {_cell(value)}")
    return "\n".join(lines)
