"""The lower bounds in pyproject.toml are true: with every direct dependency at the
lowest version it allows, every module imports and both examples pass."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.packaging.venvs import ROOT, UV, build_wheel, copy_examples, new_venv, run

pytestmark = pytest.mark.slow

IMPORT_EVERYTHING = """
import importlib, pkgutil, referrals
names = [
    m.name
    for m in pkgutil.walk_packages(referrals.__path__, "referrals.")
    if ".migrations" not in m.name  # Alembic runs those itself
]
for name in names:
    importlib.import_module(name)
print(len(names), "modules")
"""


def declared_minimum(package: str) -> str:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [r for group in extras["optional-dependencies"].values() for r in group]
    for requirement in extras["dependencies"] + requirements:
        if requirement.startswith(f"{package}>="):
            return requirement.split(">=")[1].split(",")[0]
    raise LookupError(package)


def test_the_lowest_allowed_versions_import_everything_and_run_the_examples(
    tmp_path: Path,
) -> None:
    wheel = build_wheel(tmp_path)
    python = new_venv(
        tmp_path / "venv",
        "--resolution",
        "lowest-direct",
        "-r",
        ROOT / "pyproject.toml",
        "--extra",
        "all",
        "--extra",
        "testing",
        "--extra",
        "examples",
    )
    run([UV, "pip", "install", "-q", "--no-deps", "--python", python, wheel], cwd=tmp_path)
    versions = run([UV, "pip", "freeze", "--python", python], cwd=tmp_path)
    assert f"litestar=={declared_minimum('litestar')}" in versions  # the lowest, indeed

    imported = run([python, "-c", IMPORT_EVERYTHING], cwd=tmp_path)
    tested = run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", copy_examples(tmp_path)], tmp_path
    )

    assert "modules" in imported
    assert " passed" in tested
