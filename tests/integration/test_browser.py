"""Issue 11: the page at ``/`` in a real browser, against a real server.

Two people (and a third for paging) go through the whole flow by keyboard on
a 360 px wide screen, in browsers that reach no host but the server: a wrong
code, the dev-mode code, a refused own code, a referral, the 409 of a second
one, a 429 with its countdown, the referred users page by page, sign-out.
Screenshots of the main steps land in ``$ARTIFACTS_DIR/browser/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from selenium.webdriver.support.ui import Select

from tests.browser import Browser, binaries, chromium
from tests.processes import serving

pytestmark = pytest.mark.slow

PHONE_A, PHONE_B, PHONE_C = "+7 999 100-00-01", "8 999 100-00-02", "+79991000003"
E164_B, E164_C = "+79991000002", "+79991000003"
PHONE_D, MOVED = "+79991000004", "+79991000099"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``referrals serve`` on the embedded default, codes exposed, no SMS delay,
    and the default 60 s resend cooldown (the 429 below relies on it)."""
    binaries()  # skip (or fail under CI) before starting anything
    folder = tmp_path_factory.mktemp("browser")
    env = {
        "REFERRALS_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/db.sqlite3",
        "REFERRALS_EXPOSE_CODES": "true",
        "REFERRALS_SMS_DELAY": "0-0",
        # The new number of the account test: no cooldown between its two codes.
        "REFERRALS_TEST_PHONES": f"{MOVED}:1234",
    }
    with serving(env, folder) as (url, _):
        yield url


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def stored_by_script(page: Browser) -> Any:
    return page.driver.execute_script(
        "return [localStorage.length, sessionStorage.length, document.cookie]"
    )


def page_errors(page: Browser) -> list[dict[str, Any]]:
    """Console errors of the page's own making: script errors and CSP refusals
    (the API's 4xx answers are logged by Chromium too, and expected here)."""
    return [
        entry
        for entry in page.browser_log()
        if entry["source"] in {"javascript", "security"}
        or (entry["source"] == "network" and "status of" not in entry["message"])
    ]


def sign_in(page: Browser, phone: str, shot: str | None = None) -> str:
    """Phone, then the code the dev-mode page filled in; the profile's invite code."""
    page.open("/")
    page.wait_step("phone")
    page.type("phone", phone)
    page.wait_step("code")
    code = page.wait(lambda: page.element("confirm_code").get_attribute("value"), "code filled")
    assert page.focused() == "confirm_code"
    if shot:
        page.screenshot(shot)
    page.press("confirm_code")
    page.wait_step("profile")
    assert re.fullmatch(r"\d{4}", code)
    return page.wait(lambda: page.text("profile-invite"), "the invite code is shown")


