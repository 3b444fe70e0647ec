"""The page for people at ``/`` (issue 11), as the server sends it: the
headers that keep it safe, only its own files, texts in one place, and the
static route refusing anything it does not hold. The browser test
(``tests/integration/test_browser.py``) clicks through it."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from litestar import Litestar, Router
from litestar.testing import AsyncTestClient

from referrals.entrypoints.http import page as page_module
from referrals.entrypoints.http.handlers import EXCEPTION_HANDLERS
from referrals.entrypoints.http.page import assets, page_routes
from referrals.entrypoints.http.page_texts import PageTexts, page_texts
from tests.e2e.conftest import assert_problem

# The page and the docs are the standalone app's, not the plugin's.
pytestmark = pytest.mark.standalone

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
    " connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SCRIPT = page_module.STATIC_DIR / "page" / "app.js"


class Elements(HTMLParser):
    """Every start tag of a document with its attributes, and the text inside
    ``<template id="messages">`` by message id."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.messages: dict[str, str] = {}
        self._message: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.tags.append((tag, attributes))
        if "data-id" in attributes:
            self._message = attributes["data-id"]
            self.messages[self._message] = ""

    def handle_endtag(self, tag: str) -> None:
        self._message = None

    def handle_data(self, data: str) -> None:
        if self._message is not None:
            self.messages[self._message] += data


def parse(text: str) -> Elements:
    elements = Elements()
    elements.feed(text)
    return elements


def linked(elements: Elements) -> list[str]:
    return [
        attributes[name]
        for _, attributes in elements.tags
        for name in ("src", "href")
        if name in attributes
    ]


async def test_the_root_is_the_page_with_its_security_headers(
    client: AsyncTestClient[Any],
) -> None:
    response = await client.get("/", follow_redirects=False)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert '<label for="phone">Phone number</label>' in response.text


async def test_the_page_has_no_inline_script_style_or_handler(
    client: AsyncTestClient[Any],
) -> None:
    text = (await client.get("/")).text
    elements = parse(text)

    scripts = [attributes for tag, attributes in elements.tags if tag == "script"]
    assert scripts
    assert all(attributes.get("src") for attributes in scripts)
    assert re.search(r"<script[^>]*>(?!</script>)", text) is None  # nothing between the tags
    assert not [tag for tag, _ in elements.tags if tag == "style"]
    assert not [
        (tag, name)
        for tag, attributes in elements.tags
        for name in attributes
        if name == "style" or name.startswith("on")
    ]


async def test_every_input_has_a_label(client: AsyncTestClient[Any]) -> None:
    elements = parse((await client.get("/")).text)

    inputs = {a["id"] for tag, a in elements.tags if tag in {"input", "select"}}
    labelled = {a["for"] for tag, a in elements.tags if tag == "label"}

    assert inputs
    assert inputs <= labelled


async def test_the_code_field_is_one_phones_and_browsers_fill_in(
    client: AsyncTestClient[Any],
) -> None:
    elements = parse((await client.get("/")).text)
    [field] = [a for tag, a in elements.tags if tag == "input" and a.get("id") == "confirm_code"]
    assert field["autocomplete"] == "one-time-code"
    assert field["inputmode"] == "numeric"
    script = SCRIPT.read_text()
    assert "navigator.credentials" in script
    assert 'otp: { transport: ["sms"] }' in script


async def test_the_page_loads_only_files_of_its_own(client: AsyncTestClient[Any]) -> None:
    urls = linked(parse((await client.get("/")).text))

    assert {url.split("?")[0] for url in urls} >= {
        "/static/page/app.js",
        "/static/page/app.css",
        "/static/page/icon.svg",
    }
    for url in urls:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
    for url in (url for url in urls if url.startswith("/static/")):
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_the_page_tells_the_script_where_the_api_is(client: AsyncTestClient[Any]) -> None:
    elements = parse((await client.get("/")).text)

    meta = {a.get("name"): a.get("content") for tag, a in elements.tags if tag == "meta"}

    assert meta["referrals-api"] == "/api"


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("page/app.js", "text/javascript"),
        ("page/app.css", "text/css"),
        ("page/icon.svg", "image/svg+xml"),
        ("vendor/swagger-ui/swagger-ui-bundle.js", "text/javascript"),
        ("vendor/redoc/redoc.standalone.js", "text/javascript"),
        ("vendor/redoc/LICENSE", "text/plain"),
    ],
)
async def test_a_versioned_file_is_cached_for_good(
    client: AsyncTestClient[Any], name: str, media_type: str
) -> None:
    version = assets()[name].version

    response = await client.get(f"/static/{name}", params={"v": version})

    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.content == (page_module.STATIC_DIR / name).read_bytes()


