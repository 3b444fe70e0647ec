"""Settings: one frozen value for a whole service, and the only reader of os.environ.

:class:`Settings` checks itself when built, so a hand-built one obeys the
same rules as one read from the environment. :func:`load_settings` reads
the ``REFERRALS_*`` variables listed in :data:`VARIABLES`; a variable left
unset keeps the default of its field (in :class:`Settings` or
:class:`~referrals.application.policy.Policy`): every default lives there
and nowhere else. Every mistake is reported at once, in one
:class:`SettingsError`, so a bad deployment fails at start-up with a clear
message instead of misbehaving later.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import json
import logging
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from referrals import production
from referrals.application.policy import MAX_TEST_PHONES, Policy
from referrals.application.ports import Limit
from referrals.application.sms_text import SmsText, default_templates
from referrals.application.webhooks import Endpoint, parse_endpoints
from referrals.domain.codes import CODE_LENGTH_RANGE
from referrals.domain.integrity import parse_policy
from referrals.domain.phone import NON_GEOGRAPHIC_CALLING_CODES, is_known_region
from referrals.domain.routes import Routes, parse_routes
from referrals.domain.spend import Prices, parse_prices

PREFIX = "REFERRALS_"
DEFAULT_DATABASE_URL = "sqlite:///referrals.sqlite3"
LEASE_FACTOR = 0.8
"""A worker's claim on a code lasts this share of the redelivery time, so it
ends before the queue hands the task to another worker."""
TASK_TIME_FACTOR = 0.75
"""A delivery task may run this share of the lease, so it ends before its claim."""
PROVIDERS = ("telegram", "twilio", "smsru", "smsc")
"""The providers the project ships an adapter for (``referrals.adapters.sms``)."""
CHANNELS = frozenset({"console", "webhook", *PROVIDERS})
"""The channels a route may name (see docs/sending-codes.md)."""
RECEIPT_CHANNELS = frozenset({"telegram", "twilio", "smsru", "smsc"})
"""Channels whose providers send delivery receipts: a route fails over after
them when no "delivered" receipt came within ``receipt_timeout``."""
CHANNEL_CREDENTIALS: dict[str, tuple[str, ...]] = {
    "webhook": ("sms_webhook_url", "sms_webhook_secret"),
    "telegram": ("telegram_token",),
    "twilio": ("twilio_account_sid", "twilio_auth_token"),
    "smsru": ("smsru_api_id",),
    "smsc": ("smsc_login", "smsc_password"),
}
"""The settings a channel cannot work without."""
APP_HASH = re.compile(r"[A-Za-z0-9+/]{11}")
"""An Android SMS Retriever app hash: 11 characters of base64."""
RECENT_LOGINS = 10
"""Logins per phone whose delivery records are kept (``referrals deliveries show``)."""
WEBHOOK_BACKOFF_LIMIT = 3_600.0
"""The longest wait between two tries of one webhook."""
WEBHOOK_LEASE_FACTOR = 3
"""A relay holds a delivery this many webhook timeouts: longer than its POST."""
WEBHOOK_BATCH = 100
"""Events a relay fans out, or deliveries it posts to one endpoint, at a time."""
WEBHOOK_CONCURRENCY = 8
"""POSTs a relay has under way to one endpoint at once."""
PURGE_BATCH = 1_000
"""Events deleted by one retention statement."""

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class SettingsError(ValueError):
    """One or more settings are missing, malformed or unsafe; the message lists them all."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("Invalid settings:\n  " + "\n  ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything a service needs besides its adapters; see docs/settings.md.

    ``secret_key`` left empty draws a random key for this process (fine for
    one process in development; codes and sessions end with it).
    """

    env: Literal["dev", "prod"] = "dev"
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    broker_url: str | None = None
    secret_key: bytes = field(default=b"", repr=False)
    policy: Policy = field(default_factory=Policy)
    sms_delay: tuple[float, float] = (1.0, 2.0)
    sms_gateway: Literal["console", "webhook", "telegram", "twilio", "smsru", "smsc"] = "console"
    sms_webhook_url: str | None = None
    sms_webhook_secret: bytes | None = field(default=None, repr=False)
    sms_webhook_timeout: float = 5.0
    sms_routes: Routes | None = None
    """The chain of channels per country or prefix; ``None``: every number
    through ``sms_gateway`` alone."""
    sms_retries: int = 1
    """Further tries of one channel after a transient failure, before the next channel."""
    receipt_timeout: float = 20.0
    """Seconds to wait for a channel's "delivered" receipt before the next channel."""
    receipt_secret: str | None = field(default=None, repr=False)
    """The secret in the receipt URLs of providers that sign nothing (SMS.ru, SMSC)."""
    sms_timeout: float = 5.0
    """Seconds one request to an SMS provider (Telegram, Twilio, SMS.ru, SMSC) may take."""
    sms_connections: int = 20
    """Requests one SMS gateway (webhook or provider) has under way at once;
    the others wait their turn before their timeout starts."""
    telegram_token: str | None = field(default=None, repr=False)
    telegram_base_url: str = "https://gatewayapi.telegram.org"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = field(default=None, repr=False)
    twilio_from: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_base_url: str = "https://api.twilio.com"
    smsru_api_id: str | None = field(default=None, repr=False)
    smsru_base_url: str = "https://sms.ru"
    smsc_login: str | None = None
    smsc_password: str | None = field(default=None, repr=False)
    smsc_base_url: str = "https://smsc.ru"
    circuit_failures: int = 5
    """Failures of one channel within ``circuit_window`` that open its circuit."""
    circuit_window: float = 60.0
    circuit_cooldown: float = 30.0
    """Seconds an open circuit sends nothing to its channel before a probe."""
    delivery_history: float = 86_400.0
    """Seconds each login's delivery record is kept."""
    webhooks: tuple[Endpoint, ...] = ()
    """Where events are posted (docs/events.md)."""
    webhook_retry_for: float = 3 * 86_400.0
    """Seconds a webhook is retried before it is a dead letter."""
    webhook_timeout: float = 10.0
    """Seconds one webhook POST may take, connecting included."""
    webhook_backoff: float = 5.0
    """Seconds before the first retry; doubled per attempt, up to an hour, with jitter."""
    webhook_poll: float = 1.0
    """Seconds an idle relay waits before it looks for new events again."""
    outbox_keep: float = 7 * 86_400.0
    """Seconds delivered events are kept before they are purged."""
    history_keep: float = 90 * 86_400.0
    """Seconds the login history is kept before it is purged (docs/account.md)."""
    trusted_proxies: tuple[Network, ...] = ()
    forwarded_header: Literal["x-forwarded-for", "forwarded"] = "x-forwarded-for"
    public_url: str | None = None
    sms_templates: Mapping[str, str] | None = None
    """Login SMS templates by language (``{code}`` marks the code), over the
    default ones; ``None``: the defaults (see :meth:`sms_text`)."""
    android_app_hash: str | None = None
    """An Android app's SMS Retriever hash (11 characters), added to every login SMS."""
    cookie_secure: bool = True
    redis_prefix: str = "referrals:"
    session_cache_size: int = 100_000
    """Sessions each process keeps in memory, invalidated by Redis (0: read every
    one from Redis). Only with Redis: without it, sessions live in memory anyway."""
    db_table_prefix: str = "referrals_"
    """Our tables' names start with it, so they can share a host's database."""
    db_schema: str | None = None
    """PostgreSQL schema of our tables (``None``: the connection's ``search_path``)."""
    db_pool_size: int = 10
    db_transaction_pooler: bool = False
    dependency_timeout: float = 3.0
    ready_timeout: float = 2.0
    worker_heartbeat: str = "/tmp/referrals-worker.heartbeat"  # noqa: S108 (a liveness mark)
    metrics: bool = True
    metrics_port: int | None = None
    broker_redelivery: float = 30.0
    max_body_size: int = 16 * 1024
    sms_prices: Prices = field(default_factory=Prices)
    """Price per SMS segment by country and channel; empty: every SMS is free."""
    spend_cap: tuple[Limit, ...] = ()
    """The most the SMS may cost per window (``1000/86400,100/3600``); empty: no cap."""
    max_header_size: int = 64 * 1024
    """Bytes of a request head (request line and headers); larger: 431."""
    body_timeout: float = 10.0
    """Seconds a client has to send a whole request body; then 408."""
    body_idle_timeout: float = 5.0
    """Seconds a body may pause between two pieces; then 408."""
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "text"] = "auto"
    """``auto``: JSON lines when ``env`` is ``prod``, readable text otherwise."""
    tracing: bool = False
    """Send OpenTelemetry traces; :func:`load_settings` turns it on from the
    standard ``OTEL_*`` variables (see :func:`tracing_wanted`)."""
    allow_test_phones_in_prod: bool = False
    """Whether ``policy.test_phones`` may be used when ``env="prod"`` (each use
    is then logged as a warning)."""
    secret_key_generated: bool = field(default=False, init=False)
    """Whether ``secret_key`` was drawn at random because none was given."""

    def __post_init__(self) -> None:
        for name in ("secret_key", "sms_webhook_secret"):  # text given from Python: its UTF-8
            if isinstance(value := getattr(self, name), str):
                object.__setattr__(self, name, value.encode())
        if not self.secret_key:
            object.__setattr__(self, "secret_key", secrets.token_bytes(32))
            object.__setattr__(self, "secret_key_generated", True)
        if self.env == "prod":
            object.__setattr__(self, "policy", production.policy(self.policy))
        if problems := _problems(self):
            raise SettingsError(problems)

    @property
    def shared_stores(self) -> bool:
        """Whether codes, sessions and limits live outside this process."""
        return self.redis_url is not None

    @property
    def log_json(self) -> bool:
        """Whether log records are written as JSON lines."""
        return self.log_format == "json" or (self.log_format == "auto" and self.env == "prod")

    def sms_text(self, given: SmsText | None = None) -> SmsText:
        """The login SMS: ``given`` (a host's) or the settings' templates, with
        the WebOTP line of ``public_url``'s host and the Android app hash."""
        text = given or SmsText({**default_templates(), **(self.sms_templates or {})})
        host = urlsplit(self.public_url).hostname if self.public_url else None
        return dataclasses.replace(
            text,
            origin_host=text.origin_host or host,
            app_hash=text.app_hash or self.android_app_hash,
        )

    @property
    def routes(self) -> Routes:
        """The route table: ``sms_routes``, or ``sms_gateway`` for every number."""
        return self.sms_routes or Routes.single(self.sms_gateway)

    @property
    def task_queue(self) -> str:
        """The Redis stream the API queues codes on and the workers read."""
        return f"{self.redis_prefix}tasks"

    @property
    def delivery_lease(self) -> float:
        """Seconds one worker may spend on one code before another may retry it."""
        return self.broker_redelivery * LEASE_FACTOR

    @property
    def delivery_time_limit(self) -> float:
        """Seconds a delivery task may run in a worker before it is cut off."""
        return self.delivery_lease * TASK_TIME_FACTOR

    @staticmethod
    def variable(attribute: str) -> str:
        """``policy.code_ttl`` -> ``REFERRALS_CODE_TTL``: the variable that sets ``attribute``."""
        return _name(attribute)

    @staticmethod
    def attribute(variable: str) -> str:
        """``CODE_TTL`` -> ``policy.code_ttl``: what the variable (without its prefix) sets."""
        return _attribute(variable)

    def value(self, attribute: str) -> Any:
        """The value of ``attribute``, ``policy.`` ones included."""
        owner: Any = self
        for part in attribute.split("."):
            owner = getattr(owner, part)
        return owner


