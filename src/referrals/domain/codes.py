"""Confirmation codes, invite codes and the opaque tokens around them."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import NewType

from referrals.domain.errors import InvalidConfirmationCode, InvalidInviteCode

InviteCode = NewType("InviteCode", str)

INVITE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford base32: digits and upper-case letters without I, L, O and U."""
INVITE_CODE_LENGTH = 6
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_TYPED_INVITE_CHARACTERS = "0-9A-TV-Za-tv-z"
"""What may be typed for one character: the alphabet in either case, and the
look-alikes ``I``, ``L`` and ``O`` (only ``U`` is left out). ASCII only: a
non-ASCII letter may upper-case into one of these (the dotless i, U+0131, into ``I``)."""
_BLANKS = "[ \\t\\n\\r]*"
INVITE_CODE_TYPED = f"{_BLANKS}[{_TYPED_INVITE_CHARACTERS}]{{{INVITE_CODE_LENGTH}}}{_BLANKS}"
"""A regular expression of every typed invite code :func:`normalize_invite_code`
accepts, whole (``re.fullmatch``; the OpenAPI document anchors it)."""
_INVITE_TYPED = re.compile(INVITE_CODE_TYPED)

CODE_LENGTH_RANGE = range(4, 9)
TOKEN_BYTES = 32
"""256-bit session tokens; challenge tokens use the same generator."""
TOKEN_LENGTH = 43
"""Characters of :func:`new_token`: 32 bytes in unpadded URL-safe base64."""


def generate_confirmation_code(length: int) -> str:
    """Draw ``length`` decimal digits with :mod:`secrets`."""
    if length not in CODE_LENGTH_RANGE:
        raise ValueError(f"code length must be 4..8, not {length}")
    return f"{secrets.randbelow(10**length):0{length}d}"


def normalize_confirmation_code(typed: str, length: int) -> str:
    """Strip spaces and dashes people type; the rest must be ``length`` digits."""
    code = typed.strip().replace(" ", "").replace("-", "")
    if len(code) != length or not (code.isascii() and code.isdigit()):
        raise InvalidConfirmationCode(length)
    return code


def generate_invite_code() -> InviteCode:
    """Draw six Crockford base32 characters with :mod:`secrets`."""
    return InviteCode("".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_CODE_LENGTH)))


def normalize_invite_code(typed: str) -> InviteCode:
    """Trim, upper-case and map look-alikes (``O``→``0``, ``I``/``L``→``1``);
    :data:`INVITE_CODE_TYPED` is exactly what it accepts."""
    if not _INVITE_TYPED.fullmatch(typed):
        raise InvalidInviteCode()
    return InviteCode(typed.strip(" \t\n\r").upper().translate(_LOOK_ALIKES))


