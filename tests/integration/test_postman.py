"""Issue 11: the Postman collection, run by newman (npm) against a live server.

newman is pinned in ``postman/package-lock.json`` and installed with
``npm ci`` into ``postman/node_modules`` (git-ignored) when it is missing or
older than the lock file. Without node and npm the test is skipped, except
under ``CI=true``, where it fails. newman's console output and JSON report
go to ``$ARTIFACTS_DIR/newman/`` (default ``.artifacts/newman/``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.artifacts import ROOT, artifacts_dir, tool_missing
from tests.processes import serving

pytestmark = pytest.mark.slow

POSTMAN = ROOT / "postman"
COLLECTION = POSTMAN / "referrals.postman_collection.json"
ENVIRONMENT = POSTMAN / "referrals.postman_environment.json"
NEWMAN = POSTMAN / "node_modules" / ".bin" / "newman"
INSTALLED = POSTMAN / "node_modules" / ".package-lock.json"
"""npm's record of what ``npm ci`` installed: newer than the lock file once installed."""


def npm() -> str:
    found = shutil.which("npm")
    if not found or not shutil.which("node"):
        tool_missing("node and npm are needed to run newman (Debian: apt-get install nodejs npm)")
    return found


def install_newman() -> None:
    lock = POSTMAN / "package-lock.json"
    installed = NEWMAN.exists() and INSTALLED.exists()
    if installed and INSTALLED.stat().st_mtime >= lock.stat().st_mtime:
        return
    result = subprocess.run(
        [npm(), "ci", "--no-audit", "--no-fund", "--prefer-offline"],
        cwd=POSTMAN,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"npm ci failed:\n{result.stdout}\n{result.stderr}"


def collection_requests(items: list[dict[str, Any]]) -> list[str]:
    names: list[str] = []
    for item in items:
        names += collection_requests(item["item"]) if "item" in item else [item["name"]]
    return names


def test_the_collection_passes_against_a_live_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    npm()
    install_newman()
    out = artifacts_dir("newman")
    report = out / "report.json"
    report.unlink(missing_ok=True)
    env = {
        "REFERRALS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/db.sqlite3",
        "REFERRALS_EXPOSE_CODES": "true",
        "REFERRALS_SMS_DELAY": "0-0",
        "REFERRALS_TEST_PHONES": "+79990000999:1234",  # the deletion folder's phone
    }
    with serving(env, tmp_path) as (url, _):
        result = subprocess.run(
            [
                str(NEWMAN),
                "run",
                str(COLLECTION),
                "--environment",
                str(ENVIRONMENT),
                "--env-var",
                f"baseUrl={url}",
                "--reporters",
                "cli,json",
                "--reporter-json-export",
                str(report),
                "--color",
                "off",
                "--timeout-request",
                "10000",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env={**os.environ, "NO_COLOR": "1"},
        )
    (out / "newman.txt").write_text(result.stdout + result.stderr)
    run = json.loads(report.read_text())["run"]
    stats = run["stats"]
    summary = (
        f"newman: {stats['requests']['total']} requests, {stats['requests']['failed']} failed;"
        f" {stats['assertions']['total']} assertions, {stats['assertions']['failed']} failed;"
        f" {len(run['failures'])} failures"
    )
    with capsys.disabled():
        print(f"\n{summary}")

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr
    assert stats["assertions"]["failed"] == 0
    assert run["failures"] == []
    executed = [execution["item"]["name"] for execution in run["executions"]]
    assert executed == collection_requests(json.loads(COLLECTION.read_text())["item"])
    untested = [e["item"]["name"] for e in run["executions"] if not e.get("assertions")]
    assert untested == []
