"""snowflake-connector-python of an older generation (2.9 in .venv-clients/connector29, 3.x in
.venv-clients/connector3) against snowgate: password and key pair, each with a context query and a
close (which logs out); a wrong password, refused by the server with 390100, which these
generations report as their own 250001 carrying the server's message (4.8.1 and 5.x report the
server's code); with `renew`, a query after the session token expired (the server's tokens live 2
seconds), which the connector answers by renewing its token with the master token. Run by
test_matrix_generations.py."""

import os
import sys
import time

import snowflake.connector
from cryptography.hazmat.primitives import serialization
from snowflake.connector.errors import DatabaseError

E = os.environ
WHERE = dict(account=E["SG_ACCOUNT"], host=E["SG_HOST"], port=int(E["SG_PORT"]), protocol="http",
             login_timeout=20)
CONTEXT = "SELECT CURRENT_USER(), CURRENT_ROLE()"


def context(conn, user: str) -> str:
    who, role = conn.cursor().execute(CONTEXT).fetchone()
    assert who == user.upper() and role, (who, role)
    return role


if sys.argv[1:] == ["renew"]:
    conn = snowflake.connector.connect(**WHERE, user=E["SG_USER"], password=E["SG_PASSWORD"])
    context(conn, E["SG_USER"])
    time.sleep(3)
    context(conn, E["SG_USER"])
    conn.close()
    print(f"connector {snowflake.connector.__version__}: renewal: ok")
    sys.exit(0)

conn = snowflake.connector.connect(**WHERE, user=E["SG_USER"], password=E["SG_PASSWORD"])
role = context(conn, E["SG_USER"])
conn.close()
print(f"connector {snowflake.connector.__version__}: password, context ({role}), close: ok")

key = serialization.load_pem_private_key(open(E["SG_KEY_PATH"], "rb").read(), password=None)
der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption())
conn = snowflake.connector.connect(**WHERE, user=E["SG_KEY_USER"], authenticator="SNOWFLAKE_JWT",
                                   private_key=der)
assert context(conn, E["SG_KEY_USER"]) == "PUBLIC"
conn.close()
print(f"connector {snowflake.connector.__version__}: key pair, context, close: ok")

try:
    snowflake.connector.connect(**WHERE, user=E["SG_USER"], password="not-" + E["SG_PASSWORD"])
except DatabaseError as e:
    assert e.errno == 250001 and "Incorrect username or password was specified." in e.msg, (e.errno, e.msg)
    print(f"connector {snowflake.connector.__version__}: wrong password: {e.errno}: ok")
else:
    raise AssertionError("a wrong password logged in")
