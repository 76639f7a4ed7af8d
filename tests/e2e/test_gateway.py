"""The engine gateway end to end: the real connector logs in through snowgate (password, key pair,
PAT, TOTP), and its SQL runs on a real fakesnow server (``fakesnow_server.py``).

fakesnow's request log is the witness of what reached the engine: refused logins must leave no line
there. ``scripts/test`` may run this again on DynamoDB (the sealed engine token in its table).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest
from snowflake.connector.errors import DatabaseError, Error

import rsa_keys
from conftest import rows, run_snowgate
from fakesnow_server import Fakesnow

PASSWORD = "Str0ng-Passw0rd!x"


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}".upper()


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    fakesnow = Fakesnow(tmp_path_factory.mktemp("fakesnow"))
    fakesnow.start()
    yield fakesnow
    fakesnow.stop()


@pytest.fixture(scope="module")
def gateway(engine, tmp_path_factory):
    """snowgate with fakesnow behind it, 2-second session tokens (drivers renew)."""
    env = {
        "SNOWGATE_UPSTREAM_URL": engine.url,
        "SNOWGATE_STORE": "memory",
        "SNOWGATE_TOKEN_TTL_SECONDS": "2",
        "SNOWGATE_UPSTREAM_MAX_RESPONSE_BYTES": "200000",
    }
    with run_snowgate(tmp_path_factory.mktemp("gateway"), env) as server:
        yield server


@pytest.fixture
def server(gateway):
    yield gateway
    gateway.close_connections()


@pytest.fixture(scope="module")
def steady(engine, tmp_path_factory):
    """snowgate in front of the same engine with the default token lifetime: for tests about the
    engine alone, which a renewal on a slow machine (2-second tokens) must not mix with."""
    env = {"SNOWGATE_UPSTREAM_URL": engine.url, "SNOWGATE_STORE": "memory"}
    with run_snowgate(tmp_path_factory.mktemp("steady"), env) as server:
        yield server
        server.close_connections()


def create_fill_read(conn) -> None:
    table = unique("T")
    rows(conn, f"CREATE TABLE {table}(a int)")
    rows(conn, f"INSERT INTO {table} VALUES (1), (2)")
    assert rows(conn, f"SELECT SUM(a) FROM {table}") == [(3,)]


def logins_during(engine, action) -> int:
    before = engine.logins()
    action()
    return engine.logins() - before


def test_the_connector_cannot_log_in_to_fakesnow_directly(engine):
    import snowflake.connector

    with pytest.raises(Error, match="master token"):
        snowflake.connector.connect(
            account="acme", user="x", password="y", host="127.0.0.1", port=engine.port,
            protocol="http", login_timeout=10,
            enable_server_session_keep_alive_auto_detection=False,
        )


def test_password_key_pair_pat_and_totp_logins_each_run_sql_on_the_engine(server, engine):
    admin = server.connect(database="db1", schema="s1")
    create_fill_read(admin)

    key = rsa_keys.new_key()
    keyed = unique("KEYED")
    rows(admin, f"CREATE USER {keyed} TYPE = SERVICE RSA_PUBLIC_KEY = '{rsa_keys.public_b64(key)}'")
    create_fill_read(
        server.connect(user=keyed, password=None, private_key=rsa_keys.pkcs8_der(key), database="db1")
    )

    pat_user, policy = unique("PAT_USER"), unique("PAT_NP")
    rows(admin, f"CREATE NETWORK POLICY {policy} ALLOWED_IP_LIST=('127.0.0.1')")
    rows(admin, f"CREATE USER {pat_user} PASSWORD='{PASSWORD}' NETWORK_POLICY={policy}")
    cur = admin.cursor()
    cur.execute(f"ALTER USER {pat_user} ADD PROGRAMMATIC ACCESS TOKEN CI")
    secret = cur.fetchone()[1]
    pat = dict(user=pat_user, password=None, authenticator="PROGRAMMATIC_ACCESS_TOKEN")
    create_fill_read(server.connect(token=secret, database="db1", **pat))

    mfa_user = unique("MFA_USER")
    rows(admin, f"CREATE USER {mfa_user} PASSWORD='{PASSWORD}'")
    me = server.connect(user=mfa_user, password=PASSWORD)
    cur = me.cursor()
    cur.execute("ALTER USER ADD MFA METHOD TOTP")
    seed = urllib.parse.parse_qs(urllib.parse.urlparse(cur.fetchone()[2]).query)["secret"][0]
    me.close()
    mfa = dict(user=mfa_user, password=PASSWORD, authenticator="username_password_mfa")
    create_fill_read(server.connect(passcode=totp(seed, int(time.time()) // 30), database="db1", **mfa))

    # Refused logins never reach the engine: a wrong key, a revoked PAT, a bad TOTP code, a
    # blocked address.
    rows(admin, f"ALTER USER {pat_user} REMOVE PROGRAMMATIC ACCESS TOKEN CI")
    blocked, deny = unique("BLOCKED"), unique("DENY_NP")
    rows(admin, f"CREATE NETWORK POLICY {deny} ALLOWED_IP_LIST=('10.9.9.9')")
    rows(admin, f"CREATE USER {blocked} PASSWORD='{PASSWORD}' NETWORK_POLICY={deny}")
    attempts = [
        dict(user=keyed, password=None, private_key=rsa_keys.pkcs8_der(rsa_keys.new_key())),
        dict(token=secret, **pat),
        dict(passcode="000000" if totp(seed, int(time.time()) // 30) != "000000" else "111111", **mfa),
        dict(user=blocked, password=PASSWORD),
    ]
    for attempt in attempts:
        def refused():
            with pytest.raises(DatabaseError):
                server.connect(**attempt)
        assert logins_during(engine, refused) == 0, attempt.get("user")


def totp(seed_b32: str, step: int) -> str:
    key = base64.b32decode(seed_b32 + "=" * (-len(seed_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def test_use_follows_the_engine_and_async_results_come_back(server):
    conn = server.connect(database="db1", schema="s1")
    rows(conn, "CREATE DATABASE IF NOT EXISTS d2")
    rows(conn, "USE DATABASE d2")
    assert rows(conn, "SELECT CURRENT_DATABASE()") == [("D2",)]
    cur = conn.cursor()
    cur.execute_async("SELECT 42")
    query_id = cur.sfqid
    cur.get_results_from_sfqid(query_id)
    assert [tuple(r) for r in cur.fetchall()] == [(42,)]


def test_renewal_keeps_the_engine_session(server, engine):
    conn = server.connect(database="db1")
    table = unique("KEPT")
    rows(conn, f"CREATE TABLE {table}(a int)")
    logins = engine.logins()
    time.sleep(3)  # past the 2-second session token: the driver renews
    assert rows(conn, f"SELECT COUNT(*) FROM {table}") == [(0,)]
    assert engine.logins() == logins
    assert "session token renewed" in server.log()


def test_a_disabled_user_is_stopped_before_the_engine_and_close_ends_the_engine_session(server, engine):
    admin = server.connect()
    name = unique("SOON_DISABLED")
    rows(admin, f"CREATE USER {name} PASSWORD='{PASSWORD}'")
    conn = server.connect(user=name, password=PASSWORD, database="db1")
    rows(conn, "CREATE TABLE IF NOT EXISTS t_dis(a int)")
    rows(admin, f"ALTER USER {name} SET DISABLED = TRUE")
    queries = engine.log().count("query-request")
    with pytest.raises(DatabaseError):
        rows(conn, "SELECT * FROM t_dis")
    assert engine.log().count("query-request") == queries

    other = server.connect(database="db1")
    rows(other, "SELECT 1 FROM t_dis")
    deletes = engine.log().count('"POST /session?delete=true')
    other.close()
    assert engine.log().count('"POST /session?delete=true') == deletes + 1


def test_a_result_over_the_limit_is_an_error(server):
    conn = server.connect(database="db1")
    with pytest.raises(DatabaseError, match="200000 bytes"):
        rows(conn, "SELECT repeat('x', 1000) FROM range(1000)")


def test_engine_tokens_reach_no_client_and_no_log(server, engine):
    conn = server.connect(database="db1")
    rows(conn, "SELECT 1 FROM range(1)")
    # fakesnow's tokens are secrets.token_urlsafe(32): 43 URL-safe characters. None of those it
    # issued appears in snowgate's log (the client side is checked by the recording proxy of
    # tests/clients, and by tests/gateway.rs).
    log = server.log()
    assert "Snowflake Token=" not in log
    for token in re.findall(r"[A-Za-z0-9_-]{43}", log):
        assert token not in engine.log(), "an engine token in snowgate's log"
    table = server.env.get("SNOWGATE_TABLE")
    if table:
        # On DynamoDB (scripts/test's second run), the open session's item holds the engine
        # token sealed: a key version and ciphertext, nothing else.
        import json
        import os

        import boto3

        ddb = boto3.client(
            "dynamodb", endpoint_url=os.environ["SNOWGATE_TEST_AWS_ENDPOINT"], region_name="us-east-1"
        )
        items = ddb.scan(TableName=table)["Items"]
        sealed = [json.loads(i["upstream"]["S"]) for i in items if "upstream" in i]
        assert sealed, "no session item holds an engine token"
        assert all(set(s) == {"kid", "sealed", "opened_at"} for s in sealed), sealed


def test_an_engine_restart_is_survived(steady, engine):
    conn = steady.connect(database="db1")
    rows(conn, "SELECT 1 FROM range(1)")
    logins = engine.logins()
    engine.restart()
    assert rows(conn, "SELECT 2 FROM range(1)") == [(2,)]
    assert engine.logins() == logins + 1
