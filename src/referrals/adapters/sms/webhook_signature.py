"""How the webhook gateway signs what it sends (and its receipts are checked):
apart from the gateway, so checking a receipt does not load its HTTP client."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Referrals-Signature"
TIMESTAMP_HEADER = "X-Referrals-Timestamp"


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """``sha256=`` + HMAC-SHA256(secret, timestamp + "." + body), hex.

    The receiver recomputes it and compares in constant time; the timestamp
    lets it refuse replays older than a few minutes.
    """
    mac = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()
