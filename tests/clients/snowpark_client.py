"""Snowpark against snowgate: Session.builder.configs(...).create(), get_current_*, close(); with a
password and with a key pair. Run by test_matrix.py in .venv-clients/python."""

import os

from snowflake.snowpark import Session

E = os.environ
BASE = dict(account=E["SG_ACCOUNT"], host=E["SG_HOST"], port=int(E["SG_PORT"]), protocol="http",
            login_timeout=20, database="ANALYTICS", schema="RAW", warehouse="WH")

for user, auth in [
    (E["SG_USER"], dict(password=E["SG_PASSWORD"])),
    (E["SG_KEY_USER"], dict(authenticator="SNOWFLAKE_JWT", private_key_file=E["SG_KEY_PATH"])),
]:
    session = Session.builder.configs({**BASE, "user": user, **auth}).create()
    # Snowpark answers get_current_user() from the connection's settings, as given.
    assert session.get_current_user().strip('"').upper() == user.upper(), session.get_current_user()
    assert session.get_current_database().strip('"') == "ANALYTICS"
    assert session.get_current_schema().strip('"') == "RAW"
    assert session.get_current_warehouse().strip('"') == "WH"
    assert session.get_current_role()
    assert session.get_current_account()
    session.close()
    print(f"snowpark as {user}: create, get_current_*, close: ok")
