"""ibis's Snowflake backend (.venv-clients/ibis) against snowgate: `ibis.snowflake.connect` (which
sets ibis's session parameters with one ALTER SESSION) and `raw_sql` of a context query, with a
password and with a key pair, then `disconnect` (which logs out); a wrong password, which must
surface as error 390100; with `renew`, a query after the session token expired (the server's tokens
live 2 seconds). `create_object_udfs=False`: ibis would otherwise create a database of helper UDFs,
and snowgate has no databases. Run by test_matrix_generations.py."""

import os
import sys
import time

import ibis
from cryptography.hazmat.primitives import serialization
from snowflake.connector.errors import DatabaseError

E = os.environ
WHERE = dict(account=E["SG_ACCOUNT"], host=E["SG_HOST"], port=int(E["SG_PORT"]), protocol="http",
             login_timeout=20, create_object_udfs=False)
CONTEXT = "SELECT CURRENT_USER(), CURRENT_ROLE()"


def context(con, user: str) -> str:
    with con.raw_sql(CONTEXT) as cur:
        who, role = cur.fetchone()
    assert who == user.upper() and role, (who, role)
    return role


if sys.argv[1:] == ["renew"]:
    con = ibis.snowflake.connect(**WHERE, user=E["SG_USER"], password=E["SG_PASSWORD"])
    context(con, E["SG_USER"])
    time.sleep(3)
    context(con, E["SG_USER"])
    con.disconnect()
    print(f"ibis {ibis.__version__}: renewal: ok")
    sys.exit(0)

con = ibis.snowflake.connect(**WHERE, user=E["SG_USER"], password=E["SG_PASSWORD"])
role = context(con, E["SG_USER"])
con.disconnect()
print(f"ibis {ibis.__version__}: password, raw_sql context ({role}), disconnect: ok")

key = serialization.load_pem_private_key(open(E["SG_KEY_PATH"], "rb").read(), password=None)
der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption())
con = ibis.snowflake.connect(**WHERE, user=E["SG_KEY_USER"], authenticator="SNOWFLAKE_JWT", private_key=der)
assert context(con, E["SG_KEY_USER"]) == "PUBLIC"
con.disconnect()
print(f"ibis {ibis.__version__}: key pair, raw_sql context, disconnect: ok")

try:
    ibis.snowflake.connect(**WHERE, user=E["SG_USER"], password="not-" + E["SG_PASSWORD"])
except DatabaseError as e:
    assert e.errno == 390100, (e.errno, e.msg)
    print(f"ibis {ibis.__version__}: wrong password: {e.errno}: ok")
else:
    raise AssertionError("a wrong password logged in")