def _name(attribute: str) -> str:
    """``policy.code_ttl`` -> ``REFERRALS_CODE_TTL`` (the variable that sets it)."""
    for variable in VARIABLES:
        if variable.attribute == attribute:
            return PREFIX + variable.name
    return attribute


def _attribute(name: str) -> str:
    """``CODE_TTL`` -> ``policy.code_ttl`` (the attribute that variable sets)."""
    return next(variable.attribute for variable in VARIABLES if variable.name == name)


def _naming(s: Settings, channel: str) -> str:
    """What names ``channel``: the route, or ``REFERRALS_SMS_GATEWAY``."""
    return "the route" if s.sms_routes else f"{_name('sms_gateway')}={channel}"


def _channel_problems(s: Settings) -> list[str]:
    """Channels the route names without the settings they need; bad provider URLs."""
    problems: list[str] = []
    for channel in s.routes.channels:
        needed = CHANNEL_CREDENTIALS.get(channel, ())
        if needed and not all(getattr(s, attribute) for attribute in needed):
            named = _naming(s, channel)
            wanted = " and ".join(_name(attribute) for attribute in needed)
            problems.append(f"{named} names {channel}, which needs {wanted}")
    if "twilio" in s.routes.channels and not (s.twilio_from or s.twilio_messaging_service_sid):
        problems.append(
            f"{_naming(s, 'twilio')} names twilio, which needs {_name('twilio_from')}"
            f" or {_name('twilio_messaging_service_sid')}"
        )
    for provider in PROVIDERS:
        base = getattr(s, f"{provider}_base_url")
        parts = urlsplit(base)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            problems.append(f"{_name(provider + '_base_url')}: expected http(s)://host[:port]")
    return problems


