"""The real binary on its AWS backends: sessions in DynamoDB, secrets in Secrets Manager (moto_server).

Needs SNOWGATE_TEST_AWS_ENDPOINT (``scripts/test`` sets it); without it every test here fails. Each
module run uses its own table and secrets (uuid names), so re-runs and parallel runs do not clash.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest
from snowflake.connector.errors import DatabaseError

from conftest import (
    query_one,
    snowgate_table,
    unique,
    DEMO_PASSWORD,
    DEMO_USER,
    SnowgateServer,
    aws_client,
    aws_server_env,
    free_port,
    jwt_header,
    login_body,
    run_snowgate,
    run_snowgate_to_exit,
    session_token,
)

SESSION_GONE = "390111"
BAD_CREDENTIALS = "390100"

SECRET_USER = "Rotator"


def raw_query(server: SnowgateServer, token: str, sql: str) -> dict:
    return server.post("/queries/v1/query-request", {"sqlText": sql}, token=token)


def raw_login(server: SnowgateServer, user: str, password: str, **context: str) -> dict:
    return server.post("/session/v1/login-request", login_body(user, password, **context))


# --- AWS resources ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def secretsmanager(aws_endpoint):
    return aws_client("secretsmanager", aws_endpoint)


@pytest.fixture(scope="module")
def table(dynamodb) -> Iterator[str]:
    """A sessions table laid out like template.yaml's."""
    with snowgate_table(dynamodb, "sessions") as name:
        yield name


class Secrets:
    """Creates Secrets Manager secrets with unique names; deletes them at teardown."""

    def __init__(self, client):
        self.client = client
        self.ids: list[str] = []

    def create(self, value: dict | str, prefix: str = "secret") -> tuple[str, str]:
        """Returns (secret id, version id)."""
        name = unique(prefix)
        text = value if isinstance(value, str) else json.dumps(value)
        out = self.client.create_secret(Name=name, SecretString=text)
        self.ids.append(name)
        return name, out["VersionId"]

    def cleanup(self) -> None:
        for name in self.ids:
            try:
                self.client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
            except Exception:
                pass


@pytest.fixture
def secrets(secretsmanager) -> Iterator[Secrets]:
    made = Secrets(secretsmanager)
    yield made
    made.cleanup()


def secret_value(password: str, user: str = SECRET_USER) -> dict:
    return {"jwt_secret": uuid.uuid4().hex + uuid.uuid4().hex, "demo_user": user, "demo_password": password}


def backend_env(aws_endpoint: str, table: str, secret_id: str, **extra: str) -> dict:
    env = aws_server_env(aws_endpoint)
    env.update(SNOWGATE_TABLE=table, SNOWGATE_SECRET_ID=secret_id, **extra)
    return env


def session_items(dynamodb, table: str, session_id: int) -> list[dict]:
    out = dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"SESSION#{session_id}"}},
        ConsistentRead=True,
    )
    return out["Items"]


def assert_refused(body: dict, code: str) -> None:
    assert body["success"] is False, body
    assert body["code"] == code, body


# --- 1. the connector flows on DynamoDB + Secrets Manager --------------------------------------------

# Decoys in the server's environment: with SNOWGATE_SECRET_ID set they must be ignored.
DECOY_USER = "decoy_user"
DECOY_PASSWORD = "decoy-password-from-env"


@pytest.fixture(scope="module")
def aws_server(tmp_path_factory, aws_endpoint, table, secretsmanager) -> Iterator[SnowgateServer]:
    """One server on the module's table and its own secret, with decoy credentials in the env."""
    made = Secrets(secretsmanager)
    password = "s3cret-" + uuid.uuid4().hex[:8]
    secret_id, _ = made.create(secret_value(password), "core")
    env = backend_env(
        aws_endpoint,
        table,
        secret_id,
        AUTH_DEMO_USER=DECOY_USER,
        AUTH_DEMO_PASSWORD=DECOY_PASSWORD,
        JWT_SECRET="decoy-jwt-secret-of-at-least-32-bytes",
    )
    try:
        with run_snowgate(tmp_path_factory.mktemp("snowgate-aws"), env) as server:
            server.user, server.password = SECRET_USER, password
            yield server
    finally:
        made.cleanup()


@pytest.fixture
def aws(aws_server) -> Iterator[SnowgateServer]:
    yield aws_server
    aws_server.close_connections()


