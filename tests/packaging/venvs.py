"""Fresh virtual environments with the built wheel, outside the source tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv") or "uv"
EXAMPLES = (
    "library_host",
    "litestar_host",
    "shared_transaction",
    "alembic_host",
    "webhook_receiver",
    "fastapi_host",
)


def run(args: Sequence[str | Path], cwd: Path, timeout: float = 600) -> str:
    """Run a command; its output, or a failure that shows it."""
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(map(str, args))} failed:\n{output[-4000:]}"
    return output


def build_wheel(into: Path) -> Path:
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", into, ROOT], cwd=into)
    return next(into.glob("referrals-*.whl"))


def new_venv(where: Path, *install: str | Path) -> Path:
    """A venv at ``where`` with ``uv pip install *install``; its python."""
    run([UV, "venv", "-q", "--python", sys.executable, where], cwd=where.parent)
    python = where / "bin" / "python"
    run([UV, "pip", "install", "-q", "--python", python, *install], cwd=where.parent)
    return python


def copy_examples(into: Path) -> Path:
    target = into / "examples"
    for name in EXAMPLES:
        shutil.copytree(ROOT / "examples" / name, target / name)
    return target
