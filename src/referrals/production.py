"""What ``REFERRALS_ENV=prod`` refuses, in one place.

:data:`BOUNDS` is the table of the loosest value each protective setting may
take in production (docs/production.md's copy is :func:`markdown_table`, checked by a
test); :func:`problems` lists every production rule a :class:`Settings`
breaks, and :class:`~referrals.settings.Settings` refuses to be built with
any of them (``SettingsError`` lists them all at once).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from referrals.application.policy import Policy
from referrals.application.ports import Limit
from referrals.application.webhooks import SPEC_SECRET_BYTES, secret_bytes

if TYPE_CHECKING:
    from referrals.settings import Settings

MIN_SECRET_LENGTH = 32
"""Characters of ``REFERRALS_SECRET_KEY`` in production."""
MIN_WEBHOOK_SECRET_LENGTH = 32
"""Characters of ``REFERRALS_SMS_WEBHOOK_SECRET`` in production: the HMAC key
that signs every SMS request must not be guessable."""


@dataclass(frozen=True, slots=True)
class Bound:
    """The loosest value of one setting that production accepts.

    A number is at most ``loosest`` (at least, when ``at_least``). A limit
    ``count/seconds`` must let through at most ``loosest.count`` in any
    ``loosest.window`` seconds: against ``200/86400``, ``8/3600`` passes
    (192 a day) and ``10/3600`` does not (240). Several limits (commas)
    pass when their strictest one does.
    """

    variable: str
    """Without the ``REFERRALS_`` prefix."""
    loosest: Limit | float
    why: str
    at_least: bool = False
    unit: str = ""

    def allows(self, value: Any) -> bool:
        bound = self.loosest
        if isinstance(bound, Limit):
            limits = value if isinstance(value, tuple) else (value,)
            return min(_most_in(limit, bound.window) for limit in limits) <= bound.count
        return bool(value >= bound if self.at_least else value <= bound)

    def describe(self) -> str:
        bound = self.loosest
        if isinstance(bound, Limit):
            return f"at most {bound.count} in any {_number(bound.window)} s"
        unit = f" {self.unit}" if self.unit else ""
        return f"{'at least' if self.at_least else 'at most'} {_number(bound)}{unit}"


def _most_in(limit: Limit, seconds: float) -> float:
    """The most a rolling ``limit`` lets through in any ``seconds``."""
    return limit.count * math.ceil(seconds / limit.window)


def _number(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 7776000, not 7.776e+06
    return f"{value:g}" if isinstance(value, float) else str(value)


def shown(value: Any) -> str:
    """A setting's value as it is written in the environment."""
    if isinstance(value, Limit):
        return f"{value.count}/{_number(value.window)}"
    if isinstance(value, tuple):
        return ",".join(shown(part) for part in value)
    return _number(value) if isinstance(value, float) else str(value)


DAY = 86_400.0
HOUR = 3_600.0

