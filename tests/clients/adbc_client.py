"""The Go driver (gosnowflake) through adbc-driver-snowflake: password, key pair and External OAuth, DB-API with its
default autocommit off (BEGIN, COMMIT, ROLLBACK), and autocommit on. Run by test_matrix.py in
.venv-clients/python."""

import os

import sys
import time

import adbc_driver_snowflake.dbapi as dbapi

E = os.environ
BASE = {
    "adbc.snowflake.sql.account": E["SG_ACCOUNT"],
    "adbc.snowflake.sql.uri.protocol": "http",
    "adbc.snowflake.sql.uri.host": E["SG_HOST"],
    "adbc.snowflake.sql.uri.port": E["SG_PORT"],
    "adbc.snowflake.sql.client_option.login_timeout": "20s",
}

if sys.argv[1:] == ["renew"]:
    # The server's session tokens live 2 seconds: the next query finds its token expired, and the
    # driver renews it with the master token (POST /session/token-request) and retries.
    conn = dbapi.connect(db_kwargs={**BASE, "username": E["SG_USER"], "password": E["SG_PASSWORD"]},
                         autocommit=True)
    cur = conn.cursor()
    cur.execute("select current_user()")
    time.sleep(3)
    cur.execute("select current_user()")
    assert cur.fetchone()[0] == E["SG_USER"].upper()
    cur.close()
    conn.close()
    print("adbc renewal: ok")
    sys.exit(0)

for user, auth in [
    (E["SG_USER"], {"password": E["SG_PASSWORD"]}),
    (E["SG_KEY_USER"], {"adbc.snowflake.sql.auth_type": "auth_jwt",
                        "adbc.snowflake.sql.client_option.jwt_private_key": E["SG_KEY_PATH"]}),
    (E["SG_OAUTH_USER"], {"adbc.snowflake.sql.auth_type": "auth_oauth",
                          "adbc.snowflake.sql.client_option.auth_token": E["SG_OAUTH_TOKEN"]}),
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
