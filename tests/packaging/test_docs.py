"""The docs say what the code does: tables match the code, Python runs, links resolve.

The README is the front page; the rest lives in docs/ (a MkDocs site that
``dev.py test`` builds with ``--strict``, which checks the links between its
pages). The README's curl flow runs against a live server in
``tests/integration/test_readme_curl.py``.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from referrals import production
from referrals.problems import CATALOGUE
from referrals.settings import PREFIX, VARIABLES

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
DOCUMENTS = [README, *PAGES]


def text(page: str) -> str:
    return (ROOT / page).read_text()


def table_rows(document: str, header: str) -> list[list[str]]:
    """The cells of the markdown table whose header line is ``header``."""
    lines = document[document.index(header) :].splitlines()[2:]
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def settings_table() -> ModuleType:
    """``scripts/settings_table.py``, which writes the table of docs/settings.md."""
    path = ROOT / "scripts" / "settings_table.py"
    spec = importlib.util.spec_from_file_location("settings_table", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_settings_page_is_what_the_code_says() -> None:
    page = text("docs/settings.md")

    assert settings_table().render(page) == page, (
        "docs/settings.md disagrees with referrals.settings: "
        "run .venv/bin/python scripts/settings_table.py and check the meanings"
    )


def test_the_settings_table_gives_each_variable_a_real_default_and_a_meaning() -> None:
    table = settings_table()
    header = table.HEADER.splitlines()[0]
    rows = {row[0]: row for row in table_rows(text("docs/settings.md"), header)}
    assert list(rows) == [f"`{PREFIX}{variable.name}`" for variable in VARIABLES]
    for variable in VARIABLES:
        name, default, meaning = rows[f"`{PREFIX}{variable.name}`"]
        assert default.startswith(table.documented_default(variable.default())), name
        assert meaning, name


def test_the_error_table_is_the_catalogue() -> None:
    rows = table_rows(text("docs/rules.md"), "| status | code | when |")

    assert [(int(row[0]), row[1].strip("`")) for row in rows] == [
        (kind.status, kind.code) for kind in CATALOGUE
    ]


def test_the_production_table_is_the_one_prod_enforces() -> None:
    page = text("docs/production.md")
    assert production.markdown_table() in page
    minimum = production.MIN_WEBHOOK_SECRET_LENGTH
    assert re.search(rf"webhook secret shorter than\s+{minimum}\s+characters", page)


PYTHON_BLOCKS = [
    block
    for document in DOCUMENTS
    for block in re.findall(r"```python\n(.*?)```", document.read_text(), flags=re.DOTALL)
]
"""Every Python example of the README and the docs pages (also run from the wheel)."""


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda b: b.splitlines()[0][:40])
def test_each_python_example_runs(block: str, tmp_path: Path) -> None:
    if "my_service" in block:  # stands for a host's own module
        compile(block, "docs", "exec")
        return
    if "def test_" in block:
        (tmp_path / "test_docs_example.py").write_text(block)
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)]
    else:
        command = [sys.executable, "-c", block]
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_readme_is_a_front_page() -> None:
    assert len(README.read_text().splitlines()) < 200


def anchors(document: Path) -> set[str]:
    """The ids MkDocs gives the headings of a markdown page."""
    ids = set()
    for heading in re.findall(r"^#+ (.+)$", document.read_text(), flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).strip().replace(" ", "-")
        ids.add(slug)
    return ids


def test_every_link_in_the_readme_resolves() -> None:
    readme = README.read_text()
    links = re.findall(r"\]\(([^)\s]+)\)", readme) + re.findall(r"<(https?://[^>]+)>", readme)
    assert links
    for link in links:
        if link.startswith(("https://", "http://")):
            continue  # the server's own: tests/integration/test_readme_curl.py asks it
        path, _, anchor = link.partition("#")
        target = ROOT / path
        assert target.exists(), f"README links to {link}, which does not exist"
        if anchor:
            assert anchor in anchors(target), f"README links to {link}: no such heading"


def test_the_architecture_page_walks_a_setting_through_the_files_that_use_it() -> None:
    page = text("docs/architecture.md")
    walk = page[page.index("### One setting, from the environment to its use") :]
    variable = re.findall(r"`REFERRALS_(\w+)`", walk)[0]
    (attribute,) = [v.attribute for v in VARIABLES if v.name == variable]
    files = re.findall(r"^\d\. `([\w/]+\.py)`", walk, flags=re.MULTILINE)

    assert 2 <= len(files) <= 4
    sources = [(ROOT / "src" / "referrals" / name).read_text() for name in files]
    assert all(f"settings.{attribute}" in source for source in sources[1:-1])  # handed on
    assert attribute in sources[0]  # read and defaulted