BOUNDS: tuple[Bound, ...] = (
    Bound("CODE_MAX_ATTEMPTS", 5, "wrong codes one login takes before it burns"),
    Bound("CODE_TTL", 600.0, "how long a code can be guessed at", unit="s"),
    Bound("RESEND_COOLDOWN", 30.0, "time between two codes for one phone", True, "s"),
    Bound("LIMIT_PHONE_FAILURE", Limit(10, DAY), "the brute-force bound: 0.1 % a day"),
    Bound("LIMIT_PHONE_IP_FAILURE", Limit(10, DAY), "one address's guesses at one phone"),
    Bound("LIMIT_IP_VERIFY", Limit(120, 300.0), "guesses from one address"),
    Bound("LIMIT_PHONE_SEND", Limit(20, DAY), "SMS to one phone"),
    Bound("LIMIT_PHONE_IP_SEND", Limit(10, DAY), "SMS to one phone from one address"),
    Bound("LIMIT_IP_SEND", Limit(100, HOUR), "SMS asked for by one address"),
    Bound("LIMIT_PREFIX_SEND", Limit(200, HOUR), "SMS to one block of 1,000 numbers"),
    Bound("LIMIT_COUNTRY_SEND", Limit(10_000, HOUR), "SMS to one country calling code"),
    Bound("LIMIT_GLOBAL_SEND", Limit(100_000, HOUR), "SMS in all: the bill's ceiling"),
    Bound("LIMIT_APPLY_FAILURE", Limit(20, HOUR), "unknown invite codes one user tries"),
    Bound("LIMIT_NETWORK_SEND", Limit(200, HOUR), "SMS asked for by one IPv6 network (/56)"),
    Bound("IPV6_PREFIX", 64, "a longer prefix lets one client use many addresses"),
    Bound("SESSION_TTL", int(90 * DAY), "how long a stolen session works", unit="s"),
    Bound("MAX_BODY_SIZE", 1024 * 1024, "memory one request may take", unit="bytes"),
    Bound("MAX_HEADER_SIZE", 256 * 1024, "memory one request head may take", unit="bytes"),
    Bound("BODY_TIMEOUT", 60.0, "how long a slow body holds a connection", unit="s"),
    Bound("BODY_IDLE_TIMEOUT", 30.0, "how long a body may pause", unit="s"),
)
WIDEST_PROXY_V4 = 8
WIDEST_PROXY_V6 = 32
"""The widest network ``REFERRALS_TRUSTED_PROXIES`` may name in production: a
proxy network wider than that (``0.0.0.0/0``, ``::/0``) believes any client's
``X-Forwarded-For``, so every per-address limit is the client's to choose."""


def problems(settings: Settings) -> list[str]:
    """Every production rule ``settings`` breaks, one sentence each, naming
    the variables to change (:meth:`Settings.variable <referrals.settings.Settings.variable>`)."""
    name = settings.variable
    refused = f"is refused when {name('env')}=prod"
    found = _secret_problems(settings)
    if "console" in settings.routes.channels:
        where = (
            f"{name('sms_routes')} naming console"
            if settings.sms_routes
            else f"{name('sms_gateway')}=console"
        )
        found.append(
            f"{where} {refused}: it logs codes instead of sending them; name real"
            f" channels in {name('sms_routes')}, or set {name('sms_gateway')}=webhook,"
            f" {name('sms_webhook_url')} and {name('sms_webhook_secret')}"
        )
    if not settings.cookie_secure:
        found.append(
            f"{name('cookie_secure')}=false {refused}: the session cookie would travel"
            " over plain http"
        )
    url = settings.sms_webhook_url
    if url is not None and (urlsplit(url).scheme != "https" or not urlsplit(url).netloc):
        found.append(
            f"{name('sms_webhook_url')}={url!r} {refused}: codes travel in it, so it"
            " must be an https:// URL"
        )
    secret = settings.sms_webhook_secret
    if secret is not None and len(secret) < MIN_WEBHOOK_SECRET_LENGTH:
        found.append(
            f"{name('sms_webhook_secret')} shorter than {MIN_WEBHOOK_SECRET_LENGTH}"
            f" characters {refused}"
        )
    wide = [
        str(network)
        for network in settings.trusted_proxies
        if network.prefixlen < (WIDEST_PROXY_V4 if network.version == 4 else WIDEST_PROXY_V6)
    ]
    if wide:
        found.append(
            f"{name('trusted_proxies')}={','.join(wide)} {refused}: production allows"
            f" networks of at most /{WIDEST_PROXY_V4} (IPv4) or /{WIDEST_PROXY_V6} (IPv6);"
            " a wider one believes any client's forwarded address"
        )
    public = settings.public_url
    if public is not None and urlsplit(public).scheme != "https":
        found.append(
            f"{name('public_url')}={public!r} {refused}: links that carry login"
            " tokens must be https:// URLs"
        )
    found.extend(_webhook_problems(settings, name("webhooks"), refused))
    found.extend(_long_sms(settings, refused))
    for channel in settings.routes.channels:
        base = getattr(settings, f"{channel}_base_url", None)
        if base is not None and urlsplit(base).scheme != "https":
            found.append(
                f"{name(channel + '_base_url')}={base!r} {refused}: the {channel} channel's"
                " credentials and codes must travel over https://"
            )
    for bound in BOUNDS:
        attribute = settings.attribute(bound.variable)
        value = settings.value(attribute)
        if not bound.allows(value):
            found.append(
                f"{name(attribute)}={shown(value)} {refused}: production"
                f" allows {bound.describe()} ({bound.why})"
            )
    return found


