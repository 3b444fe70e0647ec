"""The whole HTTP flow a client goes through, shared by every deployment test.

Servers under these flows run with ``FLOW_SETTINGS``: logging in twice within
the default 60 s cooldown would otherwise be refused, as it should be.
"""

from __future__ import annotations

from typing import Any

import httpx

FLOW_SETTINGS = {"REFERRALS_RESEND_COOLDOWN": "0.001"}


def sign_in(client: httpx.Client, phone: str, verify_url: str | None = None) -> dict[str, Any]:
    """Log in over HTTP with the exposed code; the verify answer's body.

    ``verify_url`` replaces the base of ``next_page``, to verify on another server.
    """
    login = client.post("/api/login/", json={"phone": phone})
    assert login.status_code == 200, login.text
    body = login.json()
    target = body["next_page"]
    if verify_url is not None:
        target = f"{verify_url}/api/verify/{body['token']}/"
    verified = client.post(target, json={"confirm_code": body["confirm_code"]})
    assert verified.status_code == 200, verified.text
    return dict(verified.json())


def bearer(verified: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {verified['access_token']}"}


def walk_through_the_api(url: str) -> None:
    """Log in, read the profile, apply a code, page through referrals, log out."""
    with httpx.Client(base_url=url, timeout=10) as owner, httpx.Client(base_url=url) as other:
        me = sign_in(owner, "+7 999 123-45-67")
        assert me["is_new_user"] is True
        assert owner.get("/api/profile/").json()["phone"] == "+79991234567"  # by cookie
        code = me["user"]["invite_referral_code"]
        fans = []
        for i in range(3):
            fan = sign_in(other, f"8999765432{i}")
            applied = other.post(
                "/api/profile", json={"used_referral_code": code.lower()}, headers=bearer(fan)
            )
            assert applied.status_code == 200, applied.text
            assert applied.json()["used_referral_code"] == code
            fans.append(fan["user"]["phone"])
        seen, cursor = [], None
        while True:
            params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            page = owner.get("/api/profile/", params=params, headers=bearer(me)).json()
            assert page["referred_users_count"] == 3
            seen += page["referred_users"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == fans
        assert sign_in(owner, "+79991234567")["is_new_user"] is False
        assert owner.post("/api/logout/", json={}).status_code == 200  # by cookie, as JSON
        assert owner.get("/api/profile/", headers=bearer(me)).status_code == 200  # other session
        assert owner.get("/api/profile/").status_code == 401  # the cookie's session ended
