#!/usr/bin/env python3
"""Refresh the API docs' browser files (Swagger UI, ReDoc) from npm, at pinned versions.

    python3 scripts/vendor_docs_assets.py

``/docs`` and ``/docs/redoc`` load these files from the package itself, so
the docs work with the network cut and no CDN sees our users. This script
asks npm (``npm pack``, the ordinary client; the npm registry must be
reachable) for each pinned package, checks the tarball against the pinned
SHA-512 integrity, and copies the few files the pages load, with their
licence files, into ``src/referrals/entrypoints/http/static/vendor/``. It
writes ``MANIFEST.json`` there (versions, integrity, SHA-256 of every file);
a test checks the files against it, so a hand edit cannot slip in.

To move to a new version: change ``version`` and ``integrity`` below (from
``npm view PACKAGE@VERSION dist.integrity``), run the script, run the tests
(the browser test renders both pages), commit.

ReDoc stays on 2.x: 3.x ships an ES module with no ``Redoc`` global (Litestar
2.25's page calls ``Redoc.init``) and sends telemetry to Redocly by default.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "src/referrals/entrypoints/http/static/vendor"


@dataclass(frozen=True)
class Pin:
    package: str
    version: str
    integrity: str
    files: tuple[str, ...]
    """Paths inside the tarball (under ``package/``), copied flat."""

    @property
    def folder(self) -> str:
        return self.package.removesuffix("-dist")


PINS = (
    Pin(
        package="swagger-ui-dist",
        version="5.35.0",
        integrity="sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==",
        files=(
            "swagger-ui-bundle.js",
            "swagger-ui-bundle.js.LICENSE.txt",
            "swagger-ui-standalone-preset.js",
            "swagger-ui-standalone-preset.js.LICENSE.txt",
            "swagger-ui.css",
            "LICENSE",
            "NOTICE",
        ),
    ),
    Pin(
        package="redoc",
        version="2.5.4",
        integrity="sha512-M6jWhG1qoBnH6TFmzJnstyCZ87HmOY/UzDm78mHiYihEdlV/YcS9ogOo1NlElnJMeLsyxHFe2yFc4sNjHTrABQ==",
        files=(
            "bundles/redoc.standalone.js",
            "bundles/redoc.standalone.js.LICENSE.txt",
            "LICENSE",
        ),
    ),
)


def sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def fetch(pin: Pin, workdir: Path) -> Path:
    """``npm pack`` the pinned version into ``workdir``; the tarball, integrity checked."""
    subprocess.run(
        ["npm", "pack", f"{pin.package}@{pin.version}", "--pack-destination", str(workdir)],
        check=True,
        capture_output=True,
    )
    (tarball,) = workdir.glob(f"{pin.package}-{pin.version}.tgz")
    found = sri(tarball.read_bytes())
    if found != pin.integrity:
        raise SystemExit(f"{pin.package}@{pin.version}: integrity {found}, pinned {pin.integrity}")
    return tarball


def vendor(pin: Pin, tarball: Path) -> dict[str, str]:
    """Copy the pinned files out of ``tarball``; their SHA-256 by vendored name."""
    target = VENDOR / pin.folder
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    digests: dict[str, str] = {}
    with tarfile.open(tarball) as archive:
        for name in pin.files:
            member = archive.extractfile(f"package/{name}")
            if member is None:
                raise SystemExit(f"{pin.package}: {name} is not a file")
            data = member.read()
            (target / Path(name).name).write_bytes(data)
            digests[f"{pin.folder}/{Path(name).name}"] = hashlib.sha256(data).hexdigest()
    return digests


def main() -> int:
    packages: dict[str, dict[str, str]] = {}
    files: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for pin in PINS:
            tarball = fetch(pin, Path(tmp))
            packages[pin.package] = {
                "version": pin.version,
                "integrity": pin.integrity,
                "folder": pin.folder,
            }
            files.update(vendor(pin, tarball))
            print(f"{pin.package}@{pin.version} -> {VENDOR / pin.folder}")
    manifest = {"generated_by": Path(__file__).name, "packages": packages, "files": files}
    (VENDOR / "MANIFEST.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
