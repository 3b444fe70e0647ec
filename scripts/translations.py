#!/usr/bin/env python3
"""Keep the translations in step with the code (Babel: a development tool only).

    .venv/bin/python scripts/translations.py update    # new texts into each .po
    .venv/bin/python scripts/translations.py compile   # each .po into its .mo
    .venv/bin/python scripts/translations.py check     # what is missing, if anything

Texts are found by ``pybabel``'s own extractor in ``src/referrals``: string
literals inside ``N_()`` or ``_()``. ``update`` adds new ones to
``src/referrals/locales/<language>/LC_MESSAGES/referrals.po`` untranslated
and drops the ones the code no longer has; translate them there, run
``compile`` and commit both files (the ``.mo`` is what runs and what the
wheel ships). ``check`` is what ``tests/unit/test_translations.py`` asserts.
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "referrals"
LOCALES = PACKAGE / "locales"
DOMAIN = "referrals"
LANGUAGES = ("ru",)
"""Every language besides English (the code's own)."""
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def po_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract() -> Catalog:
    """Every text marked in the code, as a template catalogue."""
    template = Catalog(project="referrals", domain=DOMAIN)
    found = extract_from_dir(PACKAGE, method_map=[("**.py", "python")], keywords=DEFAULT_KEYWORDS)
    for filename, line, message, comments, context in found:
        template.add(message, locations=[(filename, line)], auto_comments=comments, context=context)
    return template


def read(language: str) -> Catalog:
    path = po_path(language)
    if not path.exists():
        return Catalog(locale=language, project="referrals", domain=DOMAIN)
    with path.open("rb") as file:
        return read_po(file, locale=language, domain=DOMAIN)


def po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=100, no_location=True, omit_header=False, sort_output=True)
    return out.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def update() -> None:
    template = extract()
    for language in LANGUAGES:
        catalog = read(language)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        po_path(language).parent.mkdir(parents=True, exist_ok=True)
        po_path(language).write_bytes(po_bytes(catalog))


def compile_all() -> None:
    for language in LANGUAGES:
        po_path(language).with_suffix(".mo").write_bytes(mo_bytes(read(language)))


def problems() -> list[str]:
    """Every text of the code missing, untranslated, fuzzy or with other
    placeholders in a language; every .mo not compiled from its .po."""
    wanted = {message.id for message in extract() if message.id}
    found = []
    for language in LANGUAGES:
        catalog = read(language)
        have = {message.id: message for message in catalog if message.id}
        for msgid in sorted(wanted - have.keys()):
            found.append(f"{language}: not in the .po (run update): {msgid!r}")
        for msgid in sorted(have.keys() - wanted):
            found.append(f"{language}: no longer in the code (run update): {msgid!r}")
        for msgid in sorted(wanted & have.keys()):
            message = have[msgid]
            if not message.string:
                found.append(f"{language}: untranslated: {msgid!r}")
            elif message.fuzzy:
                found.append(f"{language}: fuzzy: {msgid!r}")
            elif set(PLACEHOLDER.findall(str(msgid))) != set(
                PLACEHOLDER.findall(str(message.string))
            ):
                found.append(f"{language}: other placeholders than the English: {msgid!r}")
        mo = po_path(language).with_suffix(".mo")
        if not mo.exists() or mo.read_bytes() != mo_bytes(catalog):
            found.append(f"{language}: {mo.name} is not compiled from the .po (run compile)")
    return found


def main(argv: list[str]) -> int:
    commands = {"update": update, "compile": compile_all}
    if argv[:1] == ["check"]:
        for problem in problems():
            print(problem)
        return 1 if problems() else 0
    if len(argv) != 1 or argv[0] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    commands[argv[0]]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
