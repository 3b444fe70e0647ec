"""The page for people at ``/``, and the static files it and the API docs load.

:func:`page_routes` gives two handlers: the page (``GET /``) and the static
files (``GET /static/{file_path}``), both relative to wherever they are
registered. The page finds its own files with ``route_reverse``, so they
follow any router prefix; the API and the docs belong to others, so their
public paths (prefix included) are arguments. :func:`docs_render_plugins`
points Swagger UI and ReDoc at the vendored copies served by the same static
handler (refreshed by ``scripts/vendor_docs_assets.py``).

The page is plain HTML, one stylesheet and one ES module, all served from
the package (no CDN, no build step), under a Content-Security-Policy with no
inline script or style. Its texts come from :mod:`page_texts`, in the
language of the request's ``Accept-Language`` (English or Russian).

Caching: the HTML is ``no-store`` (it is rendered per request and depends
on the language). Asset URLs carry ``?v=`` and the first 16 hex digits
of the file's SHA-256; a request with the current version is cached for a
year (``immutable``), any other (an old page during a deploy, a hand-typed
URL) gets the current file with ``no-cache`` and an ETag, so nothing stale
is ever pinned. Only files found under ``static/`` at start-up are served:
anything else is a 404 problem, and no path from the request ever reaches
the file system.
"""

from __future__ import annotations

import functools
import hashlib
import html
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath
from string import Template
from typing import Annotated, Any

from litestar import Request, Response, Router, get
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import (
    OpenAPIRenderPlugin,
    RedocRenderPlugin,
    SwaggerRenderPlugin,
)
from litestar.params import FromPath, QueryParameter
from litestar.response import File
from litestar.types import ControllerRouterHandler

from referrals.entrypoints.http.device import ensure_device
from referrals.entrypoints.http.page_texts import PageTexts, page_texts
from referrals.entrypoints.http.texts import NO_SUCH_FILE
from referrals.i18n import negotiate, translations

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATE = HERE / "templates" / "page.html"
STATIC_ROUTE = "referrals:static"
PAGE_ROUTE = "referrals:page"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
    " connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
STATIC_POLICY = "default-src 'none'; frame-ancestors 'none'"
"""For the files themselves: an SVG or HTML opened directly runs nothing."""
DOCS_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:;"
    " form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
"""For Swagger UI and ReDoc: Litestar's pages inline the document and the start-up
call ('unsafe-inline'), ReDoc searches in a blob worker; no other host at all (ReDoc
2.x would fetch its logo from cdn.redoc.ly)."""
COMMON_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
IMMUTABLE = "public, max-age=31536000, immutable"
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}

AnyRequest = Request[Any, Any, Any]
TextsFor = Callable[[AnyRequest], PageTexts]


@dataclass(frozen=True, slots=True)
class Asset:
    path: Path
    media_type: str
    version: str
    """The first 16 hex digits of the file's SHA-256."""

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


def _media_type(path: Path) -> str:
    if path.suffix in MEDIA_TYPES:
        return MEDIA_TYPES[path.suffix]
    if path.name.isupper() or path.suffix in {".txt", ".md"}:  # LICENSE, NOTICE
        return "text/plain; charset=utf-8"
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


@functools.cache
def assets() -> dict[str, Asset]:
    """Every file under ``static/`` by its path there, read once (at app start)."""
    found = {}
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            version = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            found[path.relative_to(STATIC_DIR).as_posix()] = Asset(path, _media_type(path), version)
    return found


def asset_url(request: AnyRequest, name: str) -> str:
    """The versioned URL of ``static/NAME``, wherever the static route is mounted."""
    path = request.app.route_reverse(STATIC_ROUTE, file_path=name)
    return f"{path}?v={assets()[name].version}"


@get(
    "/static/{file_path:path}",
    name=STATIC_ROUTE,
    include_in_schema=False,
    sync_to_thread=False,
)
def static_file(
    request: AnyRequest,
    file_path: FromPath[PurePath],
    v: Annotated[str | None, QueryParameter(max_length=64)] = None,
) -> Response[bytes] | File:
    asset = assets().get(file_path.as_posix().strip("/"))
    if asset is None:
        raise NotFoundException(NO_SUCH_FILE)
    headers = {
        **COMMON_HEADERS,
        "Content-Security-Policy": STATIC_POLICY,
        "Cache-Control": IMMUTABLE if v == asset.version else "no-cache",
        "ETag": asset.etag,
    }
    if _matches(request.headers.get("if-none-match", ""), asset.etag):
        return Response(b"", status_code=304, headers=headers)
    return File(
        asset.path,
        media_type=asset.media_type,
        content_disposition_type="inline",
        headers=headers,
    )


def _matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 §13.1.2: a list of tags, weak ones matching too, or ``*``."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags or "*" in tags