@pytest.mark.parametrize("query", [{}, {"v": "0123456789abcdef"}], ids=["bare", "old-version"])
async def test_any_other_url_of_a_file_is_revalidated(
    client: AsyncTestClient[Any], query: dict[str, str]
) -> None:
    response = await client.get("/static/page/app.js", params=query)

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    etag = response.headers["etag"]
    for header in (etag, f'"other", W/{etag}'):
        again = await client.get("/static/page/app.js", headers={"If-None-Match": header})
        assert again.status_code == 304, header
        assert again.content == b""
    changed = await client.get("/static/page/app.js", headers={"If-None-Match": '"other"'})
    assert changed.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/static/nothing.js",
        "/static/page/",
        "/static/page/app.js.map",
        "/static/..%2Fpage.py",
        "/static/%2e%2e/%2e%2e/page.py",
        "/static/page/..%2F..%2Fpage.py",
        "/static/.%2F..%2Fapp.py",
    ],
)
async def test_a_file_that_is_not_there_is_a_problem_404(
    client: AsyncTestClient[Any], path: str
) -> None:
    response = await client.get(path)

    body = assert_problem(response, 404)
    assert str(page_module.HERE) not in body["detail"]  # no server path leaks out


async def test_an_absurd_version_is_a_problem_400(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/static/page/app.js", params={"v": "x" * 65})

    assert_problem(response, 400, "validation_error")


async def test_the_page_and_its_files_follow_a_router_prefix() -> None:
    """How the page mounts inside a host app under a prefix: its own files
    follow the router; the API path is told."""
    routes = page_routes(api_path="/referrals/api", docs_path=None)
    app = Litestar(
        route_handlers=[Router(path="/referrals", route_handlers=routes)],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    async with AsyncTestClient(app) as client:
        response = await client.get("/referrals/")
        elements = parse(response.text)
        urls = linked(elements)
        meta = {a.get("name"): a.get("content") for tag, a in elements.tags if tag == "meta"}

        assert response.status_code == 200
        assert meta["referrals-api"] == "/referrals/api"
        assert urls
        for url in urls:
            assert url.startswith("/referrals/static/"), url
            assert (await client.get(url)).status_code == 200
        assert "<footer" not in response.text  # no docs link asked for


async def test_the_texts_come_from_one_place_and_are_escaped() -> None:
    english = page_texts()
    texts = PageTexts(
        lang="xx",
        labels={key: f"<b>{key}</b>" for key in english.labels},
        messages={key: f"{key} & co" for key in english.messages},
    )
    app = Litestar(
        route_handlers=page_routes(texts_for=lambda _: texts), exception_handlers=EXCEPTION_HANDLERS
    )
    async with AsyncTestClient(app) as client:
        text = (await client.get("/")).text

    assert '<html lang="xx">' in text
    assert "&lt;b&gt;phone_label&lt;/b&gt;" in text
    assert "<b>" not in text
    assert parse(text).messages["code_sent"] == "code_sent & co"
    for sentence in english.labels.values():
        assert sentence not in text, sentence  # every label came from the texts


async def test_every_message_the_script_uses_is_rendered_and_used(
    client: AsyncTestClient[Any],
) -> None:
    script = SCRIPT.read_text()
    used = set(re.findall(r"""\bt\(\s*["']([a-z_]+)["']""", script))

    rendered = parse((await client.get("/")).text).messages

    assert used
    assert used == set(rendered)
    assert all(rendered.values())


def test_the_script_holds_no_sentence_of_its_own() -> None:
    """Sentences live in page_texts.py (to be translated); a capitalised word
    followed by more words in a string literal of the script is one."""
    script = SCRIPT.read_text()
    code = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("//"))
    code = re.sub(r"/\*\*.*?\*/", "", code, flags=re.DOTALL)

    literals = re.findall(r""""([^"\n]*)"|'([^'\n]*)'|`([^`]*)`""", code)
    sentences = [
        text
        for groups in literals
        for text in groups
        if re.search(r"[A-Za-z]{2,} [a-z]{2,} [a-z]{2,}", re.sub(r"\$\{[^}]*\}", "", text))
    ]

    assert sentences == []


def test_every_label_is_placed_in_the_page() -> None:
    template = page_module.TEMPLATE.read_text()

    placeholders = set(re.findall(r"\$([a-z_]+)", template))

    assert set(page_texts().labels) - {"docs_link"} <= placeholders  # docs_link: in $footer