def test_connector_flows_on_dynamodb(aws, dynamodb, table):
    conn = aws.connect(database="analytics", schema="raw")
    assert query_one(conn, "select current_user()") == (SECRET_USER.upper(),)

    cur = conn.cursor()
    cur.execute("USE SCHEMA other")
    assert cur.fetchall() == [("Statement executed successfully.",)]
    assert query_one(conn, "SELECT CURRENT_SCHEMA()") == ("OTHER",)
    assert conn.schema == "OTHER"
    assert conn.database == "ANALYTICS"

    # The session is an item in the table, with a numeric TTL attribute in the future.
    items = session_items(dynamodb, table, conn.session_id)
    assert len(items) == 1, items
    expires_at = items[0].get("expires_at")
    assert expires_at is not None and "N" in expires_at, items[0]
    assert int(expires_at["N"]) > time.time(), items[0]

    token = session_token(conn)
    assert raw_query(aws, token, "select current_schema()")["data"]["rowset"] == [["OTHER"]]
    session_id = conn.session_id
    conn.close()

    after = raw_query(aws, token, "select current_user()")
    assert_refused(after, SESSION_GONE)
    assert after["data"] is None
    assert session_items(dynamodb, table, session_id) == []


def test_wrong_password_on_secrets_manager(aws):
    with pytest.raises(DatabaseError) as info:
        aws.connect(password=aws.password + "-wrong")
    assert info.value.errno == int(BAD_CREDENTIALS)
    assert info.value.sqlstate == "28000"
    assert_refused(raw_login(aws, aws.user, aws.password + "-wrong"), BAD_CREDENTIALS)


@pytest.mark.parametrize(
    ("user", "password"),
    [(DECOY_USER, DECOY_PASSWORD), (DEMO_USER, DEMO_PASSWORD), (SECRET_USER, DECOY_PASSWORD)],
    ids=["env-credentials", "embedded-defaults", "secret-user-env-password"],
)
def test_env_credentials_are_ignored_with_a_secret(aws, user, password):
    assert_refused(raw_login(aws, user, password), BAD_CREDENTIALS)


# --- 2. sessions survive a cold start -----------------------------------------------------------------


def test_session_survives_cold_start_and_delete_is_seen_everywhere(
    start_server, aws_endpoint, table, secrets, dynamodb
):
    password = "cold-" + uuid.uuid4().hex[:8]
    secret_id, _ = secrets.create(secret_value(password), "cold")
    env = backend_env(aws_endpoint, table, secret_id)

    a = start_server(env, user=SECRET_USER, password=password)
    conn = a.connect(database="analytics", schema="raw")
    conn.cursor().execute("use schema moved")
    assert query_one(conn, "select current_schema()") == ("MOVED",)
    token = session_token(conn)
    session_id = conn.session_id

    a.kill()
    assert a.proc.returncode is not None
    # Drop the driver's connection while nothing listens on A's port: its logout attempt fails, the
    # session stays (a later server could otherwise take A's port and receive the logout).
    try:
        conn.close(retry=False)
    except Exception:
        pass
    assert len(session_items(dynamodb, table, session_id)) == 1, "the session must outlive server A"

    b = start_server(env, user=SECRET_USER, password=password)
    seen = raw_query(b, token, "select current_database(), current_schema(), current_session()")
    assert seen["success"] is True, seen
    assert seen["data"]["rowset"] == [["ANALYTICS", "MOVED", str(session_id)]]
    assert b.post("/session/heartbeat", token=token)["success"] is True

    assert b.post("/session?delete=true", token=token)["success"] is True
    assert session_items(dynamodb, table, session_id) == []

    c = start_server(env, user=SECRET_USER, password=password)
    assert_refused(raw_query(c, token, "select current_user()"), SESSION_GONE)
    assert_refused(raw_query(b, token, "select current_user()"), SESSION_GONE)
    # C works for everything else.
    assert query_one(c.connect(), "select current_user()") == (SECRET_USER.upper(),)


# --- 3. secret rotation -------------------------------------------------------------------------------

ROTATION_WAIT_S = 10.0
ROTATION_POLL_S = 0.5


