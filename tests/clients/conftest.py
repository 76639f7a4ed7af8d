"""Fixtures of the client matrix: a fresh `snowgate serve` (memory store) per client, a key-pair user
on it, and a recording proxy in front of it that notes every statement the client sends (the server
itself never logs SQL text). Servers start as in tests/e2e/conftest.py, which is reused here."""

from __future__ import annotations

import gzip
import http.client
import importlib.util
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

_spec = importlib.util.spec_from_file_location("e2e_conftest", Path(__file__).parents[1] / "e2e" / "conftest.py")
e2e = importlib.util.module_from_spec(_spec)
sys.modules["e2e_conftest"] = e2e  # dataclasses look their module up there
_spec.loader.exec_module(e2e)

REPO_ROOT = e2e.REPO_ROOT
CLIENTS = Path(__file__).resolve().parent
VENVS = REPO_ROOT / ".venv-clients"
KEY_USER = "MATRIX_SVC"
# A person under a network policy admitting loopback, who logs in with a programmatic access token.
PAT_USER = "MATRIX_PAT"
# A person who logs in with an External OAuth access token signed by the matrix key.
OAUTH_USER = "MATRIX_OAUTH"
OAUTH_ISSUER = "https://matrix-idp.test"


@dataclass
class Recording:
    """What went through the proxy: (path without query, statement or None) in order."""

    calls: list[tuple[str, str | None]] = field(default_factory=list)
    # The `code` of each login answer, in order (None for a successful login).
    login_codes: list[str | None] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def statements(self) -> list[str]:
        with self.lock:
            return [sql for _, sql in self.calls if sql is not None]

    def clear(self) -> None:
        with self.lock:
            self.calls.clear()
            self.login_codes.clear()

    def paths(self) -> list[str]:
        with self.lock:
            return [path for path, _ in self.calls]


def _statement(body: bytes, encoding: str | None) -> str | None:
    if encoding == "gzip" or body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    try:
        return json.loads(body).get("sqlText")
    except (ValueError, AttributeError):
        return None


def _code(body: bytes, encoding: str | None) -> str | None:
    if encoding == "gzip" or body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    try:
        return json.loads(body).get("code")
    except (ValueError, AttributeError):
        return None


def _proxy(upstream_port: int, recording: Recording) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet: the recording is printed instead
            pass

        def _forward(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = self.path.split("?", 1)[0]
            sql = None
            if path == "/queries/v1/query-request":
                sql = _statement(body, self.headers.get("Content-Encoding"))
            elif path == "/session" and "delete=true" in self.path:
                path = "/session?delete=true"
            with recording.lock:
                recording.calls.append((path, sql))
            conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            if path == "/session/v1/login-request":
                code = _code(data, resp.getheader("Content-Encoding"))
                with recording.lock:
                    recording.login_codes.append(code)
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            conn.close()

        do_POST = do_GET = _forward

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@dataclass
class Matrix:
    server: object
    port: int
    recording: Recording
    key_path: Path
    tmp: Path
    pat_secret: str = ""
    oauth_token: str = ""
    sts_endpoint: str = ""

    def env(self) -> dict[str, str]:
        """What every client script reads: where the server is and who logs in."""
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("SNOWGATE_")},
            "SNOWFLAKE_DISABLE_PLATFORM_DETECTION": "true",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "SG_HOST": "127.0.0.1",
            "SG_PORT": str(self.port),
            "SG_ACCOUNT": e2e.ACCOUNT,
            "SG_USER": e2e.DEMO_USER,
            "SG_PASSWORD": e2e.DEMO_PASSWORD,
            "SG_KEY_USER": KEY_USER,
            "SG_KEY_PATH": str(self.key_path),
            "SG_PAT_USER": PAT_USER,
            "SG_PAT": self.pat_secret,
            "SG_OAUTH_USER": OAUTH_USER,
            "SG_OAUTH_TOKEN": self.oauth_token,
            "HOME": str(self.tmp),
        }

    def run(self, name: str, argv: list[str], timeout: int = 300, **kw) -> subprocess.CompletedProcess:
        """Runs a client; prints its output and the statements it sent, for the test log."""
        self.recording.clear()
        proc = subprocess.run(argv, env=kw.pop("env", self.env()), capture_output=True, text=True,
                              timeout=timeout, **kw)
        print(f"\n--- {name}: exit {proc.returncode}\n{proc.stdout}{proc.stderr[-4000:]}")
        print(f"--- {name}: requests and statements sent")
        for path, sql in list(self.recording.calls):
            print(f"    {path}" + (f"  {sql!r}" if sql is not None else ""))
        return proc


