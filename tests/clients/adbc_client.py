"""The Go driver (gosnowflake) through adbc-driver-snowflake: password and key pair, DB-API with its
default autocommit off (BEGIN, COMMIT, ROLLBACK), and autocommit on. Run by test_matrix.py in
.venv-clients/python."""

import os

import adbc_driver_snowflake.dbapi as dbapi

E = os.environ
BASE = {
    "adbc.snowflake.sql.account": E["SG_ACCOUNT"],
    "adbc.snowflake.sql.uri.protocol": "http",
    "adbc.snowflake.sql.uri.host": E["SG_HOST"],
    "adbc.snowflake.sql.uri.port": E["SG_PORT"],
    "adbc.snowflake.sql.client_option.login_timeout": "20s",
}

for user, auth in [
    (E["SG_USER"], {"password": E["SG_PASSWORD"]}),
    (E["SG_KEY_USER"], {"adbc.snowflake.sql.auth_type": "auth_jwt",
                        "adbc.snowflake.sql.client_option.jwt_private_key": E["SG_KEY_PATH"]}),
]:
    for autocommit in (False, True):
        conn = dbapi.connect(db_kwargs={**BASE, "username": user, **auth}, autocommit=autocommit)
        cur = conn.cursor()
        cur.execute("select current_user()")
        assert cur.fetchone()[0] == user.upper()
        cur.execute("select 1 as id")
        assert cur.fetchone()[0] == 1
        cur.close()
        conn.commit()
        conn.rollback()
        conn.close()
        print(f"adbc as {user}, autocommit={autocommit}: ok")
