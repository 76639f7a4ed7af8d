"""The asyncio API of snowflake-connector-python 5.x (`snowflake.connector.aio`, in the project's
.venv, pinned by tests/requirements.txt) against snowgate: password and key pair, each with a context
query and a close (which logs out); a wrong password, which must surface as error 390100; with
`renew`, a query after the session token expired (the server's tokens live 2 seconds), which the
connector answers by renewing its token. Run by test_matrix_generations.py."""

import asyncio
import os
import sys

import snowflake.connector
from cryptography.hazmat.primitives import serialization
from snowflake.connector.aio import connect
from snowflake.connector.errors import DatabaseError

E = os.environ
WHERE = dict(account=E["SG_ACCOUNT"], host=E["SG_HOST"], port=int(E["SG_PORT"]), protocol="http",
             login_timeout=20)
CONTEXT = "SELECT CURRENT_USER(), CURRENT_ROLE()"
VERSION = snowflake.connector.__version__


async def context(conn, user: str) -> str:
    cur = conn.cursor()
    await cur.execute(CONTEXT)
    who, role = await cur.fetchone()
    assert who == user.upper() and role, (who, role)
    return role


async def main(mode: list[str]) -> None:
    if mode == ["renew"]:
        conn = await connect(**WHERE, user=E["SG_USER"], password=E["SG_PASSWORD"])
        await context(conn, E["SG_USER"])
        await asyncio.sleep(3)
        await context(conn, E["SG_USER"])
        await conn.close()
        print(f"aio {VERSION}: renewal: ok")
        return

    async with connect(**WHERE, user=E["SG_USER"], password=E["SG_PASSWORD"]) as conn:
        role = await context(conn, E["SG_USER"])
    print(f"aio {VERSION}: password, context ({role}), close: ok")

    key = serialization.load_pem_private_key(open(E["SG_KEY_PATH"], "rb").read(), password=None)
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    conn = await connect(**WHERE, user=E["SG_KEY_USER"], authenticator="SNOWFLAKE_JWT", private_key=der)
    assert await context(conn, E["SG_KEY_USER"]) == "PUBLIC"
    await conn.close()
    print(f"aio {VERSION}: key pair, context, close: ok")

    try:
        await connect(**WHERE, user=E["SG_USER"], password="not-" + E["SG_PASSWORD"])
    except DatabaseError as e:
        assert e.errno == 390100, (e.errno, e.msg)
        print(f"aio {VERSION}: wrong password: {e.errno}: ok")
    else:
        raise AssertionError("a wrong password logged in")


asyncio.run(main(sys.argv[1:]))
