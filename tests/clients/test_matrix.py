"""The client matrix: each popular Snowflake client, pinned in its own environment
(tests/clients/install), connects to a fresh snowgate, runs what it runs on connect, and closes
cleanly. The statements each client sent are printed (pytest -s / -rA shows them)."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

from conftest import CLIENTS, KEY_USER, PAT_USER, Matrix, venv_bin

LOGOUT = "/session?delete=true"


def passed(matrix: Matrix, name: str, argv: list[str], **kw) -> list[str]:
    proc = matrix.run(name, argv, **kw)
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout}\n{proc.stderr[-4000:]}"
    return matrix.recording.statements()


def test_snowflake_sqlalchemy(matrix):
    sent = passed(matrix, "snowflake-sqlalchemy", [venv_bin("python", "python"), str(CLIENTS / "sqlalchemy_client.py")])
    assert any(s.strip().upper() == "ROLLBACK" for s in sent), sent
    assert matrix.recording.paths().count(LOGOUT) >= 2


def test_snowpark(matrix):
    sent = passed(matrix, "snowpark", [venv_bin("python", "python"), str(CLIENTS / "snowpark_client.py")])
    assert any("system$cancel_all_queries" in s.lower() for s in sent), sent
    assert matrix.recording.paths().count(LOGOUT) == 2


def test_adbc_go_driver(matrix):
    sent = passed(matrix, "adbc-driver-snowflake (Go)", [venv_bin("python", "python"), str(CLIENTS / "adbc_client.py")])
    upper = [s.strip().upper() for s in sent]
    assert {"BEGIN", "COMMIT", "ROLLBACK", "ALTER SESSION SET AUTOCOMMIT = FALSE"} <= set(upper), sent
    assert matrix.recording.paths().count(LOGOUT) == 6


def test_adbc_go_driver_renews_its_session_token(short_ttl_matrix):
    m = short_ttl_matrix
    passed(m, "adbc-driver-snowflake (Go), renewal",
           [venv_bin("python", "python"), str(CLIENTS / "adbc_client.py"), "renew"])
    assert "/session/token-request" in m.recording.paths()


def _dbt_project(matrix: Matrix) -> str:
    project = matrix.tmp / "dbt"
    project.mkdir()
    (project / "dbt_project.yml").write_text(
        "name: matrix\nversion: '1.0'\nconfig-version: 2\nprofile: snowgate\n"
    )
    common = (
        f"      type: snowflake\n      account: {matrix.env()['SG_ACCOUNT']}\n"
        f"      host: 127.0.0.1\n      port: {matrix.port}\n      protocol: http\n"
        "      database: ANALYTICS\n      warehouse: WH\n      schema: RAW\n      threads: 1\n"
        "      connect_timeout: 20\n"
    )
    (project / "profiles.yml").write_text(
        "snowgate:\n  target: password\n  outputs:\n"
        f"    password:\n{common}      user: {matrix.env()['SG_USER']}\n"
        f"      password: {matrix.env()['SG_PASSWORD']}\n"
        f"    keypair:\n{common}      user: {KEY_USER}\n"
        f"      authenticator: snowflake_jwt\n      private_key_path: {matrix.key_path}\n"
    )
    return str(project)


@pytest.mark.parametrize("target", ["password", "keypair"])
def test_dbt_debug(matrix, target):
    project = _dbt_project(matrix)
    env = {**matrix.env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_VERSION_CHECK": "false"}
    argv = [venv_bin("dbt", "dbt"), "debug", "--project-dir", project, "--profiles-dir", project,
            "--target", target]
    sent = passed(matrix, f"dbt debug ({target})", argv, env=env, cwd=project)
    assert "select 1 as id" in [s.strip().lower() for s in sent], sent


def test_snowflake_cli(matrix):
    cfg = matrix.tmp / "snow-config.toml"
    e = matrix.env()
    common = f'account = "{e["SG_ACCOUNT"]}"\nhost = "127.0.0.1"\nport = {matrix.port}\nprotocol = "http"\n'
    cfg.write_text(
        f'[connections.pw]\n{common}user = "{e["SG_USER"]}"\npassword = "{e["SG_PASSWORD"]}"\n\n'
        f'[connections.kp]\n{common}user = "{KEY_USER}"\nauthenticator = "SNOWFLAKE_JWT"\n'
        f'private_key_file = "{matrix.key_path}"\n\n'
        f'[connections.pat]\n{common}user = "{PAT_USER}"\nauthenticator = "PROGRAMMATIC_ACCESS_TOKEN"\n'
        f'token = "{matrix.pat_secret}"\n'
    )
    cfg.chmod(0o600)
    snow = venv_bin("snowcli", "snow")
    for conn, user in [("pw", e["SG_USER"]), ("kp", KEY_USER), ("pat", PAT_USER)]:
        proc = matrix.run(f"snow sql ({conn})", [snow, "--config-file", str(cfg), "sql", "-c", conn,
                                                 "-q", "select current_user()", "--format", "json"])
        assert proc.returncode == 0, proc.stderr[-4000:]
        assert user.upper() in proc.stdout
        assert matrix.recording.paths()[-1] == LOGOUT


def test_node_snowflake_sdk(matrix):
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed", pytrace=False)
    if not (CLIENTS / "node" / "node_modules" / "snowflake-sdk").is_dir():
        pytest.fail("tests/clients/node/node_modules missing: run tests/clients/install", pytrace=False)
    passed(matrix, "node snowflake-sdk", [node, str(CLIENTS / "node" / "client.js")])
    assert matrix.recording.paths().count(LOGOUT) == 4
