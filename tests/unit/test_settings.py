import ipaddress

import pytest

from referrals.adapters.memory import RecordingSmsGateway
from referrals.application.policy import Policy
from referrals.application.ports import Limit
from referrals.service import Adapters, build_container
from referrals.settings import (
    LEASE_FACTOR,
    VARIABLES,
    Settings,
    SettingsError,
    Variable,
    load_settings,
)
from tests.unit.test_production import PROD


def test_no_variables_give_the_embedded_default(tmp_path: object) -> None:
    settings = load_settings({})
    assert settings.env == "dev"
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith("referrals.sqlite3")
    assert settings.redis_url is None and settings.broker_url is None
    assert settings.secret_key_generated and len(settings.secret_key) == 32
    assert not settings.policy.expose_codes  # only when asked for, and never in prod
    assert settings.policy.code_ttl == 300 and settings.policy.code_length == 4
    assert settings.policy.phone_send == Limit(10, 86400)
    assert settings.sms_delay == (1.0, 2.0)
    assert settings.trusted_proxies == ()


def test_the_earlier_sqlite_spelling_still_works() -> None:
    settings = load_settings({"REFERRALS_DATABASE_URL": "sqlite+aiosqlite:////data/db.sqlite3"})
    assert settings.database_url == "sqlite:////data/db.sqlite3"


def test_a_transaction_pooler_is_off_unless_asked_for() -> None:
    assert not load_settings({}).db_transaction_pooler
    pooled = load_settings({"REFERRALS_DB_TRANSACTION_POOLER": "true"})
    assert pooled.db_transaction_pooler


def test_every_documented_variable_is_read() -> None:
    settings = load_settings(
        {
            "REFERRALS_DATABASE_URL": "postgresql://u@db/referrals",
            "REFERRALS_REDIS_URL": "redis://cache:6379/1",
            "REFERRALS_BROKER_URL": "redis://cache:6379/2",
            "REFERRALS_SECRET_KEY": "k" * 40,
            "REFERRALS_EXPOSE_CODES": "false",
            "REFERRALS_CODE_TTL": "120",
            "REFERRALS_CODE_LENGTH": "6",
            "REFERRALS_SMS_DELAY": "0-0.5",
            "REFERRALS_DEFAULT_REGION": "us",
            "REFERRALS_RESEND_COOLDOWN": "30",
            "REFERRALS_CODE_MAX_ATTEMPTS": "3",
            "REFERRALS_LIMIT_PHONE_SEND": "5/3600",
            "REFERRALS_LIMIT_PHONE_FAILURE": "6/3600",
            "REFERRALS_LIMIT_IP_SEND": "7/60",
            "REFERRALS_LIMIT_IP_VERIFY": "8/60",
            "REFERRALS_LIMIT_APPLY_FAILURE": "9/60",
            "REFERRALS_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1",
        }
    )
    policy = settings.policy
    assert settings.database_url == "postgresql+psycopg://u@db/referrals"
    assert settings.redis_url == "redis://cache:6379/1"
    assert settings.broker_url == "redis://cache:6379/2"
    assert settings.secret_key == b"k" * 40 and not settings.secret_key_generated
    assert not policy.expose_codes
    assert (policy.code_ttl, policy.code_length, policy.resend_cooldown) == (120, 6, 30)
    assert policy.code_max_attempts == 3
    assert settings.sms_delay == (0.0, 0.5)
    assert policy.default_region == "US"
    assert (policy.phone_send, policy.phone_failure) == (Limit(5, 3600), Limit(6, 3600))
    assert (policy.ip_send, policy.ip_verify) == (Limit(7, 60), Limit(8, 60))
    assert policy.apply_failure == Limit(9, 60)
    assert settings.trusted_proxies == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("127.0.0.1/32"),
    )


