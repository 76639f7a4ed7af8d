"""AWS workload identity with the real Python connector: ``authenticator='WORKLOAD_IDENTITY',
workload_identity_provider='AWS'``. The connector signs an STS GetCallerIdentity request with the
AWS credentials of its environment (here: a role assumed on moto's STS); snowgate checks it and
replays it to ``SNOWGATE_STS_ENDPOINT`` (moto), which names the role that signed it.

Needs SNOWGATE_TEST_AWS_ENDPOINT (moto_server). Runs on its own server; with SNOWGATE_E2E_ENV naming a
DynamoDB table it runs on DynamoDB.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Iterator

import boto3
import pytest
from snowflake.connector._common.wif_util import AttestationProvider, create_attestation
from snowflake.connector.errors import DatabaseError

from conftest import ACCOUNT, SnowgateServer, rows, run_snowgate

WIF_INVALID = "394700"
POLICY_REFUSED = 390430
ACCOUNT_ID = "123456789012"  # moto's account


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}".upper()


@pytest.fixture(scope="module")
def wif_server(tmp_path_factory, aws_endpoint) -> Iterator[SnowgateServer]:
    with run_snowgate(
        tmp_path_factory.mktemp("snowgate-wif"), {"SNOWGATE_STS_ENDPOINT": aws_endpoint}
    ) as server:
        yield server
        server.close_connections()


@pytest.fixture
def as_role(aws_endpoint, monkeypatch):
    """`as_role(name)`: the process's AWS credentials become those of role `name` assumed on moto."""

    def assume(role: str) -> str:
        sts = boto3.client(
            "sts",
            endpoint_url=aws_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        arn = f"arn:aws:iam::{ACCOUNT_ID}:role/{role}"
        creds = sts.assume_role(RoleArn=arn, RoleSessionName="snowgate-e2e")["Credentials"]
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
        monkeypatch.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])
        monkeypatch.setenv("AWS_REGION", "us-east-1")
        # The connector sends attestations only to Snowflake's hosts unless told of another.
        monkeypatch.setenv("SNOWFLAKE_WIF_ALLOWED_HOST_SUFFIXES", "127.0.0.1")
        return arn

    return assume


def wif_connect(server: SnowgateServer, user: str):
    return server.connect(
        user=user,
        password=None,
        authenticator="WORKLOAD_IDENTITY",
        workload_identity_provider="AWS",
    )


def service_user(server: SnowgateServer, arn: str) -> str:
    name = unique("WIF_SVC")
    rows(
        server.connect(),
        f"CREATE USER {name} TYPE = SERVICE WORKLOAD_IDENTITY = (TYPE = AWS ARN = '{arn}')",
    )
    return name


def raw_login(server: SnowgateServer, token: str, user: str | None) -> dict:
    data = {
        "CLIENT_APP_ID": "PythonConnector",
        "CLIENT_APP_VERSION": "4.0.0",
        "ACCOUNT_NAME": ACCOUNT,
        "AUTHENTICATOR": "WORKLOAD_IDENTITY",
        "PROVIDER": "AWS",
        "TOKEN": token,
    }
    if user is not None:
        data["LOGIN_NAME"] = user
    return server.post("/session/v1/login-request", {"data": data})


def test_the_connector_logs_in_as_the_role_it_runs_as(wif_server, as_role):
    arn = as_role(unique("app").lower())
    name = service_user(wif_server, arn)
    conn = wif_connect(wif_server, name)
    assert rows(conn, "SELECT CURRENT_USER()") == [(name,)]
    admin = wif_server.connect()
    cur = admin.cursor()
    cur.execute(f"SHOW USER WORKLOAD IDENTITY AUTHENTICATION METHODS FOR USER {name}")
    assert [d.name for d in cur.description] == [
        "name", "type", "comment", "last_used", "created_on", "additional_info",
    ]
    ((ident, kind, _comment, last_used, _created, info),) = cur.fetchall()
    assert (ident, kind) == ("DEFAULT", "AWS")
    assert last_used is not None
    assert f'"awsAccount":"{ACCOUNT_ID}"' in info and '"type":"IAM_ROLE"' in info


