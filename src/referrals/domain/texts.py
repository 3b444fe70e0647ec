"""Marking the sentences people read, so they can be translated.

Every such sentence is written in English in the code, inside ``N_()``;
``scripts/translations.py`` extracts them (the English sentence is the
gettext msgid) and :mod:`referrals.i18n` looks them up at the edge, where
the reader's language is known. ``{name}`` placeholders are filled in after
translation.
"""

from __future__ import annotations


def N_(text: str) -> str:
    """Mark ``text`` for extraction and return it unchanged."""
    return text
