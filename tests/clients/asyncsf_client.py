"""PyPI's async-snowflake (SQL API v2, key-pair JWT bearer, one JWT reused for 54 minutes) against
snowgate: a context query and a constant answered in the SQL API's jsonv2 shape, and a JWT signed with
a key the user does not have refused with 401. Run by test_sql_api_client.py in .venv-clients/asyncsf."""

import asyncio
import os
import sys

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from async_snowflake.authentication.auth_clients import SnowflakeJWTAuthClient
from async_snowflake.endpoints.base import SnowflakeClient

E = os.environ
BASE = f"http://{E['SG_HOST']}:{E['SG_PORT']}"


async def main() -> None:
    auth = SnowflakeJWTAuthClient(E["SG_ACCOUNT"], E["SG_KEY_USER"], E["SG_KEY_PATH"], auto_refresh=False)
    async with await SnowflakeClient.create(BASE, auth) as client:
        result = await client.query.execute("SELECT CURRENT_USER(), CURRENT_ACCOUNT()")
        assert result.rows == [[E["SG_KEY_USER"].upper(), E["SG_ACCOUNT"].upper()]], result
        assert result.columns == ["CURRENT_USER()", "CURRENT_ACCOUNT()"], result.columns
        assert result.query_id, result
        one = await client.query.execute("SELECT 1")
        assert one.rows == [["1"]], one
        print("async-snowflake, key pair: SQL API statement: ok")

    # A key the user does not hold: refused with 401 (390144), and the client raises.
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_path = os.path.join(E["HOME"], "other_key.p8")
    with open(other_path, "wb") as f:
        f.write(other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    wrong = SnowflakeJWTAuthClient(E["SG_ACCOUNT"], E["SG_KEY_USER"], other_path, auto_refresh=False)
    async with await SnowflakeClient.create(BASE, wrong) as client:
        try:
            await client.query.execute("SELECT 1")
        except httpx.HTTPStatusError as e:
            assert e.response.status_code == 401, e.response.status_code
            assert e.response.json()["code"] == "390144", e.response.text
            print("async-snowflake, wrong key: 401 390144: ok")
        else:
            sys.exit("a JWT signed with the wrong key was accepted")


asyncio.run(main())