@pytest.fixture
def matrix(tmp_path) -> Iterator[Matrix]:
    with _matrix(tmp_path, {}) as m:
        yield m


@pytest.fixture
def short_ttl_matrix(tmp_path) -> Iterator[Matrix]:
    """Session tokens live 2 seconds: a client that keeps working past that renewed its token."""
    with _matrix(tmp_path, {"SNOWGATE_TOKEN_TTL_SECONDS": "2"}) as m:
        yield m


@pytest.fixture
def wif_matrix(tmp_path) -> Iterator[Matrix]:
    """AWS workload identity attestations are replayed to the moto_server of
    SNOWGATE_TEST_AWS_ENDPOINT (which scripts/test starts)."""
    endpoint = os.environ.get("SNOWGATE_TEST_AWS_ENDPOINT", "").strip().rstrip("/")
    if not endpoint:
        pytest.fail("SNOWGATE_TEST_AWS_ENDPOINT (a moto_server) is needed", pytrace=False)
    with _matrix(tmp_path, {"SNOWGATE_STS_ENDPOINT": endpoint}) as m:
        m.sts_endpoint = endpoint
        yield m


@contextmanager
def _matrix(tmp_path: Path, overrides: dict[str, str]) -> Iterator[Matrix]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_path = tmp_path / "matrix_key.p8"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    import base64

    with e2e.run_snowgate(tmp_path, {"SNOWGATE_STORE": "memory", **overrides}) as server:
        admin = server.connect()
        cur = admin.cursor()
        cur.execute(
            f"CREATE USER {KEY_USER} TYPE=SERVICE DEFAULT_ROLE=PUBLIC "
            f"RSA_PUBLIC_KEY='{base64.b64encode(public).decode()}'"
        )
        cur.execute("CREATE NETWORK POLICY matrix_loopback ALLOWED_IP_LIST=('127.0.0.1')")
        cur.execute(f"CREATE USER {PAT_USER} NETWORK_POLICY=matrix_loopback")
        pat_secret = cur.execute(f"ALTER USER {PAT_USER} ADD PAT matrix").fetchone()[1]
        cur.execute(
            f"CREATE SECURITY INTEGRATION matrix_idp TYPE = EXTERNAL_OAUTH ENABLED = TRUE "
            f"EXTERNAL_OAUTH_TYPE = CUSTOM EXTERNAL_OAUTH_ISSUER = '{OAUTH_ISSUER}' "
            f"EXTERNAL_OAUTH_RSA_PUBLIC_KEY = '{base64.b64encode(public).decode()}' "
            f"EXTERNAL_OAUTH_TOKEN_USER_MAPPING_CLAIM = 'sub' "
            f"EXTERNAL_OAUTH_SNOWFLAKE_USER_MAPPING_ATTRIBUTE = 'LOGIN_NAME' "
            f"EXTERNAL_OAUTH_AUDIENCE_LIST = ('matrix')"
        )
        cur.execute(f"CREATE USER {OAUTH_USER}")
        oauth_token = _access_token(key, OAUTH_USER)
        admin.close()
        recording = Recording()
        proxy = _proxy(server.port, recording)
        thread = threading.Thread(target=proxy.serve_forever, daemon=True)
        thread.start()
        try:
            yield Matrix(server, proxy.server_address[1], recording, key_path, tmp_path, pat_secret,
                         oauth_token)
        finally:
            proxy.shutdown()
            proxy.server_close()


def _access_token(key, user: str) -> str:
    """An External OAuth access token for `user`, RS256 with the matrix key, valid for an hour."""
    import base64
    import time

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"iss": OAUTH_ISSUER, "sub": user, "aud": "matrix", "scp": ["session:role:PUBLIC"],
              "iat": now, "exp": now + 3600}
    signing_input = f"{b64(json.dumps({'alg': 'RS256', 'typ': 'JWT'}).encode())}.{b64(json.dumps(claims).encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(signature)}"


def venv_bin(env: str, name: str) -> str:
    path = VENVS / env / "bin" / name
    if not path.exists():
        pytest.fail(f"{path} missing: run tests/clients/install", pytrace=False)
    return str(path)
