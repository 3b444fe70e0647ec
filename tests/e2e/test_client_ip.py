"""docs/rules.md: the client IP is the socket peer unless the peer is a configured
trusted proxy; ``X-Forwarded-For`` is never trusted by default.

The per-address send limit makes the address the API uses visible: with
``ip_send=Limit(1, …)`` a second code from the same address is refused.

Litestar's test client always reports the peer ``"testclient"`` (not an IP
address), so the tests that need a real peer address run the app behind
:func:`~tests.e2e.conftest.with_peer`, which sets it as a real server would.
"""

from __future__ import annotations

import ipaddress

from referrals.application.ports import Limit
from tests.e2e.conftest import Api, MakeApi, assert_problem, exposed_policy, phone_number

ONE_CODE_PER_ADDRESS = exposed_policy(ip_send=Limit(1, 3600))
LOCALHOST = (ipaddress.ip_network("127.0.0.1/32"),)
PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128"))


async def send_code(api: Api, n: int, forwarded_for: str | None = None) -> int:
    """Ask for a code for the ``n``-th phone; the status."""
    headers = {} if forwarded_for is None else {"X-Forwarded-For": forwarded_for}
    response = await api.client.post(
        "/api/login/", json={"phone": phone_number(n)}, headers=headers
    )
    if response.status_code == 429:
        assert_problem(response, 429, "rate_limited")
    return int(response.status_code)


async def test_x_forwarded_for_is_ignored_by_default(make_api: MakeApi) -> None:
    api = await make_api(ONE_CODE_PER_ADDRESS)

    first = await send_code(api, 1, "203.0.113.1")
    spoofed = await send_code(api, 2, "203.0.113.2")

    assert (first, spoofed) == (200, 429)


async def test_x_forwarded_for_is_ignored_from_an_untrusted_peer(make_api: MakeApi) -> None:
    api = await make_api(ONE_CODE_PER_ADDRESS, peer="192.0.2.7", trusted_proxies=LOCALHOST)

    first = await send_code(api, 1, "203.0.113.1")
    spoofed = await send_code(api, 2, "203.0.113.2")

    assert (first, spoofed) == (200, 429)


async def test_a_peer_that_is_not_an_ip_address_is_never_trusted(make_api: MakeApi) -> None:
    # The test client's own peer, "testclient", with every address trusted.
    everything = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))
    api = await make_api(ONE_CODE_PER_ADDRESS, trusted_proxies=everything)

    first = await send_code(api, 1, "203.0.113.1")
    spoofed = await send_code(api, 2, "203.0.113.2")

    assert (first, spoofed) == (200, 429)


async def test_x_forwarded_for_is_honoured_from_a_trusted_proxy(make_api: MakeApi) -> None:
    api = await make_api(ONE_CODE_PER_ADDRESS, peer="127.0.0.1", trusted_proxies=LOCALHOST)

    alice = await send_code(api, 1, "203.0.113.1")
    bob = await send_code(api, 2, "203.0.113.2")
    alice_again = await send_code(api, 3, "203.0.113.1")

    assert (alice, bob, alice_again) == (200, 200, 429)


async def test_the_nearest_untrusted_address_in_the_chain_is_the_client(
    make_api: MakeApi,
) -> None:
    api = await make_api(ONE_CODE_PER_ADDRESS, peer="10.0.0.2", trusted_proxies=PROXIES)

    # The client may prepend anything; the proxies append what they saw.
    first = await send_code(api, 1, "1.1.1.1, 203.0.113.9, 10.0.0.1")
    other_spoof = await send_code(api, 2, "2.2.2.2, 203.0.113.9, 10.0.0.1")
    other_client = await send_code(api, 3, "1.1.1.1, 198.51.100.4, 10.0.0.1")

    assert (first, other_spoof, other_client) == (200, 429, 200)


async def test_several_forwarded_headers_are_read_as_one_chain(make_api: MakeApi) -> None:
    api = await make_api(ONE_CODE_PER_ADDRESS, peer="127.0.0.1", trusted_proxies=LOCALHOST)
    first = await send_code(api, 1, "203.0.113.1")

    # The client's own header line comes first; the proxy's line, last, counts.
    response = await api.client.post(
        "/api/login/",
        json={"phone": phone_number(2)},
        headers=[("X-Forwarded-For", "198.51.100.1"), ("X-Forwarded-For", "203.0.113.1")],
    )

    assert first == 200
    assert_problem(response, 429, "rate_limited")


async def test_a_trusted_proxy_without_the_header_is_the_client(make_api: MakeApi) -> None:
    api = await make_api(ONE_CODE_PER_ADDRESS, peer="127.0.0.1", trusted_proxies=LOCALHOST)

    first = await send_code(api, 1)
    second = await send_code(api, 2)

    assert (first, second) == (200, 429)


async def test_garbage_in_x_forwarded_for_falls_back_to_the_peer(make_api: MakeApi) -> None:
    api = await make_api(ONE_CODE_PER_ADDRESS, peer="127.0.0.1", trusted_proxies=LOCALHOST)

    first = await send_code(api, 1, "not-an-address")
    second = await send_code(api, 2, "<script>")
    third = await send_code(api, 3, ", , ,")

    assert (first, second, third) == (200, 429, 429)


