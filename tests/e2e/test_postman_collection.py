"""The Postman collection (issue 11) covers the API as the OpenAPI document
describes it; ``tests/integration/test_postman.py`` runs it with newman."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.artifacts import ROOT

POSTMAN = ROOT / "postman"


def requests(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for item in items:
        found += requests(item["item"]) if "item" in item else [item]
    return found


def template(raw_url: str) -> str:
    """``{{baseUrl}}/api/verify/{{tokenA}}/?x=1`` as ``/api/verify/{token}``
    (and ``/api/sessions/{{sessionIdA}}/`` as ``/api/sessions/{session_id}``)."""
    path = raw_url.removeprefix("{{baseUrl}}").split("?")[0].rstrip("/")
    path = re.sub(r"/receipts/[^/]+", "/receipts/{channel}", path)
    path = re.sub(r"/sessions/\{\{\w+\}\}", "/sessions/{session_id}", path)
    path = re.sub(r"/delete/\{\{\w+\}\}", "/delete/{deletion}", path)
    path = re.sub(r"/phone/\{\{\w+\}\}", "/phone/{change}", path)
    return re.sub(r"/verify/[^/]+", "/verify/{token}", path)


@pytest.mark.standalone  # the collection targets the standalone app's paths
async def test_the_collection_calls_every_operation_of_the_api(
    client: AsyncTestClient[Any],
) -> None:
    document = (await client.get("/docs/openapi.json")).json()
    operations = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        if path.startswith("/api/")
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    collection = json.loads((POSTMAN / "referrals.postman_collection.json").read_text())

    called = {
        (item["request"]["method"], template(item["request"]["url"]["raw"]))
        for item in requests(collection["item"])
    }

    assert operations
    assert operations <= called


def test_the_collection_is_v2_1_pointed_by_base_url_with_tests_everywhere() -> None:
    collection = json.loads((POSTMAN / "referrals.postman_collection.json").read_text())
    environment = json.loads((POSTMAN / "referrals.postman_environment.json").read_text())

    assert collection["info"]["schema"].endswith("/v2.1.0/collection.json")
    assert "baseUrl" in {v["key"] for v in collection["variable"]}
    assert "baseUrl" in {v["key"] for v in environment["values"]}
    for item in requests(collection["item"]):
        assert item["request"]["url"]["raw"].startswith("{{baseUrl}}/"), item["name"]
        tests = [e for e in item["event"] if e["listen"] == "test"]
        assert tests, item["name"]
        assert "pm.test(" in "\n".join(tests[0]["script"]["exec"]), item["name"]
