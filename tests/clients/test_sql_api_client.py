"""The SQL API v2 with a real client from PyPI: async-snowflake (key-pair JWT bearer) runs statements
snowgate answers locally, and is refused with 401 for a key the user does not hold."""

from __future__ import annotations

from conftest import CLIENTS, venv_bin


def test_async_snowflake_sql_api(matrix):
    proc = matrix.run("async-snowflake (SQL API v2)",
                      [venv_bin("asyncsf", "python"), str(CLIENTS / "asyncsf_client.py")])
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr[-4000:]}"
    assert "wrong key: 401 390144: ok" in proc.stdout
    assert matrix.recording.paths().count("/api/v2/statements") >= 2, matrix.recording.paths()
