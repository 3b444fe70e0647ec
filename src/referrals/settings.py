"""Settings from ``REFERRALS_*`` environment variables: the only reader of os.environ.

:func:`load_settings` checks every value and reports all mistakes at once
with :class:`SettingsError`, so a bad deployment fails at start-up with a
clear message instead of misbehaving later.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, TypeVar

from referrals.application.policy import Policy
from referrals.application.ports import Limit
from referrals.domain.codes import CODE_LENGTH_RANGE
from referrals.domain.phone import is_known_region

PREFIX = "REFERRALS_"
DEFAULT_DATABASE_FILE = "referrals.sqlite3"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
T = TypeVar("T")


class SettingsError(ValueError):
    """One or more settings are missing or malformed; the message lists them all."""


@dataclass(frozen=True, slots=True)
class Settings:
    env: Literal["dev", "prod"] = "dev"
    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_DATABASE_FILE}"
    redis_url: str | None = None
    broker_url: str | None = None
    secret_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    secret_key_generated: bool = True
    policy: Policy = field(default_factory=Policy)
    sms_delay: tuple[float, float] = (1.0, 2.0)
    sms_gateway: Literal["console", "webhook"] = "console"
    sms_webhook_url: str | None = None
    sms_webhook_secret: bytes | None = field(default=None, repr=False)
    sms_webhook_timeout: float = 5.0
    trusted_proxies: tuple[Network, ...] = ()
    cookie_secure: bool = False
    redis_prefix: str = "referrals:"
    db_pool_size: int = 10
    db_max_overflow: int = 10
    dependency_timeout: float = 3.0
    broker_redelivery: float = 30.0
    max_body_size: int = 16 * 1024
    log_level: str = "INFO"

    @property
    def shared_stores(self) -> bool:
        """Whether codes, sessions and limits live outside this process."""
        return self.redis_url is not None


class _Reader:
    """Reads variables one by one, collecting every problem before raising."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str] = []

    def raw(self, name: str) -> str | None:
        value = self.environ.get(PREFIX + name)
        return value.strip() if value is not None and value.strip() else None

    def get(self, name: str, default: T, parse: Callable[[str], T], hint: str) -> T:
        value = self.raw(name)
        if value is None:
            return default
        try:
            return parse(value)
        except (ValueError, TypeError):
            self.problems.append(f"{PREFIX}{name}={value!r}: expected {hint}")
            return default


def _bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(value)


def _positive(kind: Callable[[str], T]) -> Callable[[str], T]:
    def parse(value: str) -> T:
        number = kind(value)
        if not number > 0:  # type: ignore[operator]
            raise ValueError(value)
        return number

    return parse


def parse_limit(value: str) -> Limit:
    count, _, window = value.partition("/")
    limit = Limit(int(count), float(window))
    if limit.count < 1 or limit.window <= 0:
        raise ValueError(value)
    return limit


def _delay(value: str) -> tuple[float, float]:
    low, _, high = value.partition("-")
    low_s = float(low)
    high_s = float(high) if high else low_s
    if not 0 <= low_s <= high_s:
        raise ValueError(value)
    return (low_s, high_s)


def _networks(value: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(part.strip()) for part in value.split(",") if part.strip())


def _regions(value: str) -> frozenset[str]:
    regions = frozenset(part.strip().upper() for part in value.split(",") if part.strip())
    if not all(is_known_region(r) for r in regions):
        raise ValueError(value)
    return regions


def _region(value: str) -> str:
    if not is_known_region(value.upper()):
        raise ValueError(value)
    return value.upper()


def _code_length(value: str) -> int:
    length = int(value)
    if length not in CODE_LENGTH_RANGE:
        raise ValueError(value)
    return length


def _log_level(value: str) -> str:
    if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ValueError(value)
    return value.upper()


def _env(value: str) -> Literal["dev", "prod"]:
    if value == "dev":
        return "dev"
    if value == "prod":
        return "prod"
    raise ValueError(value)


def _gateway(value: str) -> Literal["console", "webhook"]:
    if value == "console":
        return "console"
    if value == "webhook":
        return "webhook"
    raise ValueError(value)


def _database_url(value: str) -> str:
    if value.startswith(("postgresql://", "postgres://")):
        value = "postgresql+psycopg://" + value.split("://", 1)[1]
    if not value.startswith(("postgresql+psycopg://", "sqlite+aiosqlite://")):
        raise ValueError(value)
    return value


