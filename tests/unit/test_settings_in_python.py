"""Settings built in Python are checked like the environment: a host that
writes ``Settings(...)`` by hand learns every mistake when it builds them,
not at the first request (docs/settings.md)."""

from __future__ import annotations

import logging
import sys

import pytest

from referrals import Adapters, Policy, Settings, SettingsError, open_service
from referrals.settings import load_settings, unknown_variables


def test_a_text_secret_key_is_taken_as_its_utf8_bytes() -> None:
    settings = Settings(secret_key="s" * 40, sms_webhook_secret="w" * 40)  # type: ignore[arg-type]

    assert settings.secret_key == b"s" * 40
    assert settings.sms_webhook_secret == b"w" * 40


def test_an_unknown_default_region_is_refused() -> None:
    with pytest.raises(ValueError, match="default_region: 'XX' is not a region"):
        Policy(default_region="XX")
    with pytest.raises(ValueError, match="allowed_regions"):
        Policy(allowed_regions=frozenset({"RU", "QQ"}))


def test_an_unknown_database_scheme_is_refused_with_the_other_problems() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings(database_url="mysql://app:secret@db/app", redis_prefix="{x}")

    problems = refused.value.problems
    assert any(problem.startswith("REFERRALS_REDIS_PREFIX") for problem in problems)
    assert (
        "REFERRALS_DATABASE_URL: mysql:// is none of ours: expected a postgresql:// or"
        " sqlite:/// URL"
    ) in problems
    assert "secret" not in str(refused.value)  # the URL's password is not repeated


@pytest.mark.parametrize("url", ["sqlite:///:memory:", "sqlite://"])
def test_an_in_memory_sqlite_database_is_refused_with_the_reason(url: str) -> None:
    with pytest.raises(SettingsError, match=r"in-memory SQLite database is refused: each"):
        Settings(database_url=url)


async def test_a_missing_extra_is_named_with_its_pip_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if referrals[postgres] were not there

    with pytest.raises(SettingsError, match=r"pip install 'referrals\[postgres\]'"):
        async with open_service(Settings(database_url="postgresql://app@db.internal/app")):
            pass


async def test_no_extra_is_asked_for_a_database_the_host_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    settings = Settings(database_url="postgresql://app@db.internal/app")

    async with open_service(settings, adapters=Adapters.in_memory()) as service:
        assert service.settings is settings


def test_an_unknown_variable_is_logged_with_the_closest_known_name(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="referrals.settings"):
        settings = load_settings({"REFERRALS_CODE_LENGHT": "6", "REFERRALS_TEST_POSTGRES_URL": "x"})

    assert settings.policy.code_length == Policy().code_length  # the typo set nothing
    assert caplog.messages == [
        "REFERRALS_CODE_LENGHT is not a setting (did you mean REFERRALS_CODE_LENGTH?): ignored"
    ]


def test_an_unknown_variable_is_refused_in_prod() -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"REFERRALS_ENV": "prod", "REFERRALS_SECRET_KEY_": "x" * 40})

    assert (
        "REFERRALS_SECRET_KEY_ is not a setting (did you mean REFERRALS_SECRET_KEY?):"
        " refused when REFERRALS_ENV=prod"
    ) in refused.value.problems


def test_every_referrals_variable_the_project_reads_is_a_setting_or_a_tool_of_its_own() -> None:
    """So the typo warning never fires on the project's own tools (tests, dev.py)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    read: set[str] = set()
    for folder in ("src", "tests", "bench", "scripts", ".ci"):
        for path in (root / folder).rglob("*"):
            if path.is_file() and path.suffix in {".py", ""}:
                read |= set(re.findall(r"REFERRALS_[A-Z0-9_]*[A-Z0-9]", path.read_text("utf-8")))
    read |= set(re.findall(r"REFERRALS_[A-Z0-9_]*[A-Z0-9]", (root / "dev.py").read_text()))

    read.discard("REFERRALS_CODE_LENGHT")  # the typo the docs and these tests show

    assert unknown_variables(dict.fromkeys(read, "x")) == []
