"""The real snowflake-connector-python against the real snowgate binary.

Each test talks to a live `snowgate serve` process (see conftest.py); raw HTTP requests are used only
where the driver hides what the server answers (logged-out and expired tokens, heartbeats).
"""

from __future__ import annotations

import time

import pytest
from snowflake.connector.errors import DatabaseError, ProgrammingError

from conftest import query_one, CUSTOM_PASSWORD, CUSTOM_USER, DEMO_PASSWORD, DEMO_USER, session_token

SESSION_GONE = "390111"
SESSION_TOKEN_EXPIRED = "390112"
BAD_CREDENTIALS = 390100


def raw_query(server, token: str, sql: str) -> dict:
    return server.post("/queries/v1/query-request", {"sqlText": sql}, token=token)


# --- 1. login context -------------------------------------------------------------------------------


def test_login_context_is_upper_cased(server):
    conn = server.connect(database="analytics", schema="raw", warehouse="compute_wh", role="sysadmin")

    assert conn.database == "ANALYTICS"
    assert conn.schema == "RAW"
    assert conn.warehouse == "COMPUTE_WH"
    assert conn.role == "SYSADMIN"
    assert isinstance(conn.session_id, int) and not isinstance(conn.session_id, bool)
    assert conn.session_id > 0
    assert query_one(
        conn, "select current_database(), current_schema(), current_warehouse(), current_role()"
    ) == ("ANALYTICS", "RAW", "COMPUTE_WH", "SYSADMIN")


def test_login_quoted_names_keep_case(server):
    conn = server.connect(database='"MixedCase"', schema='"lower_s"', warehouse='"Wh"', role='"SYSADMIN"')

    assert (conn.database, conn.schema, conn.warehouse, conn.role) == ("MixedCase", "lower_s", "Wh", "SYSADMIN")
    assert query_one(
        conn, "select current_database(), current_schema(), current_warehouse(), current_role()"
    ) == ("MixedCase", "lower_s", "Wh", "SYSADMIN")


def test_login_defaults(server):
    bare = server.connect()
    assert bare.database is None
    assert bare.schema is None
    assert bare.warehouse is None
    assert bare.role == "ACCOUNTADMIN"
    assert query_one(bare, "select current_database(), current_schema(), current_role()") == (
        None,
        None,
        "ACCOUNTADMIN",
    )

    db_only = server.connect(database="sales")
    assert (db_only.database, db_only.schema) == ("SALES", "PUBLIC")
    assert query_one(db_only, "select current_schema()") == ("PUBLIC",)
    assert bare.session_id != db_only.session_id


# --- 2. USE statements and SELECT column names -------------------------------------------------------


def test_use_schema_is_seen_by_select_and_connection(server):
    conn = server.connect(database="analytics", schema="raw")

    cur = conn.cursor()
    cur.execute("USE SCHEMA other")
    assert cur.fetchall() == [("Statement executed successfully.",)]

    assert query_one(conn, "SELECT CURRENT_SCHEMA()") == ("OTHER",)
    assert conn.schema == "OTHER"
    assert conn.database == "ANALYTICS"


def test_use_statements_move_the_session_context(server):
    conn = server.connect(database="db1", schema="s1", warehouse="wh1", role="useradmin")

    def context():
        from_server = query_one(
            conn, "select current_database(), current_schema(), current_warehouse(), current_role()"
        )
        from_driver = (conn.database, conn.schema, conn.warehouse, conn.role)
        assert from_server == from_driver, "driver and server disagree on the session context"
        return from_server

    steps = [
        ("use database db2", ("DB2", "PUBLIC", "WH1", "USERADMIN")),
        ("use schema s2", ("DB2", "S2", "WH1", "USERADMIN")),
        ("use db3.s3", ("DB3", "S3", "WH1", "USERADMIN")),
        ("use schema db4.s4", ("DB4", "S4", "WH1", "USERADMIN")),
        ("use warehouse wh2", ("DB4", "S4", "WH2", "USERADMIN")),
        ("use role securityadmin", ("DB4", "S4", "WH2", "SECURITYADMIN")),
        ("use db5", ("DB5", "PUBLIC", "WH2", "SECURITYADMIN")),
        ('use schema "Quoted"', ("DB5", "Quoted", "WH2", "SECURITYADMIN")),
        ('USE DATABASE "MixedDb"', ("MixedDb", "PUBLIC", "WH2", "SECURITYADMIN")),
    ]
    for sql, expected in steps:
        conn.cursor().execute(sql)
        assert context() == expected, sql

    # The context lives in the server's session, not only in this connection object.
    token = session_token(conn)
    body = raw_query(server, token, "select current_database(), current_schema()")
    assert body["success"] is True, body
    assert body["data"]["rowset"] == [["MixedDb", "PUBLIC"]]