def test_secret_rotation_is_picked_up_and_keeps_sessions(
    start_server, aws_endpoint, table, secrets, secretsmanager
):
    old_password = "before-" + uuid.uuid4().hex[:8]
    new_password = "after-" + uuid.uuid4().hex[:8]
    secret_id, first_version = secrets.create(secret_value(old_password), "rotation")
    env = backend_env(aws_endpoint, table, secret_id, SNOWGATE_SECRET_REFRESH_SECONDS="1")
    server = start_server(env, user=SECRET_USER, password=old_password)

    first = raw_login(server, SECRET_USER, old_password, databaseName="analytics")
    assert first["success"] is True, first
    t1 = first["data"]["token"]
    assert jwt_header(t1)["kid"] == first_version
    assert_refused(raw_login(server, SECRET_USER, new_password), BAD_CREDENTIALS)

    rotated = secretsmanager.put_secret_value(
        SecretId=secret_id, SecretString=json.dumps(secret_value(new_password))
    )
    second_version = rotated["VersionId"]
    assert second_version != first_version

    # The first request after the cached copy goes stale starts a background refresh (and itself
    # still sees the old copy); poll with the new password until one login succeeds.
    started = time.monotonic()
    deadline = started + ROTATION_WAIT_S
    attempts: list[dict] = []
    fresh = None
    while time.monotonic() < deadline:
        body = raw_login(server, SECRET_USER, new_password)
        if body["success"] is True:
            fresh = body
            break
        attempts.append(body)
        assert body["code"] == BAD_CREDENTIALS, body
        time.sleep(ROTATION_POLL_S)
    assert fresh is not None, (
        f"the rotated secret was not picked up within {ROTATION_WAIT_S:.0f}s "
        f"({len(attempts)} refused logins); server log:\n{server.log()}"
    )

    t2 = fresh["data"]["token"]
    assert jwt_header(t2)["kid"] == second_version
    assert jwt_header(t1)["kid"] != jwt_header(t2)["kid"]

    # Sessions from before the rotation go on; new ones work; the old password is gone.
    before = raw_query(server, t1, "select current_user(), current_database()")
    assert before["success"] is True, before
    assert before["data"]["rowset"] == [[SECRET_USER.upper(), "ANALYTICS"]]
    after = raw_query(server, t2, "select current_user()")
    assert after["success"] is True, after
    assert_refused(raw_login(server, SECRET_USER, old_password), BAD_CREDENTIALS)
    with pytest.raises(DatabaseError) as info:
        server.connect(password=old_password)
    assert info.value.errno == int(BAD_CREDENTIALS)
    conn = server.connect(password=new_password)
    assert query_one(conn, "select current_user()") == (SECRET_USER.upper(),)
    assert jwt_header(session_token(conn))["kid"] == second_version

    # A process started after the rotation agrees: both tokens verify, only the new password logs in.
    other = start_server(env, user=SECRET_USER, password=new_password)
    assert raw_query(other, t1, "select current_user()")["success"] is True
    assert raw_query(other, t2, "select current_user()")["success"] is True
    assert_refused(raw_login(other, SECRET_USER, old_password), BAD_CREDENTIALS)
    assert raw_login(other, SECRET_USER, new_password)["success"] is True


# --- 4. start-up failures -----------------------------------------------------------------------------


def test_missing_secret_fails_startup(aws_endpoint):
    missing = unique("missing")
    env = aws_server_env(aws_endpoint)
    env["SNOWGATE_SECRET_ID"] = missing
    out = run_snowgate_to_exit(env)
    assert out.returncode != 0, out
    assert missing in out.stderr, out.stderr


def test_secret_without_jwt_secret_fails_startup(aws_endpoint, secrets):
    password = "leak-canary-" + uuid.uuid4().hex
    secret_id, _ = secrets.create({"demo_user": SECRET_USER, "demo_password": password}, "nojwt")
    env = aws_server_env(aws_endpoint)
    env["SNOWGATE_SECRET_ID"] = secret_id
    out = run_snowgate_to_exit(env)
    assert out.returncode != 0, out
    assert "jwt_secret" in out.stderr, out.stderr
    assert secret_id in out.stderr, out.stderr
    assert password not in out.stderr + out.stdout


def test_secret_that_is_not_json_fails_startup(aws_endpoint, secrets):
    text = "not-json-canary-" + uuid.uuid4().hex + " {"
    secret_id, _ = secrets.create(text, "notjson")
    env = aws_server_env(aws_endpoint)
    env["SNOWGATE_SECRET_ID"] = secret_id
    out = run_snowgate_to_exit(env)
    assert out.returncode != 0, out
    assert secret_id in out.stderr, out.stderr
    assert "not-json-canary" not in out.stderr + out.stdout


def test_missing_table_fails_startup(aws_endpoint):
    missing = unique("no-table")
    env = aws_server_env(aws_endpoint)
    env.update(SNOWGATE_TABLE=missing, JWT_SECRET="x" * 32)
    out = run_snowgate_to_exit(env)
    assert out.returncode != 0, out
    assert missing in out.stderr, out.stderr


def test_unreachable_dynamodb_fails_startup(table):
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env = aws_server_env(closed)
    env.update(SNOWGATE_TABLE=table, JWT_SECRET="x" * 32)
    started = time.monotonic()
    out = run_snowgate_to_exit(env)
    assert out.returncode != 0, out
    assert table in out.stderr, out.stderr
    assert time.monotonic() - started < 15
