"""`referrals serve` holds its limits against clients that send too much, too slowly,
or too many connections: a real server process, attacked over sockets."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import Process, serving, wait_until_serving

pytestmark = pytest.mark.slow

MIB = 1024 * 1024


def group_rss_mib(process: Process) -> float:
    """VmRSS of the server and its workers (its process group), in MiB."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError, StopIteration):
            if int(stat.read_text().rsplit(")", 1)[1].split()[2]) != process.popen.pid:
                continue
            status = (stat.parent / "status").read_text().splitlines()
            total += int(next(x for x in status if x.startswith("VmRSS:")).split()[1])
    return total / 1024


@contextlib.contextmanager
def server(tmp_path: Path, *limits: str, **settings: str) -> Iterator[tuple[str, Process]]:
    env = {"REFERRALS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/db.sqlite3"}
    env.update({f"REFERRALS_{name.upper()}": value for name, value in settings.items()})
    with serving(env, tmp_path, *limits) as (url, process):
        yield url, process


def connect(url: str, timeout: float = 30) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=timeout)


def answer_or_close(sock: socket.socket) -> bytes:
    """What the server sends before it closes (b"" if it closes or resets at once)."""
    received = b""
    with contextlib.suppress(ConnectionError):
        while chunk := sock.recv(65536):
            received += chunk
    return received


def send_headers_until_refused(url: str, total: int, pause: float) -> tuple[int, bytes]:
    """Send one request head of ``total`` bytes in 1 MiB pieces; how much went out
    before the server stopped it, and what it answered."""
    line = b"X-Padding: " + b"a" * 1012 + b"\r\n"  # 1 KiB per header line
    piece = line * 1024
    sent = 0
    with connect(url) as sock:
        try:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\n")
            while sent < total:
                sock.sendall(piece)
                sent += len(piece)
                time.sleep(pause)
        except OSError:  # reset or broken pipe: the server closed the connection
            pass
        return sent, answer_or_close(sock)


def test_eight_requests_with_128_mib_of_headers_are_refused_and_the_server_does_not_grow(
    tmp_path: Path,
) -> None:
    with server(tmp_path) as (url, process):
        assert httpx.get(f"{url}/health").status_code == 200
        before = group_rss_mib(process)
        results: list[tuple[int, bytes]] = []

        def attack() -> None:
            results.append(send_headers_until_refused(url, 128 * MIB, pause=0.01))

        attackers = [threading.Thread(target=attack) for _ in range(8)]
        for attacker in attackers:
            attacker.start()
        served_meanwhile = httpx.get(f"{url}/health", timeout=30)
        for attacker in attackers:
            attacker.join()
        after = group_rss_mib(process)

        assert served_meanwhile.status_code == 200
        assert len(results) == 8
        for sent, answer in results:
            assert sent < 128 * MIB  # cut off long before the end
            assert answer == b"" or answer.startswith(b"HTTP/1.1 431 ")
        assert after - before < 64, f"{before:.0f} MiB -> {after:.0f} MiB"
        assert httpx.get(f"{url}/health").status_code == 200
        assert process.popen.poll() is None


def test_a_head_over_the_limit_gets_431_and_one_under_it_is_served(tmp_path: Path) -> None:
    with server(tmp_path, "--max-header-size", "16384") as (url, _):
        big = httpx.get(f"{url}/health", headers={"X-Padding": "a" * 20_000})
        fine = httpx.get(f"{url}/health", headers={"X-Padding": "a" * 10_000})

    assert big.status_code == 431
    assert fine.status_code == 200


def test_a_slow_header_client_is_cut_off_while_others_are_served(tmp_path: Path) -> None:
    with server(tmp_path, "--header-timeout", "1") as (url, process):
        with connect(url) as slow:
            slow.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\n")
            slow.settimeout(0.2)
            lines_sent, answer = 0, None
            while answer is None and lines_sent < 300:  # 60 s of trickling at most
                try:
                    slow.sendall(b"X-Slow: 1\r\n")
                    lines_sent += 1
                    answer = slow.recv(65536)  # b"" once the server closes
                except TimeoutError:
                    assert httpx.get(f"{url}/health", timeout=10).status_code == 200
                except ConnectionError:
                    answer = b""
        assert answer is not None, "the slow client was never cut off"
        assert not answer.startswith(b"HTTP/1.1 200")
        assert lines_sent < 300
        assert httpx.get(f"{url}/health").status_code == 200
        assert process.popen.poll() is None


def test_an_idle_kept_alive_connection_is_closed_after_the_header_timeout(
    tmp_path: Path,
) -> None:
    with server(tmp_path, "--header-timeout", "1") as (url, _), connect(url) as idle:
        idle.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
        assert idle.recv(65536).startswith(b"HTTP/1.1 200")
        assert answer_or_close(idle) == b""  # closed by the server, not by the 30 s timeout


def test_connections_beyond_the_cap_wait_and_do_not_take_the_server_down(
    tmp_path: Path,
) -> None:
    limits = ("--max-connections", "4", "--backlog", "128", "--header-timeout", "30")
    with server(tmp_path, *limits) as (url, process):
        holders = [connect(url) for _ in range(4)]
        for holder in holders:
            holder.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\n")  # never finished
        waiting = connect(url)
        waiting.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        waiting.settimeout(1)
        with pytest.raises(TimeoutError):
            waiting.recv(65536)  # all four slots are taken: it waits in the queue

        flood = []
        for _ in range(1000):  # far more than the cap and the listen queue
            flood_socket = socket.socket()
            flood_socket.setblocking(False)
            flood_socket.connect_ex(("127.0.0.1", int(url.rsplit(":", 1)[1])))
            flood.append(flood_socket)
        for holder in holders:
            holder.close()
        waiting.settimeout(30)
        assert answer_or_close(waiting).startswith(b"HTTP/1.1 200")
        for flood_socket in flood:
            flood_socket.close()
        waiting.close()

        assert httpx.get(f"{url}/health", timeout=30).status_code == 200
        assert process.popen.poll() is None