def test_use_schema_without_database_is_a_compilation_error(server):
    conn = server.connect()

    with pytest.raises(ProgrammingError) as info:
        conn.cursor().execute("use schema lonely")
    assert info.value.errno == 1003
    assert info.value.sqlstate == "42000"
    assert conn.schema is None


def test_select_column_names(server):
    conn = server.connect(database="analytics")

    cur = conn.cursor()
    cur.execute("select current_database(), current_schema() as s, current_role() \"MyRole\"")
    assert [d.name for d in cur.description] == ["CURRENT_DATABASE()", "S", "MyRole"]
    assert cur.fetchall() == [("ANALYTICS", "PUBLIC", "ACCOUNTADMIN")]

    cur.execute("SELECT CURRENT_SCHEMA() AS schema_name")
    assert [d.name for d in cur.description] == ["SCHEMA_NAME"]
    assert cur.fetchone() == ("PUBLIC",)


# --- 3. session token expiry and renewal --------------------------------------------------------------


def test_expired_session_token_is_renewed_transparently(short_ttl_server):
    server = short_ttl_server
    conn = server.connect(database="analytics", schema="raw")
    conn.cursor().execute("use schema kept")
    assert query_one(conn, "select current_schema()") == ("KEPT",)
    old_token = session_token(conn)
    session_id = conn.session_id

    time.sleep(3)  # the session token lives 2 s

    # The server refuses the old token as expired (not gone), which is what makes the driver renew.
    expired = raw_query(server, old_token, "select current_user()")
    assert expired["success"] is False, expired
    assert expired["code"] == SESSION_TOKEN_EXPIRED, expired

    # The driver renews with its master token and replays the query, in the same session.
    assert query_one(conn, "select current_schema(), current_session()") == ("KEPT", str(session_id))
    new_token = session_token(conn)
    assert new_token != old_token
    assert conn.session_id == session_id

    fresh = raw_query(server, new_token, "select current_user()")
    assert fresh["success"] is True, fresh
    assert fresh["data"]["rowset"] == [[server.user.upper()]]


# --- 4. heartbeats ------------------------------------------------------------------------------------


def test_heartbeat_keeps_a_live_session(server):
    conn = server.connect(client_session_keep_alive=True)
    assert conn.client_session_keep_alive is True

    # `is_valid()` is how this connector sends a heartbeat on demand (POST /session/heartbeat).
    assert conn.is_valid() is True
    assert conn.is_valid() is True

    body = server.post("/session/heartbeat", token=session_token(conn))
    assert body["success"] is True, body
    assert body["code"] is None


def test_heartbeat_fails_once_the_session_is_gone(server):
    conn = server.connect(client_session_keep_alive=True)
    token = session_token(conn)
    assert conn.is_valid() is True

    # Log the session out behind the driver's back: its next heartbeat must be refused.
    assert server.post("/session?delete=true", token=token)["success"] is True
    assert conn.is_valid() is False
    refused = server.post("/session/heartbeat", token=token)
    assert refused["success"] is False, refused
    assert refused["code"] == SESSION_GONE, refused
    with pytest.raises(ProgrammingError) as info:
        conn.cursor().execute("select current_user()")
    assert info.value.errno == int(SESSION_GONE)

    # The server itself is fine: a new session heartbeats.
    assert server.connect(client_session_keep_alive=True).is_valid() is True


def test_heartbeat_after_close_fails(server):
    conn = server.connect(client_session_keep_alive=True)
    token = session_token(conn)
    assert server.post("/session/heartbeat", token=token)["success"] is True

    conn.close()

    assert conn.is_closed() is True
    assert conn.is_valid() is False
    refused = server.post("/session/heartbeat", token=token)
    assert refused["success"] is False, refused
    assert refused["code"] == SESSION_GONE, refused


# --- 5. logout --------------------------------------------------------------------------------------


