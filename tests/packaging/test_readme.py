"""The README says what the code does: its tables match the code, its Python runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from referrals import production
from referrals.application.ports import Limit
from referrals.entrypoints.http.errors import CATALOGUE
from referrals.settings import PREFIX, VARIABLES, Variable

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


def table_rows(header: str) -> list[list[str]]:
    """The cells of the markdown table whose header line is ``header``."""
    lines = README[README.index(header) :].splitlines()[2:]
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def documented_default(value: object) -> str:
    """How the settings table writes a default."""
    if value is None:
        return "unset"
    if value in ((), frozenset()) or value == {}:
        return "empty"
    if isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, Limit):
        text = f"{value.count}/{number(value.window)}"
    elif isinstance(value, tuple) and all(isinstance(part, Limit) for part in value):
        text = ",".join(f"{part.count}/{number(part.window)}" for part in value)
    elif isinstance(value, tuple):
        text = "-".join(number(part) for part in value)
    elif isinstance(value, float):
        text = number(value)
    else:
        text = str(value)
    return f"`{text}`"


@pytest.mark.parametrize("variable", VARIABLES, ids=lambda v: v.name)
def test_the_settings_table_gives_each_variable_its_real_default(variable: Variable) -> None:
    rows = {row[0]: row for row in table_rows("| variable | default | meaning |")}
    row = rows.get(f"`{PREFIX}{variable.name}`")
    assert row is not None, f"{variable.name} is not in the README's settings table"
    if variable.name != "SECRET_KEY":  # drawn at random
        assert row[1].startswith(documented_default(variable.default())), row


def test_the_settings_table_lists_no_variable_the_code_does_not_read() -> None:
    names = {f"`{PREFIX}{v.name}`" for v in VARIABLES}
    assert {row[0] for row in table_rows("| variable | default | meaning |")} <= names


def test_the_error_table_is_the_catalogue() -> None:
    rows = table_rows("| status | code | when |")

    assert [(int(row[0]), row[1].strip("`")) for row in rows] == [
        (kind.status, kind.code) for kind in CATALOGUE
    ]


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda b: b.splitlines()[0][:40])
def test_each_python_example_runs(block: str, tmp_path: Path) -> None:
    if "my_service" in block:  # stands for a host's own module
        compile(block, "README", "exec")
        return
    if "def test_" in block:
        (tmp_path / "test_readme_example.py").write_text(block)
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)]
    else:
        command = [sys.executable, "-c", block]
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_production_table_is_the_one_prod_enforces() -> None:
    assert production.markdown_table() in README
    minimum = production.MIN_WEBHOOK_SECRET_LENGTH
    assert re.search(rf"webhook secret shorter than\s+{minimum}\s+characters", README)
