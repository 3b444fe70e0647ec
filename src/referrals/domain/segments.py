"""How many SMS a text costs (see docs/sending-codes.md).

A text whose every character is in the GSM 03.38 alphabet goes as GSM-7:
160 characters in one SMS, 153 per part when split (the escaped characters
of the extension table count twice). Any other character (Cyrillic, most
emoji) makes the whole text UCS-2: 70 UTF-16 units in one SMS, 67 per part.
Carriers bill each part.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
"""Sent as an escape and a character: two septets each."""
SINGLE = {"GSM-7": 160, "UCS-2": 70}
PART = {"GSM-7": 153, "UCS-2": 67}


@dataclass(frozen=True, slots=True)
class SmsSize:
    encoding: str
    """``GSM-7`` or ``UCS-2``."""
    units: int
    """Septets (GSM-7) or UTF-16 code units (UCS-2)."""
    segments: int


def sms_size(text: str) -> SmsSize:
    """The encoding the text needs, its length in that encoding, and the SMS it takes."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text):
        encoding, units = "GSM-7", len(text) + sum(c in GSM7_EXTENDED for c in text)
    else:
        encoding, units = "UCS-2", len(text.encode("utf-16-le")) // 2
    segments = 1 if units <= SINGLE[encoding] else math.ceil(units / PART[encoding])
    return SmsSize(encoding, units, segments)