def test_every_bad_value_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(
            {
                "REFERRALS_CODE_LENGTH": "3",
                "REFERRALS_CODE_TTL": "-1",
                "REFERRALS_LIMIT_IP_SEND": "lots",
                "REFERRALS_DEFAULT_REGION": "XX",
                "REFERRALS_TRUSTED_PROXIES": "not-an-ip",
                "REFERRALS_DATABASE_URL": "mysql://x",
                "REFERRALS_SMS_DELAY": "2-1",
                "REFERRALS_EXPOSE_CODES": "maybe",
            }
        )
    message = str(error.value)
    for name in [
        "CODE_LENGTH",
        "CODE_TTL",
        "LIMIT_IP_SEND",
        "DEFAULT_REGION",
        "TRUSTED_PROXIES",
        "DATABASE_URL",
        "SMS_DELAY",
        "EXPOSE_CODES",
    ]:
        assert f"REFERRALS_{name}=" in message


def test_prod_refuses_unsafe_settings() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({"REFERRALS_ENV": "prod", "REFERRALS_EXPOSE_CODES": "true"})
    assert "REFERRALS_SECRET_KEY" in str(error.value)
    assert "REFERRALS_EXPOSE_CODES=true is refused" in str(error.value)


def test_prod_hides_codes_and_secures_cookies_by_default() -> None:
    settings = load_settings(PROD)
    assert not settings.policy.expose_codes
    assert settings.cookie_secure


def test_shared_redis_needs_an_explicit_secret() -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY must be set when Redis is shared"):
        load_settings({"REFERRALS_REDIS_URL": "redis://localhost"})


def test_the_webhook_gateway_needs_its_url_and_secret() -> None:
    with pytest.raises(SettingsError, match="SMS_WEBHOOK_URL"):
        load_settings({"REFERRALS_SMS_GATEWAY": "webhook"})


def test_a_route_naming_providers_without_credentials_lists_each_at_start() -> None:
    routes = "ru=telegram,smsru,smsc;*=twilio"
    with pytest.raises(SettingsError) as refused:
        load_settings({"REFERRALS_SMS_ROUTES": routes})
    problems = refused.value.problems
    expected = [
        "telegram, which needs REFERRALS_TELEGRAM_TOKEN",
        "twilio, which needs REFERRALS_TWILIO_ACCOUNT_SID and REFERRALS_TWILIO_AUTH_TOKEN",
        "twilio, which needs REFERRALS_TWILIO_FROM or REFERRALS_TWILIO_MESSAGING_SERVICE_SID",
        "smsru, which needs REFERRALS_SMSRU_API_ID",
        "smsc, which needs REFERRALS_SMSC_LOGIN and REFERRALS_SMSC_PASSWORD",
    ]
    for needed in expected:
        assert any(needed in problem for problem in problems), needed
    credentials = {
        "REFERRALS_SMS_ROUTES": routes,
        "REFERRALS_TELEGRAM_TOKEN": "t",
        "REFERRALS_TWILIO_ACCOUNT_SID": "AC1",
        "REFERRALS_TWILIO_AUTH_TOKEN": "a",
        "REFERRALS_TWILIO_MESSAGING_SERVICE_SID": "MG1",
        "REFERRALS_SMSRU_API_ID": "i",
        "REFERRALS_SMSC_LOGIN": "l",
        "REFERRALS_SMSC_PASSWORD": "p",
    }
    assert load_settings(credentials).routes.channels == ("twilio", "telegram", "smsru", "smsc")


def test_one_provider_alone_can_be_the_sms_gateway() -> None:
    env = {"REFERRALS_SMS_GATEWAY": "twilio", "REFERRALS_TWILIO_ACCOUNT_SID": "AC1"}
    with pytest.raises(SettingsError) as refused:
        load_settings({**env, "REFERRALS_TWILIO_AUTH_TOKEN": "a"})
    assert refused.value.problems == [
        "REFERRALS_SMS_GATEWAY=twilio names twilio, which needs REFERRALS_TWILIO_FROM"
        " or REFERRALS_TWILIO_MESSAGING_SERVICE_SID"
    ]
    settings = load_settings(
        {**env, "REFERRALS_TWILIO_AUTH_TOKEN": "a", "REFERRALS_TWILIO_FROM": "+1"}
    )
    assert settings.routes.chain("+14155550100") == ("twilio",)


