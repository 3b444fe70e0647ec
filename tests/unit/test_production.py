"""Issue 9 item 4: ``REFERRALS_ENV=prod`` refuses what would leave the service
open: the console gateway, insecure cookies, plain-http webhooks, short
webhook secrets and limits looser than the table of ``referrals.production``."""

from __future__ import annotations

import pytest

from referrals import production
from referrals.application.ports import Limit
from referrals.production import BOUNDS, Bound
from referrals.settings import PREFIX, Settings, SettingsError, load_settings

PROD = {
    "REFERRALS_ENV": "prod",
    "REFERRALS_SECRET_KEY": "k" * 40,
    "REFERRALS_SMS_GATEWAY": "webhook",
    "REFERRALS_SMS_WEBHOOK_URL": "https://sms.example.com/send",
    "REFERRALS_SMS_WEBHOOK_SECRET": "w" * 32,
}
"""The least a production deployment sets."""


def refusals(**changes: str) -> list[str]:
    with pytest.raises(SettingsError) as refused:
        load_settings({**PROD, **{PREFIX + name: value for name, value in changes.items()}})
    return refused.value.problems


def test_the_least_a_production_deployment_sets_is_accepted() -> None:
    """Every default is within the production bounds."""
    settings = load_settings(PROD)

    assert settings.env == "prod"
    assert settings.cookie_secure
    assert not settings.policy.expose_codes


def test_prod_refuses_the_console_gateway_and_says_what_to_set() -> None:
    environ = {k: v for k, v in PROD.items() if "SMS" not in k}
    with pytest.raises(SettingsError) as refused:
        load_settings(environ)

    [problem] = refused.value.problems
    assert problem.startswith("REFERRALS_SMS_GATEWAY=console is refused when REFERRALS_ENV=prod")
    for needed in ("REFERRALS_SMS_GATEWAY=webhook", "SMS_WEBHOOK_URL", "SMS_WEBHOOK_SECRET"):
        assert needed in problem


def test_prod_refuses_an_insecure_session_cookie() -> None:
    assert refusals(COOKIE_SECURE="false") == [
        "REFERRALS_COOKIE_SECURE=false is refused when REFERRALS_ENV=prod:"
        " the session cookie would travel over plain http"
    ]


@pytest.mark.parametrize("url", ["http://sms.example.com/send", "sms.example.com", "https://"])
def test_prod_refuses_a_webhook_that_is_not_https(url: str) -> None:
    [problem] = refusals(SMS_WEBHOOK_URL=url)
    assert problem.startswith(f"REFERRALS_SMS_WEBHOOK_URL={url!r} is refused")
    assert "https://" in problem


def test_prod_refuses_a_short_webhook_secret() -> None:
    short = "w" * (production.MIN_WEBHOOK_SECRET_LENGTH - 1)
    [problem] = refusals(SMS_WEBHOOK_SECRET=short)
    assert problem == (
        "REFERRALS_SMS_WEBHOOK_SECRET shorter than 32 characters is refused when REFERRALS_ENV=prod"
    )


def test_development_accepts_what_prod_refuses() -> None:
    settings = load_settings(
        {
            "REFERRALS_COOKIE_SECURE": "false",
            "REFERRALS_CODE_MAX_ATTEMPTS": "1000",
            "REFERRALS_LIMIT_PHONE_FAILURE": "1000000/1",
            "REFERRALS_SMS_GATEWAY": "webhook",
            "REFERRALS_SMS_WEBHOOK_URL": "http://127.0.0.1:9/send",
            "REFERRALS_SMS_WEBHOOK_SECRET": "x",
        }
    )
    assert settings.env == "dev"


def looser(bound: Bound) -> str:
    """A value just past ``bound``, as the environment writes it."""
    loosest = bound.loosest
    if isinstance(loosest, Limit):
        return f"{loosest.count + 1}/{loosest.window:g}"
    step = -1 if bound.at_least else 1
    return production.shown(type(loosest)(loosest + step))


@pytest.mark.parametrize("bound", BOUNDS, ids=lambda b: b.variable)
def test_prod_refuses_each_setting_looser_than_its_bound(bound: Bound) -> None:
    value = looser(bound)
    [problem] = refusals(**{bound.variable: value})
    assert problem.startswith(f"{PREFIX}{bound.variable}={value} is refused")
    assert bound.describe() in problem


