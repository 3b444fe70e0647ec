"""``referrals serve --app`` serves a host's app given as the app itself
(``module:app``) as well as a factory of it, and refuses a target it cannot
load before it starts a server (docs/library.md)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import httpx
import pytest

from tests.processes import run_cli, serving

pytestmark = pytest.mark.slow

HOST_MODULE = textwrap.dedent(
    """
    from litestar import Litestar, get

    from referrals import load_settings
    from referrals.entrypoints.http import ReferralsPlugin


    @get("/health", sync_to_thread=False)
    def health() -> str:
        return "ok"


    def create_app() -> Litestar:
        return Litestar([health], plugins=[ReferralsPlugin(load_settings(), path="/auth")])


    app = create_app()
    """
)


@pytest.mark.parametrize("target", ["shop:app", "shop:create_app"])
def test_a_host_app_is_served_as_an_app_or_from_its_factory(tmp_path: Path, target: str) -> None:
    (tmp_path / "shop.py").write_text(HOST_MODULE)
    env = {
        "PYTHONPATH": str(tmp_path),
        "REFERRALS_DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
    }

    with serving(env, tmp_path, "--app", target) as (url, process):
        login = httpx.post(f"{url}/auth/login/", json={"phone": "+79991234567"})
        assert login.status_code == 200, login.text + process.output()
    assert "TypeError" not in process.output()


def test_a_target_that_cannot_be_loaded_is_refused_before_serving(tmp_path: Path) -> None:
    result = run_cli("serve", "--app", "no_such_module:app", env={"PYTHONPATH": str(tmp_path)})

    assert result.returncode == 2, result.stdout + result.stderr
    assert "--app no_such_module:app: No module named 'no_such_module'" in result.stderr