def by_accept_language(request: AnyRequest) -> PageTexts:
    """The page's texts in the request's language (``Accept-Language``: English
    by default, or Russian; see :mod:`referrals.i18n`)."""
    language = negotiate(request.headers.get("accept-language"))
    return page_texts(translations(language).gettext, language)


def _render(request: AnyRequest, texts: PageTexts, api_path: str, docs_path: str | None) -> str:
    def attr(text: str) -> str:
        return html.escape(text, quote=True)

    messages = "".join(
        f'<p data-id="{attr(key)}">{attr(text)}</p>' for key, text in texts.messages.items()
    )
    footer = (
        f'<footer class="bar"><a href="{attr(docs_path)}">{attr(texts.labels["docs_link"])}</a>'
        "</footer>"
        if docs_path
        else ""
    )
    values = {key: attr(text) for key, text in texts.labels.items()}
    values |= {
        "lang": attr(texts.lang),
        "api_url": attr(api_path.rstrip("/")),
        "icon_url": attr(asset_url(request, "page/icon.svg")),
        "css_url": attr(asset_url(request, "page/app.css")),
        "js_url": attr(asset_url(request, "page/app.js")),
        "messages": messages,
        "footer": footer,
    }
    return _template().substitute(values)


@functools.cache
def _template() -> Template:
    return Template(TEMPLATE.read_text(encoding="utf-8"))


def page_routes(
    api_path: str = "/api",
    *,
    docs_path: str | None = "/docs",
    texts_for: TextsFor = by_accept_language,
    secure_cookies: bool = True,
) -> list[ControllerRouterHandler]:
    """The page at ``/`` and the static files under ``/static/``.

    ``api_path`` and ``docs_path`` are the public paths of the API and its
    docs as the browser sees them (any prefix included); ``docs_path=None``
    drops the link. ``texts_for`` picks the page's texts for a request (for
    example a fixed language): by ``Accept-Language`` by default. The page
    sets the device cookie (``referrals_device``, ``Secure`` with
    ``secure_cookies``) when the browser has none: see ``device.py``.
    """
    assets()  # read and hash the files now, not on the first request
    _template()

    @get("/", name=PAGE_ROUTE, include_in_schema=False, sync_to_thread=False)
    def page(request: AnyRequest) -> Response[str]:
        texts = texts_for(request)
        body = _render(request, texts, api_path, docs_path)
        headers = {
            **COMMON_HEADERS,
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "Cache-Control": "no-store",
            "Content-Language": texts.lang,
            "Vary": "Accept-Language",
        }
        _, cookies = ensure_device(request, secure_cookies)
        return Response(body, media_type=MediaType.HTML, headers=headers, cookies=cookies)

    return [page, static_file]


class _Swagger(SwaggerRenderPlugin):
    def render(self, request: AnyRequest, openapi_schema: dict[str, Any]) -> bytes:
        self.js_url = asset_url(request, "vendor/swagger-ui/swagger-ui-bundle.js")
        self.css_url = asset_url(request, "vendor/swagger-ui/swagger-ui.css")
        self.standalone_preset_js_url = asset_url(
            request, "vendor/swagger-ui/swagger-ui-standalone-preset.js"
        )
        self.favicon = _favicon(request)
        return super().render(request, openapi_schema)


class _Redoc(RedocRenderPlugin):
    def render(self, request: AnyRequest, openapi_schema: dict[str, Any]) -> bytes:
        self.js_url = asset_url(request, "vendor/redoc/redoc.standalone.js")
        self.favicon = _favicon(request)
        return super().render(request, openapi_schema)


def _favicon(request: AnyRequest) -> str:
    url = html.escape(asset_url(request, "page/icon.svg"), quote=True)
    return f'<link rel="icon" type="image/svg+xml" href="{url}">'


def docs_router(path: str = "/docs") -> Router:
    """The router to serve the docs from (``OpenAPIConfig(openapi_router=...)``):
    the docs pages with :data:`DOCS_POLICY`, ``nosniff`` and ``no-cache``."""
    headers = {
        **COMMON_HEADERS,
        "Content-Security-Policy": DOCS_POLICY,
        "Cache-Control": "no-cache",
    }
    return Router(path, route_handlers=[], include_in_schema=False, response_headers=headers)


def docs_render_plugins(
    swagger_path: str = "/", redoc_path: str = "/redoc"
) -> list[OpenAPIRenderPlugin]:
    """Swagger UI and ReDoc from the vendored files (needs :func:`page_routes`'
    static route in the same app; URLs are resolved per request, so any
    prefix works). No Google Fonts, no CDN: the docs work offline."""
    return [_Swagger(path=swagger_path), _Redoc(path=redoc_path, google_fonts=False)]
