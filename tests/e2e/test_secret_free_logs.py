"""No secret reaches the server's log, even at RUST_LOG=trace.

One server runs with every log level on. Through the real connector and raw requests it sees a
password login, a key-pair login (the connector's and a hand-signed JWT), a renewal, a heartbeat, a
failed login, and administrative SQL that sets passwords and keys. Then its whole log is searched for
every password, session and master token, JWT, private key and the JWT secret used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import json
import time
import uuid
import warnings

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from snowflake.connector.errors import ProgrammingError

from conftest import ACCOUNT, login_body, session_token
from rsa_keys import fingerprint, new_key, private_b64, public_b64


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(key: rsa.RSAPrivateKey, user: str) -> str:
    """A key-pair login JWT as the connector makes it, signed RS256 by hand."""
    fp = fingerprint(key)
    now = int(time.time())
    subject = f"{ACCOUNT.upper()}.{user.upper()}"
    header = _b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    claims = {"iss": f"{subject}.{fp}", "sub": subject, "iat": now, "exp": now + 60}
    claims = _b64url(json.dumps(claims).encode())
    signature = key.sign(f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{claims}.{_b64url(signature)}"


def _master_token(conn) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return conn.rest.master_token


def _secret_forms(secret: str) -> list[str]:
    """The secret and, for a JWT, its signature alone (the header is the same for every token)."""
    forms = [secret]
    if secret.count(".") == 2:
        forms.append(secret.rsplit(".", 1)[1])
    return forms


def test_no_secret_reaches_the_log_at_trace_level(start_server):
    jwt_secret = "jwt-" + uuid.uuid4().hex + uuid.uuid4().hex
    demo_password = "demo-pw-" + uuid.uuid4().hex
    server = start_server(
        {"RUST_LOG": "trace", "JWT_SECRET": jwt_secret, "AUTH_DEMO_PASSWORD": demo_password},
        password=demo_password,
    )
    secrets: dict[str, str] = {"JWT secret": jwt_secret, "demo password": demo_password}

    admin = server.connect()
    secrets["admin session token"] = session_token(admin)
    secrets["admin master token"] = _master_token(admin)

    svc_key, svc_key_2 = new_key(), new_key()
    person_pw, person_pw_2 = "person-pw-" + uuid.uuid4().hex, "person-pw2-" + uuid.uuid4().hex
    secrets.update(
        {
            "svc private key": private_b64(svc_key),
            "svc second private key": private_b64(svc_key_2),
            "person password": person_pw,
            "person changed password": person_pw_2,
        }
    )
    cur = admin.cursor()
    for sql in (
        f"CREATE USER svc_logs TYPE=SERVICE RSA_PUBLIC_KEY='{public_b64(svc_key)}'",
        f"CREATE USER person_logs PASSWORD='{person_pw}'",
        f"ALTER USER person_logs SET PASSWORD='{person_pw_2}'",
        f"ALTER USER svc_logs SET RSA_PUBLIC_KEY_2='{public_b64(svc_key_2)}'",
    ):
        cur.execute(sql)
    # A statement the SQL parser cannot read, quoting a password: parsers log what they could not
    # parse at debug level, so this is the classic leak.
    typo_pw = "typo-pw-" + uuid.uuid4().hex
    secrets["password in a statement that does not parse"] = typo_pw
    with pytest.raises(ProgrammingError):
        cur.execute(f"ALTER USER person_logs SET PASSWORD = '{typo_pw}' ((")
    with pytest.raises(ProgrammingError):
        cur.execute(f"SELECT CURRENT_USER() WHERE PASSWORD = '{typo_pw}' AND (")
    cur.close()

    # A key-pair login through the connector, and one with a JWT whose text the test knows.
    svc = server.connect(user="svc_logs", password=None, private_key=svc_key_2)
    assert svc.cursor().execute("select current_user()").fetchone() == ("SVC_LOGS",)
    secrets["svc session token"] = session_token(svc)
    secrets["svc master token"] = _master_token(svc)
    jwt = _jwt(svc_key, "svc_logs")
    secrets["key-pair JWT"] = jwt
    body = {
        "data": {
            "ACCOUNT_NAME": ACCOUNT,
            "LOGIN_NAME": "svc_logs",
            "AUTHENTICATOR": "SNOWFLAKE_JWT",
            "TOKEN": jwt,
        }
    }
    answer = server.post("/session/v1/login-request", body)
    assert answer["success"] is True, answer
    secrets["raw key-pair session token"] = answer["data"]["token"]
    secrets["raw key-pair master token"] = answer["data"]["masterToken"]

    # A password login of the new user, its renewal and a heartbeat.
    person = server.connect(user="person_logs", password=person_pw_2)
    assert person.is_valid() is True
    master = _master_token(person)
    renewed = server.post(
        "/session/token-request",
        {"oldSessionToken": session_token(person), "requestType": "RENEW"},
        token=master,
    )
    assert renewed["success"] is True, renewed
    secrets["person session token"] = session_token(person)
    secrets["person master token"] = master
    secrets["renewed session token"] = renewed["data"]["sessionToken"]
    assert server.post("/session/heartbeat", token=renewed["data"]["sessionToken"])["success"] is True

    # Programmatic access tokens: made, used as TOKEN and as the password, rotated, refused.
    cur = person.cursor()
    cur.execute("ALTER USER ADD PROGRAMMATIC ACCESS TOKEN logs_pat MINS_TO_BYPASS_NETWORK_POLICY_REQUIREMENT = 5")
    pat = cur.fetchone()[1]
    cur.execute("ALTER USER ROTATE PAT logs_pat")
    rotated_pat = cur.fetchone()[1]
    cur.close()
    secrets["PAT secret"] = pat
    secrets["rotated PAT secret"] = rotated_pat
    by_pat = server.connect(
        user="person_logs", password=None, authenticator="PROGRAMMATIC_ACCESS_TOKEN", token=pat
    )
    secrets["PAT session token"] = session_token(by_pat)
    assert server.connect(user="person_logs", password=rotated_pat).is_valid() is True
    wrong_pat = "sgpat_wrong" + uuid.uuid4().hex
    secrets["wrong PAT"] = wrong_pat
    pat_body = {
        "data": {
            "ACCOUNT_NAME": ACCOUNT,
            "LOGIN_NAME": "person_logs",
            "AUTHENTICATOR": "PROGRAMMATIC_ACCESS_TOKEN",
            "TOKEN": wrong_pat,
        }
    }
    assert server.post("/session/v1/login-request", pat_body)["code"] == "394400"

    # Refused logins: a wrong password and a JWT signed by a key nobody registered.
    wrong = "wrong-pw-" + uuid.uuid4().hex
    secrets["wrong password"] = wrong
    refused = server.post("/session/v1/login-request", login_body("person_logs", wrong))
    assert refused["success"] is False, refused
    stray = _jwt(new_key(), "svc_logs")
    secrets["refused JWT"] = stray
    body["data"]["TOKEN"] = stray
    assert server.post("/session/v1/login-request", body)["success"] is False

    # TOTP MFA: enrolled (the URI holds the seed), a passcode login that gets a cached MFA token, a
    # login with that token. Passcodes are not looked for: six digits may occur in ids by chance.
    cur = person.cursor()
    cur.execute("ALTER USER ADD MFA METHOD TOTP")
    uri = cur.fetchone()[2]
    cur.close()
    admin.cursor().execute("ALTER ACCOUNT SET ALLOW_CLIENT_MFA_CACHING = TRUE")
    seed = uri.split("secret=")[1].split("&")[0]
    secrets["TOTP seed"] = seed
    key = base64.b32decode(seed + "=" * (-len(seed) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    code = struct.unpack(">I", mac[mac[-1] & 15 :][:4])[0] & 0x7FFFFFFF
    mfa_body = login_body("person_logs", person_pw_2)
    mfa_body["data"]["EXT_AUTHN_DUO_METHOD"] = "passcode"
    mfa_body["data"]["PASSCODE"] = f"{code % 1_000_000:06d}"
    mfa_body["data"]["SESSION_PARAMETERS"] = {"CLIENT_REQUEST_MFA_TOKEN": True}
    answer = server.post("/session/v1/login-request", mfa_body)
    assert answer["success"] is True, answer
    secrets["MFA token"] = answer["data"]["mfaToken"]
    cached = login_body("person_logs", person_pw_2)
    cached["data"]["TOKEN"] = answer["data"]["mfaToken"]
    assert server.post("/session/v1/login-request", cached)["success"] is True

    server.close_connections()
    server.stop()
    log = server.log()
    # The test means something only if verbose output and the logins were really logged (third-party
    # crates are capped, so the most verbose lines that remain are DEBUG ones).
    assert " DEBUG " in log or '"DEBUG"' in log, log[-2000:]
    assert "login succeeded" in log, log[-2000:]
    leaks = [
        name
        for name, secret in secrets.items()
        for form in _secret_forms(secret)
        if form in log
    ]
    assert not leaks, f"secrets in the log: {leaks}"
