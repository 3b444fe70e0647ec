"""Routes: which channels carry a phone's code, in order (see docs/sending-codes.md).

A route table maps a country (an ISO region such as ``RU``), a number
prefix (``+7701``) or everything else (``*``) to a chain of channel names:
``ru=telegram,smsru,smsc;kz=smsc;*=twilio``. The longest matching prefix
wins, then the number's country, then ``*``. A bare channel name
(``console``) is the chain of everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from referrals.domain.phone import Phone, is_known_region, region_code

EVERYWHERE = "*"


class RouteSyntaxError(ValueError):
    """A route table that cannot be read; the message says where."""


@dataclass(frozen=True, slots=True)
class Routes:
    """Chains of channel names by region, by prefix, and for everything else."""

    by_region: tuple[tuple[str, tuple[str, ...]], ...] = ()
    by_prefix: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Longest prefix first (``+7701`` before ``+7``)."""
    default: tuple[str, ...] = ()
    """The chain of numbers no other entry matches; empty: such numbers get no code."""

    @classmethod
    def single(cls, channel: str) -> Routes:
        """Every number through one channel (what ``REFERRALS_SMS_GATEWAY`` says)."""
        return cls(default=(channel,))

    @property
    def channels(self) -> tuple[str, ...]:
        """Every channel named anywhere, each once, in order of first mention."""
        named = [*self.default]
        for _, chain in (*self.by_prefix, *self.by_region):
            named.extend(chain)
        return tuple(dict.fromkeys(named))

    def chain(self, phone: Phone) -> tuple[str, ...]:
        """The channels for ``phone``, first choice first."""
        for prefix, chain in self.by_prefix:
            if phone.startswith(prefix):
                return chain
        if self.by_region:
            region = region_of(phone)
            for name, chain in self.by_region:
                if name == region:
                    return chain
        return self.default

    def __str__(self) -> str:
        entries = [*self.by_prefix, *((r.lower(), c) for r, c in self.by_region)]
        if self.default:
            entries.append((EVERYWHERE, self.default))
        return ";".join(f"{key}={','.join(chain)}" for key, chain in entries)


def region_of(phone: Phone) -> str:
    """The ISO region of an E.164 number (``RU``), or ``ZZ`` when unknown."""
    return region_code(phone) or "ZZ"


def parse_routes(text: str, known: frozenset[str]) -> Routes:
    """Read ``ru=telegram,smsru;+7701=smsc;*=twilio`` or a bare channel name.

    Raises :class:`RouteSyntaxError` for an unknown channel, region or
    prefix, an empty chain, a channel twice in one chain, or a key twice.
    """
    text = text.strip()
    if "=" not in text:
        return Routes.single(_channel(text, known))
    by_region: dict[str, tuple[str, ...]] = {}
    by_prefix: dict[str, tuple[str, ...]] = {}
    default: tuple[str, ...] = ()
    for entry in filter(None, (part.strip() for part in text.split(";"))):
        key, equals, names = (part.strip() for part in entry.partition("="))
        if not equals:
            raise RouteSyntaxError(f"{entry!r} is not key=channel[,channel…]")
        chain = tuple(_channel(name.strip(), known) for name in names.split(","))
        if len(set(chain)) != len(chain):
            raise RouteSyntaxError(f"{entry!r} names a channel twice")
        if key == EVERYWHERE:
            if default:
                raise RouteSyntaxError("'*' is given twice")
            default = chain
            continue
        table, key = _key(key)
        if key in by_region or key in by_prefix:
            raise RouteSyntaxError(f"{key!r} is given twice")
        (by_prefix if table == "prefix" else by_region)[key] = chain
    prefixes = sorted(by_prefix.items(), key=lambda item: -len(item[0]))
    return Routes(tuple(by_region.items()), tuple(prefixes), default)


def _channel(name: str, known: frozenset[str]) -> str:
    if name not in known:
        raise RouteSyntaxError(f"unknown channel {name!r} (known: {', '.join(sorted(known))})")
    return name


def _key(key: str) -> tuple[str, str]:
    """``ru`` -> region ``RU``; ``+7701`` or ``7701`` -> prefix ``+7701``."""
    digits = key.removeprefix("+")
    if digits.isdigit() and digits.isascii():
        return "prefix", "+" + digits
    if is_known_region(key.upper()):
        return "region", key.upper()
    raise RouteSyntaxError(f"{key!r} is neither a region code (ru) nor a number prefix (+7701)")
