"""The client matrix across generations: older and newer drivers and the tools built on them, each
pinned in its own environment (tests/clients/install). Each logs in with a password and with a key
pair, runs a context query and closes (logging out); a wrong password must be reported with
Snowflake's code 390100; and each keeps working past its session token's expiry by renewing it."""

from __future__ import annotations

import shutil
import sys

import pytest

from conftest import CLIENTS, Matrix, venv_bin

LOGOUT = "/session?delete=true"
RENEW = "/session/token-request"
LOGIN = "/session/v1/login-request"


def _node(project: str) -> list[str]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed", pytrace=False)
    if not (CLIENTS / project / "node_modules" / "snowflake-sdk").is_dir():
        pytest.fail(f"tests/clients/{project}/node_modules missing: run tests/clients/install", pytrace=False)
    return [node, str(CLIENTS / "node_generation_client.js"), str(CLIENTS / project)]


# name: (argv, logouts of a full run: one per connection the client opens and closes)
CLIENTS_BY_NAME = {
    "connector 2.9": (lambda: [venv_bin("connector29", "python"), str(CLIENTS / "connector_client.py")], 2),
    "connector 3.x": (lambda: [venv_bin("connector3", "python"), str(CLIENTS / "connector_client.py")], 2),
    # The project's .venv (tests/requirements.txt) has connector 5.x, whose aio API needs no extra.
    "connector 5.x aio": (lambda: [sys.executable, str(CLIENTS / "aio_client.py")], 2),
    "node snowflake-sdk 1.x": (lambda: _node("node-sdk1"), 2),
    "node snowflake-sdk 2.x": (lambda: _node("node-sdk2"), 2),
    "ibis": (lambda: [venv_bin("ibis", "python"), str(CLIENTS / "ibis_client.py")], 2),
    # get_first and get_conn each open and close a connection, for each of the two users.
    "airflow SnowflakeHook": (lambda: [venv_bin("airflow", "python"), str(CLIENTS / "airflow_client.py")], 4),
}


def _run(matrix: Matrix, name: str, argv: list[str]) -> None:
    # In the test's directory: Node snowflake-sdk 1.x and 2.x write snowflake.log where they run.
    proc = matrix.run(name, argv, cwd=str(matrix.tmp))
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout}\n{proc.stderr[-4000:]}"


@pytest.mark.parametrize("name", CLIENTS_BY_NAME)
def test_password_key_pair_context_close_and_wrong_password(matrix, name):
    argv, logouts = CLIENTS_BY_NAME[name]
    _run(matrix, name, argv())
    out = matrix.recording.paths()
    # Every connection logged out; the wrong password was a login of its own, answered 390100
    # (the client script asserts the code it reports).
    assert out.count(LOGOUT) == logouts, out
    assert out.count(LOGIN) == logouts + 1, out
    assert matrix.recording.login_codes[-1] == "390100", matrix.recording.login_codes


@pytest.mark.parametrize("name", CLIENTS_BY_NAME)
def test_renews_an_expired_session_token(short_ttl_matrix, name):
    argv, _ = CLIENTS_BY_NAME[name]
    _run(short_ttl_matrix, f"{name}, renewal", argv() + ["renew"])
    paths = short_ttl_matrix.recording.paths()
    assert RENEW in paths, paths
    assert paths[-1] == LOGOUT, paths
