"""Referral integrity: the signals of a self-referral and what the policy does
with them (docs/rules.md, "Referral integrity").

A signal is a reason to doubt that the person applying a code is someone
other than the code's owner. Each has an action: ``allow`` (apply, noting
the signal), ``hold`` (record the referral as ``pending_review`` until an
operator approves or voids it) or ``refuse`` (``ReferralRefused``). An
application with several signals gets the strictest of their actions.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

SAME_DEVICE = "same_device"
"""The applier and the owner logged in from one device (cookie or header)."""
SAME_NETWORK = "same_network"
"""The applier and the owner logged in from one client network."""
CODE_BURST = "code_burst"
"""Too many applications of one code from one network in a short while."""
SIGNALS = (SAME_DEVICE, SAME_NETWORK, CODE_BURST)

PENDING_REVIEW = "pending_review"
"""The status of a held referral; an applied one has none (``None``)."""
APPLIED = "applied"
"""How a referral without a status shows (the profile's ``used_referral_status``)."""


class Action(enum.StrEnum):
    """What a signal does to an application, mildest first."""

    ALLOW = "allow"
    HOLD = "hold"
    REFUSE = "refuse"


_STRICTNESS = (Action.ALLOW, Action.HOLD, Action.REFUSE)

DEFAULT_POLICY: Mapping[str, Action] = dict.fromkeys(SIGNALS, Action.HOLD)
"""Every signal holds: a held referral costs its owner a wait, a refused one
may be a real friend's; an operator decides (``referrals referrals review``)."""


def decide(signals: Iterable[str], policy: Mapping[str, Action]) -> Action:
    """The strictest action of ``signals`` under ``policy`` (``allow`` for none)."""
    actions = [policy.get(signal, Action.HOLD) for signal in signals]
    return max(actions, key=_STRICTNESS.index, default=Action.ALLOW)


def strictness(action: Action) -> int:
    """``action``'s place from the mildest (``allow``: 0) to ``refuse`` (2)."""
    return _STRICTNESS.index(action)


@dataclass(frozen=True, slots=True)
class Screening:
    """What an application's self-referral action is decided from, for the
    repository that applies it (``UserRepository.apply_code``): it reads the
    login history for ``same_network`` and ``same_device`` in the same step
    (on PostgreSQL in the same statement) and takes :meth:`decided`'s action."""

    policy: Mapping[str, Action] = field(default_factory=lambda: dict(DEFAULT_POLICY))
    flagged: tuple[str, ...] = ()
    """Signals known before the login history is read (``code_burst``)."""
    network: str = ""
    """The applier's network as the login history keeps it; empty: none."""
    device: str = ""
    """The applier's device key (:func:`device_key`); empty: none."""
    since: float | None = None
    """Logins at or after it count; ``None``: the login history is not read."""

    def decided(self, shared: Iterable[str]) -> tuple[tuple[str, ...], Action]:
        """The signals, with those the login history gave (``shared``), and their action."""
        signals = ordered([*self.flagged, *shared])
        return signals, decide(signals, self.policy)


def parse_policy(text: str) -> dict[str, Action]:
    """``same_device=refuse,same_network=hold``: the signals named get their
    action, the others keep :data:`DEFAULT_POLICY`'s. ``ValueError`` for an
    unknown signal or action."""
    policy = dict(DEFAULT_POLICY)
    for part in filter(None, (p.strip() for p in text.split(","))):
        signal, _, action = part.partition("=")
        signal, action = signal.strip(), action.strip()
        if signal not in SIGNALS:
            raise ValueError(f"{signal!r} is not a signal ({', '.join(SIGNALS)})")
        if action not in Action.__members__.values():
            raise ValueError(f"{action!r} is not allow, hold or refuse")
        policy[signal] = Action(action)
    return policy


def ordered(signals: Iterable[str]) -> tuple[str, ...]:
    """``signals`` without repeats, in :data:`SIGNALS` order."""
    present = set(signals)
    return tuple(signal for signal in SIGNALS if signal in present)


DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
"""A device id as the page's cookie and the ``X-Device-Id`` header carry it:
16 to 64 URL-safe characters (the page makes 22: 128 random bits)."""
DEVICE_KEY_LENGTH = 32


def device_id(raw: str | None) -> str | None:
    """``raw`` if it is a well-formed device id, else ``None`` (ignored)."""
    if raw is None or not DEVICE_ID.fullmatch(raw):
        return None
    return raw


def device_key(secret: bytes, device: str | None) -> str:
    """What the login history keeps of a device id: HMAC-SHA256 with the
    secret, 128 bits in hex, so the stored value is no cookie anyone can
    replay; empty when no device id was given."""
    if not device:
        return ""
    mac = hmac.new(secret, f"device:{device}".encode(), hashlib.sha256)
    return mac.hexdigest()[:DEVICE_KEY_LENGTH]
