"""The wheel as a user gets it: installed into a fresh venv, far from the source tree,
it carries its types, and the examples pass their tests and ``mypy --strict``."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.packaging.test_docs import PYTHON_BLOCKS
from tests.packaging.venvs import EXAMPLES, ROOT, UV, build_wheel, copy_examples, new_venv, run

pytestmark = pytest.mark.slow

WRONG_ADAPTER = """
from referrals import Adapters, Phone


class NotAGateway:
    async def send(self, phone: Phone) -> None: ...


Adapters(sms_gateway=NotAGateway())
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def python(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with the locked dependencies and the wheel (not the source tree)."""
    lock = ROOT / "requirements" / "dev.lock"
    venv = tmp_path_factory.mktemp("venv") / "venv"
    python = new_venv(venv, "--require-hashes", "--no-deps", "-r", lock)
    run([UV, "pip", "install", "-q", "--no-deps", "--python", python, wheel], cwd=venv.parent)
    return python


def test_the_wheel_ships_its_types_migrations_and_test_kit(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())

    assert "referrals/py.typed" in names
    assert "referrals/locales/ru/LC_MESSAGES/referrals.mo" in names  # what gettext reads
    assert "referrals/adapters/sql/migrations/versions/0001_users.py" in names
    assert "referrals/testing/contracts/__init__.py" in names
    assert not any(name.startswith(("tests/", "examples/", "bench/")) for name in names)
    metadata = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "referrals.testing.fixtures" in zipfile.ZipFile(wheel).read(metadata).decode()


def test_the_examples_pass_their_tests_from_the_wheel_alone(python: Path, tmp_path: Path) -> None:
    examples = copy_examples(tmp_path)
    where = run([python, "-c", "import referrals; print(referrals.__file__)"], cwd=tmp_path)
    assert str(python.parent.parent) in where  # the venv's copy, not src/

    output = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", examples], tmp_path)

    assert " passed" in output


def test_the_examples_pass_mypy_strict_against_the_wheel(python: Path, tmp_path: Path) -> None:
    examples = copy_examples(tmp_path)
    dirs = [examples / name for name in EXAMPLES]

    output = run([python, "-m", "mypy", "--strict", "--no-incremental", *dirs], cwd=tmp_path)

    assert "Success: no issues found" in output


def test_the_readmes_python_runs_from_the_wheel_alone(python: Path, tmp_path: Path) -> None:
    for number, block in enumerate(PYTHON_BLOCKS):
        if "my_service" in block:  # stands for a host's own module
            continue
        script = tmp_path / f"test_readme_{number}.py"
        script.write_text(block)
        if "def test_" in block:
            run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", script], cwd=tmp_path)
        else:
            run([python, script], cwd=tmp_path)


def test_mypy_reports_an_adapter_that_does_not_fit_its_port(python: Path, tmp_path: Path) -> None:
    (tmp_path / "host.py").write_text(WRONG_ADAPTER)

    result = subprocess.run(
        [python, "-m", "mypy", "--strict", "--no-incremental", "host.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert 'Argument "sms_gateway" to "Adapters" has incompatible type' in result.stdout
