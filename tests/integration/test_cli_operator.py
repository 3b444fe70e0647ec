"""The operator commands (`referrals users|sessions|limits|deliveries|stats`) on SQLite and
PostgreSQL, with the sessions, limits and activity shared through Redis."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from referrals import Adapters, CodeRequest, VerifyCode, open_service
from referrals.adapters.memory import RecordingSmsGateway
from referrals.adapters.sms.webhook import signature
from referrals.adapters.sql.database import run_migrations
from referrals.application.errors import NotAuthenticated, RateLimited
from referrals.application.receipts import Callback
from referrals.domain.codes import challenge_id
from referrals.entrypoints.cli import main
from referrals.settings import Settings, load_settings
from tests.namespaces import NAMESPACE

pytestmark = pytest.mark.redis

ROOT, MIDDLE, FAN = "+79990000101", "+79990000102", "+79990000103"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def env(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    redis_server_url: str,
    redis_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    if request.param == "sqlite":
        database_url = f"sqlite+aiosqlite:///{tmp_path}/operator.sqlite3"
    else:
        database_url = request.getfixturevalue("empty_postgres_url")
    asyncio.run(run_migrations(database_url, NAMESPACE, prepared_statements=True))
    values = {
        "REFERRALS_DATABASE_URL": database_url,
        "REFERRALS_REDIS_URL": redis_server_url,
        "REFERRALS_REDIS_PREFIX": redis_prefix,
        "REFERRALS_SECRET_KEY": "operator-cli-test-secret-0123456789",
        "REFERRALS_EXPOSE_CODES": "true",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


async def _sign_in(settings: Settings, phone: str, referrer: str | None = None) -> str:
    """Log ``phone`` in (and apply ``referrer``'s code); the session token."""
    async with open_service(settings, adapters=Adapters(sms_gateway=RecordingSmsGateway())) as api:
        requested = await api.request_code(CodeRequest(phone, "10.0.0.1"))
        assert requested.code is not None
        # The SMS arrives before the code is typed: a delivery that ran after the
        # login was used up would be dropped as stale, and not counted as sent.
        await api.drain_deliveries()
        verified = await api.verify(VerifyCode(requested.token, requested.code, "10.0.0.1"))
        if referrer is not None:
            owner = await api.get_user(await api.authenticate(referrer))
            await api.apply_referral(verified.session.user_id, owner.invite_code)
        return verified.session.token


async def _authenticates(settings: Settings, token: str) -> bool:
    async with open_service(settings) as api:
        try:
            await api.authenticate(token)
        except NotAuthenticated:
            return False
        return True


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    """``referrals ARGV --json``: exit status, the parsed output, stderr."""
    status = main([*argv, "--json"])
    out, err = capsys.readouterr()
    return status, json.loads(out) if status == 0 else None, err


def test_operators_see_users_chains_referrals_sessions_and_stats(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(env)
    root = asyncio.run(_sign_in(settings, ROOT))
    middle = asyncio.run(_sign_in(settings, MIDDLE, referrer=root))
    asyncio.run(_sign_in(settings, FAN, referrer=middle))

    status, shown, _ = run(capsys, "users", "show", "8 999 000-01-03")
    assert status == 0
    assert shown["phone"] == FAN
    assert [u["phone"] for u in shown["referrer_chain"]] == [MIDDLE, ROOT]
    assert len(shown["sessions"]) == 1
    _, root_shown, _ = run(capsys, "users", "show", ROOT)
    assert (root_shown["referred_count"], root_shown["referrer_chain"]) == (1, [])

    code = root_shown["invite_code"]
    _, page, _ = run(capsys, "users", "referred", code.lower(), "--limit", "1")
    assert (page["owner"]["phone"], page["referred_users"]) == (ROOT, [MIDDLE])
    assert page["next_cursor"] is None
    _, by_phone, _ = run(capsys, "users", "referred", MIDDLE)
    assert by_phone["referred_users"] == [FAN]

    status, stats, _ = run(capsys, "stats")
    assert status == 0
    assert (stats["users"], stats["users_last_day"]) == (3, 3)
    assert (stats["referrals"], stats["referrals_last_day"]) == (2, 2)
    assert (stats["codes_sent_last_day"], stats["codes_verified_last_day"]) == (3, 3)
    assert [(r["phone"], r["referred_count"]) for r in stats["top_referrers"]] == [
        (ROOT, 1),
        (MIDDLE, 1),
    ]


def test_referred_pages_follow_their_cursor(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(env)
    root = asyncio.run(_sign_in(settings, ROOT))
    for fan in (MIDDLE, FAN):
        asyncio.run(_sign_in(settings, fan, referrer=root))
    _, first, _ = run(capsys, "users", "referred", ROOT, "--limit", "1")
    assert first["referred_users"] == [MIDDLE]
    _, second, _ = run(
        capsys, "users", "referred", ROOT, "--limit", "1", "--cursor", first["next_cursor"]
    )
    assert (second["referred_users"], second["next_cursor"]) == ([FAN], None)


def test_revoking_a_users_sessions_ends_them_all_at_once(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(env)
    first = asyncio.run(_sign_in(settings, FAN))
    with pytest.raises(RateLimited):  # the resend cooldown: one code a minute
        asyncio.run(_sign_in(settings, FAN))
    status, reset, _ = run(capsys, "limits", "reset", FAN)
    assert (status, reset["phone"], reset["limits_reset"]) == (0, FAN, True)
    second = asyncio.run(_sign_in(settings, FAN))  # the cooldown was lifted
    _, shown, _ = run(capsys, "users", "show", FAN)
    assert len(shown["sessions"]) == 2

    status, revoked, _ = run(capsys, "sessions", "revoke", FAN)
    assert (status, revoked["revoked_sessions"]) == (0, 2)
    assert not asyncio.run(_authenticates(settings, first))
    assert not asyncio.run(_authenticates(settings, second))
    _, shown, _ = run(capsys, "users", "show", FAN)
    assert shown["sessions"] == []


WEBHOOK_SECRET = "w" * 32


async def _delivered_then_verified(settings: Settings, phone: str) -> None:
    """Log ``phone`` in through the webhook channel, whose receipt says delivered, then verify."""
    async with open_service(settings, adapters=Adapters(sms_gateway=RecordingSmsGateway())) as api:
        requested = await api.request_code(CodeRequest(phone, "10.0.0.1"))
        assert requested.code is not None
        await api.drain_deliveries()
        # The webhook's receipt names the message by its Idempotency-Key: the login.
        body = json.dumps(
            {"id": challenge_id(settings.secret_key, requested.token), "status": "delivered"}
        ).encode()
        stamp = str(int(api.deliver_code.clock.now()))
        headers = {
            "x-referrals-timestamp": stamp,
            "x-referrals-signature": signature(WEBHOOK_SECRET.encode(), stamp, body),
        }
        await api.record_receipts("webhook", Callback("http://x/", headers, body))
        await api.verify(VerifyCode(requested.token, requested.code, "10.0.0.1"))


def test_deliveries_show_a_phones_logins_and_stats_convert_by_channel(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    webhook = {
        "REFERRALS_SMS_GATEWAY": "webhook",
        "REFERRALS_SMS_WEBHOOK_URL": "https://sms.example.com/send",
        "REFERRALS_SMS_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    settings = load_settings(env | webhook)
    asyncio.run(_delivered_then_verified(settings, ROOT))

    status, shown, _ = run(capsys, "deliveries", "show", "8 999 000-01-01")
    assert status == 0
    [login] = shown["logins"]
    assert (login["route"], login["channel"], login["status"]) == (
        "webhook",
        "webhook",
        "delivered",
    )
    assert login["verified"] is True
    assert 0 <= login["sent_after_s"] <= login["delivered_after_s"]
    steps = [(s["step"], s["channel"]) for s in shown["steps"]]
    assert steps == [
        ("queued", None),
        ("sent", "webhook"),
        ("delivered", "webhook"),
        ("verified", None),
    ]
    status, nothing, _ = run(capsys, "deliveries", "show", MIDDLE)
    assert (status, nothing["logins"]) == (0, [])

    for name, value in webhook.items():  # stats lists the channels of the routes
        monkeypatch.setenv(name, value)
    status, stats, _ = run(capsys, "stats")
    assert status == 0
    assert stats["channels_last_day"] == [
        {"channel": "webhook", "sent": 1, "delivered": 1, "verified": 1, "conversion": 1.0}
    ]


def test_tables_are_printed_without_json(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_sign_in(load_settings(env), ROOT))
    assert main(["users", "show", ROOT]) == 0
    out = capsys.readouterr().out
    assert ["phone", ROOT] in [line.split() for line in out.splitlines()]
    assert "referrer_chain:\n  (none)" in out
    assert main(["stats"]) == 0
    assert ["codes_sent_last_day", "1"] in [
        line.split() for line in capsys.readouterr().out.splitlines()
    ]


def test_unknown_users_and_bad_input_are_refused_with_a_reason(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "users", "show", ROOT)
    assert (status, err.strip()) == (1, f"referrals users show: no user has phone {ROOT}")
    status, _, err = run(capsys, "users", "referred", "ZZZZZZ")
    assert (status, err.strip()) == (1, "referrals users referred: no user has invite code ZZZZZZ")
    status, _, err = run(capsys, "sessions", "revoke", "not a phone")
    assert status == 2
    assert "'not a phone' is not a phone number" in err
    status, _, err = run(capsys, "users", "referred", ROOT, "--cursor", "bogus")
    assert status == 1  # nobody has ROOT yet: looked up before the cursor is read


def test_commands_that_need_shared_stores_say_so_without_redis(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REFERRALS_REDIS_URL")
    for argv in (
        ["sessions", "revoke", ROOT],
        ["limits", "reset", ROOT],
        ["deliveries", "show", ROOT],
    ):
        status, _, err = run(capsys, *argv)
        assert status == 2
        assert "REFERRALS_REDIS_URL is not set" in err
    status, stats, _ = run(capsys, "stats")
    assert (status, stats["codes_sent_last_day"], stats["users"]) == (0, None, 0)


def test_an_operator_deletes_an_account_only_with_yes(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(env)
    session = asyncio.run(_sign_in(settings, FAN))
    status, _, err = run(capsys, "users", "delete", FAN)
    assert status == 2
    assert "add --yes" in err
    assert asyncio.run(_authenticates(settings, session))

    status, deleted, _ = run(capsys, "users", "delete", FAN, "--yes")

    assert (status, deleted["phone"], deleted["deleted"]) == (0, FAN, True)
    assert not asyncio.run(_authenticates(settings, session))
    status, _, err = run(capsys, "users", "show", FAN)
    assert (status, err.strip()) == (1, f"referrals users show: no user has phone {FAN}")