async def test_an_ipv6_client_is_its_64_network(make_api: MakeApi) -> None:
    api = await make_api(ONE_CODE_PER_ADDRESS, peer="::1", trusted_proxies=PROXIES)

    first = await send_code(api, 1, "2001:db8::1")
    same = await send_code(api, 2, "2001:DB8:0::1")
    same_network = await send_code(api, 3, "2001:db8::2")
    other_network = await send_code(api, 4, "2001:db8:0:1::1")

    assert (first, same, same_network, other_network) == (200, 429, 429, 200)


async def test_ten_addresses_of_one_ipv6_network_share_a_limit_of_three(
    make_api: MakeApi,
) -> None:
    api = await make_api(
        exposed_policy(ip_send=Limit(3, 3600)), peer="::1", trusted_proxies=PROXIES
    )

    statuses = [await send_code(api, n, f"2001:db8:1:2::{n + 1:x}") for n in range(10)]

    assert statuses == [200] * 3 + [429] * 7


async def test_the_ipv6_network_size_is_a_setting(make_api: MakeApi) -> None:
    api = await make_api(
        exposed_policy(ip_send=Limit(1, 3600), ipv6_prefix=128),
        peer="::1",
        trusted_proxies=PROXIES,
    )

    assert [await send_code(api, n, f"2001:db8::{n + 1}") for n in range(2)] == [200, 200]


async def test_an_ipv4_mapped_peer_is_its_ipv4_address(make_api: MakeApi) -> None:
    api = await make_api(ONE_CODE_PER_ADDRESS, peer="::ffff:10.0.0.2", trusted_proxies=PROXIES)

    first = await send_code(api, 1, "203.0.113.1")
    mapped_client = await send_code(api, 2, "::ffff:203.0.113.1")
    other = await send_code(api, 3, "203.0.113.2")

    assert (first, mapped_client, other) == (200, 429, 200)


async def test_ports_in_forwarded_addresses_are_ignored(make_api: MakeApi) -> None:
    api = await make_api(ONE_CODE_PER_ADDRESS, peer="127.0.0.1", trusted_proxies=LOCALHOST)

    first = await send_code(api, 1, "203.0.113.1:4711")
    same = await send_code(api, 2, "203.0.113.1:4712")
    v6 = await send_code(api, 3, "[2001:db8::1]:443")

    assert (first, same, v6) == (200, 429, 200)


async def forwarded(api: Api, n: int, *lines: str) -> int:
    headers = [("Forwarded", line) for line in lines]
    response = await api.client.post(
        "/api/login/", json={"phone": phone_number(n)}, headers=headers
    )
    return int(response.status_code)


async def test_the_rfc_7239_forwarded_header_is_read_when_configured(make_api: MakeApi) -> None:
    api = await make_api(
        ONE_CODE_PER_ADDRESS,
        peer="10.0.0.2",
        trusted_proxies=PROXIES,
        forwarded_header="forwarded",
    )

    first = await forwarded(api, 1, 'for=1.1.1.1, for=203.0.113.9;proto=https, for="10.0.0.1"')
    spoofed = await forwarded(api, 2, "for=2.2.2.2", "for=203.0.113.9;by=10.0.0.1")
    other = await forwarded(api, 3, 'For="[2001:db8:cafe::17]:4711"')
    unknown = await forwarded(api, 4, "for=unknown")  # the proxy is all we know
    proxy_again = await forwarded(api, 5, "for=_hidden")

    assert (first, spoofed, other, unknown, proxy_again) == (200, 429, 200, 200, 429)


async def test_forwarded_is_ignored_unless_configured(make_api: MakeApi) -> None:
    api = await make_api(ONE_CODE_PER_ADDRESS, peer="127.0.0.1", trusted_proxies=LOCALHOST)

    first = await forwarded(api, 1, "for=203.0.113.1")
    spoofed = await forwarded(api, 2, "for=203.0.113.2")

    assert (first, spoofed) == (200, 429)


async def test_x_forwarded_for_is_ignored_when_forwarded_is_configured(
    make_api: MakeApi,
) -> None:
    api = await make_api(
        ONE_CODE_PER_ADDRESS,
        peer="127.0.0.1",
        trusted_proxies=LOCALHOST,
        forwarded_header="forwarded",
    )

    first = await send_code(api, 1, "203.0.113.1")
    spoofed = await send_code(api, 2, "203.0.113.2")

    assert (first, spoofed) == (200, 429)


async def test_the_verify_limit_uses_the_same_client_address(make_api: MakeApi) -> None:
    policy = exposed_policy(ip_verify=Limit(1, 300))
    api = await make_api(policy, peer="127.0.0.1", trusted_proxies=LOCALHOST)

    async def attempt(address: str) -> int:
        response = await api.client.post(
            "/api/verify/unknown-token/",
            json={"confirm_code": "1234"},
            headers={"X-Forwarded-For": address},
        )
        return int(response.status_code)

    assert [
        await attempt("203.0.113.1"),
        await attempt("203.0.113.2"),
        await attempt("203.0.113.1"),
    ] == [400, 400, 429]
