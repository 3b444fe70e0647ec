"""``referrals referrals review|approve|void`` on SQLite and PostgreSQL
(docs/rules.md, "Referral integrity"): held referrals with their signals,
and an approval that writes referral.applied in its own transaction."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import text

from referrals import Adapters, CodeRequest, VerifyCode, open_service
from referrals.adapters.memory import RecordingSmsGateway
from referrals.settings import Settings, load_settings
from tests.conftest import sqlalchemy_engine
from tests.integration.test_cli_operator import env, run

__all__ = ["env"]  # the fixture, shared with the other operator commands' tests

pytestmark = pytest.mark.redis

OWNER, FARMED, OTHER = "+79990000201", "+79990000202", "+79990000203"
DEVICE = "the-farms-one-phone-01"
NETWORK = "77.88.1.10"
"""A global address: one network for the owner and the farmed account."""


async def _sign_in(
    settings: Settings, phone: str, ip: str, device: str | None = None
) -> tuple[int, str]:
    """Log ``phone`` in from ``ip`` (with ``device``): the user's id and invite code."""
    async with open_service(settings, adapters=Adapters(sms_gateway=RecordingSmsGateway())) as api:
        requested = await api.request_code(CodeRequest(phone, ip))
        assert requested.code is not None
        await api.drain_deliveries()
        verified = await api.verify(
            VerifyCode(requested.token, requested.code, ip, device_id=device)
        )
        return verified.profile.id, verified.profile.invite_code


async def _apply(settings: Settings, user_id: int, code: str, ip: str) -> str | None:
    async with open_service(settings) as api:
        profile = await api.apply_referral(user_id, code, client_ip=ip)
        return profile.used_referral_status


def applied_events(url: str) -> list[dict[str, object]]:
    with sqlalchemy_engine(url) as engine, engine.connect() as conn:
        rows = conn.execute(
            text("SELECT data FROM referrals_outbox WHERE type = 'referral.applied'")
        ).all()
    return [json.loads(data) for (data,) in rows]


def test_operators_review_approve_and_void_held_referrals(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(env)
    owner, code = asyncio.run(_sign_in(settings, OWNER, NETWORK, DEVICE))
    farmed, _ = asyncio.run(_sign_in(settings, FARMED, "77.88.1.11", DEVICE))
    other, _ = asyncio.run(_sign_in(settings, OTHER, "77.88.1.12"))
    assert asyncio.run(_apply(settings, farmed, code, "77.88.1.11")) == "pending_review"
    assert asyncio.run(_apply(settings, other, code, "77.88.1.12")) == "pending_review"

    status, listed, _ = run(capsys, "referrals", "review")
    assert status == 0
    assert listed["held"] == [
        {
            "id": user,
            "phone": phone,
            "referrer_id": owner,
            "invite_code": code,
            "signals": signals,
        }
        for user, phone, signals in (
            (farmed, FARMED, "same_device,same_network"),
            (other, OTHER, "same_network"),
        )
    ]
    _, shown, _ = run(capsys, "users", "show", FARMED)
    assert (shown["referral_status"], shown["referral_signals"]) == (
        "pending_review",
        "same_device,same_network",
    )
    assert applied_events(env["REFERRALS_DATABASE_URL"]) == []

    status, approved, _ = run(capsys, "referrals", "approve", str(farmed))
    assert (status, approved["decision"]) == (0, "approved")
    [event] = applied_events(env["REFERRALS_DATABASE_URL"])
    assert (event["user_id"], event["referrer_id"], event["signals"]) == (
        farmed,
        owner,
        ["same_device", "same_network"],
    )
    status, voided, _ = run(capsys, "referrals", "void", str(other))
    assert (status, voided["decision"]) == (0, "voided")

    assert run(capsys, "referrals", "review")[1] == {"held": []}
    status, _, err = run(capsys, "referrals", "approve", str(other))
    assert status == 1
    assert f"no user has id {other} with a held referral" in err
    assert run(capsys, "referrals", "review", "--limit", "0")[0] == 2
    _, shown, _ = run(capsys, "users", "show", OWNER)
    assert shown["referred_count"] == 1
    _, shown, _ = run(capsys, "users", "show", OTHER)
    assert shown["used_invite_code"] is None
