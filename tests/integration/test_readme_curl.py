"""The README's curl flow, run as written against a live ``referrals serve``.

The commands are read from the README (between its ``curl-flow`` markers),
so the README cannot drift from what the server does: each ``<name>`` is
filled in from an earlier answer's JSON member of that name, as a reader
would, and the address is the test server's.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.processes import serving

pytestmark = pytest.mark.slow

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
ADDRESS = "http://127.0.0.1:8000"
"""Where the README's commands send their requests (``dev.py serve``'s default)."""


def curl_flow() -> list[str]:
    """The curl commands of the README's flow, in order."""
    part = README.split("--8<-- [start:curl-flow]")[1].split("--8<-- [end:curl-flow]")[0]
    block = re.findall(r"```sh\n(.*?)```", part, flags=re.DOTALL)[0]
    return [line for line in block.splitlines() if line.startswith("curl ")]


def filled(arg: str, known: dict[str, str]) -> str:
    """``arg`` with each ``<name>`` replaced by the value an earlier answer gave."""

    def value(match: re.Match[str]) -> str:
        assert match[1] in known, f"nothing earlier gives <{match[1]}>: {arg}"
        return known[match[1]]

    return re.sub(r"<(\w+)>", value, arg)


def a_friend(url: str) -> str:
    """Someone who signed in before: their invite code."""
    with httpx.Client(base_url=url) as client:
        login = client.post("/api/login/", json={"phone": "+7 912 345-67-89"}).json()
        verify = client.post(
            f"/api/verify/{login['token']}/", json={"confirm_code": login["confirm_code"]}
        )
        code: str = verify.json()["user"]["invite_referral_code"]
        return code


def test_the_readmes_curl_flow_works_as_written(tmp_path: Path) -> None:
    commands = curl_flow()
    steps = ["/api/login/", "/api/verify/", "/api/profile/", "used_referral_code", "/api/logout/"]
    assert [any(step in command for command in commands) for step in steps] == [True] * 5
    env = {"REFERRALS_DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    with serving(env, tmp_path) as (url, _):
        known = {"friend_code": a_friend(url)}
        answers = []
        for command in commands:
            args = [filled(arg, known) for arg in shlex.split(command.replace(ADDRESS, url))]
            result = subprocess.run(
                [*args, "-w", "\n%{http_code}"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            body, _, status = result.stdout.rpartition("\n")
            assert (result.returncode, status) == (0, "200"), f"{command}\n{result.stdout}"
            answer = json.loads(body)
            answers.append(answer)
            known.update({k: v for k, v in answer.items() if isinstance(v, str)})

        profile = answers[-2]["used_referral_code"], answers[-2]["phone"]
        assert profile == (known["friend_code"], "+79991234567")
        after_logout = httpx.get(
            f"{url}/api/profile/", headers={"authorization": f"Bearer {known['access_token']}"}
        )
        assert after_logout.status_code == 401  # the session ended at once


def test_the_readmes_addresses_of_the_server_answer(tmp_path: Path) -> None:
    links = set(re.findall(re.escape(ADDRESS) + r"(/[^\s>)`']*)", README))
    pages = {link for link in links if not link.startswith("/api/")}
    assert "/" in pages
    env = {"REFERRALS_DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    with serving(env, tmp_path) as (url, _):
        for page in pages:
            assert httpx.get(url + page, follow_redirects=True).status_code == 200, page
