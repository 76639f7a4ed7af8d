"""Programmatic access tokens with the real Python connector: made in SQL, used as
``authenticator='PROGRAMMATIC_ACCESS_TOKEN', token=…`` and as ``password=``, rotated, refused.

Runs on the shared server (SQLite); ``scripts/test`` may run it again on DynamoDB.
"""

from __future__ import annotations

import uuid

import pytest
from snowflake.connector.errors import DatabaseError, Error

from conftest import rows

PAT_INVALID = 394400
NETWORK_POLICY_REQUIRED = 390432
SESSION_GONE = 390111
INSUFFICIENT_PRIVILEGES = 3001
PASSWORD = "Str0ng-Passw0rd!x"


def unique(prefix: str) -> str:
    """A name (an unquoted identifier) no other test uses."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}".upper()


@pytest.fixture
def pat_user(server):
    """A user under a network policy that admits the connector (127.0.0.1)."""
    admin = server.connect()
    name = unique("PAT_USER")
    policy = unique("PAT_NP")
    for sql in (
        f"CREATE NETWORK POLICY {policy} ALLOWED_IP_LIST=('127.0.0.1')",
        f"CREATE USER {name} PASSWORD='{PASSWORD}' NETWORK_POLICY={policy}",
    ):
        rows(admin, sql)
    return admin, name


def add_pat(conn, user: str, token: str) -> str:
    cur = conn.cursor()
    try:
        cur.execute(f"ALTER USER {user} ADD PROGRAMMATIC ACCESS TOKEN {token}")
        assert [d.name for d in cur.description] == ["token_name", "token_secret"]
        (row,) = cur.fetchall()
        assert row[0] == token.upper()
        return row[1]
    finally:
        cur.close()


def pat_connect(server, user: str, secret: str):
    return server.connect(
        user=user, password=None, authenticator="PROGRAMMATIC_ACCESS_TOKEN", token=secret
    )


def refused(server, errno: int, **kw) -> DatabaseError:
    with pytest.raises(DatabaseError) as info:
        server.connect(**kw)
    assert info.value.errno == errno, f"{info.value.errno}: {info.value.msg}"
    return info.value


def test_pat_as_token_and_as_password(server, pat_user):
    admin, user = pat_user
    secret = add_pat(admin, user, "ci")
    conn = pat_connect(server, user, secret)
    assert rows(conn, "SELECT CURRENT_USER()") == [(user.upper(),)]
    conn = server.connect(user=user, password=secret)
    assert rows(conn, "SELECT CURRENT_USER()") == [(user.upper(),)]
    # Listed without its secret, by the user themself in any role.
    listed = rows(conn, "SHOW USER PATS")
    assert [r[0] for r in listed] == ["CI"] and secret not in str(listed)


def test_wrong_disabled_and_removed_pats_are_refused(server, pat_user):
    admin, user = pat_user
    secret = add_pat(admin, user, "t")
    err = refused(
        server, PAT_INVALID, user=user, password=None,
        authenticator="PROGRAMMATIC_ACCESS_TOKEN", token="sgpat_not-a-real-one",
    )
    assert "Programmatic access token is invalid" in err.msg
    rows(admin, f"ALTER USER {user} MODIFY PAT t SET DISABLED = TRUE")
    refused(server, PAT_INVALID, user=user, password=None,
            authenticator="PROGRAMMATIC_ACCESS_TOKEN", token=secret)
    rows(admin, f"ALTER USER {user} MODIFY PAT t SET DISABLED = FALSE")
    pat_connect(server, user, secret)
    rows(admin, f"ALTER USER {user} REMOVE PAT t")
    refused(server, PAT_INVALID, user=user, password=None,
            authenticator="PROGRAMMATIC_ACCESS_TOKEN", token=secret)


def test_rotation(server, pat_user):
    admin, user = pat_user
    old = add_pat(admin, user, "r")
    cur = admin.cursor()
    cur.execute(f"ALTER USER {user} ROTATE PAT r")
    assert [d.name for d in cur.description] == ["token_name", "token_secret", "rotated_token_name"]
    (name, new, rotated) = cur.fetchone()
    assert (name, rotated) == ("R", "R_ROTATED_1") and new != old
    # The old secret works through its grace period (24 hours by default)…
    pat_connect(server, user, old)
    pat_connect(server, user, new)
    # …and not at all when the next rotation gives it none.
    cur.execute(f"ALTER USER {user} ROTATE PAT r EXPIRE_ROTATED_TOKEN_AFTER_HOURS = 0")
    newest = cur.fetchone()[1]
    refused(server, PAT_INVALID, user=user, password=None,
            authenticator="PROGRAMMATIC_ACCESS_TOKEN", token=new)
    pat_connect(server, user, newest)


def test_a_user_under_no_network_policy_needs_the_bypass(server):
    admin = server.connect()
    user = unique("PAT_OPEN")
    rows(admin, f"CREATE USER {user} PASSWORD='{PASSWORD}'")
    secret = add_pat(admin, user, "t")
    refused(server, NETWORK_POLICY_REQUIRED, user=user, password=None,
            authenticator="PROGRAMMATIC_ACCESS_TOKEN", token=secret)
    rows(admin, f"ALTER USER {user} MODIFY PAT t SET MINS_TO_BYPASS_NETWORK_POLICY_REQUIREMENT = 5")
    pat_connect(server, user, secret)


def test_a_removed_pat_ends_its_sessions(server, pat_user):
    admin, user = pat_user
    secret = add_pat(admin, user, "live")
    conn = pat_connect(server, user, secret)
    assert rows(conn, "SELECT CURRENT_USER()") == [(user.upper(),)]
    # As in Snowflake, the token's own session cannot manage tokens.
    with pytest.raises(Error) as info:
        rows(conn, "ALTER USER REMOVE PAT live")
    assert info.value.errno == INSUFFICIENT_PRIVILEGES, info.value.msg
    rows(admin, f"ALTER USER {user} REMOVE PAT live")
    # The connector's next query finds the session gone.
    with pytest.raises(Error) as info:
        rows(conn, "SELECT CURRENT_USER()")
    assert info.value.errno == SESSION_GONE, f"{info.value.errno}: {info.value.msg}"
