"""The catalogue of refusals answers any error as problem details, with no web framework."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from referrals.application.errors import (
    NotAuthenticated,
    RateLimited,
    ReceiptRefused,
    ServiceUnavailable,
    TooManyAttempts,
)
from referrals.domain import errors as domain
from referrals.problems import CATALOGUE, INTERNAL_ERROR, kind_of, problem, problem_headers


def _refusals(cls: type[Exception]) -> list[type[Exception]]:
    """Our own refusals only: other tests define throwaway subclasses."""
    found = []
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("referrals."):
            found.append(sub)
        found += _refusals(sub)
    return found


EXAMPLES: list[Exception] = [
    domain.DomainError(),
    domain.InvalidInput("cursor", "Not a cursor of ours."),
    domain.InvalidPhone(),
    domain.InvalidConfirmationCode(4),
    domain.InvalidInviteCode(),
    domain.ChallengeExpired(),
    domain.CodeInvalid(attempts_left=2),
    domain.ReferralCodeNotFound(),
    domain.ReferralAlreadyApplied(),
    domain.OwnReferralCode(),
    domain.ReferralCycle(),
    domain.SessionNotFound(),
    NotAuthenticated(),
    RateLimited(3.2, "phone_send"),
    TooManyAttempts(60, "phone_failure"),
    ReceiptRefused(),
    ServiceUnavailable("Redis"),
]


@pytest.mark.parametrize(
    "refusal",
    [domain.DomainError, *_refusals(domain.DomainError), ServiceUnavailable],
    ids=lambda cls: cls.__name__,
)
def test_each_refusal_is_answered_by_the_entry_of_its_own_code(
    refusal: type[domain.DomainError],
) -> None:
    kind = kind_of(refusal)

    assert kind is not None and kind in CATALOGUE
    assert kind.code == refusal.code, "a refusal with a code of its own needs its own entry"


@pytest.mark.parametrize("error", EXAMPLES, ids=lambda error: type(error).__name__)
def test_each_refusal_is_answered_by_its_own_code(error: Exception) -> None:
    body = problem(error)
    kind = kind_of(error)

    assert kind is not None and kind in CATALOGUE
    assert (body["status"], body["code"]) == (kind.status, kind.code)
    assert body["code"] == type(error).code  # type: ignore[attr-defined]
    assert body["title"] == kind.title


def test_the_members_beyond_the_standard_ones() -> None:
    invalid = problem(domain.InvalidConfirmationCode(4))
    wrong = problem(domain.CodeInvalid(attempts_left=2))
    limited = problem(TooManyAttempts(60, "phone_failure"))

    assert invalid["errors"] == [{"field": "confirm_code", "message": "The code is 4 digits."}]
    assert invalid["detail"] == "The request has invalid fields."
    assert wrong["attempts_left"] == 2
    assert limited["limit"] == "phone_failure"
    assert "limit" not in problem(TooManyAttempts(60))


def test_the_texts_are_in_the_language_asked_for() -> None:
    english = problem(domain.ReferralCycle(), "en")
    russian = problem(domain.ReferralCycle(), "ru-RU")

    assert english["title"] == "Conflict"
    assert russian["title"] != english["title"]
    assert russian["detail"] != english["detail"]
    assert russian["code"] == english["code"] == "referral_cycle"
    assert problem(domain.ReferralCycle(), "xx") == english


def test_an_error_outside_the_catalogue_is_an_internal_error_that_tells_nothing() -> None:
    body = problem(ValueError("the secret key is hunter2"), "en")

    assert (body["status"], body["code"]) == (500, INTERNAL_ERROR.code)
    assert "hunter2" not in json.dumps(body)
    assert problem_headers(ValueError()) == {}


def test_the_headers_say_how_to_go_on() -> None:
    assert problem_headers(NotAuthenticated()) == {"WWW-Authenticate": "Bearer"}
    assert problem_headers(RateLimited(3.2)) == {"Retry-After": "4"}
    assert problem_headers(ServiceUnavailable("Redis", retry_after=0.1)) == {"Retry-After": "1"}
    assert problem_headers(domain.ReferralCycle()) == {}


def test_a_host_without_litestar_gets_problem_details_from_one_call() -> None:
    host = textwrap.dedent(
        """
        import json
        import sys

        for name in ("litestar", "msgspec"):
            sys.modules[name] = None  # importing it now raises ImportError

        from referrals.domain.errors import CodeInvalid
        from referrals.problems import problem, problem_headers

        error = CodeInvalid(attempts_left=1)
        print(json.dumps([problem(error, "ru"), problem_headers(error)], ensure_ascii=False))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", host], capture_output=True, text=True, timeout=60, check=False
    )

    assert run.returncode == 0, run.stderr
    body, headers = json.loads(run.stdout)
    assert body == {
        "title": "Неверный запрос",
        "status": 400,
        "detail": "Неверный код подтверждения.",
        "code": "code_invalid",
        "attempts_left": 1,
    }
    assert headers == {}
