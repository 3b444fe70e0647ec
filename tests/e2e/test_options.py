"""OPTIONS lists every method a path takes (found by schemathesis, tests/fuzz).

Litestar 2 builds the answer to OPTIONS from the first handler registered on
a path only (litestar-org/litestar#4169), so ``/api/profile/`` said
``Allow: GET, OPTIONS`` although it takes POST too.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Api


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/api/profile/", {"GET", "POST", "DELETE", "OPTIONS"}),
        ("/api/profile", {"GET", "POST", "DELETE", "OPTIONS"}),
        ("/api/logout/", {"GET", "POST", "OPTIONS"}),
        ("/api/login/", {"POST", "OPTIONS"}),
        ("/api/verify/some-token/", {"GET", "POST", "OPTIONS"}),
        ("/api/verify/some-token", {"GET", "POST", "OPTIONS"}),
    ],
)
async def test_options_lists_every_method_of_the_path(
    api: Api, path: str, methods: set[str]
) -> None:
    response = await api.client.options(path)

    assert response.status_code == 204
    assert {m.strip() for m in response.headers["allow"].split(",")} == methods