def _problems(s: Settings) -> list[str]:
    """The rules that tie settings together, and those of ``env=prod`` (``production.py``)."""
    problems = _channel_problems(s)
    if s.sms_templates is not None:
        try:
            s.sms_text()
        except ValueError as exc:
            problems.append(f"{_name('sms_templates')}: {exc}")
    if s.broker_url and not s.redis_url:
        problems.append(
            f"{_name('broker_url')} needs {_name('redis_url')} too: the worker must"
            " see the API's logins, or it drops every code as stale"
        )
    if "{" in s.redis_prefix or "}" in s.redis_prefix:
        problems.append(
            f"{_name('redis_prefix')} must not contain braces: on Redis Cluster they"
            " choose the slot of every key, and all would share one"
        )
    problems.extend(_database_problems(s))
    if s.max_header_size < MIN_HEADER_SIZE:
        problems.append(f"{_name('max_header_size')} must be at least {MIN_HEADER_SIZE} bytes")
    if s.public_url is not None:
        parts = urlsplit(s.public_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query:
            problems.append(f"{_name('public_url')}: expected http(s)://host[:port][/path]")
    if s.env == "prod":
        problems.extend(production.problems(s))
    elif s.secret_key_generated and (s.redis_url or s.broker_url):
        problems.append(
            f"{_name('secret_key')} must be set when Redis is shared: processes that draw"
            " their own keys cannot check each other's codes"
        )
    return problems


def _database_problems(s: Settings) -> list[str]:
    from referrals.adapters.sql.namespace import namespace_problems

    problems = [
        f"{_name('db_table_prefix' if problem.startswith('table') else 'db_schema')}: {problem}"
        for problem in namespace_problems(s.db_table_prefix, s.db_schema)
    ]
    if s.db_schema is not None and s.database_url.startswith("sqlite"):
        problems.append(f"{_name('db_schema')} is for PostgreSQL; SQLite has no schemas")
    scheme = s.database_url.partition("://")[0]
    try:
        _database_url(s.database_url)
    except ValueError:
        problems.append(f"{_name('database_url')}: {scheme}:// is none of ours: expected {URL}")
    if s.database_url.startswith("sqlite") and sqlite_path(s.database_url) in IN_MEMORY_SQLITE:
        problems.append(
            f"{_name('database_url')}: an in-memory SQLite database is refused: each"
            " connection (the migration's, the service's) would get an empty one of its own."
            " Use a file (sqlite:///referrals.sqlite3) or Adapters.in_memory()"
        )
    if not isinstance(s.secret_key, bytes):
        problems.append(f"{_name('secret_key')}: expected bytes or text")
    return problems


EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "postgres": ("psycopg", "psycopg_pool", "sqlalchemy"),
    "sqlite": ("sqlalchemy", "alembic"),
    "redis": ("redis", "taskiq", "taskiq_redis"),
}
"""What each extra of the package installs that the service imports."""


