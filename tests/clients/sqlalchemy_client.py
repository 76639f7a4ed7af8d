"""snowflake-sqlalchemy against snowgate: connect, pool pre-ping, engine.begin(), dispose; with a
password and with a key pair. Run by test_matrix.py in .venv-clients/python."""

import os

from cryptography.hazmat.primitives import serialization
from sqlalchemy import create_engine, text

E = os.environ
WHERE = dict(host=E["SG_HOST"], port=int(E["SG_PORT"]), protocol="http", login_timeout=20)


def engine(user: str, **connect_args):
    return create_engine(
        f"snowflake://{user}@{E['SG_ACCOUNT']}/",
        connect_args={**WHERE, **connect_args},
        pool_pre_ping=True,
    )


def check(eng, user: str) -> None:
    with eng.connect() as conn:
        assert conn.execute(text("select current_user()")).scalar() == user.upper()
        assert conn.execute(text("select 1")).scalar() == 1
    # The pooled connection is checked out again: pre-ping, then a transaction.
    with eng.begin() as conn:
        assert conn.execute(text("select current_role()")).scalar()
    eng.dispose()
    print(f"sqlalchemy as {user}: connect, pre-ping, begin, dispose: ok")


check(engine(E["SG_USER"], password=E["SG_PASSWORD"]), E["SG_USER"])
key = serialization.load_pem_private_key(open(E["SG_KEY_PATH"], "rb").read(), password=None)
der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption())
check(engine(E["SG_KEY_USER"], private_key=der), E["SG_KEY_USER"])
