"""One exception per refusal, so that every edge can map it to its own answer.

The exception class is the stable identity of a refusal, and its ``code``
the stable machine-readable name of it: the same in every language, in the
events that report it and in every answer (:mod:`referrals.problems`, the
catalogue, gives each its HTTP status and title; docs/rules.md lists them).
"""

from __future__ import annotations

from typing import ClassVar

from referrals.domain.texts import N_


class DomainError(Exception):
    """Base of every refusal the product makes on purpose; ``message`` is a
    short human sentence in English, marked for translation.

    ``template`` is the sentence before its ``{placeholders}`` are filled
    from ``params`` (the msgid an edge translates); ``str(error)`` and
    :attr:`detail` are the filled-in English. ``code`` is the refusal's
    stable name, given in the class's header (``class X(DomainError,
    code="x")``); a subclass without one is answered as its base.
    """

    message: str = N_("The request was refused.")
    code: ClassVar[str] = "request_refused"

    def __init_subclass__(cls, code: str | None = None, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code

    def __init__(self, message: str | None = None, **params: object) -> None:
        self.template = message or self.message
        self.params = params
        super().__init__(self.template.format(**params) if params else self.template)

    @property
    def detail(self) -> str:
        return str(self)


class InvalidInput(DomainError, code="validation_error"):
    """A value a person typed is malformed; ``field`` names the input."""

    message = N_("The request has invalid fields.")

    def __init__(self, field: str, message: str, **params: object) -> None:
        super().__init__(message, **params)
        self.field = field


class InvalidPhone(InvalidInput):
    def __init__(self, message: str = N_("Not a valid phone number.")) -> None:
        super().__init__("phone", message)


class InvalidConfirmationCode(InvalidInput):
    def __init__(self, length: int) -> None:
        super().__init__("confirm_code", N_("The code is {length} digits."), length=length)
        self.length = length


class InvalidInviteCode(InvalidInput):
    def __init__(self) -> None:
        super().__init__("used_referral_code", N_("An invite code is 6 letters and digits."))


class ChallengeExpired(DomainError, code="challenge_expired"):
    """The login token is unknown, expired, used, superseded or burned."""

    message = N_("This login has expired or was already used; request a new code.")


class CodeInvalid(DomainError, code="code_invalid"):
    """The confirmation code is wrong; ``attempts_left`` before the login burns."""

    message = N_("The confirmation code is wrong.")

    def __init__(self, attempts_left: int) -> None:
        super().__init__()
        self.attempts_left = attempts_left


class ReferralCodeNotFound(DomainError, code="referral_code_not_found"):
    message = N_("No user has this invite code.")


class ReferralAlreadyApplied(DomainError, code="referral_already_applied"):
    message = N_("An invite code was already applied to this account.")


class OwnReferralCode(DomainError, code="own_referral_code"):
    message = N_("You cannot apply your own invite code.")


class ReferralCycle(DomainError, code="referral_cycle"):
    message = N_("Applying this code would close a referral cycle.")


class SessionNotFound(DomainError, code="session_not_found"):
    """Not a live session of the caller's (unknown, ended, or someone else's)."""

    message = N_("You have no live session with this id.")


class ReferralCooldown(DomainError, code="referral_cooldown"):
    """The phone's account was deleted lately: no invite code until the cooldown ends."""

    message = N_(
        "This number belonged to a deleted account lately: it cannot apply an invite code yet."
    )


class SuspectedSelfReferral(DomainError, code="referral_refused"):
    """A self-referral signal whose policy is ``refuse`` (docs/rules.md,
    "Referral integrity"); ``signals`` names them (for logs, not for the caller)."""

    message = N_("This invite code cannot be applied from this account.")

    def __init__(self, signals: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.signals = signals


class PhoneTaken(DomainError, code="phone_taken"):
    """The new number belongs to another account (told only at confirmation)."""

    message = N_("This number belongs to another account.")


class StepUpRequired(DomainError, code="step_up_required"):
    """The session is too old to change the number: sign in again first."""

    message = N_("Sign in again (a fresh code to your current number), then change the number.")
