"""What one run of the drill measured, and the table it prints."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bench.pumping.stacks import CAP

HELD = "pending_review"


@dataclass
class Figures:
    stack: str
    mode: str
    scale: float
    accepted: int = 0
    """Logins answered 200, each a code queued for the gateway."""
    pumped: int = 0
    pumped_accepted: int = 0
    """Pumped logins answered 200 (a code queued)."""
    pumped_sent: int = 0
    """SMS to pumped ranges that reached the gateway."""
    organic: int = 0
    organic_refused: int = 0
    organic_delayed: int = 0
    """Codes that reached the gateway more than 10 s (wall clock) after the login,
    or never (``people.DELAYED``)."""
    organic_verified: int = 0
    first_throttle: float | None = None
    """Seconds of the hour from the start of the attack to the first throttle decision."""
    spend: float = 0.0
    """The gateway's bill: segments it was asked to send times the price."""
    spend_ledger: float | None = None
    """The server's own spend ledger for the day (``referrals stats``), where readable."""
    refused_by: Counter[str] = field(default_factory=Counter)
    server_errors: Counter[str] = field(default_factory=Counter)
    """5xx answers other than 503 ``sending_paused``, and transport failures."""
    delivery_ms: list[float] = field(default_factory=list)
    lag: float = 0.0
    """The most seconds (wall) a request left after its planned time."""
    seconds: float = 0.0
    farmed: Counter[str] = field(default_factory=Counter)
    """Each farmed account's apply outcome (``pending_review``, ``applied``…)."""
    friends: Counter[str] = field(default_factory=Counter)
    """Each organic applier's outcome."""
    reviewed: Counter[str] = field(default_factory=Counter)
    """``referrals referrals review``: held referrals, farmed or organic."""

    @property
    def pumped_ratio(self) -> float:
        return self.pumped_sent / self.pumped if self.pumped else 0.0

    @property
    def organic_refused_share(self) -> float:
        bad = self.organic_refused + self.organic_delayed
        return bad / self.organic if self.organic else 0.0

    @property
    def farmed_held(self) -> float:
        return _share(self.farmed)

    @property
    def organic_held(self) -> float:
        return _share(self.friends)

    @property
    def name(self) -> str:
        return f"{self.stack} {self.mode}"

    def cells(self) -> list[str]:
        throttled = "never" if self.first_throttle is None else f"{self.first_throttle:.0f} s"
        ledger = "" if self.spend_ledger is None else f" (ledger {self.spend_ledger:,.0f})"
        return [
            f"{self.pumped_ratio:.1%} ({self.pumped_sent:,} of {self.pumped:,})",
            f"{self.organic_refused_share:.2%} ({self.organic_refused} refused,"
            f" {self.organic_delayed} delayed)",
            throttled,
            f"{self.spend:,.0f} of {CAP:,}{ledger}",
            f"{self.farmed_held:.0%} ({self.farmed[HELD]} of {self.farmed.total()})",
            f"{self.organic_held:.1%} ({self.friends[HELD]} of {self.friends.total()})",
        ]

    def notes(self) -> str:
        refused = ", ".join(f"{k} {v}" for k, v in self.refused_by.most_common())
        delivery = sorted(self.delivery_ms)
        p50 = delivery[len(delivery) // 2] if delivery else 0.0
        p99 = delivery[int(len(delivery) * 0.99)] if delivery else 0.0
        errors = ", ".join(f"{k} {v}" for k, v in self.server_errors.items()) or "none"
        referrals = {"farmed": self.farmed, "organic": self.friends, "review": self.reviewed}
        outcomes = "; ".join(f"{k}: {dict(v)}" for k, v in referrals.items())
        return (
            f"{self.name}: {self.seconds:.0f} s, refusals: {refused or 'none'};"
            f" organic verified {self.organic_verified} of {self.organic};"
            f" login to SMS at the gateway p50 {p50:.0f} ms, p99 {p99:.0f} ms;"
            f" most lag {self.lag:.2f} s; 5xx or failed requests: {errors};"
            f" referrals {outcomes}"
        )


GOALS = (
    ("pumped SMS sent ÷ pumped requests", "≤ 5 %"),
    ("organic logins refused or delayed", "≤ 1 %"),
    ("time from the start of the attack to throttling", "reported"),
    ("spend with the cap set, against the cap", "reported"),
    ("farmed referrals held", "≥ 95 %"),
    ("organic referrals held", "≤ 2 %"),
)


def _share(outcomes: Counter[str]) -> float:
    total = outcomes.total()
    return outcomes[HELD] / total if total else 0.0


def table(runs: list[Figures]) -> str:
    """A Markdown table: one column per run, one row per figure, the goal last."""
    lines = [
        "| figure | " + " | ".join(run.name for run in runs) + " | goal |",
        "|---|" + "---|" * len(runs) + "---|",
    ]
    for i, (name, goal) in enumerate(GOALS):
        lines.append(f"| {name} | " + " | ".join(run.cells()[i] for run in runs) + f" | {goal} |")
    return "\n".join(lines)
