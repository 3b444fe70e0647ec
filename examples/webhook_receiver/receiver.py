"""A shop that receives referrals' webhooks and grants a bonus on ``referral.applied``.

What every receiver does (docs/events.md):

1. verify the Standard Webhooks signature over the raw body (here with the
   spec's ``standardwebhooks`` package; its other libraries do the same in
   other languages), and refuse anything that fails: 400;
2. drop a duplicate by its ``webhook-id``: the relay delivers at least once,
   and a retry carries the same id. The id is recorded in the same
   transaction as the bonus, so a crash cannot grant one twice or lose one;
3. answer 2xx quickly; anything else (or no answer) is retried with backoff.

Run it: ``RECEIVER_SECRET=whsec_… RECEIVER_DB=shop.sqlite3 granian --interface
asgi --factory receiver:create_app_from_env`` and point ``REFERRALS_WEBHOOKS`` at
``http://127.0.0.1:8000/webhooks``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from litestar import Litestar, Request, Response, get, post
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SCHEMA = """
CREATE TABLE IF NOT EXISTS received (
    arrival INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    user_id INTEGER,
    copies INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS bonuses (
    user_id INTEGER PRIMARY KEY,
    points INTEGER NOT NULL
);
"""
BONUS = 100
"""Points a referrer gets for each person who applied their invite code."""


@dataclass
class Shop:
    """The shop's own database: what it received, and the bonuses it granted."""

    path: str

    def __post_init__(self) -> None:
        with self._connect() as db:
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def receive(self, webhook_id: str, event: dict[str, Any]) -> bool:
        """Record ``event`` and act on it, once per ``webhook_id``; ``False`` for a duplicate."""
        data = event["data"]
        with self._connect() as db:  # one transaction: the id and the bonus together
            copies: int = db.execute(
                "INSERT INTO received (webhook_id, type, user_id) VALUES (?, ?, ?)"
                " ON CONFLICT (webhook_id) DO UPDATE SET copies = copies + 1"
                " RETURNING copies",
                (webhook_id, event["type"], data.get("user_id")),
            ).fetchone()[0]
            new = copies == 1
            if new and event["type"] == "referral.applied":
                db.execute(
                    "INSERT INTO bonuses (user_id, points) VALUES (?, ?)"
                    " ON CONFLICT (user_id) DO UPDATE SET points = points + excluded.points",
                    (data["referrer_id"], BONUS),
                )
        return new

    def bonuses(self) -> dict[int, int]:
        with self._connect() as db:
            return dict(db.execute("SELECT user_id, points FROM bonuses").fetchall())


def create_app(secret: str, shop: Shop, *, busy_until: float = 0.0) -> Litestar:
    """The receiver. ``busy_until`` (seconds since the epoch): answer 503
    until then, as a shop under maintenance does (drills use it)."""
    webhook = Webhook(secret)

    @post("/webhooks", status_code=204)
    async def receive(request: Request[Any, Any, Any]) -> Response[None]:
        if time.time() < busy_until:
            return Response(None, status_code=503)
        body = await request.body()
        try:
            event = webhook.verify(body, dict(request.headers))
        except WebhookVerificationError:
            return Response(None, status_code=400)
        shop.receive(request.headers["webhook-id"], event)
        return Response(None, status_code=204)

    @get("/bonuses")
    async def bonuses() -> dict[str, int]:
        return {str(user): points for user, points in shop.bonuses().items()}

    return Litestar([receive, bonuses])


def create_app_from_env() -> Litestar:
    """``RECEIVER_SECRET``, ``RECEIVER_DB`` and (optional) ``RECEIVER_BUSY_UNTIL``."""
    busy_until = float(os.environ.get("RECEIVER_BUSY_UNTIL", "0"))
    shop = Shop(os.environ.get("RECEIVER_DB", "shop.sqlite3"))
    return create_app(os.environ["RECEIVER_SECRET"], shop, busy_until=busy_until)


if __name__ == "__main__":
    print(json.dumps(Shop(os.environ.get("RECEIVER_DB", "shop.sqlite3")).bonuses()))