def test_token_is_refused_after_close(server):
    conn = server.connect()
    token = session_token(conn)

    before = raw_query(server, token, "select current_user()")
    assert before["success"] is True, before
    assert before["data"]["rowset"] == [[server.user.upper()]]

    conn.close()

    after = raw_query(server, token, "select current_user()")
    assert after["success"] is False, after
    assert after["code"] == SESSION_GONE, after
    assert after["data"] is None

    # Other sessions are unaffected.
    assert query_one(server.connect(), "select current_user()") == (server.user.upper(),)


# --- 6. bad credentials -----------------------------------------------------------------------------


def _bad_pairs(user: str, password: str) -> dict[str, tuple[str, str]]:
    case_variant = password.swapcase() if password.swapcase() != password else password + "X"
    return {
        "wrong-password": (user, password + "-wrong"),
        "unknown-user": ("nobody-" + user, password),
        "password-is-case-sensitive": (user, case_variant),
    }


@pytest.mark.parametrize("case", ["wrong-password", "unknown-user", "password-is-case-sensitive"])
def test_bad_credentials_are_refused(server, case):
    user, password = _bad_pairs(server.user, server.password)[case]
    with pytest.raises(DatabaseError) as info:
        server.connect(user=user, password=password)
    assert info.value.errno == BAD_CREDENTIALS
    assert info.value.sqlstate == "28000"
    assert "Incorrect username or password" in str(info.value)


# --- 7. unsupported and invalid statements ----------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "select 1 + 1",
        "create table t(a int)",
        "select current_user() from dual",
        "select current_database(); select current_schema()",
        "insert into t values (1)",
    ],
)
def test_unsupported_statement_is_refused_and_session_survives(server, sql):
    conn = server.connect(database="analytics")

    with pytest.raises(ProgrammingError) as info:
        conn.cursor().execute(sql)
    assert info.value.errno == 2
    assert info.value.sqlstate == "0A000"
    assert "session context" in info.value.msg
    assert info.value.sfqid, "a failed query still carries a query id"

    assert query_one(conn, "select current_user(), current_database()") == (server.user.upper(), "ANALYTICS")


def test_syntax_error(server):
    conn = server.connect()

    with pytest.raises(ProgrammingError) as info:
        conn.cursor().execute("selec current_user(")
    assert info.value.errno == 1003
    assert info.value.sqlstate == "42000"

    assert query_one(conn, "select current_user()") == (server.user.upper(),)


# --- 8. identity functions --------------------------------------------------------------------------


def test_identity_functions(server):
    conn = server.connect(account="acme.us-east-1")

    user, account, session, version, ip = query_one(
        conn,
        "select current_user(), current_account(), current_session(), current_version(), "
        "current_ip_address()",
    )
    assert user == server.user.upper()
    assert account == "ACME"
    assert session == str(conn.session_id)
    assert isinstance(version, str) and version.strip()
    assert ip == "127.0.0.1"


def test_each_connection_is_its_own_session(server):
    a = server.connect(database="one")
    b = server.connect(database="two")

    assert a.session_id != b.session_id
    a.cursor().execute("use schema moved")
    assert query_one(a, "select current_session(), current_schema()") == (str(a.session_id), "MOVED")
    assert query_one(b, "select current_session(), current_schema()") == (str(b.session_id), "PUBLIC")


# --- 9. configured demo credentials -----------------------------------------------------------------


def test_configured_demo_credentials(custom_creds_server):
    server = custom_creds_server

    conn = server.connect(user=CUSTOM_USER, password=CUSTOM_PASSWORD)
    assert query_one(conn, "select current_user()") == (CUSTOM_USER.upper(),)

    # Login names are case-insensitive, as in Snowflake.
    conn2 = server.connect(user=CUSTOM_USER.lower(), password=CUSTOM_PASSWORD)
    assert query_one(conn2, "select current_user()") == (CUSTOM_USER.upper(),)


@pytest.mark.parametrize(
    ("user", "password"),
    [(DEMO_USER, DEMO_PASSWORD), (CUSTOM_USER, DEMO_PASSWORD), (DEMO_USER, CUSTOM_PASSWORD)],
    ids=["default-pair", "custom-user-default-password", "default-user-custom-password"],
)
def test_default_credentials_are_refused_when_configured(custom_creds_server, user, password):
    with pytest.raises(DatabaseError) as info:
        custom_creds_server.connect(user=user, password=password)
    assert info.value.errno == BAD_CREDENTIALS
    assert info.value.sqlstate == "28000"
