"""Authentication policies with the real Python connector: administered in SQL, enforced at login.

A policy that allows only KEYPAIR refuses the connector's password login (and lets its key-pair
login in); a CLIENT_POLICY whose PYTHON_DRIVER minimum is above the installed connector refuses it.
Both refusals carry snowgate's documented code, 390430 (docs/protocol.md), and only reach a client
that proved its credential: a wrong password still gets 390100.
"""

from __future__ import annotations

import base64

import pytest
import snowflake.connector
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from snowflake.connector.errors import DatabaseError

from conftest import rows

POLICY_REFUSED = 390430
BAD_CREDENTIALS = 390100


def refused(server, errno: int, **kw) -> DatabaseError:
    with pytest.raises(DatabaseError) as info:
        server.connect(**kw)
    assert info.value.errno == errno, f"expected {errno}, got {info.value.errno}: {info.value.msg}"
    return info.value


def public_key_b64(key) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def test_keypair_only_policy_refuses_password_logins(start_server):
    server = start_server()
    admin = server.connect()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cur = admin.cursor()
    cur.execute(
        f"CREATE USER alice PASSWORD = 'alice-pw-123' RSA_PUBLIC_KEY = '{public_key_b64(key)}'"
    )
    cur.execute("CREATE AUTHENTICATION POLICY keys_only AUTHENTICATION_METHODS = ('KEYPAIR')")
    cur.execute("ALTER USER alice SET AUTHENTICATION POLICY keys_only")
    described = {r[0]: r[1] for r in rows(admin, "DESC AUTHENTICATION POLICY keys_only")}
    assert described["AUTHENTICATION_METHODS"] == "[KEYPAIR]"

    err = refused(server, POLICY_REFUSED, user="alice", password="alice-pw-123")
    assert "authentication policy" in err.msg and "PASSWORD" in err.msg
    assert "alice-pw-123" not in err.msg
    refused(server, BAD_CREDENTIALS, user="alice", password="wrong-password")
    conn = server.connect(user="alice", password=None, private_key=key)
    assert rows(conn, "SELECT CURRENT_USER()")[0][0] == "ALICE"

    cur.execute("ALTER USER alice UNSET AUTHENTICATION POLICY")
    server.connect(user="alice", password="alice-pw-123")
    assert "login refused by authentication policy" in server.log()
    assert "alice-pw-123" not in server.log()


def test_client_policy_refuses_connectors_below_the_minimum(start_server):
    server = start_server()
    admin = server.connect()
    major = int(snowflake.connector.__version__.split(".")[0])
    cur = admin.cursor()
    cur.execute("CREATE USER bob PASSWORD = 'bob-pw-123'")
    cur.execute(
        "CREATE AUTHENTICATION POLICY new_drivers "
        f"CLIENT_POLICY = (PYTHON_DRIVER = (MINIMUM_VERSION = '{major + 1}.0.0'))"
    )
    cur.execute("ALTER ACCOUNT SET AUTHENTICATION POLICY new_drivers")
    err = refused(server, POLICY_REFUSED, user="bob", password="bob-pw-123")
    assert "PYTHON_DRIVER" in err.msg
    # The administrator's session was opened before; it lowers the minimum, and bob gets in.
    cur.execute(
        "ALTER AUTHENTICATION POLICY new_drivers "
        f"SET CLIENT_POLICY = (PYTHON_DRIVER = (MINIMUM_VERSION = '{major}.0'))"
    )
    server.connect(user="bob", password="bob-pw-123")
    cur.execute("ALTER ACCOUNT UNSET AUTHENTICATION POLICY")
    cur.execute("DROP AUTHENTICATION POLICY new_drivers")