def _redis_url(value: str) -> str:
    if not value.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(value)
    return value


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and check every ``REFERRALS_*`` variable (see the README's table)."""
    r = _Reader(os.environ if environ is None else environ)
    env = r.get("ENV", _env("dev"), _env, "dev or prod")
    prod = env == "prod"
    secret = r.raw("SECRET_KEY")
    expose = r.get("EXPOSE_CODES", not prod, _bool, "true or false")
    redis_url = r.get("REDIS_URL", None, _redis_url, "a redis:// or rediss:// URL")
    broker_url = r.get("BROKER_URL", None, _redis_url, "a redis:// or rediss:// URL")
    policy = Policy(
        code_length=r.get("CODE_LENGTH", 4, _code_length, "a whole number from 4 to 8"),
        code_ttl=r.get("CODE_TTL", 300.0, _positive(float), "seconds above 0"),
        code_max_attempts=r.get("CODE_MAX_ATTEMPTS", 5, _positive(int), "a whole number above 0"),
        resend_cooldown=r.get("RESEND_COOLDOWN", 60.0, _positive(float), "seconds above 0"),
        phone_send=r.get("LIMIT_PHONE_SEND", Limit(10, 86400), parse_limit, "count/seconds"),
        phone_failure=r.get("LIMIT_PHONE_FAILURE", Limit(10, 86400), parse_limit, "count/seconds"),
        ip_send=r.get("LIMIT_IP_SEND", Limit(30, 3600), parse_limit, "count/seconds"),
        ip_verify=r.get("LIMIT_IP_VERIFY", Limit(60, 300), parse_limit, "count/seconds"),
        apply_failure=r.get("LIMIT_APPLY_FAILURE", Limit(10, 3600), parse_limit, "count/seconds"),
        session_ttl=r.get("SESSION_TTL", 30 * 86400.0, _positive(float), "seconds above 0"),
        default_region=r.get("DEFAULT_REGION", "RU", _region, "a region code such as RU"),
        allowed_regions=r.get("ALLOWED_REGIONS", frozenset(), _regions, "region codes, commas"),
        expose_codes=expose,
    )
    redelivery = r.get("BROKER_REDELIVERY", 30.0, _positive(float), "seconds above 0")
    policy = _with_lease(policy, redelivery)
    settings = Settings(
        env=env,
        database_url=r.get(
            "DATABASE_URL",
            f"sqlite+aiosqlite:///{Path.cwd() / DEFAULT_DATABASE_FILE}",
            _database_url,
            "a postgresql+psycopg:// or sqlite+aiosqlite:// URL",
        ),
        redis_url=redis_url,
        broker_url=broker_url,
        secret_key=secret.encode() if secret else secrets.token_bytes(32),
        secret_key_generated=secret is None,
        policy=policy,
        sms_delay=r.get("SMS_DELAY", (1.0, 2.0), _delay, "seconds or a range such as 1-2"),
        sms_gateway=r.get("SMS_GATEWAY", _gateway("console"), _gateway, "console or webhook"),
        sms_webhook_url=r.raw("SMS_WEBHOOK_URL"),
        sms_webhook_secret=(s.encode() if (s := r.raw("SMS_WEBHOOK_SECRET")) else None),
        sms_webhook_timeout=r.get("SMS_WEBHOOK_TIMEOUT", 5.0, _positive(float), "seconds"),
        trusted_proxies=r.get("TRUSTED_PROXIES", (), _networks, "addresses or CIDRs, commas"),
        cookie_secure=r.get("COOKIE_SECURE", prod, _bool, "true or false"),
        redis_prefix=r.raw("REDIS_PREFIX") or "referrals:",
        db_pool_size=r.get("DB_POOL_SIZE", 10, _positive(int), "a whole number above 0"),
        db_max_overflow=r.get("DB_MAX_OVERFLOW", 10, int, "a whole number"),
        dependency_timeout=r.get("DEPENDENCY_TIMEOUT", 3.0, _positive(float), "seconds"),
        broker_redelivery=redelivery,
        max_body_size=r.get("MAX_BODY_SIZE", 16 * 1024, _positive(int), "bytes above 0"),
        log_level=r.get("LOG_LEVEL", "INFO", _log_level, "DEBUG, INFO, WARNING or ERROR"),
    )
    r.problems.extend(_unsafe(settings, secret))
    if r.problems:
        raise SettingsError("Invalid settings:\n  " + "\n  ".join(r.problems))
    return settings


def _with_lease(policy: Policy, redelivery: float) -> Policy:
    # A worker's claim on a code must end before the queue hands the task to
    # another worker, or a crashed worker's code would wait for nothing.
    return replace(policy, delivery_lease=redelivery * 0.8)


MIN_SECRET_LENGTH = 32


def _unsafe(settings: Settings, secret: str | None) -> list[str]:
    problems: list[str] = []
    if settings.sms_gateway == "webhook" and not (
        settings.sms_webhook_url and settings.sms_webhook_secret
    ):
        problems.append(
            f"{PREFIX}SMS_GATEWAY=webhook needs {PREFIX}SMS_WEBHOOK_URL"
            f" and {PREFIX}SMS_WEBHOOK_SECRET"
        )
    if settings.env == "prod":
        if secret is None or len(secret) < MIN_SECRET_LENGTH:
            problems.append(
                f"{PREFIX}SECRET_KEY must be set to at least {MIN_SECRET_LENGTH} characters"
                " when REFERRALS_ENV=prod"
            )
        if settings.policy.expose_codes:
            problems.append(f"{PREFIX}EXPOSE_CODES=true is refused when REFERRALS_ENV=prod")
    elif secret is None and (settings.redis_url or settings.broker_url):
        problems.append(
            f"{PREFIX}SECRET_KEY must be set when Redis is shared: processes that draw"
            " their own keys cannot check each other's codes"
        )
    return problems