def policy(given: Policy) -> Policy:
    """The policy production runs: each use of a test phone is logged as a warning."""
    if given.test_phones and not given.warn_on_test_phones:
        return dataclasses.replace(given, warn_on_test_phones=True)
    return given


def unknown_variables(lines: list[str]) -> list[str]:
    """``REFERRALS_*`` variables that set nothing (a misspelt one leaves its
    setting at the default): a warning in development, refused in production."""
    return [f"{line}: refused when REFERRALS_ENV=prod" for line in lines]


def _secret_problems(settings: Settings) -> list[str]:
    """The key is the process's own, codes are exposed, or anyone may sign in as a test phone."""
    name = settings.variable
    found: list[str] = []
    if settings.secret_key_generated or len(settings.secret_key) < MIN_SECRET_LENGTH:
        found.append(
            f"{name('secret_key')} must be set to at least {MIN_SECRET_LENGTH}"
            f" characters when {name('env')}=prod"
        )
    if settings.policy.expose_codes:
        found.append(f"{name('policy.expose_codes')}=true is refused when {name('env')}=prod")
    if settings.policy.test_phones and not settings.allow_test_phones_in_prod:
        found.append(
            f"{name('policy.test_phones')} is refused when {name('env')}=prod unless"
            f" {name('allow_test_phones_in_prod')}=true (anyone who knows a test"
            " number and its code can sign in as it)"
        )
    return found


def _webhook_problems(settings: Settings, variable: str, refused: str) -> list[str]:
    """Events carry phones: each endpoint needs https and a key of the spec's length."""
    found: list[str] = []
    low, high = SPEC_SECRET_BYTES
    for endpoint in settings.webhooks:
        if urlsplit(endpoint.url).scheme != "https":
            found.append(f"{variable}: {endpoint.name}'s url is not https:// and {refused}")
        if not low <= len(secret_bytes(endpoint.secret)) <= high:
            found.append(
                f"{variable}: {endpoint.name}'s secret is not {low} to {high} random bytes"
                f" (whsec_ and their base64) and {refused}"
            )
    return found


def _long_sms(settings: Settings, refused: str) -> list[str]:
    """Custom login SMS templates that take more than one SMS per code."""
    if not settings.sms_templates:
        return []
    try:
        sizes = settings.sms_text().sizes(settings.policy.code_length)
    except ValueError:  # a broken template: the settings' own check says so
        return []
    variable = settings.variable("sms_templates")
    return [
        f"{variable} makes the {language} login SMS {size.segments} messages"
        f" ({size.encoding}, {size.units} characters) {refused}: every code would be"
        f" billed {size.segments} times; shorten it to one SMS (docs/sending-codes.md)"
        for language, size in sizes.items()
        if language in settings.sms_templates and size.segments > 1
    ]


def markdown_table(prefix: str = "REFERRALS_") -> str:
    """The table of :data:`BOUNDS` in docs/production.md."""
    rows = ["| variable | loosest value in prod | why |", "|---|---|---|"]
    rows += [f"| `{prefix}{b.variable}` | {b.describe()} | {b.why} |" for b in BOUNDS]
    return "\n".join(rows) + "\n"
