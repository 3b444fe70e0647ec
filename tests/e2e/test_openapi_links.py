"""Issue 9.8: the OpenAPI document links login to verify to profile.

Schemathesis's stateful phase (tests/fuzz) follows these links; so can any
client. These tests check that each link names an operation of the
document and that its runtime expressions, evaluated on real answers,
make requests that work.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from referrals.application.policy import Policy
from tests.e2e.conftest import Api, MakeApi

EXPRESSION = re.compile(r"\$response\.body#(/[\w/]+)")


@pytest.fixture
async def document(api: Api) -> dict[str, Any]:
    response = await api.client.get("/docs/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(document: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """operationId -> (path, method)."""
    return {
        op["operationId"]: (path, method)
        for path, item in document["paths"].items()
        for method, op in item.items()
    }


def links_of(document: dict[str, Any], operation_id: str) -> dict[str, Any]:
    path, method = operations(document)[operation_id]
    links: dict[str, Any] = document["paths"][path][method]["responses"]["200"]["links"]
    return links


def evaluate(value: Any, answer: dict[str, Any]) -> Any:
    """A runtime expression (or an object of them) evaluated on a JSON answer."""
    if isinstance(value, dict):
        return {key: evaluate(item, answer) for key, item in value.items()}

    def pointer(match: re.Match[str]) -> str:
        found: Any = answer
        for part in match[1].strip("/").split("/"):
            found = found[part]
        return str(found)

    if value.startswith("$"):
        return pointer(EXPRESSION.fullmatch(value))  # type: ignore[arg-type]
    return re.sub(r"\{(\$[^}]+)\}", lambda m: pointer(EXPRESSION.fullmatch(m[1])), value)  # type: ignore[arg-type]


def request_path(
    document: dict[str, Any], api: Api, target: str, parameters: dict[str, str]
) -> str:
    path, _ = operations(document)[target]
    for name, value in parameters.items():
        if name.startswith("path."):
            path = path.replace("{" + name.removeprefix("path.") + "}", value)
    return path.removeprefix(api.prefix)


async def test_every_operation_has_an_id_of_its_mount(document: dict[str, Any], api: Api) -> None:
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    ours = [i for i in ids if i.startswith("referrals_")]
    under_api = [
        op["operationId"]
        for path, item in document["paths"].items()
        if f"{api.prefix}/api/" in f"{path}/"
        for op in item.values()
    ]
    assert len(ours) == len(under_api) >= 8
    assert len(set(ids)) == len(ids)


async def test_each_link_names_an_operation_of_the_document(document: dict[str, Any]) -> None:
    known = operations(document)
    for source in ("referrals_login", "referrals_verify"):
        for link in links_of(document, source).values():
            assert link["operationId"] in known


async def test_following_the_links_logs_in_and_reads_the_profile(
    document: dict[str, Any], api: Api
) -> None:
    login = await api.client.post("/api/login/", json={"phone": "+79991234567"})
    assert login.status_code == 200
    [to_verify] = links_of(document, "referrals_login").values()
    parameters = evaluate(to_verify["parameters"], login.json())
    body = evaluate(to_verify["requestBody"], login.json())
    path = request_path(document, api, to_verify["operationId"], parameters)

    verified = await api.client.post(path, json=body)

    assert verified.status_code == 200, verified.text
    api.client.cookies.clear()  # only the link's header authenticates what follows
    followed = links_of(document, "referrals_verify")
    assert set(followed) == {
        "read_profile",
        "apply_referral",
        "logout",
        "list_sessions",
        "delete_profile",
    }
    read = followed["read_profile"]
    headers = {
        name.removeprefix("header."): value
        for name, value in evaluate(read["parameters"], verified.json()).items()
    }
    profile = await api.client.get(
        request_path(document, api, read["operationId"], {}), headers=headers
    )
    assert profile.status_code == 200, profile.text
    assert profile.json()["phone"] == "+79991234567"


@pytest.mark.standalone
async def test_without_exposed_codes_the_login_link_carries_only_the_token(
    make_api: MakeApi,
) -> None:
    api = await make_api(Policy())
    document = (await api.client.get("/docs/openapi.json")).json()
    [to_verify] = links_of(document, "referrals_login").values()
    assert to_verify["parameters"] == {"path.token": "$response.body#/token"}
    assert "requestBody" not in to_verify
