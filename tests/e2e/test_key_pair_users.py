"""Users, roles, network policies and key-pair login, administered in Snowflake SQL through the real
connector, as an account administrator would run the setup script.

Each test starts its own server (``start_server``) so the directories do not mix; the last ones run on
DynamoDB + Secrets Manager (moto_server, SNOWGATE_TEST_AWS_ENDPOINT) like test_aws_backends.py.
Keys are made with ``cryptography`` (fast) or with ``snowgate keygen`` where the script uses it.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import stat
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from snowflake.connector.errors import DatabaseError, ProgrammingError

from rsa_keys import fingerprint, new_key, pkcs8_der, public_b64
from conftest import (
    rows,
    snowgate_table,
    unique,
    SnowgateServer,
    aws_client,
    aws_server_env,
    login_body,
    server_env,
    snowgate_bin,
)

# Login refusals (DatabaseError.errno).
BAD_CREDENTIALS = 390100
USER_DISABLED = 390101
INVALID_JWT = 390144
ROLE_NOT_GRANTED = 390189
IP_NOT_ALLOWED = 390422

# SQL errors (ProgrammingError.errno, sqlstate).
UNSUPPORTED = (2, "0A000")
ALREADY_EXISTS = (2002, "42710")
DOES_NOT_EXIST = (2003, "02000")
INVALID_VALUE = (2029, "22023")
INSUFFICIENT_PRIVILEGES = (3001, "42501")

LOCAL_IP = "127.0.0.1"
# Another loopback address: the connector always comes from 127.0.0.1, raw requests can bind this one
# to be a second client address (Linux routes all of 127.0.0.0/8 to lo).
OTHER_LOCAL_IP = "127.0.0.2"


# --- helpers --------------------------------------------------------------------------------------------


def run_all(conn, *statements: str) -> None:
    for sql in statements:
        rows(conn, sql)


def sql_error(conn, sql: str, expected: tuple[int, str]) -> ProgrammingError:
    """Runs ``sql`` expecting the SQL error ``expected`` (errno, sqlstate); returns it."""
    cur = conn.cursor()
    try:
        with pytest.raises(ProgrammingError) as info:
            cur.execute(sql)
    finally:
        cur.close()
    err = info.value
    assert (err.errno, err.sqlstate) == expected, f"{sql!r}: {err.errno} {err.sqlstate} {err.msg}"
    return err


def desc_user(conn, name: str) -> dict[str, str]:
    cur = conn.cursor()
    try:
        cur.execute(f"DESC USER {name}")
        assert [d.name for d in cur.description] == ["property", "value", "default", "description"]
        return {r[0]: r[1] for r in cur.fetchall()}
    finally:
        cur.close()


def show_users(conn, like: str) -> list[dict]:
    cur = conn.cursor()
    try:
        cur.execute(f"SHOW USERS LIKE '{like}'")
        names = [d.name for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        cur.close()


def whoami(conn) -> tuple:
    return rows(conn, "SELECT CURRENT_USER(), CURRENT_ROLE()")[0]


def key_login(server: SnowgateServer, user: str, key, **kw):
    """A key-pair session (the connector sends AUTHENTICATOR=SNOWFLAKE_JWT for a private_key)."""
    return server.connect(user=user, password=None, private_key=key, **kw)


def login_refused(server: SnowgateServer, errno: int, **kw) -> DatabaseError:
    with pytest.raises(DatabaseError) as info:
        server.connect(**kw)
    err = info.value
    assert err.errno == errno, f"expected {errno}, got {err.errno}: {err.msg}"
    return err


def key_refused(server: SnowgateServer, user: str, key, errno: int, **kw) -> DatabaseError:
    return login_refused(server, errno, user=user, password=None, private_key=key, **kw)


def keygen(out: Path, user: str | None = None) -> dict[str, str]:
    """Runs `snowgate keygen --out FILE [--user NAME]`; returns its stdout lines by label."""
    args = [str(snowgate_bin()), "keygen", "--out", str(out)]
    if user is not None:
        args += ["--user", user]
    done = subprocess.run(
        args, env=server_env(), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert "PRIVATE KEY" not in done.stdout + done.stderr
    printed: dict[str, str] = {}
    for line in done.stdout.splitlines():
        label, sep, value = line.partition(": ")
        assert sep, f"unexpected keygen output line {line!r}"
        printed[label] = value
    assert set(printed) == ({"public_key", "fingerprint"} | ({"sql"} if user else set())), done.stdout
    return printed


def create_service_user(
    admin, name: str = "svc_loader", role: str = "loader", key: rsa.RSAPrivateKey | None = None
) -> rsa.RSAPrivateKey:
    """The short form of the setup script: role, SERVICE user with that default role and a key, grant."""
    key = key or new_key()
    run_all(
        admin,
        f"CREATE ROLE IF NOT EXISTS {role}",
        f"CREATE USER {name} TYPE = SERVICE DEFAULT_ROLE = {role} RSA_PUBLIC_KEY = '{public_b64(key)}'",
        f"GRANT ROLE {role} TO USER {name}",
    )
    return key


def raw_password_login(
    server: SnowgateServer,
    user: str,
    password: str,
    source_ip: str = LOCAL_IP,
    headers: dict[str, str] | None = None,
) -> dict:
    """A password login straight to the server from ``source_ip`` (a loopback address bound as the
    client end), for what the connector cannot do: choose the address it comes from."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10, source_address=(source_ip, 0))
    try:
        conn.request(
            "POST",
            "/session/v1/login-request",
            body=json.dumps(login_body(user, password)),
            headers={"Content-Type": "application/json", "Accept": "application/json", **(headers or {})},
        )
        resp = conn.getresponse()
        assert resp.status == 200, resp.status
        return json.loads(resp.read())
    finally:
        conn.close()


# --- 1. the setup script ----------------------------------------------------------------------------------


