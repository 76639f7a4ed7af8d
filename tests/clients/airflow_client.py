"""Airflow's SnowflakeHook (apache-airflow-providers-snowflake, .venv-clients/airflow) against
snowgate, with its connections read from AIRFLOW_CONN_* environment variables (no metadata
database): `get_first` of a context query (which opens and closes its own connection) and `get_conn`,
with a password and with a key pair (`private_key_content`); a wrong password, which must surface as
error 390100; with `renew`, a query on `get_conn`'s connection after the session token expired (the
server's tokens live 2 seconds).

The one shim: the hook reads `host` and `port` from the connection's extra but has no `protocol`
field, so it always speaks HTTPS; a deployed snowgate (API Gateway, port 443) needs nothing more.
The local server here speaks plain HTTP, so the subclass below adds `protocol="http"` to the
parameters the hook hands the connector and changes nothing else. Run by test_matrix_generations.py."""

import json
import os
import sys
import time

from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook
from snowflake.connector.errors import DatabaseError

E = os.environ
CONTEXT = "SELECT CURRENT_USER(), CURRENT_ROLE()"


class LocalHttpSnowflakeHook(SnowflakeHook):
    def _get_conn_params(self):
        return {**super()._get_conn_params(), "protocol": "http"}


def define(conn_id: str, login: str, password: str = "", **extra) -> str:
    os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps({
        "conn_type": "snowflake", "login": login, "password": password,
        "extra": {"account": E["SG_ACCOUNT"], "host": E["SG_HOST"], "port": int(E["SG_PORT"]),
                  "login_timeout": 20, **extra},
    })
    return conn_id


def check(hook, user: str) -> str:
    who, role = hook.get_first(CONTEXT)
    assert who == user.upper() and role, (who, role)
    conn = hook.get_conn()
    try:
        assert conn.cursor().execute(CONTEXT).fetchone() == (who, role)
    finally:
        conn.close()
    return role


password = define("sg_password", E["SG_USER"], E["SG_PASSWORD"])
if sys.argv[1:] == ["renew"]:
    conn = LocalHttpSnowflakeHook(snowflake_conn_id=password).get_conn()
    conn.cursor().execute(CONTEXT)
    time.sleep(3)
    assert conn.cursor().execute(CONTEXT).fetchone()[0] == E["SG_USER"].upper()
    conn.close()
    print("airflow SnowflakeHook: renewal: ok")
    sys.exit(0)

role = check(LocalHttpSnowflakeHook(snowflake_conn_id=password), E["SG_USER"])
print(f"airflow SnowflakeHook: password, get_first and get_conn context ({role}), close: ok")

key = define("sg_keypair", E["SG_KEY_USER"], private_key_content=open(E["SG_KEY_PATH"]).read())
assert check(LocalHttpSnowflakeHook(snowflake_conn_id=key), E["SG_KEY_USER"]) == "PUBLIC"
print("airflow SnowflakeHook: key pair, get_first and get_conn context, close: ok")

wrong = define("sg_wrong", E["SG_USER"], "not-" + E["SG_PASSWORD"])
try:
    LocalHttpSnowflakeHook(snowflake_conn_id=wrong).get_first(CONTEXT)
except DatabaseError as e:
    assert e.errno == 390100, (e.errno, e.msg)
    print(f"airflow SnowflakeHook: wrong password: {e.errno}: ok")
else:
    raise AssertionError("a wrong password logged in")
