"""docs/http-api.md: OpenAPI 3.1 generated from the code, Swagger UI and ReDoc, and
``/`` leading somewhere useful. The document must describe what the routes
really answer: each error status a route sends, as ``application/problem+json``."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

import referrals
from referrals.entrypoints.http.app import openapi_config
from tests.e2e.conftest import PROBLEM_JSON, Api, MakeApi, login, sign_in, verify

ROOT = Path(__file__).resolve().parents[2]

OPERATIONS: dict[tuple[str, str], set[int]] = {
    ("/api/login", "post"): {200, 400, 408, 413, 415, 429, 431, 503},
    ("/api/verify/{token}", "post"): {200, 400, 408, 413, 415, 429, 431, 503},
    ("/api/profile", "get"): {200, 400, 401, 503},
    ("/api/profile", "post"): {200, 400, 401, 404, 409, 408, 413, 415, 429, 431, 503},
    ("/api/logout", "get"): {200, 403, 503},
    ("/api/logout", "post"): {200, 403, 503},
}
"""Every operation of docs/http-api.md and the statuses it really answers (each one
is provoked by a test of this suite, or of tests/integration/test_server_limits.py
for the request guard's 400, 408 and 431)."""


@pytest.fixture
async def document(api: Api) -> dict[str, Any]:
    """The OpenAPI document, with the paths of the API as if it were not mounted
    (``/auth/api/login`` in a host that mounted it under ``/auth`` reads ``/api/login``)."""
    response = await api.client.get("/docs/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    if api.prefix:
        mounted = {p: item for p, item in body["paths"].items() if p.startswith(api.prefix)}
        assert mounted, "the host's document lists the mounted API's operations"
        body["paths"] = {p.removeprefix(api.prefix): item for p, item in mounted.items()}
    return body


def operation(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    found: dict[str, Any] = document["paths"][path][method]
    return found


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = document["components"]["schemas"][name]
    return schema


def test_the_package_and_its_document_carry_one_version() -> None:
    """pyproject.toml, the package metadata read from it, ``referrals.__version__``
    and the standalone app's OpenAPI document (a host's carries the host's)."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]

    assert referrals.__version__ == declared
    assert openapi_config().version == declared


async def test_the_document_is_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    assert document["info"]["title"]
    assert document["info"]["version"]


async def test_the_document_lists_every_endpoint(document: dict[str, Any]) -> None:
    listed = {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }

    assert set(OPERATIONS) <= listed


@pytest.mark.parametrize(("path", "method"), OPERATIONS.keys())
async def test_each_route_documents_the_statuses_it_sends(
    document: dict[str, Any], path: str, method: str
) -> None:
    responses = operation(document, path, method)["responses"]

    assert {int(status) for status in responses} == OPERATIONS[path, method]


@pytest.mark.parametrize(("path", "method"), OPERATIONS.keys())
async def test_each_error_is_documented_as_a_problem(
    document: dict[str, Any], path: str, method: str
) -> None:
    responses = operation(document, path, method)["responses"]

    for status, response in responses.items():
        if int(status) < 400:
            assert set(response["content"]) == {"application/json"}, status
            continue
        assert set(response["content"]) == {PROBLEM_JSON}, (path, method, status)
        schema = resolve(document, response["content"][PROBLEM_JSON]["schema"])
        assert {"title", "status", "detail", "code"} <= set(schema["required"])
        assert response["description"]


async def test_no_error_is_documented_as_plain_json(document: dict[str, Any]) -> None:
    leftovers = [
        (path, method, status)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict)
        for status, response in op.get("responses", {}).items()
        if int(status) >= 400 and "application/json" in response.get("content", {})
    ]

    assert leftovers == []


async def test_the_problem_schema_documents_the_extra_members(document: dict[str, Any]) -> None:
    problem = document["components"]["schemas"]["Problem"]

    assert {"title", "status", "detail", "code", "type", "errors", "attempts_left"} <= set(
        problem["properties"]
    )
    # Left out of the answers that do not need them, never sent as null.
    for member in ("errors", "attempts_left"):
        assert member not in problem["required"]
        assert '"null"' not in str(problem["properties"][member]).replace("'", '"')


async def test_the_profile_routes_declare_both_ways_to_authenticate(
    document: dict[str, Any],
) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["ReferralsBearer"] == {"type": "http", "scheme": "bearer"}
    assert schemes["ReferralsSession"]["in"] == "cookie"
    assert schemes["ReferralsSession"]["name"] == "referrals_session"

    for method in ("get", "post"):
        security = operation(document, "/api/profile", method)["security"]
        assert {name for entry in security for name in entry} == {
            "ReferralsBearer",
            "ReferralsSession",
        }


async def test_the_page_parameters_are_documented_with_their_bounds(
    document: dict[str, Any],
) -> None:
    parameters = {p["name"]: p for p in operation(document, "/api/profile", "get")["parameters"]}

    assert parameters["limit"]["in"] == "query"
    assert parameters["limit"]["schema"]["minimum"] == 1
    assert parameters["limit"]["schema"]["maximum"] == 1000
    assert parameters["cursor"]["in"] == "query"


@pytest.mark.parametrize(
    ("path", "method"), [("/api/profile", "post"), ("/api/verify/{token}", "post")]
)
async def test_the_device_header_is_declared_where_it_is_read(
    document: dict[str, Any], path: str, method: str
) -> None:
    parameters = {p["name"].lower(): p for p in operation(document, path, method)["parameters"]}

    device = parameters["x-device-id"]
    assert device["in"] == "header"
    assert not device.get("required", False)
    assert "pattern" not in device["schema"]  # a malformed id is ignored, never refused


async def test_the_documented_bodies_match_the_real_answers(
    client: AsyncTestClient[Any], document: dict[str, Any]
) -> None:
    schemas = document["components"]["schemas"]
    challenge = await login(client)
    login_body = challenge.response.json()
    verify_body = (await verify(client, challenge.token, challenge.code)).json()

    for name, body in (
        ("LoginOut", login_body),
        ("VerifyOut", verify_body),
        ("ProfileOut", verify_body["user"]),
    ):
        schema = schemas[name]
        assert set(schema["required"]) <= set(body), name
        assert set(body) <= set(schema["properties"]), name
    assert "confirm_code" not in schemas["LoginOut"]["required"]


async def test_the_documented_request_bodies_are_json(document: dict[str, Any]) -> None:
    for path, method in (
        ("/api/login", "post"),
        ("/api/verify/{token}", "post"),
        ("/api/profile", "post"),
    ):
        body = operation(document, path, method)["requestBody"]
        assert body["required"] is True
        assert set(body["content"]) == {"application/json"}


async def test_the_document_is_the_same_on_every_start(make_api: MakeApi) -> None:
    """No generated random examples (they made the document change at each start)."""
    first = await make_api()
    second = await make_api()

    one = (await first.client.get("/docs/openapi.json")).json()
    two = (await second.client.get("/docs/openapi.json")).json()

    assert one == two


async def test_the_problem_examples_are_real_problems(document: dict[str, Any]) -> None:
    problem = document["components"]["schemas"]["Problem"]

    for example in problem.get("examples", []):
        assert 400 <= example["status"] <= 599
        assert example["type"] == "about:blank"


# --- the interactive documentation ------------------------------------------


@pytest.mark.standalone  # "/" belongs to the standalone app, not to the plugin
async def test_the_root_is_a_page_that_links_to_the_documentation(
    client: AsyncTestClient[Any],
) -> None:
    response = await client.get("/", follow_redirects=False)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'href="/docs"' in response.text


@pytest.mark.parametrize(("path", "marker"), [("/docs", "swagger-ui"), ("/docs/redoc", "redoc")])
async def test_the_documentation_pages_are_html(
    client: AsyncTestClient[Any], path: str, marker: str
) -> None:
    response = await client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert marker in response.text.lower()


async def test_the_documentation_needs_no_session(client: AsyncTestClient[Any]) -> None:
    await sign_in(client)
    client.cookies.clear()

    assert (await client.get("/docs/openapi.json")).status_code == 200