def test_setup_script_then_key_pair_login(start_server, tmp_path):
    server = start_server()
    admin = server.connect()
    assert whoami(admin) == ("EMBUCKET", "ACCOUNTADMIN")

    assert rows(admin, "CREATE ROLE loader COMMENT = 'bulk loads'") == [("Role LOADER successfully created.",)]
    assert rows(admin, "CREATE USER svc_loader TYPE = SERVICE DEFAULT_ROLE = loader COMMENT = 'loader bot'") == [
        ("User SVC_LOADER successfully created.",)
    ]
    rows(admin, "GRANT ROLE loader TO USER svc_loader")

    pem_path = tmp_path / "k.pem"
    printed = keygen(pem_path, user="svc_loader")
    assert stat.S_IMODE(pem_path.stat().st_mode) == 0o600
    assert re.fullmatch(r"SHA256:[A-Za-z0-9+/]{43}=", printed["fingerprint"]), printed
    assert printed["sql"] == f"ALTER USER svc_loader SET RSA_PUBLIC_KEY='{printed['public_key']}';"
    rows(admin, printed["sql"])  # verbatim, trailing semicolon included

    rows(admin, "CREATE NETWORK POLICY loader_net ALLOWED_IP_LIST = ('127.0.0.1/32') COMMENT = 'local'")
    rows(admin, "ALTER USER svc_loader SET NETWORK_POLICY = loader_net")

    key = serialization.load_pem_private_key(pem_path.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert public_b64(key) == printed["public_key"]
    assert fingerprint(key) == printed["fingerprint"]

    conn = key_login(server, "svc_loader", key)
    assert whoami(conn) == ("SVC_LOADER", "LOADER")
    assert conn.role == "LOADER"
    # The same key as PKCS#8 DER bytes works too.
    assert whoami(key_login(server, "svc_loader", pkcs8_der(key))) == ("SVC_LOADER", "LOADER")

    desc = desc_user(admin, "svc_loader")
    assert desc["NAME"] == "SVC_LOADER"
    assert desc["LOGIN_NAME"] == "SVC_LOADER"
    assert desc["TYPE"] == "SERVICE"
    assert desc["DISABLED"] == "false"
    assert desc["DEFAULT_ROLE"] == "LOADER"
    assert desc["HAS_PASSWORD"] == "false"
    assert desc["RSA_PUBLIC_KEY"] == printed["public_key"]
    assert desc["RSA_PUBLIC_KEY_FP"] == printed["fingerprint"]
    assert desc["RSA_PUBLIC_KEY_2"] == "null"
    assert desc["RSA_PUBLIC_KEY_2_FP"] == "null"
    assert desc["NETWORK_POLICY"] == "LOADER_NET"
    assert desc["COMMENT"] == "loader bot"

    [shown] = show_users(admin, "svc%")
    assert shown["name"] == "SVC_LOADER"
    assert (shown["type"], shown["has_rsa_public_key"], shown["has_password"]) == ("SERVICE", "true", "false")
    assert shown["default_role"] == "LOADER"
    [role] = [r for r in rows(admin, "SHOW ROLES LIKE 'LOADER'")]
    assert (role[1], role[2], role[3]) == ("LOADER", "1", "bulk loads")
    assert rows(admin, "DESC NETWORK POLICY loader_net") == [
        ("ALLOWED_IP_LIST", "127.0.0.1/32"),
        ("BLOCKED_IP_LIST", ""),
    ]

    # A key that is not registered, and the registered key for another user name, are refused alike.
    key_refused(server, "svc_loader", new_key(), INVALID_JWT)
    key_refused(server, "nobody", key, INVALID_JWT)
    # The demo user has no key.
    key_refused(server, "embucket", key, INVALID_JWT)


def test_private_key_forms_the_connector_takes(start_server, tmp_path):
    """Every way the connector 5.2.0 takes a private key ends in the same key-pair login; PEM *bytes*
    are the one form it refuses itself (only DER bytes), before sending anything."""
    server = start_server()
    admin = server.connect()
    pem_path = tmp_path / "k.pem"
    printed = keygen(pem_path, user="svc_loader")
    run_all(admin, "CREATE USER svc_loader TYPE = SERVICE", printed["sql"])
    pem = pem_path.read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    der = pkcs8_der(key)

    forms = {
        "key object": dict(private_key=key),
        "PKCS#8 DER bytes": dict(private_key=der),
        "PEM string": dict(private_key=pem.decode()),
        "base64 DER string": dict(private_key=base64.b64encode(der).decode()),
        "private_key_file": dict(private_key_file=str(pem_path)),
        "explicit authenticator": dict(private_key=key, authenticator="SNOWFLAKE_JWT"),
    }
    for name, params in forms.items():
        conn = server.connect(user="svc_loader", password=None, **params)
        assert whoami(conn) == ("SVC_LOADER", "PUBLIC"), name
    # With both a key and a password the connector logs in with the key (a SERVICE user has no
    # password, so a password login would have been refused).
    assert whoami(server.connect(user="svc_loader", password="anything", private_key=key))[0] == "SVC_LOADER"
    with pytest.raises(ProgrammingError):
        server.connect(user="svc_loader", password=None, private_key=pem)


def test_keygen_refuses_to_overwrite(tmp_path):
    pem_path = tmp_path / "k.pem"
    pem_path.write_text("keep me")
    done = subprocess.run(
        [str(snowgate_bin()), "keygen", "--out", str(pem_path)],
        env=server_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1, done
    assert str(pem_path) in done.stderr
    assert pem_path.read_text() == "keep me"
    assert "public_key" not in done.stdout


# --- 2. key rotation ------------------------------------------------------------------------------------------


def test_key_rotation(start_server):
    server = start_server()
    admin = server.connect()
    first = create_service_user(admin)
    second = new_key()

    rows(admin, f"ALTER USER svc_loader SET RSA_PUBLIC_KEY_2 = '{public_b64(second)}'")
    desc = desc_user(admin, "svc_loader")
    assert desc["RSA_PUBLIC_KEY_FP"] == fingerprint(first)
    assert desc["RSA_PUBLIC_KEY_2"] == public_b64(second)
    assert desc["RSA_PUBLIC_KEY_2_FP"] == fingerprint(second)

    for key in (first, second):
        assert whoami(key_login(server, "svc_loader", key)) == ("SVC_LOADER", "LOADER")

    rows(admin, "ALTER USER svc_loader UNSET RSA_PUBLIC_KEY")
    desc = desc_user(admin, "svc_loader")
    assert (desc["RSA_PUBLIC_KEY"], desc["RSA_PUBLIC_KEY_FP"]) == ("null", "null")
    assert desc["RSA_PUBLIC_KEY_2_FP"] == fingerprint(second)
    key_refused(server, "svc_loader", first, INVALID_JWT)
    assert whoami(key_login(server, "svc_loader", second)) == ("SVC_LOADER", "LOADER")

    # The next rotation: the new key goes into the free slot, then the old one is removed.
    third = new_key()
    rows(admin, f"ALTER USER svc_loader SET RSA_PUBLIC_KEY = '{public_b64(third)}'")
    rows(admin, "ALTER USER svc_loader UNSET RSA_PUBLIC_KEY_2")
    key_refused(server, "svc_loader", second, INVALID_JWT)
    assert whoami(key_login(server, "svc_loader", third)) == ("SVC_LOADER", "LOADER")
    # A key with PEM armour and line breaks is accepted too, and stored as bare base64 DER.
    pem = second.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    rows(admin, f"ALTER USER svc_loader SET RSA_PUBLIC_KEY_2 = '{pem}'")
    assert desc_user(admin, "svc_loader")["RSA_PUBLIC_KEY_2"] == public_b64(second)
    assert whoami(key_login(server, "svc_loader", second)) == ("SVC_LOADER", "LOADER")


@pytest.mark.parametrize(
    "value",
    [
        "not base64!",
        base64.b64encode(b"definitely not DER").decode(),
        # A 1024-bit key: below Snowflake's minimum of 2048.
        public_b64(rsa.generate_private_key(public_exponent=65537, key_size=1024)),
    ],
    ids=["not-base64", "not-der", "1024-bit"],
)
def test_invalid_public_key_changes_nothing(start_server, value):
    server = start_server()
    admin = server.connect()
    key = create_service_user(admin)
    sql_error(admin, f"ALTER USER svc_loader SET RSA_PUBLIC_KEY = '{value}'", INVALID_VALUE)
    sql_error(admin, f"ALTER USER svc_loader SET COMMENT = 'x' RSA_PUBLIC_KEY_2 = '{value}'", INVALID_VALUE)
    desc = desc_user(admin, "svc_loader")
    assert desc["RSA_PUBLIC_KEY_FP"] == fingerprint(key)
    assert (desc["RSA_PUBLIC_KEY_2"], desc["COMMENT"]) == ("null", "null")
    sql_error(admin, f"CREATE USER svc_bad TYPE = SERVICE RSA_PUBLIC_KEY = '{value}'", INVALID_VALUE)
    assert show_users(admin, "SVC_BAD") == []
    assert whoami(key_login(server, "svc_loader", key)) == ("SVC_LOADER", "LOADER")


# --- 3. user types and passwords -------------------------------------------------------------------------------


def test_service_user_never_has_a_password(start_server):
    server = start_server()
    admin = server.connect()
    key = create_service_user(admin)

    sql_error(admin, "ALTER USER svc_loader SET PASSWORD = 'p4ss'", INVALID_VALUE)
    assert desc_user(admin, "svc_loader")["HAS_PASSWORD"] == "false"
    sql_error(admin, "CREATE USER svc_other TYPE = SERVICE PASSWORD = 'p4ss'", INVALID_VALUE)
    assert show_users(admin, "SVC_OTHER") == []

    # Made a PERSON, the user may have a password and log in with it.
    rows(admin, "ALTER USER svc_loader SET TYPE = PERSON, PASSWORD = 'p4ss'")
    desc = desc_user(admin, "svc_loader")
    assert (desc["TYPE"], desc["HAS_PASSWORD"]) == ("PERSON", "true")
    assert "p4ss" not in json.dumps(desc)
    assert whoami(server.connect(user="svc_loader", password="p4ss")) == ("SVC_LOADER", "LOADER")
    assert whoami(key_login(server, "svc_loader", key)) == ("SVC_LOADER", "LOADER")

    # Back to SERVICE is refused while it has a password, and changes nothing.
    sql_error(admin, "ALTER USER svc_loader SET TYPE = SERVICE", INVALID_VALUE)
    desc = desc_user(admin, "svc_loader")
    assert (desc["TYPE"], desc["HAS_PASSWORD"]) == ("PERSON", "true")
    assert whoami(server.connect(user="svc_loader", password="p4ss")) == ("SVC_LOADER", "LOADER")

    rows(admin, "ALTER USER svc_loader UNSET PASSWORD")
    rows(admin, "ALTER USER svc_loader SET TYPE = SERVICE")
    desc = desc_user(admin, "svc_loader")
    assert (desc["TYPE"], desc["HAS_PASSWORD"]) == ("SERVICE", "false")
    refused = login_refused(server, BAD_CREDENTIALS, user="svc_loader", password="p4ss")
    wrong = login_refused(server, BAD_CREDENTIALS, user="svc_loader", password="wrong")
    assert refused.msg == wrong.msg  # a service user is indistinguishable from a wrong password
    assert whoami(key_login(server, "svc_loader", key)) == ("SVC_LOADER", "LOADER")


def test_legacy_service_user_logs_in_with_a_password(start_server):
    server = start_server()
    admin = server.connect()
    key = new_key()
    run_all(
        admin,
        "CREATE ROLE etl",
        f"CREATE USER old_etl TYPE = LEGACY_SERVICE PASSWORD = 'legacy-pw' DEFAULT_ROLE = etl "
        f"RSA_PUBLIC_KEY = '{public_b64(key)}'",
        "GRANT ROLE etl TO USER old_etl",
    )
    desc = desc_user(admin, "old_etl")
    assert (desc["TYPE"], desc["HAS_PASSWORD"]) == ("LEGACY_SERVICE", "true")
    assert whoami(server.connect(user="old_etl", password="legacy-pw")) == ("OLD_ETL", "ETL")
    assert whoami(key_login(server, "old_etl", key)) == ("OLD_ETL", "ETL")
    login_refused(server, BAD_CREDENTIALS, user="old_etl", password="legacy-pw-wrong")
    # Like a PERSON, it cannot become a SERVICE while it has a password.
    sql_error(admin, "ALTER USER old_etl SET TYPE = SERVICE", INVALID_VALUE)
    assert desc_user(admin, "old_etl")["TYPE"] == "LEGACY_SERVICE"


def test_person_with_login_name_and_defaults(start_server):
    server = start_server()
    admin = server.connect()
    run_all(
        admin,
        "CREATE ROLE analyst",
        "CREATE USER jdoe PASSWORD = 'pw-1' LOGIN_NAME = 'jane.doe@example.com' DEFAULT_ROLE = analyst "
        "DEFAULT_WAREHOUSE = wh DEFAULT_NAMESPACE = 'sales.raw' DISPLAY_NAME = 'Jane' EMAIL = 'jane@example.com'",
    )
    # DEFAULT_ROLE not granted yet: the session gets PUBLIC.
    conn = server.connect(user="JANE.DOE@example.com", password="pw-1")
    assert whoami(conn) == ("JDOE", "PUBLIC")
    assert rows(conn, "SELECT CURRENT_DATABASE(), CURRENT_SCHEMA(), CURRENT_WAREHOUSE()") == [
        ("SALES", "RAW", "WH")
    ]
    rows(admin, "GRANT ROLE analyst TO USER jdoe")
    assert whoami(server.connect(user="jane.doe@example.com", password="pw-1")) == ("JDOE", "ANALYST")
    # The user's own name is not its login name.
    login_refused(server, BAD_CREDENTIALS, user="jdoe", password="pw-1")
    # Key-pair login with a login name holding dots: the JWT's sub is ACME.JANE.DOE@EXAMPLE.COM.
    key = new_key()
    rows(admin, f"ALTER USER jdoe SET RSA_PUBLIC_KEY = '{public_b64(key)}'")
    assert whoami(key_login(server, "jane.doe@example.com", key)) == ("JDOE", "ANALYST")
    key_refused(server, "jdoe", key, INVALID_JWT)
    [shown] = show_users(admin, "JDOE")
    assert (shown["login_name"], shown["display_name"], shown["email"]) == (
        "JANE.DOE@EXAMPLE.COM",
        "Jane",
        "jane@example.com",
    )
    assert (shown["default_namespace"], shown["default_warehouse"], shown["type"]) == ("SALES.RAW", "WH", "PERSON")
    # A second user cannot take the same login name.
    sql_error(admin, "CREATE USER other LOGIN_NAME = 'Jane.Doe@example.com' PASSWORD = 'x'", INVALID_VALUE)
    assert show_users(admin, "OTHER") == []
    # After a revoke the default role is no longer granted: PUBLIC again.
    rows(admin, "REVOKE ROLE analyst FROM USER jdoe")
    assert whoami(server.connect(user="jane.doe@example.com", password="pw-1")) == ("JDOE", "PUBLIC")


# --- 4. network policies -------------------------------------------------------------------------------------


def test_user_network_policy_is_told_only_to_the_credential(start_server):
    server = start_server()
    admin = server.connect()
    key = create_service_user(admin)
    run_all(
        admin,
        "CREATE USER analyst_pw PASSWORD = 'pw-a'",
        "CREATE NETWORK POLICY office ALLOWED_IP_LIST = ('10.0.0.0/8', '192.168.1.7')",
        "ALTER USER svc_loader SET NETWORK_POLICY = office",
        "ALTER USER analyst_pw SET NETWORK_POLICY = office",
    )
    assert rows(admin, "DESC NETWORK POLICY office")[0] == ("ALLOWED_IP_LIST", "10.0.0.0/8,192.168.1.7")

    err = key_refused(server, "svc_loader", key, IP_NOT_ALLOWED)
    assert LOCAL_IP in err.msg, err.msg
    err = login_refused(server, IP_NOT_ALLOWED, user="analyst_pw", password="pw-a")
    assert LOCAL_IP in err.msg, err.msg
    # A wrong key or password from there is refused as for a user who does not exist (issue 19:
    # 390422 before the credential told that the user exists and has a policy).
    key_refused(server, "svc_loader", new_key(), INVALID_JWT)
    key_refused(server, "no_such_user", new_key(), INVALID_JWT)
    login_refused(server, BAD_CREDENTIALS, user="analyst_pw", password="wrong")
    login_refused(server, BAD_CREDENTIALS, user="no_such_user", password="wrong")
    # Other users (no policy) are unaffected.
    assert whoami(server.connect())[0] == "EMBUCKET"

    # An attached policy cannot be dropped.
    sql_error(admin, "DROP NETWORK POLICY office", INVALID_VALUE)
    # Widening the policy lets them in at once.
    rows(admin, "ALTER NETWORK POLICY office SET ALLOWED_IP_LIST = ('10.0.0.0/8', '127.0.0.0/8')")
    assert whoami(key_login(server, "svc_loader", key)) == ("SVC_LOADER", "LOADER")
    assert whoami(server.connect(user="analyst_pw", password="pw-a")) == ("ANALYST_PW", "PUBLIC")

    rows(admin, "ALTER NETWORK POLICY office SET ALLOWED_IP_LIST = ('10.0.0.0/8')")
    key_refused(server, "svc_loader", key, IP_NOT_ALLOWED)
    rows(admin, "ALTER USER svc_loader UNSET NETWORK_POLICY")
    assert whoami(key_login(server, "svc_loader", key)) == ("SVC_LOADER", "LOADER")


def test_blocked_and_empty_ip_lists(start_server):
    server = start_server()
    admin = server.connect()
    key = create_service_user(admin)

    rows(admin, "CREATE NETWORK POLICY open_but ALLOWED_IP_LIST = ('0.0.0.0/0') BLOCKED_IP_LIST = ('127.0.0.1')")
    rows(admin, "ALTER USER svc_loader SET NETWORK_POLICY = open_but")
    err = key_refused(server, "svc_loader", key, IP_NOT_ALLOWED)
    assert LOCAL_IP in err.msg
    rows(admin, "ALTER NETWORK POLICY open_but UNSET BLOCKED_IP_LIST")
    assert whoami(key_login(server, "svc_loader", key)) == ("SVC_LOADER", "LOADER")

    rows(admin, "CREATE NETWORK POLICY nobody ALLOWED_IP_LIST = ()")
    assert rows(admin, "DESC NETWORK POLICY nobody") == [("ALLOWED_IP_LIST", ""), ("BLOCKED_IP_LIST", "")]
    rows(admin, "ALTER USER svc_loader SET NETWORK_POLICY = nobody")
    key_refused(server, "svc_loader", key, IP_NOT_ALLOWED)

    # Invalid lists and unknown policies are refused and change nothing.
    sql_error(admin, "CREATE NETWORK POLICY bad ALLOWED_IP_LIST = ('10.0.0.0/33')", INVALID_VALUE)
    sql_error(admin, "CREATE NETWORK POLICY bad ALLOWED_IP_LIST = ('not-an-ip')", INVALID_VALUE)
    sql_error(admin, "ALTER NETWORK POLICY open_but SET BLOCKED_IP_LIST = ('300.1.1.1')", INVALID_VALUE)
    sql_error(admin, "ALTER USER svc_loader SET NETWORK_POLICY = no_such_policy", INVALID_VALUE)
    assert desc_user(admin, "svc_loader")["NETWORK_POLICY"] == "NOBODY"
    names = [r[1] for r in rows(admin, "SHOW NETWORK POLICIES")]
    assert sorted(names) == ["NOBODY", "OPEN_BUT"], names
    assert rows(admin, "DESC NETWORK POLICY open_but")[1] == ("BLOCKED_IP_LIST", "")
    sql_error(admin, "DESC NETWORK POLICY bad", DOES_NOT_EXIST)


def test_account_network_policy(start_server):
    server = start_server()
    admin = server.connect()
    key = create_service_user(admin)
    run_all(
        admin,
        "CREATE USER pw_user PASSWORD = 'pw-u'",
        "CREATE NETWORK POLICY elsewhere ALLOWED_IP_LIST = ('10.0.0.0/8')",
        "CREATE NETWORK POLICY just_me ALLOWED_IP_LIST = ('127.0.0.1/32')",
        "CREATE NETWORK POLICY loopback ALLOWED_IP_LIST = ('127.0.0.0/8')",
    )

    # An account policy that would lock out the administrator setting it is refused.
    err = sql_error(admin, "ALTER ACCOUNT SET NETWORK_POLICY = elsewhere", INVALID_VALUE)
    assert LOCAL_IP in err.msg, err.msg
    sql_error(admin, "ALTER ACCOUNT SET NETWORK_POLICY = no_such_policy", INVALID_VALUE)
    assert whoami(server.connect())[0] == "EMBUCKET"
    assert whoami(key_login(server, "svc_loader", key)) == ("SVC_LOADER", "LOADER")
    assert raw_password_login(server, "pw_user", "pw-u", source_ip=OTHER_LOCAL_IP)["success"] is True

    # An account policy admitting only 127.0.0.1: a client from 127.0.0.2 is refused, whatever it claims.
    rows(admin, "ALTER ACCOUNT SET NETWORK_POLICY = just_me")
    assert raw_password_login(server, "pw_user", "pw-u")["success"] is True
    assert whoami(key_login(server, "svc_loader", key)) == ("SVC_LOADER", "LOADER")
    for headers in (None, {"X-Forwarded-For": LOCAL_IP}):
        body = raw_password_login(server, "pw_user", "pw-u", source_ip=OTHER_LOCAL_IP, headers=headers)
        assert (body["success"], body["code"]) == (False, str(IP_NOT_ALLOWED)), body
        assert OTHER_LOCAL_IP in body["message"], body
    # The demo user and unknown users are governed by the account policy too.
    assert raw_password_login(server, "embucket", "embucket", source_ip=OTHER_LOCAL_IP)["code"] == str(IP_NOT_ALLOWED)
    assert raw_password_login(server, "nobody", "x", source_ip=OTHER_LOCAL_IP)["code"] == str(IP_NOT_ALLOWED)

    # A user's own policy takes precedence over the account's.
    rows(admin, "ALTER USER pw_user SET NETWORK_POLICY = loopback")
    assert raw_password_login(server, "pw_user", "pw-u", source_ip=OTHER_LOCAL_IP)["success"] is True
    rows(admin, "ALTER USER svc_loader SET NETWORK_POLICY = elsewhere")
    key_refused(server, "svc_loader", key, IP_NOT_ALLOWED)
    rows(admin, "ALTER USER svc_loader UNSET NETWORK_POLICY")
    rows(admin, "ALTER USER pw_user UNSET NETWORK_POLICY")

    # The account policy cannot be dropped while active; UNSET restores access.
    sql_error(admin, "DROP NETWORK POLICY just_me", INVALID_VALUE)
    rows(admin, "ALTER ACCOUNT UNSET NETWORK_POLICY")
    assert raw_password_login(server, "pw_user", "pw-u", source_ip=OTHER_LOCAL_IP)["success"] is True
    rows(admin, "DROP NETWORK POLICY just_me")
    assert "JUST_ME" not in [r[1] for r in rows(admin, "SHOW NETWORK POLICIES")]


def test_network_policy_behind_a_trusted_proxy(start_server):
    """With SNOWGATE_TRUSTED_PROXIES, the rightmost untrusted X-Forwarded-For entry of a request from a
    trusted proxy is the address policies see; from anybody else the header is ignored."""
    proxy = OTHER_LOCAL_IP
    server = start_server({"SNOWGATE_TRUSTED_PROXIES": f"{proxy}/32"})
    admin = server.connect()
    run_all(
        admin,
        "CREATE NETWORK POLICY corp ALLOWED_IP_LIST = ('10.0.0.0/8') BLOCKED_IP_LIST = ('10.6.6.6')",
        "CREATE USER remote PASSWORD = 'pw-r' NETWORK_POLICY = corp",
    )

    def login(source: str, forwarded: str | None) -> dict:
        headers = {"X-Forwarded-For": forwarded} if forwarded is not None else None
        return raw_password_login(server, "remote", "pw-r", source_ip=source, headers=headers)

    assert login(proxy, "10.1.2.3")["success"] is True
    assert login(proxy, f"203.0.113.5, 10.1.2.3, {proxy}")["success"] is True
    for source, forwarded, seen in [
        (LOCAL_IP, "10.1.2.3", LOCAL_IP),  # not a trusted proxy: header ignored
        (proxy, None, proxy),  # trusted, but no header: the proxy itself
        (proxy, "10.1.2.3, 203.0.113.5", "203.0.113.5"),  # rightmost untrusted entry wins
        (proxy, "10.6.6.6", "10.6.6.6"),  # blocked
    ]:
        body = login(source, forwarded)
        assert (body["success"], body["code"]) == (False, str(IP_NOT_ALLOWED)), (source, forwarded, body)
        assert seen in body["message"], (source, forwarded, body)


# --- 5. privileges ------------------------------------------------------------------------------------------------


def test_only_admin_roles_administer(start_server):
    server = start_server()
    admin = server.connect()
    key = create_service_user(admin)

    for role in ("SYSADMIN", "PUBLIC"):
        rows(admin, f"USE ROLE {role}")
        assert whoami(admin) == ("EMBUCKET", role)
        err = sql_error(admin, "CREATE USER x PASSWORD = 'pw-x'", INSUFFICIENT_PRIVILEGES)
        assert role in err.msg
        sql_error(admin, "SHOW USERS", INSUFFICIENT_PRIVILEGES)
        sql_error(admin, "CREATE ROLE r_x", INSUFFICIENT_PRIVILEGES)
        sql_error(admin, "DROP USER svc_loader", INSUFFICIENT_PRIVILEGES)
    rows(admin, "USE ROLE ACCOUNTADMIN")
    assert show_users(admin, "X") == []
    assert rows(admin, "SHOW ROLES LIKE 'R_X'") == []
    assert len(show_users(admin, "SVC_LOADER")) == 1

    for role in ("SECURITYADMIN", "USERADMIN"):
        rows(admin, f"USE ROLE {role}")
        name = f"made_by_{role}"
        rows(admin, f"CREATE USER {name} PASSWORD = 'pw'")
        assert len(show_users(admin, name.upper())) == 1
    rows(admin, "USE ROLE ACCOUNTADMIN")

    # The service user's role is not an administrator role; nor can it take one.
    svc = key_login(server, "svc_loader", key)
    sql_error(svc, "SHOW USERS", INSUFFICIENT_PRIVILEGES)
    sql_error(svc, "DESC USER svc_loader", INSUFFICIENT_PRIVILEGES)
    rotate = f"ALTER USER svc_loader SET RSA_PUBLIC_KEY_2 = '{public_b64(new_key())}'"
    sql_error(svc, rotate, INSUFFICIENT_PRIVILEGES)
    err = sql_error(svc, "USE ROLE ACCOUNTADMIN", INSUFFICIENT_PRIVILEGES)
    assert "ACCOUNTADMIN" in err.msg
    sql_error(svc, "USE ROLE SYSADMIN", INSUFFICIENT_PRIVILEGES)
    assert whoami(svc) == ("SVC_LOADER", "LOADER")
    rows(svc, "USE ROLE PUBLIC")
    assert whoami(svc) == ("SVC_LOADER", "PUBLIC")
    assert desc_user(admin, "svc_loader")["RSA_PUBLIC_KEY_2"] == "null"


# --- 6. role checks, disabled users, errors -----------------------------------------------------------------------


def test_login_role_must_be_granted(start_server):
    server = start_server()
    admin = server.connect()
    key = create_service_user(admin)
    rows(admin, "CREATE ROLE reporter")

    err = key_refused(server, "svc_loader", key, ROLE_NOT_GRANTED, role="accountadmin")
    assert "ACCOUNTADMIN" in err.msg
    key_refused(server, "svc_loader", key, ROLE_NOT_GRANTED, role="reporter")
    key_refused(server, "svc_loader", key, ROLE_NOT_GRANTED, role="no_such_role")
    assert whoami(key_login(server, "svc_loader", key, role="public")) == ("SVC_LOADER", "PUBLIC")
    assert whoami(key_login(server, "svc_loader", key, role="loader")) == ("SVC_LOADER", "LOADER")

    rows(admin, "GRANT ROLE reporter TO USER svc_loader")
    conn = key_login(server, "svc_loader", key, role="reporter")
    assert whoami(conn) == ("SVC_LOADER", "REPORTER")
    rows(conn, "USE ROLE loader")
    assert whoami(conn) == ("SVC_LOADER", "LOADER")
    [role] = rows(admin, "SHOW ROLES LIKE 'reporter'")
    assert role[1:3] == ("REPORTER", "1")

    # Dropping a role revokes it: the default role falls back to PUBLIC.
    rows(admin, "DROP ROLE loader")
    assert whoami(key_login(server, "svc_loader", key)) == ("SVC_LOADER", "PUBLIC")
    key_refused(server, "svc_loader", key, ROLE_NOT_GRANTED, role="loader")
    sql_error(admin, "DROP ROLE accountadmin", INSUFFICIENT_PRIVILEGES)


def test_disabled_user_is_refused(start_server):
    server = start_server()
    admin = server.connect()
    key = create_service_user(admin)
    rows(admin, "CREATE USER person_pw PASSWORD = 'pw-p' DISABLED = TRUE")

    rows(admin, "ALTER USER svc_loader SET DISABLED = TRUE")
    assert desc_user(admin, "svc_loader")["DISABLED"] == "true"
    assert show_users(admin, "SVC_LOADER")[0]["disabled"] == "true"
    err = key_refused(server, "svc_loader", key, USER_DISABLED)
    assert "disabled" in err.msg.lower()
    login_refused(server, USER_DISABLED, user="person_pw", password="pw-p")
    # Credentials are still checked first: a wrong key or password is the usual refusal.
    key_refused(server, "svc_loader", new_key(), INVALID_JWT)
    login_refused(server, BAD_CREDENTIALS, user="person_pw", password="wrong")

    rows(admin, "ALTER USER svc_loader SET DISABLED = FALSE")
    assert whoami(key_login(server, "svc_loader", key)) == ("SVC_LOADER", "LOADER")
    rows(admin, "ALTER USER person_pw UNSET DISABLED")
    assert whoami(server.connect(user="person_pw", password="pw-p")) == ("PERSON_PW", "PUBLIC")


@pytest.mark.parametrize(
    "sql",
    [
        "GRANT APPLICATION ROLE app.r TO USER svc_loader",
        "GRANT ROLE loader TO ROLE sysadmin",
        "CREATE TABLE t (a INT)",
        "ALTER ACCOUNT SET TIMEZONE = 'UTC'",
    ],
)
def test_unsupported_statements_change_nothing(start_server, sql):
    server = start_server()
    admin = server.connect()
    create_service_user(admin)
    before = (rows(admin, "SHOW USERS"), rows(admin, "SHOW ROLES"), desc_user(admin, "embucket"))
    sql_error(admin, sql, UNSUPPORTED)
    assert (rows(admin, "SHOW USERS"), rows(admin, "SHOW ROLES"), desc_user(admin, "embucket")) == before
    assert whoami(admin) == ("EMBUCKET", "ACCOUNTADMIN")


def test_administration_errors_change_nothing(start_server):
    server = start_server()
    admin = server.connect()
    key = create_service_user(admin)
    before = (rows(admin, "SHOW USERS"), rows(admin, "SHOW ROLES"), desc_user(admin, "svc_loader"))

    sql_error(admin, "CREATE ROLE loader", ALREADY_EXISTS)
    sql_error(admin, "CREATE ROLE sysadmin", ALREADY_EXISTS)
    sql_error(admin, "CREATE USER svc_loader TYPE = PERSON", ALREADY_EXISTS)
    sql_error(admin, "CREATE USER embucket", ALREADY_EXISTS)
    sql_error(admin, "DROP USER nobody", DOES_NOT_EXIST)
    sql_error(admin, "ALTER USER nobody SET COMMENT = 'x'", DOES_NOT_EXIST)
    sql_error(admin, "DESC USER nobody", DOES_NOT_EXIST)
    sql_error(admin, "DROP ROLE nobody", DOES_NOT_EXIST)
    sql_error(admin, "GRANT ROLE nobody TO USER svc_loader", DOES_NOT_EXIST)
    sql_error(admin, "GRANT ROLE loader TO USER nobody", DOES_NOT_EXIST)
    sql_error(admin, "ALTER USER svc_loader SET NO_SUCH_PROPERTY = 1", INVALID_VALUE)
    sql_error(admin, "ALTER USER svc_loader SET TYPE = ROBOT", INVALID_VALUE)
    sql_error(admin, "ALTER USER svc_loader SET DISABLED = maybe", INVALID_VALUE)
    sql_error(admin, "ALTER USER svc_loader UNSET NO_SUCH_PROPERTY", INVALID_VALUE)
    # A statement with one bad property writes none of the good ones.
    sql_error(admin, "ALTER USER svc_loader SET COMMENT = 'changed' DISABLED = TRUE TYPE = ROBOT", INVALID_VALUE)
    sql_error(admin, "ALTER USER svc_loader SET DEFAULT_ROLE = public PASSWORD = 'nope'", INVALID_VALUE)
    sql_error(admin, "CREATE USER half_made COMMENT = 'x' NO_SUCH_PROPERTY = 1", INVALID_VALUE)
    sql_error(admin, "CREATE ROLE half_role NO_SUCH_PROPERTY = 1", INVALID_VALUE)

    assert (rows(admin, "SHOW USERS"), rows(admin, "SHOW ROLES"), desc_user(admin, "svc_loader")) == before
    assert whoami(key_login(server, "svc_loader", key)) == ("SVC_LOADER", "LOADER")

    # The IF [NOT] EXISTS forms succeed quietly and change nothing either.
    rows(admin, "CREATE ROLE IF NOT EXISTS loader")
    rows(admin, "CREATE USER IF NOT EXISTS svc_loader TYPE = PERSON PASSWORD = 'x'")
    rows(admin, "DROP USER IF EXISTS nobody")
    rows(admin, "ALTER USER IF EXISTS nobody SET COMMENT = 'x'")
    rows(admin, "DROP ROLE IF EXISTS nobody")
    assert (rows(admin, "SHOW USERS"), rows(admin, "SHOW ROLES"), desc_user(admin, "svc_loader")) == before


def test_drop_and_replace_user(start_server):
    server = start_server()
    admin = server.connect()
    key = create_service_user(admin)
    other = new_key()

    # OR REPLACE starts from scratch: the old key and grants are gone.
    rows(admin, f"CREATE OR REPLACE USER svc_loader TYPE = SERVICE RSA_PUBLIC_KEY = '{public_b64(other)}'")
    key_refused(server, "svc_loader", key, INVALID_JWT)
    assert whoami(key_login(server, "svc_loader", other)) == ("SVC_LOADER", "PUBLIC")
    key_refused(server, "svc_loader", other, ROLE_NOT_GRANTED, role="loader")

    assert rows(admin, "DROP USER svc_loader") == [("SVC_LOADER successfully dropped.",)]
    key_refused(server, "svc_loader", other, INVALID_JWT)
    assert show_users(admin, "SVC_LOADER") == []
    # Quoted names keep their case and are other users.
    rows(admin, f"CREATE USER \"svc_loader\" TYPE = SERVICE RSA_PUBLIC_KEY = '{public_b64(other)}'")
    assert [u["name"] for u in show_users(admin, "svc_loader")] == ["svc_loader"]
    assert desc_user(admin, '"svc_loader"')["NAME"] == "svc_loader"
    sql_error(admin, "DESC USER svc_loader", DOES_NOT_EXIST)


def test_use_role_checks_the_session_users_own_grants(start_server):
    """USE ROLE looks at the session user's own grants, not at the user whose LOGIN_NAME happens to
    equal its name (fixed in e976540; before, ALICE could USE ROLE ACCOUNTADMIN through BOB)."""
    server = start_server()
    admin = server.connect()
    run_all(
        admin,
        "CREATE ROLE r1",
        "CREATE USER alice LOGIN_NAME = 'carol' PASSWORD = 'pw-alice'",
        "GRANT ROLE r1 TO USER alice",
        "CREATE USER bob LOGIN_NAME = 'alice' PASSWORD = 'pw-bob'",
        "GRANT ROLE accountadmin TO USER bob",
    )
    alice = server.connect(user="carol", password="pw-alice")
    assert whoami(alice) == ("ALICE", "PUBLIC")
    sql_error(alice, "USE ROLE accountadmin", INSUFFICIENT_PRIVILEGES)
    rows(alice, "USE ROLE r1")
    assert whoami(alice) == ("ALICE", "R1")


# --- privileges are checked at every statement, not only at login ---------------------------------------------------


@pytest.mark.parametrize(
    "change", ["REVOKE ROLE securityadmin FROM USER dave", "DROP USER dave"], ids=["revoked", "dropped"]
)
def test_an_admin_whose_rights_go_stops_working_in_open_sessions(start_server, change):
    server = start_server()
    admin = server.connect()
    run_all(
        admin,
        "CREATE USER dave PASSWORD = 'pw-dave' DEFAULT_ROLE = securityadmin",
        "GRANT ROLE securityadmin TO USER dave",
    )
    dave = server.connect(user="dave", password="pw-dave")
    assert whoami(dave) == ("DAVE", "SECURITYADMIN")
    rows(admin, change)
    # The session's role or user is gone: the session ends at its next request (390111), creating
    # nothing.
    with pytest.raises(DatabaseError) as info:
        rows(dave, "CREATE USER made_after PASSWORD = 'x'")
    assert info.value.errno == 390111, info.value
    assert show_users(admin, "MADE_AFTER") == []


def test_useradmin_cannot_grant_accountadmin(start_server):
    server = start_server()
    admin = server.connect()
    rows(admin, "USE ROLE useradmin")
    rows(admin, "CREATE USER eve PASSWORD = 'pw-eve'")
    sql_error(admin, "GRANT ROLE accountadmin TO USER eve", INSUFFICIENT_PRIVILEGES)
    login_refused(server, ROLE_NOT_GRANTED, user="eve", password="pw-eve", role="accountadmin")


def test_account_policy_cannot_be_changed_to_lock_out_its_administrator(start_server):
    server = start_server()
    admin = server.connect()
    run_all(
        admin,
        "CREATE NETWORK POLICY acct ALLOWED_IP_LIST = ('127.0.0.1/32')",
        "ALTER ACCOUNT SET NETWORK_POLICY = acct",
    )
    sql_error(admin, "ALTER NETWORK POLICY acct SET ALLOWED_IP_LIST = ('10.0.0.0/8')", INVALID_VALUE)
    sql_error(admin, "ALTER NETWORK POLICY acct SET BLOCKED_IP_LIST = ('127.0.0.1')", INVALID_VALUE)
    # Nothing changed: logins from 127.0.0.1 still work.
    server.connect().close()
    rows(admin, "ALTER ACCOUNT UNSET NETWORK_POLICY")


# --- 7. the directory on DynamoDB, shared by every instance ----------------------------------------------------------


@pytest.fixture(scope="module")
def directory_table(dynamodb) -> Iterator[str]:
    """One table for sessions and the directory, as deployed."""
    with snowgate_table(dynamodb, "directory") as name:
        yield name


@pytest.fixture
def service_secret(aws_endpoint) -> Iterator[tuple[str, str, str]]:
    """A Secrets Manager secret for the service: (secret id, demo user, demo password)."""
    client = aws_client("secretsmanager", aws_endpoint)
    user, password = "Admin" + uuid.uuid4().hex[:6], "pw-" + uuid.uuid4().hex[:10]
    name = unique("directory-secret")
    client.create_secret(
        Name=name,
        SecretString=json.dumps(
            {"jwt_secret": uuid.uuid4().hex * 2, "demo_user": user, "demo_password": password}
        ),
    )
    yield name, user, password
    client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


def test_setup_script_on_dynamodb_is_shared_by_instances(
    start_server, aws_endpoint, directory_table, service_secret, dynamodb, tmp_path
):
    secret_id, demo_user, demo_password = service_secret
    env = aws_server_env(aws_endpoint)
    env.update(SNOWGATE_TABLE=directory_table, SNOWGATE_SECRET_ID=secret_id)

    a = start_server(env, user=demo_user, password=demo_password)
    admin = a.connect()
    assert whoami(admin) == (demo_user.upper(), "ACCOUNTADMIN")
    run_all(
        admin,
        "CREATE ROLE loader",
        "CREATE USER svc_loader TYPE = SERVICE DEFAULT_ROLE = loader",
        "GRANT ROLE loader TO USER svc_loader",
        "CREATE NETWORK POLICY loader_net ALLOWED_IP_LIST = ('127.0.0.1/32')",
        "ALTER USER svc_loader SET NETWORK_POLICY = loader_net",
    )
    pem_path = tmp_path / "k.pem"
    printed = keygen(pem_path, user="svc_loader")
    rows(admin, printed["sql"])
    key = serialization.load_pem_private_key(pem_path.read_bytes(), password=None)
    assert whoami(key_login(a, "svc_loader", key)) == ("SVC_LOADER", "LOADER")

    # The user is an item of the table, holding the public key only.
    item = dynamodb.get_item(
        TableName=directory_table, Key={"pk": {"S": "USER"}, "sk": {"S": "SVC_LOADER"}}, ConsistentRead=True
    ).get("Item")
    assert item is not None, "the user is not in the table"
    stored = json.dumps(item)
    assert printed["public_key"] in stored
    assert "PRIVATE" not in stored
    assert base64.b64encode(pkcs8_der(key)).decode()[:64] not in stored

    # A second instance on the same table sees the user, its key, role and policy.
    b = start_server(env, user=demo_user, password=demo_password)
    assert whoami(key_login(b, "svc_loader", key)) == ("SVC_LOADER", "LOADER")
    admin_b = b.connect()
    assert desc_user(admin_b, "svc_loader")["RSA_PUBLIC_KEY_FP"] == printed["fingerprint"]
    assert desc_user(admin_b, "svc_loader")["NETWORK_POLICY"] == "LOADER_NET"

    # Changes made through one instance apply on the other at once.
    second = new_key()
    rows(admin_b, f"ALTER USER svc_loader SET RSA_PUBLIC_KEY_2 = '{public_b64(second)}'")
    rows(admin_b, "ALTER USER svc_loader UNSET RSA_PUBLIC_KEY")
    key_refused(a, "svc_loader", key, INVALID_JWT)
    assert whoami(key_login(a, "svc_loader", second)) == ("SVC_LOADER", "LOADER")
    rows(admin, "ALTER NETWORK POLICY loader_net SET ALLOWED_IP_LIST = ('10.0.0.0/8')")
    err = key_refused(b, "svc_loader", second, IP_NOT_ALLOWED)
    assert LOCAL_IP in err.msg
    rows(admin_b, "ALTER USER svc_loader UNSET NETWORK_POLICY")
    rows(admin, "ALTER USER svc_loader SET DISABLED = TRUE")
    key_refused(b, "svc_loader", second, USER_DISABLED)
    rows(admin_b, "DROP USER svc_loader")
    key_refused(a, "svc_loader", second, INVALID_JWT)
    assert show_users(admin, "SVC_LOADER") == []
    assert "LOADER" in [r[1] for r in rows(admin, "SHOW ROLES LIKE 'LOADER'")]
