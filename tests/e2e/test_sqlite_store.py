"""The SQLite store of a local `snowgate serve`: what one server process wrote is there for the next
one on the same data directory, even when the first was killed (SIGKILL) in the middle of a burst of
writes: every write it acknowledged survives, and the database opens and passes SQLite's integrity
check."""

from __future__ import annotations

import http.client
import sqlite3
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from conftest import (
    SnowgateServer,
    free_port,
    login_body,
    rows,
    run_snowgate_to_exit,
    server_env,
    session_token,
    snowgate_bin,
)

JWT_SECRET = "sqlite-e2e-jwt-secret-0123456789abcdef"
FIRST_PASSWORD = "f1rst-user-pw!"
BURST_PASSWORD = "burst-pw-{i}!"
ENOUGH_WRITES = 8
WAIT_S = 60.0


def user_names(conn) -> set[str]:
    cur = conn.cursor()
    try:
        cur.execute("SHOW USERS")
        column = [d.name for d in cur.description].index("name")
        return {r[column] for r in cur.fetchall()}
    finally:
        cur.close()


def raw_query(server: SnowgateServer, token: str, sql: str) -> dict:
    return server.post("/queries/v1/query-request", {"sqlText": sql}, token=token)


class Burst:
    """A thread issuing CREATE USER statements (raw requests in one admin session, so that a dead
    server ends it at once instead of after the connector's retries), recording each acknowledged one."""

    def __init__(self, server: SnowgateServer, token: str):
        self.server = server
        self.token = token
        self.acknowledged: list[str] = []
        self.refused: list[dict] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        for i in range(100_000):
            name = f"BURST_{i}"
            sql = f"CREATE USER {name} PASSWORD='{BURST_PASSWORD.format(i=i)}'"
            try:
                answer = raw_query(self.server, self.token, sql)
            except (OSError, http.client.HTTPException, ValueError):
                return  # the server is gone: this write was never acknowledged
            if not answer.get("success"):
                self.refused.append(answer)
                return
            self.acknowledged.append(name)

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + WAIT_S
        while len(self.acknowledged) < count:
            assert self.thread.is_alive(), f"the burst stopped early: {self.refused}"
            assert time.monotonic() < deadline, f"only {len(self.acknowledged)} writes in {WAIT_S}s"
            time.sleep(0.01)


def test_kill_9_mid_burst_loses_no_acknowledged_write(start_server, tmp_path):
    env = {"SNOWGATE_DATA_DIR": str(tmp_path / "state"), "JWT_SECRET": JWT_SECRET}
    server = start_server(env)
    admin = server.connect()
    rows(admin, f"CREATE USER first_user PASSWORD='{FIRST_PASSWORD}' DEFAULT_ROLE=PUBLIC")
    token = session_token(admin)

    burst = Burst(server, token)
    burst.thread.start()
    burst.wait_for(ENOUGH_WRITES)
    server.kill()  # SIGKILL while the burst is still writing
    burst.thread.join(timeout=WAIT_S)
    assert not burst.thread.is_alive()
    assert not burst.refused, burst.refused
    acknowledged = list(burst.acknowledged)
    assert len(acknowledged) >= ENOUGH_WRITES

    restarted = start_server(env)
    # The admin session of the killed process is still valid (same JWT secret, session in the file).
    still = raw_query(restarted, token, "SELECT CURRENT_USER()")
    assert still["success"], still
    admin = restarted.connect()
    users = user_names(admin)
    missing = [n for n in ["FIRST_USER", *acknowledged] if n not in users]
    assert not missing, f"acknowledged but lost: {missing}"

    # Logins work: the user created before the burst, and the last acknowledged one.
    first = restarted.connect(user="first_user", password=FIRST_PASSWORD)
    assert rows(first, "SELECT CURRENT_USER()") == [("FIRST_USER",)]
    last = acknowledged[-1]
    i = int(last.rsplit("_", 1)[1])
    conn = restarted.connect(user=last, password=BURST_PASSWORD.format(i=i))
    assert rows(conn, "SELECT CURRENT_USER()") == [(last,)]
    restarted.stop()

    with sqlite3.connect(tmp_path / "state" / "snowgate.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_a_memory_server_forgets_and_a_fresh_data_dir_is_empty(start_server, tmp_path):
    """SNOWGATE_STORE=memory keeps nothing; a server on another data directory sees nothing."""
    env = {"SNOWGATE_DATA_DIR": str(tmp_path / "kept")}
    server = start_server(env)
    rows(server.connect(), "CREATE USER kept_user PASSWORD='kept-pw-1!'")
    server.stop()

    memory = start_server({"SNOWGATE_STORE": "memory", "SNOWGATE_DATA_DIR": str(tmp_path / "unused")})
    rows(memory.connect(), "CREATE USER fleeting PASSWORD='fleeting-pw-1!'")
    memory.stop()
    assert not (tmp_path / "unused").exists(), "a memory server must not create the data directory"

    again = start_server(env)
    users = user_names(again.connect())
    assert "KEPT_USER" in users and "FLEETING" not in users, users
    other = start_server({"SNOWGATE_DATA_DIR": str(tmp_path / "other")})
    assert "KEPT_USER" not in user_names(other.connect())


def test_the_built_in_password_starts_only_on_loopback():
    """Issue 19: the demo user `embucket` / `embucket` holds ACCOUNTADMIN. A server others can reach
    (a DynamoDB table, Lambda, a non-loopback address) refuses to start with that password."""
    for env in ({"SNOWGATE_TABLE": "any-table"}, {"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9"}):
        out = run_snowgate_to_exit(env)
        assert out.returncode != 0, out
        assert "AUTH_DEMO_PASSWORD" in out.stderr and "SNOWGATE_ALLOW_DEFAULT_PASSWORD" in out.stderr, out.stderr
    with tempfile.TemporaryDirectory(prefix="snowgate-e2e-data-") as data_dir:
        done = subprocess.run(
            [str(snowgate_bin()), "serve", "--listen", f"0.0.0.0:{free_port()}"],
            env=server_env({}, Path(data_dir)),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=15,
        )
    assert done.returncode != 0, done
    assert b"loopback" in done.stderr, done.stderr


def login_code(server: SnowgateServer, user: str, password: str) -> str | None:
    return server.post("/session/v1/login-request", login_body(user, password)).get("code")


def test_the_demo_user_stays_as_administrators_left_it(start_server, tmp_path):
    """Issue 19: the demo user's password reverted to the configured one at every start, and a
    dropped demo user came back with ACCOUNTADMIN."""
    env = {"SNOWGATE_DATA_DIR": str(tmp_path / "kept"), "JWT_SECRET": JWT_SECRET}
    first = start_server(env)
    admin = first.connect()
    admin.cursor().execute("CREATE USER keeper PASSWORD = 'keeper-pw-1' DEFAULT_ROLE = ACCOUNTADMIN")
    admin.cursor().execute("GRANT ROLE ACCOUNTADMIN TO USER keeper")
    admin.cursor().execute("ALTER USER embucket SET PASSWORD = 'changed-pw-1'")
    first.close_connections()
    first.stop()
    second = start_server(env)
    assert login_code(second, "embucket", "embucket") == "390100"
    keeper = second.connect(user="keeper", password="keeper-pw-1")
    keeper.cursor().execute("DROP USER embucket")
    second.close_connections()
    second.stop()
    third = start_server(env)
    assert login_code(third, "embucket", "embucket") == "390100"
    keeper = third.connect(user="keeper", password="keeper-pw-1")
    names = user_names(keeper)
    assert "EMBUCKET" not in names and "KEEPER" in names, names
