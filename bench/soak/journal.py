"""What the drill's traffic saw: every answer, every login, every user and
every referral it was told about, and every answer that was not what the
contract promises (a wrong answer, as opposed to a 503 during an outage)."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Answer:
    op: str
    """login, verify, verify-wrong, profile, apply, logout, after-logout."""
    started: float
    ended: float
    status: int
    """0: no HTTP answer at all (connection refused, reset, timed out)."""
    code: str = ""
    """The problem's ``code``, for error answers."""


@dataclass(frozen=True)
class Login:
    phone: str
    challenge: str
    """``challenge_id(token)``: the delivery's ``id`` at the SMS webhook."""
    asked: float
    """When the login request was sent (the SMS may arrive before its answer)."""
    answered: float
    expires: float


@dataclass
class Journal:
    answers: list[Answer] = field(default_factory=list)
    logins: list[Login] = field(default_factory=list)
    users: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    """Phone -> every user id a verify or profile answer gave for it."""
    invites: dict[int, str] = field(default_factory=dict)
    """User id -> invite code, from their answers."""
    applied: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    """User id -> every invite code an apply answered 200 for."""
    uncertain_applies: set[int] = field(default_factory=set)
    """Users one of whose applies answered 503 first: it may have been committed."""
    wrong: list[str] = field(default_factory=list)
    """Answers the contract does not allow, described."""
    gave_up: Counter[str] = field(default_factory=Counter)
    """Steps abandoned after retrying through an outage, by step."""
    began: float = field(default_factory=time.monotonic)

    def record(self, answer: Answer) -> None:
        self.answers.append(answer)

    def fault(self, message: str) -> None:
        message = f"at {time.monotonic() - self.began:.1f} s: {message}"
        self.wrong.append(message)
        print(f"[soak] WRONG {message}", flush=True)

    def statuses(self) -> dict[str, Counter[int]]:
        table: dict[str, Counter[int]] = defaultdict(Counter)
        for answer in self.answers:
            table[answer.op][answer.status] += 1
        return table