def test_two_people_go_through_the_whole_flow_by_keyboard(server: str) -> None:
    with chromium(server, "a") as a, chromium(server, "b") as b:
        # A: a malformed phone is refused next to the field, in words.
        a.open("/")
        a.wait_step("phone")
        a.type("phone", "12345")
        a.wait(lambda: a.visible("phone-error"), "the phone error is shown")
        assert a.element("phone").get_attribute("aria-invalid") == "true"
        assert a.focused() == "phone"
        assert a.text("phone-error")
        a.screenshot("01-a-invalid-phone")

        # A: the code step, with both countdowns and the dev-mode code.
        a.type("phone", PHONE_A)
        a.wait_step("code")
        assert a.focused() == "confirm_code"
        a.wait_text("code-expiry", "4:5")
        a.wait_text("resend-wait", "0:5")
        assert not a.element("resend").is_enabled()
        assert a.visible("dev-note")
        right = a.element("confirm_code").get_attribute("value")
        a.screenshot("02-a-code-filled-in")

        # A: a wrong code first: the page says how many attempts are left.
        a.type("confirm_code", wrong(right))
        a.wait_text("confirm_code-error", "Attempts left: 4.")
        assert a.element("confirm_code").get_attribute("aria-invalid") == "true"
        assert a.focused() == "confirm_code"
        a.screenshot("03-a-wrong-code")

        a.type("confirm_code", right)
        a.wait_step("profile")
        assert a.focused() == "used_referral_code"
        invite_a = a.wait(lambda: a.text("profile-invite"), "A's invite code")
        assert a.text("profile-phone") == "+79991000001"
        assert stored_by_script(a) == [0, 0, ""]  # the session is an HttpOnly cookie only
        a.screenshot("04-a-profile")

        # B logs in; a second tab of B's resumes the session from the cookie.
        invite_b = sign_in(b, PHONE_B, shot="05-b-code-filled-in")
        assert invite_b != invite_a
        first_tab = b.driver.current_window_handle
        second_tab = b.new_tab()
        b.open("/")
        b.wait_step("profile")
        assert b.text("profile-phone") == E164_B
        b.driver.switch_to.window(first_tab)

        # B's own code: a 409 in words, next to the field.
        b.type("used_referral_code", invite_b)
        b.wait_text("used_referral_code-error", "your own invite code")
        b.screenshot("06-b-own-code-refused")

        # B applies A's code, typed lower-case.
        b.type("used_referral_code", invite_a.lower())
        b.wait_text("profile-used", invite_a)
        assert not b.visible("apply-form")
        assert invite_a in b.text("status")
        b.screenshot("07-b-applied")

        # The stale tab tries again: the 409 already-applied, in words.
        b.driver.switch_to.window(second_tab)
        b.type("used_referral_code", invite_a)
        b.wait_text("used_referral_code-error", "already applied")
        b.wait_text("profile-used", invite_a)  # the page learnt which one
        b.screenshot("08-b-already-applied")
        b.driver.close()
        b.driver.switch_to.window(first_tab)

        # B signs out: back to the phone step, and the session is gone.
        b.press("logout")
        b.wait_step("phone")
        assert b.focused() == "phone"
        b.wait_text("status", "Signed out.")
        b.screenshot("09-b-signed-out")
        b.open("/")
        b.wait_step("phone")

        # C, in B's browser, applies A's code too, then asks for a new code too soon.
        sign_in(b, PHONE_C)
        b.type("used_referral_code", invite_a)
        b.wait_text("profile-used", invite_a)
        b.press("logout")
        b.wait_step("phone")
        b.type("phone", PHONE_C)
        b.wait_text("phone-error", "Try again in 0:5")
        assert not b.element("phone-form").find_element("css selector", "button").is_enabled()
        b.screenshot("10-c-too-soon-429")

        # A's profile, one person per page (?limit=1 on the page's URL).
        a.open("/?limit=1")
        a.wait_step("profile")
        a.wait_text("referrals-count", "2")
        assert a.items("referrals-list") == [E164_B]
        assert not a.element("previous-page").is_enabled()
        a.screenshot("11-a-referrals-page-1")
        a.press("next-page")
        a.wait(lambda: a.items("referrals-list") == [E164_C], "page 2 lists C")
        assert a.element("referrals-list").get_attribute("start") == "2"
        assert not a.element("next-page").is_enabled()
        assert a.focused() == "previous-page"
        assert a.text("page-number") == "Page 2 of 2"
        a.screenshot("12-a-referrals-page-2")
        a.press("previous-page")
        a.wait(lambda: a.items("referrals-list") == [E164_B], "back on page 1")
        Select(a.element("page-size")).select_by_value("10")
        a.wait(lambda: a.items("referrals-list") == [E164_B, E164_C], "one page of both")
        assert not a.visible("previous-page")

        # A signs out; a reload stays signed out.
        a.press("logout")
        a.wait_step("phone")
        assert a.focused() == "phone"
        a.open("/")
        a.wait_step("phone")
        a.screenshot("13-a-signed-out")

        assert page_errors(a) == []
        assert page_errors(b) == []
    for name in ("03-a-wrong-code", "08-b-already-applied", "12-a-referrals-page-2"):
        assert (a.shots / f"{name}.png").read_bytes().startswith(b"\x89PNG")


def test_a_person_sees_their_sessions_changes_their_number_and_deletes_the_account(
    server: str,
) -> None:
    with chromium(server, "d") as d:
        sign_in(d, PHONE_D)
        d.wait(lambda: len(d.items("sessions-list")) == 1, "one session is listed")
        assert "this device" in d.items("sessions-list")[0]
        assert not d.visible("end-others")  # nothing else to sign out
        d.screenshot("20-d-sessions")

        # A new number: its code comes back (dev mode), then the number moves.
        d.type("new_phone", MOVED)
        d.wait(lambda: d.visible("move-code-form"), "the new number's code form")
        assert d.element("move_code").get_attribute("value") == "1234"
        d.press("move_code")
        d.wait_text("profile-phone", MOVED)
        d.wait_text("status", f"Your number is now {MOVED}.")
        d.screenshot("21-d-number-changed")

        # Deleting: a code to the (new) number, then the account is gone.
        d.press("delete-account")
        d.wait(lambda: d.visible("delete-code-form"), "the deletion's code form")
        d.press("delete_code")
        d.wait_step("phone")
        d.wait_text("status", "Your account has been deleted.")
        d.screenshot("22-d-deleted")
        d.open("/")
        d.wait_step("phone")
        assert page_errors(d) == []