def missing_extras(settings: Settings, *, database: bool = True, redis: bool = True) -> None:
    """Raise :class:`SettingsError` naming ``pip install 'referrals[…]'`` for each
    extra these settings need (the database's unless ``database`` is False,
    Redis's when it is used) that is not installed, instead of a
    ``No module named …`` at the first request."""
    from importlib.util import find_spec

    wanted: list[str] = []
    if database:
        wanted.append("sqlite" if settings.database_url.startswith("sqlite") else "postgres")
    if redis and (settings.redis_url or settings.broker_url):
        wanted.append("redis")
    problems: list[str] = []
    for extra in wanted:
        for module in EXTRA_MODULES[extra]:
            if find_spec(module) is None:  # looked up, not imported
                problems.append(
                    f"{module} is not installed: pip install 'referrals[{extra}]'"
                    f" (needed by {_name('redis_url' if extra == 'redis' else 'database_url')})"
                )
                break
    if problems:
        raise SettingsError(problems)


IN_MEMORY_SQLITE = frozenset({"", ":memory:"})
"""``sqlite://`` and ``sqlite:///:memory:``: a new empty database per connection."""


def sqlite_path(url: str) -> str:
    """The file of ``sqlite:///path`` (empty for ``sqlite://``), query left out."""
    path = url.split("://", 1)[1].partition("?")[0]
    return path[1:] if path.startswith("/") else path


# --- reading the environment -------------------------------------------------


def _bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(value)


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError(value)
    return number


def _positive_float(value: str) -> float:
    number = float(value)
    if not number > 0 or number == float("inf"):
        raise ValueError(value)
    return number


def parse_limit(value: str) -> Limit:
    """``count/seconds``, e.g. ``10/86400``."""
    count, _, window = value.partition("/")
    return Limit(int(count), _positive_float(window))


def parse_limits(value: str) -> tuple[Limit, ...]:
    """One or more ``count/seconds``, commas between: ``6/300,8/3600,9/86400``."""
    limits = tuple(parse_limit(part.strip()) for part in value.split(","))
    return tuple(sorted(limits, key=lambda limit: limit.window))


def _delay(value: str) -> tuple[float, float]:
    low, _, high = value.partition("-")
    low_s = float(low)
    high_s = float(high) if high else low_s
    if not 0 <= low_s <= high_s:
        raise ValueError(value)
    return (low_s, high_s)


def _networks(value: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(part.strip()) for part in value.split(",") if part.strip())


def _port(value: str) -> int:
    port = int(value)
    if not 1 <= port <= 65_535:
        raise ValueError(value)
    return port


MIN_HEADER_SIZE = 8192
"""The smallest head limit: browsers send heads of a few KiB."""


def _header_size(value: str) -> int:
    size = int(value)
    if size < MIN_HEADER_SIZE:
        raise ValueError(value)
    return size


def _ipv6_prefix(value: str) -> int:
    length = int(value)
    if not 1 <= length <= 128:
        raise ValueError(value)
    return length


def _regions(value: str) -> frozenset[str]:
    regions = frozenset(part.strip().upper() for part in value.split(",") if part.strip())
    if not all(is_known_region(r) for r in regions):
        raise ValueError(value)
    return regions


