"""Issue 9, item 6: Swagger UI and ReDoc come from files we ship, not a CDN.

The browser test (``tests/integration/test_browser.py``) renders both pages
with every host but 127.0.0.1 unreachable."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from referrals.entrypoints.http.page import STATIC_DIR

# The page and the docs are the standalone app's, not the plugin's.
pytestmark = pytest.mark.standalone

DOCS_PAGES = ["/docs", "/docs/redoc", "/docs/oauth2-redirect.html"]
VENDOR = STATIC_DIR / "vendor"
REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)


async def page_without_the_document(client: AsyncTestClient[Any], path: str) -> str:
    """The page's HTML without the OpenAPI document it embeds (whose texts
    may name any site without loading anything from it)."""
    page = (await client.get(path)).text
    document = (await client.get("/docs/openapi.json")).text
    return page.replace(document, "{}")


@pytest.mark.parametrize("path", DOCS_PAGES)
async def test_no_docs_page_references_another_host(
    client: AsyncTestClient[Any], path: str
) -> None:
    text = await page_without_the_document(client, path)

    assert re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}", text) == []
    for url in REFERENCE.findall(text):
        assert url.startswith("/"), url
        assert not url.startswith("//"), url


@pytest.mark.parametrize(
    ("path", "files"),
    [
        (
            "/docs",
            {"swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"},
        ),
        ("/docs/redoc", {"redoc.standalone.js"}),
    ],
)
async def test_the_docs_pages_load_the_vendored_files(
    client: AsyncTestClient[Any], path: str, files: set[str]
) -> None:
    urls = REFERENCE.findall(await page_without_the_document(client, path))

    assert {url.split("?")[0].rsplit("/", 1)[-1] for url in urls} >= files
    for url in urls:
        response = await client.get(url)
        assert response.status_code == 200, url
        if url.split("?")[0].endswith((".js", ".css")):
            assert response.headers["cache-control"].endswith("immutable"), url


@pytest.mark.parametrize("path", ["/docs", "/docs/redoc"])
async def test_the_docs_pages_allow_no_other_host(client: AsyncTestClient[Any], path: str) -> None:
    response = await client.get(path)

    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    for sources in policy.values():
        assert set(sources.split()) <= {"'none'", "'self'", "'unsafe-inline'", "data:", "blob:"}
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_the_vendored_files_are_the_pinned_ones_with_their_licences() -> None:
    manifest = json.loads((VENDOR / "MANIFEST.json").read_text())

    on_disk = {
        path.relative_to(VENDOR).as_posix()
        for path in VENDOR.rglob("*")
        if path.is_file() and path.name != "MANIFEST.json"
    }
    assert on_disk == set(manifest["files"])
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    for package in manifest["packages"].values():
        assert (VENDOR / package["folder"] / "LICENSE").is_file()
        assert re.fullmatch(r"\d+\.\d+\.\d+", package["version"])
