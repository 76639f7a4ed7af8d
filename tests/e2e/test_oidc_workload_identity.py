"""OIDC workload identity with the real Python connector: a local HTTPS issuer (its CA made at test
time and given to snowgate as SNOWGATE_EXTRA_CA_FILE; on 127.0.0.1, so with
SNOWGATE_ALLOW_PRIVATE_ISSUERS=true) serves discovery and keys; tokens it mints log
a TYPE = SERVICE user in with ``authenticator='WORKLOAD_IDENTITY', workload_identity_provider='OIDC'``.
"""

from __future__ import annotations

import os
import uuid

import pytest
from snowflake.connector.errors import DatabaseError

from conftest import rows
from oidc_issuer import Issuer

# The connector sends a WIF attestation only to Snowflake's own domains unless told otherwise.
os.environ["SNOWFLAKE_WIF_ALLOWED_HOST_SUFFIXES"] = "127.0.0.1"


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}".upper()


@pytest.fixture(scope="module")
def issuer(tmp_path_factory):
    issuer = Issuer(tmp_path_factory.mktemp("issuer")).start()
    yield issuer
    issuer.stop()


@pytest.fixture
def oidc_server(start_server, issuer):
    # Trace level: the tests check that no token reaches even the most verbose log.
    return start_server(
        {
            "SNOWGATE_EXTRA_CA_FILE": str(issuer.ca_file),
            "SNOWGATE_ALLOW_PRIVATE_ISSUERS": "true",
            "RUST_LOG": "trace",
        }
    )


def assert_not_logged(server, *tokens: str) -> None:
    log = server.log()
    for token in tokens:
        assert token.rsplit(".", 1)[1] not in log, "a token's signature reached the log"


def wif_connect(server, token: str, user: str | None = None):
    return server.connect(
        user=user or "ignored",
        password=None,
        authenticator="WORKLOAD_IDENTITY",
        workload_identity_provider="OIDC",
        token=token,
    )


def make_user(server, issuer, subject: str, extra: str = "") -> str:
    admin = server.connect()
    name = unique("WIF_OIDC")
    rows(
        admin,
        f"CREATE USER {name} TYPE = SERVICE WORKLOAD_IDENTITY = (TYPE = OIDC "
        f"ISSUER = '{issuer.url}' SUBJECT = '{subject}' {extra})",
    )
    return name


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_an_issuer_token_logs_the_user_in(oidc_server, issuer, alg):
    subject = f"repo:acme/app:{uuid.uuid4().hex}"
    name = make_user(oidc_server, issuer, subject)
    token = issuer.token(subject, alg=alg)
    conn = wif_connect(oidc_server, token)
    assert rows(conn, "SELECT CURRENT_USER()") == [(name,)]
    assert_not_logged(oidc_server, token)
    history = rows(
        oidc_server.connect(),
        "SELECT FIRST_AUTHENTICATION_FACTOR, IS_SUCCESS FROM TABLE(INFORMATION_SCHEMA.LOGIN_HISTORY_BY_USER("
        f"USER_NAME => '{name}'))",
    )
    assert ("WORKLOAD_IDENTITY", "YES") in history


def test_audience_list_and_refusals(oidc_server, issuer):
    subject = f"ci:{uuid.uuid4().hex}"
    make_user(oidc_server, issuer, subject, "OIDC_AUDIENCE_LIST = ('api://snowgate')")
    wif_connect(oidc_server, issuer.token(subject, aud="api://snowgate")).close()
    refused = (
        issuer.token(subject),  # the default audience no longer applies
        issuer.token("someone-else", aud="api://snowgate"),
        issuer.token(subject, aud="api://snowgate", lifetime=-300),
    )
    for token in refused:
        with pytest.raises(DatabaseError) as info:
            wif_connect(oidc_server, token)
        assert info.value.errno == 394700
        assert token not in str(info.value)
    assert_not_logged(oidc_server, *refused)


def test_without_the_ca_the_issuer_is_not_trusted(start_server, issuer):
    server = start_server({})
    subject = f"repo:{uuid.uuid4().hex}"
    make_user(server, issuer, subject)
    with pytest.raises(DatabaseError) as info:
        wif_connect(server, issuer.token(subject))
    assert info.value.errno == 394700


@pytest.mark.parametrize("mode", ["redirect", "huge"])
def test_redirected_or_oversized_key_sets_are_refused(oidc_server, issuer, mode):
    subject = f"repo:{uuid.uuid4().hex}"
    make_user(oidc_server, issuer, subject)
    issuer.mode = mode
    try:
        with pytest.raises(DatabaseError) as info:
            wif_connect(oidc_server, issuer.token(subject))
        assert info.value.errno == 394700
    finally:
        issuer.mode = None