def test_provider_credentials_stay_out_of_the_settings_repr() -> None:
    settings = Settings(
        telegram_token="tg-secret",
        twilio_auth_token="tw-secret",
        smsru_api_id="ru-secret",
        smsc_password="smsc-secret",
    )
    for secret in ("tg-secret", "tw-secret", "ru-secret", "smsc-secret"):
        assert secret not in repr(settings)


def test_a_provider_base_url_must_be_a_url() -> None:
    with pytest.raises(SettingsError, match="REFERRALS_SMSC_BASE_URL: expected"):
        load_settings({"REFERRALS_SMSC_BASE_URL": "smsc.ru"})


def test_a_hand_built_settings_obeys_the_same_rules() -> None:
    with pytest.raises(SettingsError, match="REFERRALS_SECRET_KEY must be set"):
        Settings(env="prod")
    with pytest.raises(SettingsError, match="REFERRALS_SMS_WEBHOOK_URL"):
        Settings(sms_gateway="webhook")
    with pytest.raises(SettingsError, match="REFERRALS_BROKER_URL needs REFERRALS_REDIS_URL"):
        Settings(broker_url="redis://queue", secret_key=b"k" * 32)


def test_a_broker_without_shared_stores_is_refused() -> None:
    """The worker would keep its own challenge store and drop every code as stale."""
    with pytest.raises(SettingsError, match="BROKER_URL needs REFERRALS_REDIS_URL"):
        load_settings({"REFERRALS_BROKER_URL": "redis://q", "REFERRALS_SECRET_KEY": "k" * 32})


def test_the_delivery_lease_ends_before_redelivery_however_settings_are_built() -> None:
    for settings in (Settings(broker_redelivery=10), load_settings({})):
        assert settings.delivery_time_limit < settings.delivery_lease < settings.broker_redelivery


def test_a_public_url_must_be_an_http_base() -> None:
    assert Settings(public_url="https://auth.example.com/svc").public_url
    for bad in ("auth.example.com", "ftp://x", "https://x/?q=1"):
        with pytest.raises(SettingsError, match="PUBLIC_URL"):
            Settings(public_url=bad)


@pytest.mark.parametrize("variable", VARIABLES, ids=lambda v: v.name)
def test_an_unset_variable_keeps_the_fields_own_default(variable: Variable) -> None:
    """Every default lives once: in Settings or Policy, never again in the loader."""
    loaded = load_settings({})
    value: object = loaded
    for part in variable.attribute.split("."):
        value = getattr(value, part)
    if variable.name != "SECRET_KEY":  # drawn at random each time
        assert value == variable.default()


def test_the_policy_checks_its_own_numbers() -> None:
    with pytest.raises(ValueError, match="code_length"):
        Policy(code_length=3)
    with pytest.raises(ValueError, match="code_ttl"):
        Policy(code_ttl=0)


