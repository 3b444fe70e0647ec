"""REFERRALS_WEBHOOKS: a JSON list or @file of endpoints; prod wants https and
a key of the spec's length; a mistake names itself, never a secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from referrals.settings import SettingsError, load_settings

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # 24 bytes
SHORT = "whsec_c2hvcnQ="  # 5 bytes
SHOP = {"name": "shop", "url": "https://shop.example/", "secret": SECRET, "events": ["*"]}


def test_endpoints_come_from_json_or_a_file(tmp_path: Path) -> None:
    file = tmp_path / "webhooks.json"
    file.write_text(json.dumps([SHOP]))
    for value in (json.dumps([SHOP]), f"@{file}"):
        [endpoint] = load_settings({"REFERRALS_WEBHOOKS": value}).webhooks
        assert (endpoint.name, endpoint.url, endpoint.events) == ("shop", SHOP["url"], {"*"})
        assert SECRET not in repr(endpoint)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({**SHOP, "url": "ftp://shop"}, "shop: url is http(s)"),
        ({**SHOP, "secret": "hunter2"}, "a secret starts with whsec_"),
        ({**SHOP, "events": ["user.deleted"]}, "unknown event types ['user.deleted']"),
        ({**SHOP, "name": ""}, "name is 1 to 64 characters"),
    ],
)
def test_a_bad_endpoint_is_refused_by_what_is_wrong(entry: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"REFERRALS_WEBHOOKS": json.dumps([entry])})
    assert message in str(refused.value)
    assert "hunter2" not in str(refused.value)


def test_two_endpoints_of_one_name_are_refused() -> None:
    with pytest.raises(SettingsError, match="unique"):
        load_settings({"REFERRALS_WEBHOOKS": json.dumps([SHOP, SHOP])})


def test_prod_wants_https_and_a_key_of_the_specs_length() -> None:
    plain = {**SHOP, "url": "http://shop.example/", "secret": SHORT}
    with pytest.raises(SettingsError) as refused:
        load_settings({"REFERRALS_ENV": "prod", "REFERRALS_WEBHOOKS": json.dumps([plain])})
    problems = str(refused.value)
    assert "shop's url is not https://" in problems
    assert "shop's secret is not 24 to 64 random bytes" in problems
    assert load_settings({"REFERRALS_WEBHOOKS": json.dumps([plain])}).webhooks  # fine in dev
