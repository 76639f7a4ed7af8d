"""The Go driver (gosnowflake, through adbc-driver-snowflake) through snowgate to an engine behind it
(fakesnow): password and key-pair logins each create a table, fill it and read it back; a wrong
password is refused with 390100. Run by test_gateway_adbc.py in .venv-clients/python."""

import os

import adbc_driver_snowflake.dbapi as dbapi

E = os.environ
BASE = {
    "adbc.snowflake.sql.account": E["SG_ACCOUNT"],
    "adbc.snowflake.sql.uri.protocol": "http",
    "adbc.snowflake.sql.uri.host": E["SG_HOST"],
    "adbc.snowflake.sql.uri.port": E["SG_PORT"],
    "adbc.snowflake.sql.db": "db1",
    "adbc.snowflake.sql.schema": "s1",
    "adbc.snowflake.sql.client_option.login_timeout": "20s",
}

for table, user, auth in [
    ("go_pw", E["SG_USER"], {"password": E["SG_PASSWORD"]}),
    ("go_kp", E["SG_KEY_USER"], {"adbc.snowflake.sql.auth_type": "auth_jwt",
                                 "adbc.snowflake.sql.client_option.jwt_private_key": E["SG_KEY_PATH"]}),
]:
    conn = dbapi.connect(db_kwargs={**BASE, "username": user, **auth}, autocommit=True)
    cur = conn.cursor()
    cur.execute(f"create table {table}(a int)")
    cur.execute(f"insert into {table} values (1), (2)")
    cur.execute(f"select sum(a) from {table}")
    total = cur.fetchone()[0]
    assert int(total) == 3, total
    cur.close()
    conn.close()
    print(f"go through the gateway as {user}: create, insert, select: ok")

try:
    dbapi.connect(db_kwargs={**BASE, "username": E["SG_USER"], "password": "wrong"}, autocommit=True)
except Exception as e:  # the driver's own error type
    assert "390100" in str(e), e
    print("go through the gateway, wrong password: 390100: ok")
else:
    raise AssertionError("a wrong password logged in")
