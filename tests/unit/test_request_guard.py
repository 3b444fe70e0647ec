"""The request guard counts a head as it is sent, and no answer invents a code."""

from __future__ import annotations

from typing import Any

import pytest

from referrals.entrypoints.http.handlers import _http_kind
from referrals.entrypoints.http.request_guard import head_size
from referrals.problems import CATALOGUE


def test_a_head_is_counted_as_the_bytes_it_took_on_the_wire() -> None:
    wire = b"GET /a%20b?x=1 HTTP/1.1\r\nHost: test\r\nX-Padding: aaaa\r\n\r\n"
    scope: Any = {
        "type": "http",
        "method": "GET",
        "path": "/a b",
        "raw_path": b"/a%20b",
        "query_string": b"x=1",
        "headers": [(b"host", b"test"), (b"x-padding", b"aaaa")],
    }

    assert head_size(scope) == len(wire)


@pytest.mark.parametrize("status", [400, 402, 406, 418, 422, 500, 501, 502])
def test_every_status_litestar_may_answer_maps_to_a_code_of_the_catalogue(status: int) -> None:
    codes = {kind.code for kind in CATALOGUE}

    assert _http_kind(status).code in codes
    assert (_http_kind(status).status >= 500) == (status >= 500)