def new_token() -> str:
    """An opaque, URL-safe, 256-bit random token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """What stores keep instead of a token: its SHA-256, hex.

    The token is 256 random bits, so a plain hash is enough: nothing to salt.
    """
    return hashlib.sha256(token.encode()).hexdigest()


PHONE_ALIAS_LENGTH = 32
"""Hex digits of a phone alias: 128 bits."""
_HEX = frozenset("0123456789abcdef")


def phone_alias(secret: bytes, phone: str) -> str:
    """A name for a phone that tells nothing about it without the secret:
    HMAC-SHA256(secret, phone), its first 128 bits in hex.

    Login tokens start with it, and stores key a phone's login and limits by
    it: a token leads straight to its phone's records (one key, one Redis
    Cluster slot), and no store key holds a phone number.
    """
    mac = hmac.new(secret, f"phone-alias:{phone}".encode(), hashlib.sha256)
    return mac.hexdigest()[:PHONE_ALIAS_LENGTH]


def is_phone_alias(text: str) -> bool:
    return len(text) == PHONE_ALIAS_LENGTH and _HEX.issuperset(text)


def _route(secret: bytes, hex_alias: str, random_part: str) -> str:
    """``hex_alias`` XOR the first 128 bits of HMAC(secret, "login-route:" +
    ``random_part``), as 32 hex digits: it masks an alias, and unmasks it."""
    mac = hmac.new(secret, f"login-route:{random_part}".encode(), hashlib.sha256).digest()
    pad = int.from_bytes(mac[: PHONE_ALIAS_LENGTH // 2], "big")
    return f"{int(hex_alias, 16) ^ pad:0{PHONE_ALIAS_LENGTH}x}"


def new_login_token(secret: bytes, alias: str) -> str:
    """A login token: a routing part (32 hex digits) followed by 256 random
    bits, all URL-safe (75 characters).

    The routing part is the phone's alias masked with a pad keyed by the
    secret and drawn from this login's random part, so the stores still find
    the phone's records from the token alone (:func:`challenge_id`), but two
    tokens of one phone share nothing: nobody without the secret can tell
    they are the same phone's (docs/rules.md, *Decisions*).
    """
    random_part = new_token()
    return _route(secret, alias, random_part) + random_part


LOGIN_TOKEN_LENGTH = PHONE_ALIAS_LENGTH + TOKEN_LENGTH
LOGIN_TOKEN_PATTERN = f"[0-9a-f]{{{PHONE_ALIAS_LENGTH}}}[A-Za-z0-9_-]{{{TOKEN_LENGTH}}}"
"""The shape of every token :func:`new_login_token` draws (a regular
expression of the whole token; the OpenAPI document anchors it)."""


def challenge_id(secret: bytes, token: str) -> str:
    """What stores keep of a login token: ``{alias}.{SHA-256 of the token}``,
    the alias unmasked from the token's routing part with the secret.

    A token whose routing part is not 32 hex digits gets an id with an
    empty alias, which no challenge has (see :func:`alias_of`); any other
    forged token, an alias no phone is likely to have.
    """
    masked, random_part = token[:PHONE_ALIAS_LENGTH], token[PHONE_ALIAS_LENGTH:]
    alias = _route(secret, masked, random_part) if is_phone_alias(masked) else ""
    return f"{alias}.{token_digest(token)}"


def alias_of(challenge_id: str) -> str:
    """The phone alias a challenge id starts with; empty for a malformed token's."""
    return challenge_id.partition(".")[0]


LOGIN_TAG_LENGTH = 32


def login_tag(challenge_id: str) -> str:
    """What a user row keeps of the login that created it: the first 128 bits
    of the token's digest, enough to tell that login from every other."""
    return challenge_id.rpartition(".")[2][:LOGIN_TAG_LENGTH]


def for_purpose(challenge_id: str, purpose: str) -> str:
    """What a code's digest binds: the challenge id, and for a step-up (a
    deletion, a phone change) its purpose and user, so that its code opens
    nothing else and a login's code opens no step-up."""
    return f"{challenge_id}/{purpose}" if purpose else challenge_id


def code_digest(secret: bytes, challenge_id: str, code: str) -> str:
    """The keyed hash (HMAC-SHA256) a challenge keeps instead of its code.

    Binding the challenge id means two challenges with the same code have
    different digests, so a stolen digest table cannot be matched up.
    """
    message = f"{challenge_id}:{code}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def digests_match(expected: str, given: str) -> bool:
    """Compare two digests in constant time."""
    return hmac.compare_digest(expected, given)


def _pad(secret: bytes, challenge_id: str, length: int) -> int:
    mac = hmac.new(secret, f"sms-pad:{challenge_id}".encode(), hashlib.sha256)
    modulus: int = 10**length
    return int.from_bytes(mac.digest(), "big") % modulus


def seal_code(secret: bytes, challenge_id: str, code: str) -> str:
    """Encrypt a code for the task queue with a one-time pad.

    The pad is HMAC-SHA256(secret, challenge id) reduced to the code's digits;
    each challenge id is random and used once, so the queued message reveals
    nothing about the code to whoever can read the queue but lacks the secret.
    """
    length = len(code)
    return f"{(int(code) + _pad(secret, challenge_id, length)) % 10**length:0{length}d}"


def open_code(secret: bytes, challenge_id: str, sealed: str) -> str:
    """Undo :func:`seal_code` (in the worker, which holds the same secret)."""
    length = len(sealed)
    return f"{(int(sealed) - _pad(secret, challenge_id, length)) % 10**length:0{length}d}"
