#!/usr/bin/env python3
"""Write the settings table of docs/settings.md from the code.

    .venv/bin/python scripts/settings_table.py          # rewrite the table
    .venv/bin/python scripts/settings_table.py --check  # exit 1 if it is out of date

One row per variable of ``referrals.settings.VARIABLES``, in that order: its
name, its default (the field default of ``Settings`` or ``Policy``, the only
home of each default) and what it means. The meaning is the one thing
written by hand: it is kept from the page's current row, after the default
(a default cell may go on after the value, e.g. "`unset`: in-process
stores"). A new variable starts with its format hint as its meaning: say
more there. ``tests/packaging/test_docs.py`` fails while the page is not
what this script writes.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from referrals.application.ports import Limit
from referrals.settings import PREFIX, VARIABLES

PAGE = Path(__file__).resolve().parent.parent / "docs" / "settings.md"
START = "<!-- settings table: written by scripts/settings_table.py -->"
END = "<!-- end of the settings table -->"
HEADER = "| variable | default | meaning |\n|---|---|---|\n"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def documented_default(value: object) -> str:
    """How the table writes a default, e.g. ``10/86400`` for a Limit."""
    if isinstance(value, bytes) and not value:
        return "random per process"
    if value is None:
        return "unset"
    if value in ((), frozenset()) or value == {} or getattr(value, "empty", False):
        return "empty"
    if isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, Limit):
        text = f"{value.count}/{_number(value.window)}"
    elif isinstance(value, tuple) and all(isinstance(part, Limit) for part in value):
        text = ",".join(f"{part.count}/{_number(part.window)}" for part in value)
    elif isinstance(value, tuple):
        text = "-".join(_number(part) for part in value)
    elif isinstance(value, float):
        text = _number(value)
    elif isinstance(value, Mapping):
        text = ",".join(f"{key}={value[key]}" for key in value)
    else:
        text = str(value)
    return f"`{text}`"


def _cells(line: str) -> list[str]:
    """The cells of a table row; a ``|`` inside backticks stays in its cell."""
    cells, cell, quoted = [], "", False
    for char in line.strip().strip("|"):
        if char == "`":
            quoted = not quoted
        if char == "|" and not quoted:
            cells.append(cell.strip())
            cell = ""
        else:
            cell += char
    return [*cells, cell.strip()]


def _written(page: str) -> dict[str, tuple[str, str]]:
    """Variable name -> (default cell, meaning) of the page's current table."""
    if START not in page:
        return {}
    table = page[page.index(START) : page.index(END)]
    rows = {}
    for line in table.splitlines():
        if line.startswith("| `"):
            name, default, meaning = _cells(line)
            rows[name.strip("`")] = (default, meaning)
    return rows


def table(page: str) -> str:
    """The table as the code says it is, with the meanings ``page`` gives."""
    written = _written(page)
    lines = []
    for variable in VARIABLES:
        name = PREFIX + variable.name
        default = documented_default(variable.default())
        old_default, meaning = written.get(name, ("", variable.hint))
        if old_default.startswith(default):  # keep what the page says after the value
            default = old_default
        lines.append(f"| `{name}` | {default} | {meaning} |\n")
    return HEADER + "".join(lines)


def render(page: str) -> str:
    """``page`` with its table rewritten from the code."""
    before, _, rest = page.partition(START)
    _, _, after = rest.partition(END)
    return f"{before}{START}\n{table(page)}{END}{after}"


def main(args: list[str]) -> int:
    page = PAGE.read_text()
    wanted = render(page)
    if args == ["--check"]:
        if wanted != page:
            print(f"{PAGE} is out of date: run scripts/settings_table.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