def test_a_russian_browser_gets_the_page_and_its_refusals_in_russian(server: str) -> None:
    with chromium(server, "ru", language="ru") as page:
        page.open("/")
        page.wait_step("phone")
        assert page.driver.find_element("css selector", "html").get_attribute("lang") == "ru"
        assert page.text("phone-heading") == "Войти"
        page.type("phone", "12345")
        page.wait_text("phone-error", "Неверный номер телефона.")
        page.screenshot("ru-01-invalid-phone")

        page.type("phone", "+7 999 100-00-09")
        page.wait_step("code")
        page.wait_text("code-sent", "Код отправлен на номер +79991000009.")
        right = page.wait(lambda: page.element("confirm_code").get_attribute("value"), "code")
        page.type("confirm_code", wrong(right))
        page.wait_text("confirm_code-error", "Неверный код подтверждения. Осталось попыток: 4.")
        page.screenshot("ru-02-wrong-code")

        page.type("confirm_code", right)
        page.wait_step("profile")
        assert page.text("profile-heading") == "Ваш профиль"
        page.wait_text("referrals-empty", "Ваш код пока никто не ввёл.")
        page.screenshot("ru-03-profile")
        assert page_errors(page) == []


WEB_OTP = """
window.OTPCredential = window.OTPCredential || function OTPCredential() {};
window.webOtp = { asked: null, deliver: null };
navigator.credentials.get = (options) => {
  window.webOtp.asked = { otp: options.otp, signal: options.signal instanceof AbortSignal };
  return new Promise((resolve) => {
    window.webOtp.deliver = (code) => resolve({ type: "otp", code });
  });
};
"""
"""Stands in for the browser's WebOTP: what the page asks for, and an SMS arriving."""


def test_a_code_the_browser_reads_from_the_sms_fills_the_field_and_signs_in(server: str) -> None:
    # docs/sending-codes.md: the page asks navigator.credentials.get({otp}) for
    # the code of an SMS ending "@host #code"; the field is a one-time-code one.
    with chromium(server, "otp") as page:
        page.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WEB_OTP})
        page.open("/")
        page.wait_step("phone")
        field = page.element("confirm_code")
        assert field.get_attribute("autocomplete") == "one-time-code"
        assert field.get_attribute("inputmode") == "numeric"
        page.type("phone", "+7 999 100-00-11")
        page.wait_step("code")
        page.wait_text("code-sent", "+79991000011")
        code = page.wait(lambda: field.get_attribute("value"), "the dev-mode code filled in")
        asked = page.wait(
            lambda: page.driver.execute_script("return window.webOtp.asked"), "WebOTP asked"
        )
        assert asked == {"otp": {"transport": ["sms"]}, "signal": True}
        page.driver.execute_script(
            "document.getElementById('confirm_code').value = '';"
            " window.webOtp.deliver(arguments[0]);",
            code,
        )
        page.wait_step("profile")
        assert page_errors(page) == []


def test_the_docs_render_with_no_network_but_the_server(server: str) -> None:
    with chromium(server, "docs") as docs:
        docs.driver.get(server + "/docs")
        docs.wait(
            lambda: (
                "referrals"
                in docs.driver.execute_script(
                    "return document.querySelector('.swagger-ui .info .title')?.textContent || ''"
                )
            ),
            "Swagger UI shows the title",
        )
        docs.wait(
            lambda: (
                docs.driver.execute_script("return document.querySelectorAll('.opblock').length")
                >= 6
            ),
            "Swagger UI lists the operations",
        )
        docs.screenshot("docs-swagger-ui")

        docs.driver.get(server + "/docs/redoc")
        docs.wait(
            lambda: (
                "referrals"
                in docs.driver.execute_script(
                    "return document.querySelector('h1')?.textContent || ''"
                )
            ),
            "ReDoc shows the title",
        )
        docs.wait(
            lambda: "/api/login" in docs.driver.execute_script("return document.body.innerText"),
            "ReDoc lists the operations",
        )
        docs.screenshot("docs-redoc")

        log = docs.browser_log()
        # Nothing was fetched from another host (the CSP refuses ReDoc's logo first).
        assert [e for e in log if e["source"] == "network"] == []
        assert [e for e in log if e["source"] == "javascript"] == []
        refused = [e["message"] for e in log if e["source"] == "security"]
        assert all("cdn.redoc.ly" in message for message in refused), refused