def _global_calling_codes(value: str) -> frozenset[int]:
    codes = frozenset(int(part.strip().lstrip("+")) for part in value.split(",") if part.strip())
    if not codes <= NON_GEOGRAPHIC_CALLING_CODES:
        raise ValueError(value)
    return codes


def _region(value: str) -> str:
    if not is_known_region(value.upper()):
        raise ValueError(value)
    return value.upper()


def _code_length(value: str) -> int:
    length = int(value)
    if length not in CODE_LENGTH_RANGE:
        raise ValueError(value)
    return length


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in choices:
            raise ValueError(value)
        return value

    return parse


def _forwarded_header(value: str) -> str:
    return _choice("x-forwarded-for", "forwarded")(value.lower())


def _log_level(value: str) -> str:
    return _choice("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")(value.upper())


def _database_url(value: str) -> str:
    if value.startswith(("postgresql://", "postgres://")):
        value = "postgresql+psycopg://" + value.split("://", 1)[1]
    if value.startswith("sqlite+aiosqlite://"):  # the spelling of earlier versions
        value = "sqlite://" + value.split("://", 1)[1]
    if not value.startswith(("postgresql+psycopg://", "sqlite://")):
        raise ValueError(value)
    return value


REDIS_SCHEMES = ("redis://", "rediss://", "unix://", "redis+cluster://", "rediss+cluster://")


def _redis_url(value: str) -> str:
    if not value.startswith(REDIS_SCHEMES):
        raise ValueError(value)
    if value.startswith(("redis+cluster://", "rediss+cluster://")):
        hosts = value.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0].rpartition("@")[2]
        if not all(seed.rpartition(":")[2].isdigit() for seed in hosts.split(",")):
            raise ValueError(value)
    return value


def _test_phones(value: str) -> dict[str, str]:
    """``phone:code`` pairs, commas between; the policy normalises and checks them."""
    pairs: dict[str, str] = {}
    for part in value.split(","):
        phone, colon, code = part.strip().rpartition(":")
        if not (colon and phone.strip() and code.strip()) or phone.strip() in pairs:
            raise ValueError(value)
        pairs[phone.strip()] = code.strip()
    if len(pairs) > MAX_TEST_PHONES:
        raise ValueError(value)
    return pairs


def _templates(value: str) -> dict[str, str]:
    """A JSON object of language -> template, e.g. ``{"en": "Code: {code}"}``."""
    templates = json.loads(value)
    if not isinstance(templates, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in templates.items()
    ):
        raise ValueError(value)
    return templates


def _app_hash(value: str) -> str:
    if not APP_HASH.fullmatch(value):
        raise ValueError(value)
    return value


def _routes(value: str) -> Routes:
    return parse_routes(value, CHANNELS)


