"""External OAuth with the real Python connector: a security integration trusting the local HTTPS
issuer's keys (its CA given to snowgate as SNOWGATE_EXTRA_CA_FILE; the issuer is on 127.0.0.1, so
SNOWGATE_ALLOW_PRIVATE_ISSUERS=true), and access tokens it mints used as
``authenticator='OAUTH', token=…``.
"""

from __future__ import annotations

import uuid

import pytest
from snowflake.connector.errors import DatabaseError

from conftest import rows
from oidc_issuer import Issuer

AUDIENCE = "https://snowgate.test"


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}".upper()


@pytest.fixture(scope="module")
def issuer(tmp_path_factory):
    issuer = Issuer(tmp_path_factory.mktemp("oauth-issuer")).start()
    yield issuer
    issuer.stop()


def create_integration(admin, issuer) -> None:
    rows(
        admin,
        f"CREATE OR REPLACE SECURITY INTEGRATION idp TYPE = EXTERNAL_OAUTH ENABLED = TRUE "
        f"EXTERNAL_OAUTH_TYPE = CUSTOM EXTERNAL_OAUTH_ISSUER = '{issuer.url}' "
        f"EXTERNAL_OAUTH_JWS_KEYS_URL = '{issuer.url}/keys' "
        f"EXTERNAL_OAUTH_TOKEN_USER_MAPPING_CLAIM = 'sub' "
        f"EXTERNAL_OAUTH_SNOWFLAKE_USER_MAPPING_ATTRIBUTE = 'LOGIN_NAME' "
        f"EXTERNAL_OAUTH_AUDIENCE_LIST = ('{AUDIENCE}')",
    )


@pytest.fixture
def setup(start_server, issuer):
    server = start_server(
        {
            "SNOWGATE_EXTRA_CA_FILE": str(issuer.ca_file),
            "SNOWGATE_ALLOW_PRIVATE_ISSUERS": "true",
            "RUST_LOG": "trace",
        }
    )
    admin = server.connect()
    create_integration(admin, issuer)
    user, role = unique("OAUTH_USER"), unique("OAUTH_ROLE")
    for sql in (
        f"CREATE ROLE {role}",
        f"CREATE USER {user}",
        f"GRANT ROLE {role} TO USER {user}",
    ):
        rows(admin, sql)
    return server, user, role, admin


def oauth_connect(server, token: str):
    return server.connect(user=None, password=None, authenticator="OAUTH", token=token)


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_an_access_token_opens_a_session_in_its_scope_role(setup, issuer, alg):
    server, user, role, _ = setup
    token = issuer.token(user.lower(), alg=alg, aud=AUDIENCE, scp=[f"session:role:{role}"])
    conn = oauth_connect(server, token)
    assert rows(conn, "SELECT CURRENT_USER(), CURRENT_ROLE()") == [(user, role)]
    assert token.rsplit(".", 1)[1] not in server.log()


def test_refused_and_expired_tokens(setup, issuer):
    server, user, role, _ = setup
    scope = {"scp": [f"session:role:{role}"]}
    for token, errno in (
        (issuer.token(user, aud="https://elsewhere", **scope), 390303),
        (issuer.token(user, aud=AUDIENCE, scp=["session:role:ACCOUNTADMIN"]), 390303),
        (issuer.token("nobody", aud=AUDIENCE, **scope), 390303),
        (issuer.token(user, aud=AUDIENCE, lifetime=-300, **scope), 390318),
    ):
        with pytest.raises(DatabaseError) as info:
            oauth_connect(server, token)
        assert info.value.errno == errno, info.value
        assert token not in str(info.value)
        assert token.rsplit(".", 1)[1] not in server.log()


def test_an_oauth_session_keeps_to_its_integration(setup, issuer):
    """USE ROLE of a blocked role is refused; the integration disabled, the connector's next query
    fails (the session is over)."""
    server, user, role, admin = setup
    rows(admin, f"GRANT ROLE USERADMIN TO USER {user}")
    conn = oauth_connect(server, issuer.token(user, aud=AUDIENCE, scp=[f"session:role:{role}"]))
    with pytest.raises(DatabaseError) as info:
        rows(conn, "USE ROLE USERADMIN")
    assert info.value.errno == 3001, info.value
    rows(admin, "ALTER SECURITY INTEGRATION idp SET ENABLED = FALSE")
    with pytest.raises(DatabaseError):
        rows(conn, "SELECT CURRENT_ROLE()")


def test_a_loopback_issuer_is_refused_without_the_setting(start_server, issuer):
    """Without SNOWGATE_ALLOW_PRIVATE_ISSUERS, keys on 127.0.0.1 are never fetched (SSRF)."""
    server = start_server({"SNOWGATE_EXTRA_CA_FILE": str(issuer.ca_file)})
    admin = server.connect()
    create_integration(admin, issuer)
    user = unique("OAUTH_USER")
    rows(admin, f"CREATE USER {user}")
    with pytest.raises(DatabaseError) as info:
        oauth_connect(server, issuer.token(user, aud=AUDIENCE, scp=["session:role:PUBLIC"]))
    assert info.value.errno == 390303, info.value
    assert "refused to fetch from a private address" in server.log()
