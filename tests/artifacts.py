"""Where tests leave files for people to look at, and what they do when a tool is missing.

``$ARTIFACTS_DIR`` (default ``.artifacts/`` in the repository, git-ignored)
gets one folder per kind: ``browser/`` screenshots, ``newman/`` reports.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def artifacts_dir(kind: str) -> Path:
    """``$ARTIFACTS_DIR/KIND`` (default ``.artifacts/KIND`` in the repository), created."""
    path = Path(os.environ.get("ARTIFACTS_DIR") or ROOT / ".artifacts") / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def tool_missing(message: str) -> NoReturn:
    """Skip the test saying what is missing; under ``CI=true`` fail it instead."""
    if IN_CI:
        pytest.fail(f"{message}; CI=true: this test is required")
    pytest.skip(message)
