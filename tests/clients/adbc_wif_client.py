"""The Go driver (gosnowflake) through adbc-driver-snowflake, logging in with AWS workload identity:
no LOGIN_NAME is sent, the identity picks the user. Run by test_matrix_wif.py in .venv-clients/python."""

import os

import adbc_driver_snowflake.dbapi as dbapi

E = os.environ
uri = (
    f"{E['SG_WIF_USER']}@{E['SG_HOST']}:{E['SG_PORT']}/?account={E['SG_ACCOUNT']}&protocol=http"
    "&authenticator=WORKLOAD_IDENTITY&workloadIdentityProvider=AWS"
)
with dbapi.connect(uri) as conn:
    cur = conn.cursor()
    cur.execute("select current_user()")
    assert cur.fetchone()[0] == E["SG_WIF_USER"].upper()
    cur.close()
print("adbc workload identity (AWS): ok")
