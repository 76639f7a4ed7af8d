"""TOTP multi-factor sign-in with the real Python connector: enrolment in SQL, then
``authenticator='username_password_mfa'`` with ``passcode=`` (computed from the enrolled seed), with
``passcode_in_password=True``, refusals without a passcode or with a reused one, and the MFA token
cache (``client_request_mfa_token=True``, cached in a file under a temporary directory).

Runs on the shared server (SQLite); ``scripts/test`` may run it again on DynamoDB.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
import tempfile
import time
import urllib.parse
import uuid

import pytest
from snowflake.connector.errors import DatabaseError

from conftest import rows

# The connector reads its credential cache directory once per process, so it is set at import (before
# any connection); the cached MFA tokens land there, never in the home directory.
CACHE_DIR = os.environ.setdefault(
    "SF_TEMPORARY_CREDENTIAL_CACHE_DIR", tempfile.mkdtemp(prefix="snowgate-mfa-cache-")
)
PASSWORD = "Str0ng-Passw0rd!x"
MFA_REQUIRED = 394507
PASSCODE_INVALID = 394508


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}".upper()


def totp(seed_b32: str, step: int) -> str:
    """RFC 6238 with SHA-1, 6 digits, for TOTP step ``step``."""
    key = base64.b32decode(seed_b32 + "=" * (-len(seed_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def now_step() -> int:
    return int(time.time()) // 30


@pytest.fixture
def enrolled(server):
    """A PERSON user with a password, enrolled in TOTP by themself; (name, base32 seed)."""
    admin = server.connect()
    name = unique("MFA_USER")
    rows(admin, f"CREATE USER {name} PASSWORD='{PASSWORD}'")
    me = server.connect(user=name, password=PASSWORD)
    cur = me.cursor()
    cur.execute("ALTER USER ADD MFA METHOD TOTP")
    assert [d.name for d in cur.description] == ["name", "type", "otpauth_uri"]
    (_, kind, uri) = cur.fetchone()
    assert kind == "TOTP"
    query = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)
    assert uri.startswith("otpauth://totp/") and query["issuer"] == ["snowgate"]
    listed = rows(me, "SHOW MFA METHODS")
    assert [r[1] for r in listed] == ["TOTP"]
    me.close()
    return name, query["secret"][0]


def mfa_connect(server, user: str, **kw):
    return server.connect(user=user, password=PASSWORD, authenticator="username_password_mfa", **kw)


def refused(server, errno: int, **kw) -> DatabaseError:
    with pytest.raises(DatabaseError) as info:
        server.connect(**kw)
    assert info.value.errno == errno, info.value
    return info.value


def test_passcode_and_passcode_in_password(server, enrolled):
    name, seed = enrolled
    step = now_step()
    conn = mfa_connect(server, name, passcode=totp(seed, step))
    assert rows(conn, "SELECT CURRENT_USER()") == [(name,)]
    # The same code again is refused; the next step's code (one step of skew) is accepted, here
    # appended to the password.
    refused(server, PASSCODE_INVALID, user=name, password=PASSWORD,
            authenticator="username_password_mfa", passcode=totp(seed, step))
    conn = server.connect(
        user=name,
        password=PASSWORD + totp(seed, step + 1),
        authenticator="username_password_mfa",
        passcode_in_password=True,
    )
    assert rows(conn, "SELECT CURRENT_USER()") == [(name,)]


def test_password_alone_is_refused_for_enrolled_users_only(server, enrolled):
    name, _ = enrolled
    refused(server, MFA_REQUIRED, user=name, password=PASSWORD)
    admin = server.connect()
    other = unique("NO_MFA")
    rows(admin, f"CREATE USER {other} PASSWORD='{PASSWORD}'")
    conn = server.connect(user=other, password=PASSWORD)
    assert rows(conn, "SELECT CURRENT_USER()") == [(other,)]


def test_mfa_token_cache(server, enrolled):
    name, seed = enrolled
    admin = server.connect()
    rows(admin, "ALTER ACCOUNT SET ALLOW_CLIENT_MFA_CACHING = TRUE")
    try:
        first = mfa_connect(server, name, passcode=totp(seed, now_step()),
                            client_request_mfa_token=True)
        assert rows(first, "SELECT CURRENT_USER()") == [(name,)]
        first.close()
        # No passcode: the cached MFA token stands for it.
        second = mfa_connect(server, name, client_request_mfa_token=True)
        assert rows(second, "SELECT CURRENT_USER()") == [(name,)]
        assert os.listdir(CACHE_DIR), "the connector cached nothing here"
    finally:
        rows(admin, "ALTER ACCOUNT UNSET ALLOW_CLIENT_MFA_CACHING")
    # Caching no longer allowed: the cached token is not enough.
    refused(server, MFA_REQUIRED, user=name, password=PASSWORD,
            authenticator="username_password_mfa", client_request_mfa_token=True)
