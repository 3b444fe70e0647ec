"""Exporting one's data (docs/account.md): every field we hold about the caller."""

from __future__ import annotations

from typing import Any

from referrals.adapters.sql.tables import tables_for
from referrals.domain.sessions import SessionInfo
from tests.e2e.conftest import (
    OTHER_PHONE,
    PHONE,
    Api,
    apply_code,
    assert_problem,
    bearer,
    invite_code,
    sign_in,
)
from tests.namespaces import NAMESPACE

EXPORTED_COLUMNS = {
    "id": "id",
    "phone": "phone",
    "invite_code": "invite_referral_code",
    "used_invite_code": "used_referral_code",
    "referrer_id": "referrer_invite_code",  # who referred them, by the code they applied
    "referred_count": "referred_users_count",
    "referral_status": "used_referral_status",
    "referral_signals": "referral_signals",
}
NOT_PERSONAL = {
    "referral_rank": "the order of the referrals, shown as referred_users' order",
    "created_at": "when the row was written (the first session's created_at says it)",
    "referred_at": "when the code was applied",
    "created_by": "an internal login tag, cleared at the first login",
    "cooldown_until": "the end of the number's re-registration cooldown, a rule about an earlier"
    " account on the number (docs/account.md), not about this person",
}


async def export(api: Api, token: str) -> dict[str, Any]:
    response = await api.client.get("/api/profile/export/", headers=bearer(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_export_holds_the_account_its_referrals_sessions_and_logins(api: Api) -> None:
    owner = await sign_in(api.client)
    fan = await sign_in(api.client, OTHER_PHONE)
    assert (await apply_code(api.client, fan, await invite_code(api.client, owner))).is_success

    mine = await export(api, owner)

    assert set(mine) == {"account", "sessions", "logins", "login_history", "consents"}
    assert mine["account"]["phone"] == PHONE
    assert mine["account"]["referred_users"] == [OTHER_PHONE]
    assert mine["account"]["referred_users_count"] == 1
    assert [s["current"] for s in mine["sessions"]] == [True]
    assert len(mine["logins"]) == 1
    assert mine["logins"][0]["status"] in {"queued", "sent", "delivered"}
    [login] = mine["login_history"]
    assert login["address"] == mine["sessions"][0]["address"]
    assert mine["consents"] == []
    theirs = await export(api, fan)
    assert theirs["account"]["referrer_invite_code"] == mine["account"]["invite_referral_code"]


async def test_every_column_of_the_users_table_is_exported_or_said_why_not(api: Api) -> None:
    token = await sign_in(api.client)
    account = (await export(api, token))["account"]
    columns = {column.name for column in tables_for(NAMESPACE).users.columns}

    assert columns == set(EXPORTED_COLUMNS) | set(NOT_PERSONAL)
    assert set(EXPORTED_COLUMNS.values()) <= set(account)


HISTORY_COLUMNS = {
    "logged_in_at": "at",
    "network": "address",
    "user_agent": "user_agent",
}
HISTORY_NOT_PERSONAL = {
    "id": "the row's number",
    "user_id": "the caller's own id (account.id)",
    "device": "a keyed hash of the device id, for same_device; no device id can be had from it",
}


async def test_every_column_of_the_login_history_is_exported_or_said_why_not(api: Api) -> None:
    token = await sign_in(api.client)
    [login] = (await export(api, token))["login_history"]
    columns = {column.name for column in tables_for(NAMESPACE).login_history.columns}

    assert columns == set(HISTORY_COLUMNS) | set(HISTORY_NOT_PERSONAL)
    assert set(HISTORY_COLUMNS.values()) == set(login)


async def test_every_field_a_session_keeps_is_exported(api: Api) -> None:
    token = await sign_in(api.client)
    [session] = (await export(api, token))["sessions"]
    kept = {f for f in SessionInfo.__slots__ if f not in {"device", "session_id"}}

    assert kept | {"address", "user_agent", "id"} <= set(session)


async def test_the_export_needs_a_session(api: Api) -> None:
    assert_problem(await api.client.get("/api/profile/export/"), 401, "not_authenticated")
