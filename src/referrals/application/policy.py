"""Every number of the rules (docs/rules.md) in one frozen value, so library users get the same
protection as the HTTP API. These defaults are the only ones: the
environment settings (``REFERRALS_*``) start from them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from referrals.domain.codes import CODE_LENGTH_RANGE
from referrals.domain.errors import InvalidPhone
from referrals.domain.integrity import DEFAULT_POLICY, SIGNALS, Action
from referrals.domain.limits import Limit
from referrals.domain.phone import GlobalNumber, Phone, is_known_region, parse_phone

DAY = 86_400.0
MAX_TEST_PHONES = 10
"""As many fixed-code numbers as Firebase allows."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """The rules' numbers; checked when built (``ValueError`` if out of range)."""

    code_length: int = 4
    """Digits of a login code, 4..8."""
    code_ttl: float = 300.0
    """Seconds a login code lives."""
    code_max_attempts: int = 5
    """Wrong codes that burn a login."""
    resend_cooldown: float = 60.0
    """Seconds between two codes for one phone."""
    phone_send: Limit = Limit(10, DAY)
    """Codes sent per phone."""
    phone_ip_send: Limit = Limit(5, DAY)
    """Codes sent per phone per client address: one stranger cannot use up a
    phone's codes of the day (nor keep superseding its owner's)."""
    ip_send: Limit = Limit(30, 3_600.0)
    """Codes sent per client address."""
    prefix_send: Limit = Limit(50, 3_600.0)
    """Codes sent per block of 1,000 numbers (SMS pumping targets a few blocks)."""
    country_send: Limit = Limit(1_000, 3_600.0)
    """Codes sent per country calling code."""
    global_send: Limit = Limit(10_000, 3_600.0)
    """Codes sent in all: a ceiling on the SMS bill."""
    phone_failure: Limit = Limit(10, DAY)
    """Wrong codes per phone from anywhere: the brute-force bound (docs/rules.md).
    Past it the phone is locked until the window frees up."""
    phone_ip_failure: tuple[Limit, ...] = (Limit(6, 300.0), Limit(8, 3_600.0), Limit(9, DAY))
    """Wrong codes per phone per client address, with growing waits: a login's
    five tries (and a look at the burned login) at once, then slower, and never
    enough for one address alone to reach ``phone_failure`` and lock the owner out."""
    usual_network_ttl: float = 30 * DAY
    """Seconds a network a login of a phone succeeded from stays one of its
    owner's usual networks, where the phone's lock by ``phone_failure`` does
    not apply (only ``phone_ip_failure`` does)."""
    pumping_mode: str = "enforce"
    """``enforce``, ``shadow`` (only log what would be refused) or ``off``
    (see :mod:`~referrals.application.pumping`)."""
    pumping_window: float = 3_600.0
    """Seconds of codes sent and verified a group is judged on."""
    pumping_min_volume: int = 100
    """Codes a group may send in the window whatever its conversion."""
    pumping_min_conversion: float = 0.2
    """Verified ÷ sent below which a group past ``pumping_min_volume`` is throttled."""
    ip_verify: Limit = Limit(60, 300.0)
    """Verification attempts per client address."""
    apply_failure: Limit = Limit(10, 3_600.0)
    """Unknown invite codes per user."""
    referral_window: float = 30 * DAY
    """Seconds back the logins of an applier and of the code's owner are
    compared for ``same_network`` and ``same_device`` (docs/rules.md,
    "Referral integrity"); the login history keeps them ``REFERRALS_HISTORY_KEEP``."""
    referral_burst: Limit = Limit(2, DAY)
    """Applications of one code from one network that pass unflagged; past
    it each is flagged ``code_burst`` until the window frees up."""
    referral_policy: Mapping[str, Action] = field(
        default_factory=lambda: dict(DEFAULT_POLICY), hash=False
    )
    """``allow``, ``hold`` or ``refuse`` for each self-referral signal."""
    ipv6_prefix: int = 64
    """IPv6 clients share per-address limits per network of this prefix length
    (a client usually holds a whole /64)."""
    ipv6_network_prefix: int = 56
    """IPv6 clients also share ``network_send`` per network of this prefix
    length (a subscriber is often given a /56: 256 networks of /64)."""
    network_send: Limit = Limit(60, 3_600.0)
    """Codes sent per IPv6 network of ``ipv6_network_prefix`` bits."""
    session_ttl: float = 30 * DAY
    """Seconds a session lasts."""
    step_up_age: float = 600.0
    """A session older than this confirms a fresh code sent to the current
    number before changing it (docs/account.md)."""
    reregister_cooldown: float = 30 * DAY
    """Seconds a deleted account's number cannot apply an invite code (the
    anti-abuse rule of docs/account.md)."""
    default_region: str = "RU"
    """Region of numbers typed without ``+``."""
    allowed_regions: frozenset[str] = field(default_factory=frozenset)
    """Regions whose numbers are served; empty: all."""
    global_calling_codes: frozenset[int] = field(default_factory=frozenset)
    """Calling codes of non-geographic numbers that are served (``870``,
    ``881``, ``882``…); empty: none (satellite numbers are what SMS pumping
    is paid for)."""
    expose_codes: bool = False
    """Return the code in the login result (demos and tests; refused in prod)."""
    page_size: int = 100
    """Referred users per profile page, unless the caller asks for another size."""
    max_page_size: int = 1_000
    """The largest page a caller may ask for."""
    test_phones: Mapping[str, str] = field(default_factory=dict, hash=False)
    """Up to ten numbers (any spelling) that log in with a fixed code
    (``code_length`` digits), for app-store reviewers and QA: no SMS is sent
    and no sending limit counts them, but the wrong-code limits still apply.
    Normalised to E.164 when built."""
    warn_on_test_phones: bool = False
    """Log each use of a test phone as a warning, not as info (prod)."""

    def __post_init__(self) -> None:
        if self.code_length not in CODE_LENGTH_RANGE:
            raise ValueError(f"code_length must be 4..8, not {self.code_length}")
        for name in (
            "code_ttl",
            "code_max_attempts",
            "resend_cooldown",
            "session_ttl",
            "usual_network_ttl",
            "step_up_age",
            "reregister_cooldown",
            "referral_window",
        ):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be above 0")
        if self.pumping_mode not in {"enforce", "shadow", "off"}:
            raise ValueError(
                f"pumping_mode must be enforce, shadow or off, not {self.pumping_mode}"
            )
        if not 0 < self.pumping_min_conversion <= 1 or self.pumping_min_volume < 1:
            raise ValueError("pumping_min_conversion must be in (0, 1], pumping_min_volume >= 1")
        if unknown_signals := sorted(set(self.referral_policy) - set(SIGNALS)):
            raise ValueError(f"referral_policy: {unknown_signals} are not signals")
        object.__setattr__(
            self,
            "referral_policy",
            MappingProxyType(
                {**DEFAULT_POLICY, **{k: Action(v) for k, v in self.referral_policy.items()}}
            ),
        )
        if not self.phone_ip_failure:
            raise ValueError("phone_ip_failure needs at least one limit")
        if not 1 <= self.ipv6_prefix <= 128:
            raise ValueError(f"ipv6_prefix must be 1..128, not {self.ipv6_prefix}")
        if not 1 <= self.ipv6_network_prefix <= 128:
            raise ValueError(f"ipv6_network_prefix must be 1..128, not {self.ipv6_network_prefix}")
        if not 1 <= self.page_size <= self.max_page_size:
            raise ValueError("page_size must be between 1 and max_page_size")
        if not is_known_region(self.default_region):
            raise ValueError(f"default_region: {self.default_region!r} is not a region such as RU")
        if unknown := sorted(r for r in self.allowed_regions if not is_known_region(r)):
            raise ValueError(f"allowed_regions: {unknown} are not regions such as RU")
        object.__setattr__(self, "test_phones", MappingProxyType(self._normalised_test_phones()))

    def _normalised_test_phones(self) -> dict[Phone, str]:
        if len(self.test_phones) > MAX_TEST_PHONES:
            raise ValueError(f"test_phones: at most {MAX_TEST_PHONES} numbers")
        phones: dict[Phone, str] = {}
        for typed, code in self.test_phones.items():
            try:
                phone = parse_phone(typed, self.default_region, self.allowed_regions, None)
            except InvalidPhone as exc:
                raise ValueError(f"test_phones: {typed!r}: {exc}") from None
            if phone in phones:
                raise ValueError(f"test_phones: {typed!r} is listed twice ({phone})")
            if not (code.isascii() and code.isdigit() and len(code) == self.code_length):
                raise ValueError(
                    f"test_phones: the code of {phone} must be {self.code_length} digits"
                    " (the code length)"
                )
            phones[phone] = code
        return phones

    def parse_phone(self, typed: str) -> Phone:
        """A typed number in E.164 by these rules (:func:`~referrals.domain.phone.parse_phone`
        with this region, these regions and these global calling codes); a test
        phone is served whatever its kind."""
        try:
            return parse_phone(
                typed, self.default_region, self.allowed_regions, self.global_calling_codes
            )
        except GlobalNumber:
            phone = parse_phone(typed, self.default_region, self.allowed_regions, None)
            if phone in self.test_phones:
                return phone
            raise

    def test_code(self, phone: Phone) -> str | None:
        """The fixed code of ``phone`` if it is a test phone, else ``None``."""
        return self.test_phones.get(phone)
