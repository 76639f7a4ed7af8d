"""Every attack of the hardening issue, driven against one real server in a row: after each one the
process is still running and still answers a login, and nothing the attack sent was created or kept.

Each attack gets the answer snowgate promises (a Snowflake-shaped refusal, or a bounded result), never a
crash or a hang: the client timeouts below are the bound."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
import uuid

import pytest

from conftest import login_body

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
TIMEOUT = 60


def post(server, path: str, body, token: str | None = None, raw: bytes | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f'Snowflake Token="{token}"'
    data = raw if raw is not None else json.dumps(body).encode()
    req = urllib.request.Request(server.base_url + path, data, headers, method="POST")
    try:
        with _DIRECT.open(req, timeout=TIMEOUT) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def login(server, user: str, password: str) -> dict:
    return post(server, f"/session/v1/login-request?request_id={uuid.uuid4()}", login_body(user, password))[1]


def query(server, token: str, sql: str) -> dict:
    return post(server, "/queries/v1/query-request", {"sqlText": sql}, token)[1]


def admin_token(server) -> str:
    v = login(server, "embucket", "embucket")
    assert v["success"], v
    return v["data"]["token"]


def assert_alive(server) -> None:
    assert server.proc.poll() is None, f"snowgate died:\n{server.log()[-3000:]}"
    token = admin_token(server)
    assert query(server, token, "SELECT CURRENT_USER()")["data"]["rowset"] == [["EMBUCKET"]]


def refused(v: dict, *codes: str) -> None:
    assert v["success"] is False, v
    assert isinstance(v["code"], str) and v["message"], v
    if codes:
        assert v["code"] in codes, v


@pytest.fixture
def target(start_server):
    server = start_server(
        {"SNOWGATE_MAX_CONNECTIONS": "64", "SNOWGATE_HEADER_TIMEOUT_SECONDS": "2", "JWT_SECRET": "k" * 40}
    )
    admin = admin_token(server)
    for sql in (
        "CREATE USER plain_user PASSWORD = 'plain-pw-1'",
        "CREATE USER " + "a_rather_long_user_name_" * 8 + " PASSWORD = 'x-pw-12345'",
    ):
        assert query(server, admin, sql)["success"], sql
    return server


def test_every_attack_leaves_the_server_up_and_unchanged(target):
    server = target
    admin = admin_token(server)
    users_before = query(server, admin, "SHOW USERS")["data"]["rowset"]
    plain = login(server, "plain_user", "plain-pw-1")["data"]["token"]

    # 1. A PUBLIC-only session sends an administrative statement nested thousands of levels deep.
    deep = "CREATE NETWORK POLICY p ALLOWED_IP_LIST = " + "(" * 20000 + "'1.2.3.4'" + ")" * 20000
    refused(query(server, plain, deep), "003001")
    refused(query(server, admin, deep))
    # 2. A plain SELECT nested deeply enough to overflow a recursive parser.
    refused(query(server, plain, "SELECT " + "(" * 100000 + "1" + ")" * 100000))
    # 3. LIKE patterns that backtrack exponentially in a naive matcher, and one huge pattern.
    v = query(server, admin, "SHOW USERS LIKE '" + "%" * 40 + "!'")
    assert v["success"] is True and v["data"]["rowset"] == [], v
    v = query(server, admin, "SHOW USERS LIKE '" + "%" * 100000 + "'")
    assert v["success"] in (True, False), v
    assert_alive(server)

    # 4. SESSION_PARAMETERS by the ten thousand, and a CLIENT_APP_ID of 900 KB: refused, not kept.
    body = login_body("embucket", "embucket")
    body["data"]["SESSION_PARAMETERS"] = {f"P{i}": i for i in range(60000)}
    refused(post(server, "/session/v1/login-request", body)[1], "390400")
    body = login_body("embucket", "embucket")
    body["data"]["CLIENT_APP_ID"] = "X" * 900_000
    refused(post(server, "/session/v1/login-request", body)[1], "390400")

    # 5. A user name with a newline tries to forge a log line.
    forged = "nobody\n2026-01-01T00:00:00Z  INFO snowgate: login succeeded user=root"
    refused(login(server, forged, "x"), "390100")
    assert "\n2026-01-01T00:00:00Z  INFO snowgate: login succeeded user=root" not in server.log()

    # 6. Guessing a password: locked after five failures, even with the right one.
    for _ in range(5):
        refused(login(server, "plain_user", "guess"), "390100")
    refused(login(server, "plain_user", "plain-pw-1"), "390102")
    assert_alive(server)

    # 7. Slow clients: far more half-open connections than the cap, each sending a few header bytes.
    sockets = []
    for _ in range(200):
        s = socket.create_connection((server.host, server.port), timeout=5)
        s.sendall(b"POST /session/heartbeat HTTP/1.1\r\nHost: x\r\n")
        sockets.append(s)
    try:
        # They are dropped after the header timeout, and normal clients get through.
        time.sleep(3)
        assert_alive(server)
    finally:
        for s in sockets:
            s.close()

    # 8. Oversized request line and headers get the envelope, not a dropped connection.
    status, v = post(server, "/session/heartbeat?x=" + "a" * 20000, {})
    assert status == 414, (status, v)
    refused(v, "390400")

    # 9. Garbage bodies: truncated gzip, deep JSON.
    refused(post(server, "/session/v1/login-request", None, raw=b"{" * 10000)[1], "390400")

    # 10. The rights of a disabled user's open session end at once.
    assert query(server, admin, "CREATE USER victim PASSWORD = 'victim-pw-1'")["success"]
    victim = login(server, "victim", "victim-pw-1")["data"]["token"]
    assert query(server, admin, "ALTER USER victim SET DISABLED = TRUE")["success"]
    refused(query(server, victim, "SELECT CURRENT_USER()"), "390101")

    # Nothing the attacks sent was created; the server is still up.
    users_after = [r for r in query(server, admin, "SHOW USERS")["data"]["rowset"] if r[0] != "VICTIM"]
    assert users_after == users_before
    assert_alive(server)


def login_with_request_id(server, user: str, password: str, request_id: str) -> dict:
    path = f"/session/v1/login-request?request_id={request_id}"
    return post(server, path, login_body(user, password))[1]


def test_a_fixed_request_id_does_not_escape_the_lockout(target):
    """Issue 19: every guess under one requestId used to count as one driver retry, so the lockout
    never came. Each other password is another attempt; only a real retry (same id, same password)
    counts once."""
    server = target
    admin = admin_token(server)
    for sql in (
        "CREATE USER guessed PASSWORD = 'guessed-pw-1'",
        "CREATE USER retried PASSWORD = 'retried-pw-1'",
    ):
        assert query(server, admin, sql)["success"], sql
    for i in range(5):
        refused(login_with_request_id(server, "guessed", f"guess-{i}", "fixed"), "390100")
    refused(login_with_request_id(server, "guessed", "guessed-pw-1", "fixed"), "390102")
    # A driver retrying one login: the same id and the same password, many times.
    for _ in range(10):
        refused(login_with_request_id(server, "retried", "typo", "one-login"), "390100")
    v = login_with_request_id(server, "retried", "retried-pw-1", "next-login")
    assert v["success"] is True, v
    assert_alive(server)