def test_an_attestation_works_once_and_without_login_name(wif_server, as_role):
    arn = as_role(unique("once").lower())
    name = service_user(wif_server, arn)
    token = create_attestation(AttestationProvider.AWS).credential
    first = raw_login(wif_server, token, None)
    assert first["success"], first
    again = raw_login(wif_server, token, None)
    assert (again["success"], again["code"]) == (False, WIF_INVALID)
    assert name  # the user the identity selected


def test_another_role_or_user_is_refused(wif_server, as_role):
    bound = service_user(wif_server, f"arn:aws:iam::{ACCOUNT_ID}:role/{unique('bound').lower()}")
    as_role(unique("other").lower())
    with pytest.raises(DatabaseError) as info:
        wif_connect(wif_server, bound)
    assert str(info.value.errno) == WIF_INVALID


def test_a_disabled_identity_is_refused_and_show_lists_named_ones(wif_server, as_role):
    role = unique("dis").lower()
    arn = as_role(role)
    name = service_user(wif_server, arn)
    admin = wif_server.connect()
    rows(admin, f"ALTER USER {name} MODIFY WORKLOAD IDENTITY DEFAULT SET DISABLED = TRUE")
    with pytest.raises(DatabaseError):
        wif_connect(wif_server, name)
    rows(admin, f"ALTER USER {name} ADD WORKLOAD IDENTITY second TYPE = AWS ARN = '{arn}'")
    # Fresh credentials: the refused attestation was used up, and one signed in the same second
    # with the same credentials would be the very same request.
    as_role(role)
    assert rows(wif_connect(wif_server, name), "SELECT CURRENT_USER()") == [(name,)]
    listed = rows(admin, f"SHOW USER WORKLOAD IDENTITY AUTHENTICATION METHODS FOR USER {name}")
    assert sorted(r[0] for r in listed) == ["DEFAULT", "SECOND"]


def test_the_workload_identity_policy_is_enforced(wif_server, as_role):
    role = unique("pol").lower()
    arn = as_role(role)
    name = service_user(wif_server, arn)
    admin = wif_server.connect()
    policy = unique("WIF_POL")
    rows(
        admin,
        f"CREATE AUTHENTICATION POLICY {policy} "
        "WORKLOAD_IDENTITY_POLICY = (ALLOWED_AWS_ACCOUNTS = ('210987654321'))",
    )
    rows(admin, f"ALTER USER {name} SET AUTHENTICATION POLICY {policy}")
    with pytest.raises(DatabaseError) as info:
        wif_connect(wif_server, name)
    assert info.value.errno == POLICY_REFUSED
    rows(admin, f"ALTER AUTHENTICATION POLICY {policy} SET AUTHENTICATION_METHODS = ('PASSWORD')")
    rows(
        admin,
        f"ALTER AUTHENTICATION POLICY {policy} "
        f"SET WORKLOAD_IDENTITY_POLICY = (ALLOWED_AWS_ACCOUNTS = ('{ACCOUNT_ID}'))",
    )
    as_role(role)  # a new attestation: the refused one is used up
    with pytest.raises(DatabaseError) as info:
        wif_connect(wif_server, name)
    assert info.value.errno == POLICY_REFUSED


def test_no_attestation_or_credential_reaches_the_log(start_server, aws_endpoint, as_role):
    server = start_server({"RUST_LOG": "trace", "SNOWGATE_STS_ENDPOINT": aws_endpoint})
    arn = as_role(unique("logs").lower())
    name = service_user(server, arn)
    token = create_attestation(AttestationProvider.AWS).credential
    assert raw_login(server, token, name)["success"]
    assert raw_login(server, token, name)["code"] == WIF_INVALID  # replayed
    garbage = "Z" * 40 + uuid.uuid4().hex
    assert raw_login(server, garbage, name)["code"] == WIF_INVALID
    server.close_connections()
    server.stop()
    log = server.log()
    assert "workload identity login refused" in log, log[-2000:]
    headers = json.loads(base64.b64decode(token))["headers"]
    signature = headers["Authorization"].rsplit("Signature=", 1)[1]
    secrets = {
        "attestation": token,
        "attestation prefix": token[:60],
        "signature": signature,
        "session token": os.environ["AWS_SESSION_TOKEN"][:40],
        "secret key": os.environ["AWS_SECRET_ACCESS_KEY"],
        "garbage token": garbage,
    }
    leaks = [label for label, secret in secrets.items() if secret in log]
    assert not leaks, f"in the log: {leaks}"
