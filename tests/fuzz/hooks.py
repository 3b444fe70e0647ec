"""Schemathesis hooks for ``st run`` against a live server (``SCHEMATHESIS_HOOKS``).

A session for the operations that need one: each provider call signs a new
phone in through the API itself (login, then verify with the code the test
server exposes), so the non-stateful phases reach past the 401 of the
profile and sessions operations. Schemathesis caches the session and signs in again
after a 401 (a fuzzed logout may have revoked it). The stateful phase needs
none of this: it follows the OpenAPI links from login to verify to profile,
and a case that a link gave a session keeps it.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import httpx
import schemathesis

BASE_URL = os.environ.get("REFERRALS_FUZZ_URL", "http://127.0.0.1:8000")
PHONES = (f"+7998{n:07d}" for n in itertools.count(1_000_000))
"""A new phone each time (``+7998…``), so no resend cooldown stands in the way."""
COIN = itertools.cycle([True, False])


@schemathesis.hook("map_case").apply_to(method="POST", path_regex=r"/login$")
def valid_phones(context: Any, case: Any) -> Any:
    """Every other schema-valid login gets a valid new phone: random strings
    are almost never phone numbers, and the stateful phase needs logins that
    succeed to follow the links to verify and on. Schema-breaking cases are
    left as they are."""
    meta = case.meta
    positive = meta is not None and not meta.generation.mode.is_negative
    if positive and isinstance(case.body, dict) and next(COIN):
        case.body = {**case.body, "phone": next(PHONES)}
    return case


@schemathesis.auth().apply_to(
    path_regex=r"/(profile(/delete(/.*)?|/export|/phone(/.*)?)?|sessions(/.*)?)$"
)
class Session:
    def get(self, case: Any, context: Any) -> str:
        with httpx.Client(base_url=BASE_URL, timeout=10) as client:
            login = client.post("/api/login/", json={"phone": next(PHONES)})
            login.raise_for_status()
            answer = login.json()
            verify = client.post(
                f"/api/verify/{answer['token']}/", json={"confirm_code": answer["confirm_code"]}
            )
            verify.raise_for_status()
            return str(verify.json()["access_token"])

    def set(self, case: Any, data: str, context: Any) -> None:
        """Sign the case in, unless the stateful walk gave it a session: there a
        link hands on the session of its own login (the account to delete is
        the one that asked), which the cached one would replace."""
        stateful = case.meta is not None and case.meta.phase.name == "stateful"
        if stateful and "authorization" in {name.lower() for name in case.headers or {}}:
            return
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