def test_the_layered_limits_and_address_settings_are_read() -> None:
    settings = load_settings(
        {
            "REFERRALS_LIMIT_PHONE_IP_SEND": "2/3600",
            "REFERRALS_LIMIT_PHONE_IP_FAILURE": "9/86400, 3/60",
            "REFERRALS_LIMIT_PREFIX_SEND": "11/3600",
            "REFERRALS_LIMIT_COUNTRY_SEND": "12/3600",
            "REFERRALS_LIMIT_GLOBAL_SEND": "13/3600",
            "REFERRALS_IPV6_PREFIX": "56",
            "REFERRALS_FORWARDED_HEADER": "Forwarded",
        }
    )
    policy = settings.policy
    assert policy.phone_ip_send == Limit(2, 3600)
    assert policy.phone_ip_failure == (Limit(3, 60), Limit(9, 86400))
    assert (policy.prefix_send, policy.country_send, policy.global_send) == (
        Limit(11, 3600),
        Limit(12, 3600),
        Limit(13, 3600),
    )
    assert policy.ipv6_prefix == 56
    assert settings.forwarded_header == "forwarded"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("REFERRALS_LIMIT_PHONE_IP_FAILURE", "3/60,"),
        ("REFERRALS_LIMIT_PHONE_IP_FAILURE", "0/60"),
        ("REFERRALS_IPV6_PREFIX", "0"),
        ("REFERRALS_IPV6_PREFIX", "129"),
        ("REFERRALS_FORWARDED_HEADER", "x-real-ip"),
        ("REFERRALS_REDIS_URL", "redis+cluster://cache"),
        ("REFERRALS_REDIS_URL", "memcached://cache:11211"),
    ],
)
def test_bad_layered_limit_and_address_values_are_refused(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({name: value, "REFERRALS_SECRET_KEY": "k" * 40})
    assert name in str(refused.value)


def test_a_redis_cluster_url_is_accepted_with_one_or_more_nodes() -> None:
    for url in ("redis+cluster://cache:7000", "rediss+cluster://u:p@a:7000,b:7001,[::1]:7002"):
        settings = load_settings({"REFERRALS_REDIS_URL": url, "REFERRALS_SECRET_KEY": "k" * 40})
        assert settings.redis_url == url


def test_braces_in_the_redis_prefix_are_refused() -> None:
    with pytest.raises(SettingsError, match="REFERRALS_REDIS_PREFIX must not contain braces"):
        Settings(redis_prefix="{app}:")


def test_test_phones_are_read_and_normalised() -> None:
    settings = load_settings({"REFERRALS_TEST_PHONES": " 8 999 000-00-01:1234 , +79990000002:0000"})
    assert dict(settings.policy.test_phones) == {"+79990000001": "1234", "+79990000002": "0000"}
    assert not settings.policy.warn_on_test_phones


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("+79990000001", "REFERRALS_TEST_PHONES='+79990000001': expected at most 10 phone:code"),
        ("+79990000001:", "expected at most 10 phone:code"),
        (",".join(f"+7999000{n:04d}:1234" for n in range(11)), "expected at most 10"),
        ("+79990000001:12", "REFERRALS_TEST_PHONES: the code of +79990000001 must be 4 digits"),
        ("12345:1234", "REFERRALS_TEST_PHONES: '12345'"),
    ],
)
def test_bad_test_phones_are_refused_clearly(value: str, problem: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"REFERRALS_TEST_PHONES": value})
    assert problem in str(refused.value)


def test_prod_refuses_test_phones_unless_explicitly_allowed() -> None:
    phones = {"REFERRALS_TEST_PHONES": "+79990000001:1234"}
    with pytest.raises(SettingsError, match="REFERRALS_ALLOW_TEST_PHONES_IN_PROD=true"):
        load_settings({**PROD, **phones})
    allowed = load_settings({**PROD, **phones, "REFERRALS_ALLOW_TEST_PHONES_IN_PROD": "true"})
    assert allowed.policy.test_code("+79990000001") == "1234"
    assert allowed.policy.warn_on_test_phones  # each use is a warning in prod


def test_a_hand_built_prod_settings_refuses_test_phones_too() -> None:
    policy = Policy(test_phones={"+79990000001": "1234"})
    with pytest.raises(SettingsError, match="REFERRALS_TEST_PHONES"):
        Settings(env="prod", secret_key=b"k" * 40, policy=policy, sms_gateway="webhook")


def test_a_hand_built_settings_gives_the_worker_the_shortened_lease() -> None:
    """Issue 9 point 8: the lease factor held only in ``load_settings``; the
    container takes it from the settings, however they were built."""
    settings = Settings(broker_redelivery=10, secret_key=b"k" * 32)
    container = build_container(
        settings, adapters=Adapters.in_memory(sms_gateway=RecordingSmsGateway())
    )

    assert container.deliver_code().route.lease == pytest.approx(10 * LEASE_FACTOR)
    assert LEASE_FACTOR < 1