def _count_or_zero(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


def _webhooks(value: str) -> tuple[Endpoint, ...]:
    """A JSON list of endpoints, or ``@path`` of a file holding one."""
    if value.startswith("@"):
        with open(value[1:], encoding="utf-8") as file:
            value = file.read()
    return parse_endpoints(json.loads(value))


def _share(value: str) -> float:
    share = float(value)
    if not 0 < share <= 1:
        raise ValueError(value)
    return share


def _prices(value: str) -> Prices:
    return parse_prices(value, CHANNELS)


def _secret(value: str) -> bytes:
    return value.encode()


def _text(value: str) -> str:
    return value


@dataclass(frozen=True, slots=True)
class Variable:
    """One ``REFERRALS_*`` variable: the attribute it sets and how it is read."""

    name: str
    """Without the prefix, e.g. ``CODE_TTL``."""
    attribute: str
    """``Settings`` attribute, or ``policy.<attribute>``."""
    parse: Callable[[str], Any]
    hint: str
    """What a valid value looks like, for error messages."""

    def default(self) -> Any:
        """The default: the field's own, in ``Settings`` or ``Policy``."""
        owner: Any = Policy if self.attribute.startswith("policy.") else Settings
        name = self.attribute.removeprefix("policy.")
        spec = next(f for f in dataclasses.fields(owner) if f.name == name)
        if spec.default_factory is not dataclasses.MISSING:
            return spec.default_factory()
        return spec.default


URL = "a postgresql:// or sqlite:/// URL"
REDIS = "a redis://, rediss:// or unix:// URL, or redis+cluster://host:port[,host:port…]"
SECONDS = "seconds above 0"
COUNT = "a whole number above 0"
WINDOW = "count/seconds, e.g. 10/86400"
WINDOWS = "count/seconds, or several with commas, e.g. 6/300,9/86400"

VARIABLES: tuple[Variable, ...] = (
    Variable("ENV", "env", _choice("dev", "prod"), "dev or prod"),
    Variable("DATABASE_URL", "database_url", _database_url, URL),
    Variable("REDIS_URL", "redis_url", _redis_url, REDIS),
    Variable("BROKER_URL", "broker_url", _redis_url, REDIS),
    Variable("SECRET_KEY", "secret_key", _secret, "text"),
    Variable("EXPOSE_CODES", "policy.expose_codes", _bool, "true or false"),
    Variable("CODE_TTL", "policy.code_ttl", _positive_float, SECONDS),
    Variable("CODE_LENGTH", "policy.code_length", _code_length, "a whole number from 4 to 8"),
    Variable("CODE_MAX_ATTEMPTS", "policy.code_max_attempts", _positive_int, COUNT),
    Variable("RESEND_COOLDOWN", "policy.resend_cooldown", _positive_float, SECONDS),
    Variable("LIMIT_PHONE_SEND", "policy.phone_send", parse_limit, WINDOW),
    Variable("LIMIT_PHONE_IP_SEND", "policy.phone_ip_send", parse_limit, WINDOW),
    Variable("LIMIT_PHONE_FAILURE", "policy.phone_failure", parse_limit, WINDOW),
    Variable("LIMIT_PHONE_IP_FAILURE", "policy.phone_ip_failure", parse_limits, WINDOWS),
    Variable("LIMIT_IP_SEND", "policy.ip_send", parse_limit, WINDOW),
    Variable("LIMIT_IP_VERIFY", "policy.ip_verify", parse_limit, WINDOW),
    Variable("LIMIT_PREFIX_SEND", "policy.prefix_send", parse_limit, WINDOW),
    Variable("LIMIT_COUNTRY_SEND", "policy.country_send", parse_limit, WINDOW),
    Variable("LIMIT_GLOBAL_SEND", "policy.global_send", parse_limit, WINDOW),
    Variable("LIMIT_APPLY_FAILURE", "policy.apply_failure", parse_limit, WINDOW),
    Variable("REFERRAL_WINDOW", "policy.referral_window", _positive_float, SECONDS),
    Variable("REFERRAL_BURST", "policy.referral_burst", parse_limit, WINDOW),
    Variable(
        "REFERRAL_POLICY",
        "policy.referral_policy",
        parse_policy,
        "signal=allow|hold|refuse, commas, e.g. same_device=refuse,code_burst=hold",
    ),
    Variable("IPV6_PREFIX", "policy.ipv6_prefix", _ipv6_prefix, "a prefix length, 1 to 128"),
    Variable(
        "IPV6_NETWORK_PREFIX",
        "policy.ipv6_network_prefix",
        _ipv6_prefix,
        "a prefix length, 1 to 128",
    ),
    Variable("LIMIT_NETWORK_SEND", "policy.network_send", parse_limit, WINDOW),
    Variable(
        "PUMPING_MODE",
        "policy.pumping_mode",
        _choice("enforce", "shadow", "off"),
        "enforce, shadow or off",
    ),
    Variable("PUMPING_WINDOW", "policy.pumping_window", _positive_float, SECONDS),
    Variable("PUMPING_MIN_VOLUME", "policy.pumping_min_volume", _positive_int, COUNT),
    Variable(
        "PUMPING_MIN_CONVERSION",
        "policy.pumping_min_conversion",
        _share,
        "a share above 0, at most 1, e.g. 0.2",
    ),
    Variable("TRUSTED_PROXIES", "trusted_proxies", _networks, "addresses or CIDRs, commas"),
    Variable(
        "FORWARDED_HEADER", "forwarded_header", _forwarded_header, "x-forwarded-for or forwarded"
    ),
    Variable("PUBLIC_URL", "public_url", _text, "https://host[/path]"),
    Variable("DEFAULT_REGION", "policy.default_region", _region, "a region code such as RU"),
    Variable("ALLOWED_REGIONS", "policy.allowed_regions", _regions, "region codes, commas"),
    Variable(
        "GLOBAL_CALLING_CODES",
        "policy.global_calling_codes",
        _global_calling_codes,
        "non-geographic calling codes, commas, e.g. 870,881",
    ),
    Variable("SESSION_TTL", "policy.session_ttl", _positive_float, SECONDS),
    Variable("USUAL_NETWORK_TTL", "policy.usual_network_ttl", _positive_float, SECONDS),
    Variable("STEP_UP_AGE", "policy.step_up_age", _positive_float, SECONDS),
    Variable("REREGISTER_COOLDOWN", "policy.reregister_cooldown", _positive_float, SECONDS),
    Variable("COOKIE_SECURE", "cookie_secure", _bool, "true or false"),
    Variable(
        "SMS_GATEWAY",
        "sms_gateway",
        _choice("console", "webhook", *PROVIDERS),
        "console, webhook, " + ", ".join(PROVIDERS[:-1]) + " or " + PROVIDERS[-1],
    ),
    Variable("SMS_DELAY", "sms_delay", _delay, "seconds or a range such as 1-2"),
    Variable("SMS_WEBHOOK_URL", "sms_webhook_url", _text, "a URL"),
    Variable("SMS_WEBHOOK_SECRET", "sms_webhook_secret", _secret, "text"),
    Variable("SMS_WEBHOOK_TIMEOUT", "sms_webhook_timeout", _positive_float, SECONDS),
    Variable(
        "SMS_ROUTES",
        "sms_routes",
        _routes,
        "a channel, or country/prefix=channel,channel;…, e.g. ru=telegram,smsru;*=twilio,"
        " with channels among " + ", ".join(sorted(CHANNELS)),
    ),
    Variable("SMS_RETRIES", "sms_retries", _count_or_zero, "a whole number, 0 or more"),
    Variable("RECEIPT_TIMEOUT", "receipt_timeout", _positive_float, SECONDS),
    Variable(
        "RECEIPT_SECRET", "receipt_secret", _text, "text (in SMS.ru's and SMSC's receipt URLs)"
    ),
    Variable(
        "SMS_TEMPLATES",
        "sms_templates",
        _templates,
        'a JSON object of language: template, e.g. {"en": "Your code: {code}"}',
    ),
    Variable("ANDROID_APP_HASH", "android_app_hash", _app_hash, "11 characters of base64"),
    Variable("SMS_TIMEOUT", "sms_timeout", _positive_float, SECONDS),
    Variable("SMS_CONNECTIONS", "sms_connections", _positive_int, COUNT),
    Variable("TELEGRAM_TOKEN", "telegram_token", _text, "the Gateway API token"),
    Variable("TELEGRAM_BASE_URL", "telegram_base_url", _text, "a URL"),
    Variable("TWILIO_ACCOUNT_SID", "twilio_account_sid", _text, "AC…"),
    Variable("TWILIO_AUTH_TOKEN", "twilio_auth_token", _text, "text"),
    Variable("TWILIO_FROM", "twilio_from", _text, "a sender number or name"),
    Variable("TWILIO_MESSAGING_SERVICE_SID", "twilio_messaging_service_sid", _text, "MG…"),
    Variable("TWILIO_BASE_URL", "twilio_base_url", _text, "a URL"),
    Variable("SMSRU_API_ID", "smsru_api_id", _text, "text"),
    Variable("SMSRU_BASE_URL", "smsru_base_url", _text, "a URL"),
    Variable("SMSC_LOGIN", "smsc_login", _text, "text"),
    Variable("SMSC_PASSWORD", "smsc_password", _text, "text"),
    Variable("SMSC_BASE_URL", "smsc_base_url", _text, "a URL"),
    Variable("CIRCUIT_FAILURES", "circuit_failures", _positive_int, COUNT),
    Variable("CIRCUIT_WINDOW", "circuit_window", _positive_float, SECONDS),
    Variable("CIRCUIT_COOLDOWN", "circuit_cooldown", _positive_float, SECONDS),
    Variable("DELIVERY_HISTORY", "delivery_history", _positive_float, SECONDS),
    Variable(
        "WEBHOOKS",
        "webhooks",
        _webhooks,
        'a JSON list (or @file) of {"name", "url", "secret": "whsec_…", "events": [...]}',
    ),
    Variable("WEBHOOK_RETRY_FOR", "webhook_retry_for", _positive_float, SECONDS),
    Variable("WEBHOOK_TIMEOUT", "webhook_timeout", _positive_float, SECONDS),
    Variable("WEBHOOK_BACKOFF", "webhook_backoff", _positive_float, SECONDS),
    Variable("WEBHOOK_POLL", "webhook_poll", _positive_float, SECONDS),
    Variable("OUTBOX_KEEP", "outbox_keep", _positive_float, SECONDS),
    Variable("HISTORY_KEEP", "history_keep", _positive_float, SECONDS),
    Variable("REDIS_PREFIX", "redis_prefix", _text, "text"),
    Variable(
        "SESSION_CACHE_SIZE", "session_cache_size", _count_or_zero, "a whole number, 0 or more"
    ),
    Variable("DB_TABLE_PREFIX", "db_table_prefix", _text, "a table name prefix such as referrals_"),
    Variable("DB_SCHEMA", "db_schema", _text, "a PostgreSQL schema name"),
    Variable("DB_POOL_SIZE", "db_pool_size", _positive_int, COUNT),
    Variable("DB_TRANSACTION_POOLER", "db_transaction_pooler", _bool, "true or false"),
    Variable("DEPENDENCY_TIMEOUT", "dependency_timeout", _positive_float, SECONDS),
    Variable("READY_TIMEOUT", "ready_timeout", _positive_float, SECONDS),
    Variable("WORKER_HEARTBEAT", "worker_heartbeat", _text, "a file path"),
    Variable("METRICS", "metrics", _bool, "true or false"),
    Variable("METRICS_PORT", "metrics_port", _port, "a port, 1 to 65535"),
    Variable("BROKER_REDELIVERY", "broker_redelivery", _positive_float, SECONDS),
    Variable("MAX_BODY_SIZE", "max_body_size", _positive_int, "bytes above 0"),
    Variable(
        "SMS_PRICES",
        "sms_prices",
        _prices,
        "price per segment by country, optionally by channel: ru=4.5,kz=3,*=0.08"
        " or telegram:ru=1,ru=4.5",
    ),
    Variable("SPEND_CAP", "spend_cap", parse_limits, WINDOWS),
    Variable("MAX_HEADER_SIZE", "max_header_size", _header_size, "bytes, 8192 or more"),
    Variable("BODY_TIMEOUT", "body_timeout", _positive_float, SECONDS),
    Variable("BODY_IDLE_TIMEOUT", "body_idle_timeout", _positive_float, SECONDS),
    Variable("LOG_LEVEL", "log_level", _log_level, "DEBUG, INFO, WARNING or ERROR"),
    Variable("LOG_FORMAT", "log_format", _choice("auto", "json", "text"), "auto, json or text"),
    Variable(
        "TEST_PHONES",
        "policy.test_phones",
        _test_phones,
        f"at most {MAX_TEST_PHONES} phone:code pairs, commas between, e.g. +79990000001:1234",
    ),
    Variable("ALLOW_TEST_PHONES_IN_PROD", "allow_test_phones_in_prod", _bool, "true or false"),
)


def _policy_problem(message: str) -> str:
    """Policy's message, naming the variable (``test_phones: …`` ->
    ``REFERRALS_TEST_PHONES: …``) when it starts with an attribute's name."""
    attribute, colon, rest = message.partition(":")
    name = _name(f"policy.{attribute}")
    return f"{name}:{rest}" if colon and name.startswith(PREFIX) else message


def tracing_wanted(environ: Mapping[str, str]) -> bool:
    """Whether the standard OpenTelemetry variables ask for traces: an
    exporter named (``OTEL_TRACES_EXPORTER`` other than ``none``) or an OTLP
    endpoint given, and ``OTEL_SDK_DISABLED`` not true."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter:
        return exporter != "none"
    return any(
        environ.get(name, "").strip()
        for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def export_setting(name: str, value: object) -> None:
    """Set ``REFERRALS_<name>`` for this process and those it starts (``referrals
    serve`` hands its command-line limits to its server's workers this way)."""
    os.environ[PREFIX + name] = str(value)


TOOLING_VARIABLES = frozenset(
    {
        "VENV",
        "TEST_POSTGRES_URL",
        "TEST_REDIS_URL",
        "TEST_REDIS_SERVER",
        "TEST_PG_BIN",
        "TEST_PG_SOCKETS",
        "FUZZ_URL",
        "FUZZ_SEED",
        "FUZZ_SECONDS",
        "FUZZ_EXAMPLES",
    }
)
"""``REFERRALS_*`` variables of the project's own tools (dev.py, the tests): not settings."""


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """A line for each ``REFERRALS_*`` variable that is no setting (a typo such
    as ``REFERRALS_CODE_LENGHT``), naming the closest known one."""
    settings = sorted(variable.name for variable in VARIABLES)
    lines: list[str] = []
    for key in sorted(environ):
        name = key.removeprefix(PREFIX)
        if not key.startswith(PREFIX) or name in TOOLING_VARIABLES or name in settings:
            continue
        close = difflib.get_close_matches(name, settings, n=1)
        hint = f" (did you mean {PREFIX}{close[0]}?)" if close else ""
        lines.append(f"{key} is not a setting{hint}")
    return lines


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and check every ``REFERRALS_*`` variable (see :data:`VARIABLES`).
    A variable that is none of them is logged as a warning, and refused when
    ``REFERRALS_ENV=prod``."""
    environ = os.environ if environ is None else environ
    problems: list[str] = []
    unknown = unknown_variables(environ)
    if environ.get(PREFIX + "ENV", "").strip() == "prod":
        problems.extend(production.unknown_variables(unknown))
    else:
        for line in unknown:
            logging.getLogger("referrals.settings").warning("%s: ignored", line)
    values: dict[str, Any] = {}
    policy: dict[str, Any] = {}
    for variable in VARIABLES:
        raw = environ.get(PREFIX + variable.name, "").strip()
        if not raw:
            continue
        try:
            value = variable.parse(raw)
        except (ValueError, TypeError, OSError) as exc:
            if variable.name == "WEBHOOKS":  # its secrets stay out of the message
                problems.append(f"{PREFIX}WEBHOOKS: {exc}; expected {variable.hint}")
                continue
            problems.append(f"{PREFIX}{variable.name}={raw!r}: expected {variable.hint}")
            continue
        if variable.attribute.startswith("policy."):
            policy[variable.attribute.removeprefix("policy.")] = value
        else:
            values[variable.attribute] = value
    values["tracing"] = tracing_wanted(environ)
    try:  # the rules too, on what could be read, so every mistake is listed at once
        settings = Settings(policy=Policy(**policy), **values)
    except SettingsError as exc:
        problems.extend(exc.problems)
    except ValueError as exc:  # a rule of Policy's own
        problems.append(_policy_problem(str(exc)))
    if problems:
        raise SettingsError(problems)
    return settings
