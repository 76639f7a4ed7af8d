"""AWS workload identity from the Node.js driver and the Go driver (ADBC): each runs with the
credentials of a role assumed on moto, signs its attestation, and snowgate replays it to moto's STS."""

from __future__ import annotations

import shutil
import uuid

import boto3
import pytest

from conftest import CLIENTS, Matrix, venv_bin


def wif_env(matrix: Matrix) -> dict[str, str]:
    """A service user bound to a fresh role, and the environment of a workload running as it."""
    role = f"matrix-{uuid.uuid4().hex[:10]}"
    user = f"WIF_{uuid.uuid4().hex[:10]}".upper()
    arn = f"arn:aws:iam::123456789012:role/{role}"
    admin = matrix.server.connect()
    admin.cursor().execute(
        f"CREATE USER {user} TYPE = SERVICE WORKLOAD_IDENTITY = (TYPE = AWS ARN = '{arn}')"
    )
    admin.close()
    sts = boto3.client("sts", endpoint_url=matrix.sts_endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    creds = sts.assume_role(RoleArn=arn, RoleSessionName="matrix")["Credentials"]
    return {
        **matrix.env(),
        "SG_WIF_USER": user,
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        # Drivers send attestations only to Snowflake's domains unless told of another.
        "SNOWFLAKE_WIF_ALLOWED_HOST_SUFFIXES": "127.0.0.1",
    }


def test_node_snowflake_sdk_workload_identity(wif_matrix):
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed", pytrace=False)
    proc = wif_matrix.run("node snowflake-sdk, workload identity",
                          [node, str(CLIENTS / "node" / "wif_client.js")], env=wif_env(wif_matrix))
    assert proc.returncode == 0, proc.stderr[-4000:]


def test_adbc_go_driver_workload_identity(wif_matrix):
    proc = wif_matrix.run("adbc-driver-snowflake (Go), workload identity",
                          [venv_bin("python", "python"), str(CLIENTS / "adbc_wif_client.py")],
                          env=wif_env(wif_matrix))
    assert proc.returncode == 0, proc.stderr[-4000:]