def worker_pids(process: Process) -> set[int]:
    children = Path(f"/proc/{process.popen.pid}/task/{process.popen.pid}/children")
    return {int(pid) for pid in children.read_text().split()}


def test_a_worker_that_dies_is_replaced_and_the_server_answers_again(tmp_path: Path) -> None:
    with server(tmp_path) as (url, process):
        (worker,) = worker_pids(process)
        os.kill(worker, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and worker_pids(process) in (set(), {worker}):
            time.sleep(0.1)
        wait_until_serving(url, process)

        assert httpx.get(f"{url}/health").status_code == 200
        assert worker not in worker_pids(process)
        assert process.popen.poll() is None


def head_of(size: int) -> bytes:
    """A GET whose head (request line, headers, closing CRLF) is ``size`` bytes."""
    start = b"GET /health/live HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
    padding = size - len(start) - len(b"X-Padding: \r\n\r\n")
    head = start + b"X-Padding: " + b"a" * padding + b"\r\n\r\n"
    assert len(head) == size
    return head


def exchange(url: str, data: bytes, timeout: float = 30) -> bytes:
    with connect(url, timeout) as sock:
        sock.sendall(data)
        return answer_or_close(sock)


def problem_code(answer: bytes) -> str:
    body = answer.split(b"\r\n\r\n", 1)[1]
    return str(json.loads(body)["code"])


def test_the_head_limit_is_exactly_64_kib(tmp_path: Path) -> None:
    with server(tmp_path) as (url, _):
        at_the_limit = exchange(url, head_of(64 * 1024))
        one_over = exchange(url, head_of(64 * 1024 + 1))

    assert at_the_limit.startswith(b"HTTP/1.1 200 ")
    assert one_over.startswith(b"HTTP/1.1 431 ")
    assert problem_code(one_over) == "header_too_large"


LOGIN_HEAD = b"POST /api/login/ HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"


def test_a_stalled_body_gets_408_and_the_connection_is_closed(tmp_path: Path) -> None:
    with server(tmp_path, body_idle_timeout="1") as (url, _):
        # Past the socket's 30 s timeout, exchange raises: the server must end it.
        answer = exchange(url, LOGIN_HEAD + b'Content-Length: 100\r\n\r\n{"phone": "+7')

    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"connection: close" in answer.lower()
    assert problem_code(answer) == "request_timeout"


def trickle(url: str, pause: float, results: list[bytes]) -> None:
    """A login body of 100 announced bytes, one byte per ``pause``, until the server stops it."""
    with connect(url) as sock:
        sock.sendall(LOGIN_HEAD + b"Content-Length: 100\r\n\r\n")
        sock.settimeout(pause)
        answer = b""
        for _ in range(99):
            try:
                sock.sendall(b" ")
                answer = sock.recv(65536)
                break
            except TimeoutError:
                continue
            except OSError:
                break
        sock.settimeout(10)
        results.append(answer + answer_or_close(sock))


def test_many_trickling_bodies_are_cut_while_the_server_stays_live(tmp_path: Path) -> None:
    with server(tmp_path, body_timeout="3", body_idle_timeout="2") as (url, process):
        results: list[bytes] = []
        clients = [threading.Thread(target=trickle, args=(url, 0.5, results)) for _ in range(200)]
        for client in clients:
            client.start()
        live = [httpx.get(f"{url}/health/live", timeout=5).status_code for _ in range(3)]
        for client in clients:
            client.join()
        metrics = httpx.get(f"{url}/metrics").text
        assert process.popen.poll() is None

    assert live == [200, 200, 200]
    assert len(results) == 200
    assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in results), results[:3]
    assert not re.search(r'referrals_http_requests_total\{[^}]*status="5', metrics)


MALFORMED_CHUNK = LOGIN_HEAD + b"Transfer-Encoding: chunked\r\n\r\nZZ\r\n\r\n"


@pytest.mark.parametrize("path", ["/api/login/", "/api/verify/abc/", "/api/profile/"])
def test_a_malformed_chunked_body_gets_400_never_a_5xx(tmp_path: Path, path: str) -> None:
    with server(tmp_path) as (url, _):
        answer = exchange(url, MALFORMED_CHUNK.replace(b"/api/login/", path.encode()))
        metrics = httpx.get(f"{url}/metrics").text

    assert answer.startswith(b"HTTP/1.1 400 ")
    assert problem_code(answer) == "request_incomplete"
    assert not re.search(r'referrals_http_requests_total\{[^}]*status="5', metrics)


def test_a_client_that_leaves_mid_body_costs_no_5xx(tmp_path: Path) -> None:
    with server(tmp_path) as (url, _):
        for _ in range(20):
            with connect(url) as sock:
                sock.sendall(LOGIN_HEAD + b'Content-Length: 100\r\n\r\n{"phone": "+7')
        deadline = time.monotonic() + 30
        while 'status="400"} 20.0' not in (metrics := httpx.get(f"{url}/metrics").text):
            assert time.monotonic() < deadline, metrics
            time.sleep(0.1)

    assert not re.search(r'referrals_http_requests_total\{[^}]*status="5', metrics)
