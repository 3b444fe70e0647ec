"""Every sentence a person reads on the page at ``/``: the one place to translate it.

The server renders all of them into the page's HTML: the labels in place,
the script's messages into a ``<template id="messages">`` that ``app.js``
reads by id. The script holds no sentence of its own, so translating the
page is translating this module.

Each text is a literal inside ``_()``, so ``pybabel extract`` finds it; pass
a request's ``gettext`` as ``_`` to get that language. Messages are written
without grammatical number ("Attempts left: 3", not "3 attempts left"), so
one form fits every count in English and Russian alike and the browser needs
no plural rules. ``{name}`` placeholders are filled in by the script.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

Gettext = Callable[[str], str]


def _same(text: str) -> str:
    return text


@dataclass(frozen=True, slots=True)
class PageTexts:
    lang: str
    """The ``lang`` of the page (BCP 47)."""
    labels: Mapping[str, str]
    """Texts placed in the HTML, by template placeholder."""
    messages: Mapping[str, str]
    """Texts the script shows, by message id."""


def page_texts(_: Gettext = _same, lang: str = "en") -> PageTexts:
    """The page's texts through ``_`` (English as written when ``_`` is not given)."""
    labels = {
        "title": _("Sign in with your phone"),
        "app_name": _("Referrals"),
        "noscript": _("This page needs JavaScript. The API documentation works without it."),
        "docs_link": _("API documentation"),
        "phone_heading": _("Sign in"),
        "phone_intro": _("Enter your phone number: we will send a one-time code by SMS."),
        "phone_label": _("Phone number"),
        "phone_hint": _("For example +7 999 123-45-67."),
        "phone_submit": _("Send code"),
        "code_heading": _("Enter the code"),
        "code_label": _("Code from the SMS"),
        "code_submit": _("Sign in"),
        "code_resend": _("Send a new code"),
        "code_change_phone": _("Use another number"),
        "profile_heading": _("Your profile"),
        "profile_phone": _("Phone"),
        "profile_invite": _("Your invite code"),
        "profile_invite_hint": _("Give it to friends: they enter it in their profile."),
        "profile_used": _("Invite code you entered"),
        "apply_label": _("Invite code of the person who invited you"),
        "apply_hint": _("You can enter one code, once."),
        "apply_submit": _("Apply"),
        "referrals_heading": _("People who entered your code"),
        "referrals_count": _("In all:"),
        "referrals_pages": _("Pages of people"),
        "page_size_label": _("People per page"),
        "previous_page": _("Previous page"),
        "next_page": _("Next page"),
        "logout": _("Sign out"),
        "sessions_heading": _("Where you are signed in"),
        "sessions_end_others": _("Sign out everywhere else"),
        "move_heading": _("Change your number"),
        "move_label": _("New phone number"),
        "move_submit": _("Send a code to the new number"),
        "move_code_label": _("Code sent to the new number"),
        "move_code_submit": _("Change the number"),
        "delete_heading": _("Delete your account"),
        "delete_intro": _(
            "Your number and sessions are erased; people you invited keep their place."
        ),
        "delete_submit": _("Send a code to delete the account"),
        "delete_code_label": _("Code to confirm the deletion"),
        "delete_code_submit": _("Delete the account for good"),
    }
    messages = {
        "code_sent": _("Code sent to {phone}."),
        "code_valid_for": _("The code is valid for {time}."),
        "code_expired": _("The code has expired. Ask for a new one."),
        "resend_in": _("You can ask for a new code in {time}."),
        "dev_code_filled": _(
            "Development mode: the server sent the code back in its answer,"
            " and it has been filled in for you."
        ),
        "attempts_left": _("Attempts left: {attempts_left}."),
        "retry_in": _("Try again in {time}."),
        "retry_now": _("You can try again now."),
        "signed_in": _("Signed in as {phone}."),
        "signed_out": _("Signed out."),
        "session_ended": _("Your session has ended. Sign in again."),
        "applied": _("Invite code {code} applied."),
        "no_code_used": _("None yet"),
        "no_referrals": _("Nobody has entered your code yet."),
        "page_of": _("Page {page} of {pages}"),
        "network_error": _("The server could not be reached. Check the connection and try again."),
        "http_error": _("The server answered with an error (HTTP {status}). Try again later."),
        "required": _("Fill in this field."),
        "this_device": _("this device"),
        "end_session": _("Sign out there"),
        "session_line": _("{agent}, {address}, last seen {seen}"),
        "unknown_device": _("an unknown device"),
        "sessions_ended": _("Signed out everywhere else ({count})."),
        "number_changed": _("Your number is now {phone}."),
        "account_deleted": _("Your account has been deleted."),
    }
    return PageTexts(lang=lang, labels=labels, messages=messages)