@pytest.mark.parametrize("bound", BOUNDS, ids=lambda b: b.variable)
def test_prod_accepts_each_setting_at_its_bound(bound: Bound) -> None:
    value = production.shown(bound.loosest)
    assert load_settings({**PROD, PREFIX + bound.variable: value}).env == "prod"


def test_the_issues_values_are_all_refused_at_once() -> None:
    """The values issue 9 found accepted in prod, each listed in one error."""
    problems = refusals(
        SMS_GATEWAY="console",
        COOKIE_SECURE="false",
        CODE_MAX_ATTEMPTS="1000",
        LIMIT_PHONE_FAILURE="1000000/1",
    )
    text = "\n".join(problems)
    for name in ("SMS_GATEWAY", "COOKIE_SECURE", "CODE_MAX_ATTEMPTS", "LIMIT_PHONE_FAILURE"):
        assert f"REFERRALS_{name}=" in text
    assert len(problems) == 4


def test_a_limit_passes_by_what_it_lets_through_in_the_bounds_window() -> None:
    bound = Bound("LIMIT_X", Limit(200, 86_400.0), "test")

    assert bound.allows(Limit(8, 3_600.0))  # 192 a day
    assert not bound.allows(Limit(10, 3_600.0))  # 240 a day
    assert bound.allows(Limit(200, 172_800.0))
    assert not bound.allows(Limit(201, 172_800.0))
    assert bound.allows((Limit(5, 60.0), Limit(150, 86_400.0)))  # the strictest decides
    assert not bound.allows((Limit(201, 86_400.0), Limit(300, 86_400.0)))


def test_a_hand_built_prod_settings_is_held_to_the_same_rules() -> None:
    with pytest.raises(SettingsError, match="REFERRALS_SMS_GATEWAY=console is refused"):
        Settings(env="prod", secret_key=b"k" * 40)


@pytest.mark.parametrize("proxies", ["0.0.0.0/0", "::/0", "10.0.0.0/7", "2001:db8::/31"])
def test_prod_refuses_trusted_proxies_wider_than_a_slash_8_or_a_slash_32(proxies: str) -> None:
    [problem] = refusals(TRUSTED_PROXIES=f"192.0.2.1,{proxies}")
    assert problem.startswith(f"REFERRALS_TRUSTED_PROXIES={proxies} is refused")
    assert "/8 (IPv4) or /32 (IPv6)" in problem


def test_prod_accepts_trusted_proxy_networks_up_to_a_slash_8_and_a_slash_32() -> None:
    settings = load_settings({**PROD, "REFERRALS_TRUSTED_PROXIES": "10.0.0.0/8,2001:db8::/32"})
    assert len(settings.trusted_proxies) == 2


def test_prod_refuses_a_public_url_that_is_not_https() -> None:
    [problem] = refusals(PUBLIC_URL="http://example.com")
    assert problem.startswith("REFERRALS_PUBLIC_URL='http://example.com' is refused")
    assert load_settings({**PROD, "REFERRALS_PUBLIC_URL": "https://example.com"}).public_url


def test_the_last_attacks_values_are_all_refused_at_once() -> None:
    """Issue 20: what prod accepted: every proxy trusted, a ten-year session,
    a 1 GB body, plain-http links."""
    problems = refusals(
        TRUSTED_PROXIES="0.0.0.0/0,::/0",
        SESSION_TTL=str(10 * 365 * 86_400),
        MAX_BODY_SIZE=str(1024**3),
        PUBLIC_URL="http://example.com",
    )
    text = "\n".join(problems)
    for name in ("TRUSTED_PROXIES", "SESSION_TTL", "MAX_BODY_SIZE", "PUBLIC_URL"):
        assert f"REFERRALS_{name}=" in text
    assert len(problems) == 4


def test_prod_refuses_a_provider_reached_over_plain_http() -> None:
    smsru = {"SMS_ROUTES": "smsru", "SMSRU_API_ID": "api-id"}
    [problem] = refusals(**smsru, SMSRU_BASE_URL="http://127.0.0.1:9000")
    assert problem.startswith("REFERRALS_SMSRU_BASE_URL='http://127.0.0.1:9000' is refused")
    assert load_settings({**PROD, **{PREFIX + k: v for k, v in smsru.items()}})
