"""End-to-end fixtures: start the real `snowgate` binary and drive it with the real Python connector.

Environment knobs (all optional):

* ``SNOWGATE_BIN``      -- the server binary (default: ``target/debug/snowgate`` of this checkout).
* ``SNOWGATE_E2E_ENV``  -- a JSON object of extra environment variables for every server started here,
  e.g. ``{"SNOWGATE_STORE": "dynamodb", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}``. It is applied
  on top of the (cleaned) test environment and below each fixture's own settings, so a fixture that
  needs e.g. a 2-second token lifetime still gets it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

# Must be set before the connector runs: no cloud-metadata probing from the driver.
os.environ["SNOWFLAKE_DISABLE_PLATFORM_DETECTION"] = "true"
# The server is on loopback: never send the driver's requests through a proxy from the environment.
for _name in ("NO_PROXY", "no_proxy"):
    os.environ[_name] = ",".join(filter(None, [os.environ.get(_name, ""), "127.0.0.1", "localhost"]))

import snowflake.connector  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO_ROOT / "target" / "debug" / "snowgate"

DEMO_USER = "embucket"
DEMO_PASSWORD = "embucket"
ACCOUNT = "acme"
HOST = "127.0.0.1"

STARTUP_TIMEOUT_S = 15.0
SHUTDOWN_TIMEOUT_S = 5.0

# Variables the server reads that must not leak in from the developer's shell: each fixture decides
# them. AWS_LAMBDA_RUNTIME_API would even switch the binary into Lambda mode.
_SCRUBBED_PREFIXES = ("SNOWGATE_", "AUTH_DEMO_")
_SCRUBBED_NAMES = {"JWT_SECRET", "AWS_LAMBDA_RUNTIME_API"}


def snowgate_bin() -> Path:
    path = Path(os.environ.get("SNOWGATE_BIN") or DEFAULT_BIN)
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(
            f"snowgate binary not found or not executable at {path}; "
            "run `cargo build` or set SNOWGATE_BIN",
            pytrace=False,
        )
    return path


def extra_env_from_environment() -> dict[str, str]:
    raw = os.environ.get("SNOWGATE_E2E_ENV", "").strip()
    if not raw:
        return {}
    try:
        extra = json.loads(raw)
    except json.JSONDecodeError as e:
        pytest.fail(f"SNOWGATE_E2E_ENV is not valid JSON: {e}", pytrace=False)
    if not isinstance(extra, dict):
        pytest.fail("SNOWGATE_E2E_ENV must be a JSON object of NAME: value", pytrace=False)
    return {str(k): str(v) for k, v in extra.items()}


# Raw requests go straight to the server, whatever proxy the environment names.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class SnowgateServer:
    """A running `snowgate serve` process and helpers to talk to it."""

    def __init__(self, proc: subprocess.Popen, port: int, log_path: Path, env: dict[str, str]):
        self.proc = proc
        self.host = HOST
        self.port = port
        self.log_path = log_path
        self.env = env
        self.user = env.get("AUTH_DEMO_USER", DEMO_USER)
        self.password = env.get("AUTH_DEMO_PASSWORD", DEMO_PASSWORD)
        self._connections: list[Any] = []

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def connect(self, **overrides: Any):
        """A connector session against this server; closed at fixture teardown if the test did not."""
        params: dict[str, Any] = dict(
            account=ACCOUNT,
            user=self.user,
            password=self.password,
            host=self.host,
            port=self.port,
            protocol="http",
            # Silences the connector's FutureWarning about the changing default; False = always
            # log out on close, which is what these tests check.
            enable_server_session_keep_alive_auto_detection=False,
            login_timeout=20,
            request_timeout=20,
        )
        params.update(overrides)
        conn = snowflake.connector.connect(**params)
        self._connections.append(conn)
        return conn

    def close_connections(self) -> None:
        for conn in self._connections:
            try:
                conn.close()
            except Exception:
                pass
        self._connections.clear()

    def post(self, path: str, body: Any = None, token: str | None = None) -> dict:
        """A raw POST (no driver involved); returns the decoded JSON envelope."""
        data = json.dumps({} if body is None else body).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f'Snowflake Token="{token}"'
        req = urllib.request.Request(self.base_url + path, data=data, headers=headers, method="POST")
        with _DIRECT.open(req, timeout=10) as resp:
            assert resp.status == 200, f"POST {path}: HTTP {resp.status}"
            return json.loads(resp.read())

    def stop(self) -> None:
        self.close_connections()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=SHUTDOWN_TIMEOUT_S)


def _wait_until_listening(proc: subprocess.Popen, port: int, log_path: Path) -> bool:
    """True once the port accepts; False if the process exited (e.g. port taken). Fails on timeout."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    proc.kill()
    proc.wait()
    pytest.fail(
        f"snowgate did not accept connections on {HOST}:{port} within {STARTUP_TIMEOUT_S:.0f}s; "
        f"stderr:\n{log_path.read_text(errors='replace')}",
        pytrace=False,
    )


@contextmanager
def run_snowgate(log_dir: Path, env_overrides: dict[str, str] | None = None) -> Iterator[SnowgateServer]:
    """Start `snowgate serve` on a free loopback port with the given environment; stop it afterwards."""
    binary = snowgate_bin()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_SCRUBBED_PREFIXES) and k not in _SCRUBBED_NAMES
    }
    env.setdefault("RUST_LOG", "info")
    env["NO_COLOR"] = "1"
    env.update(extra_env_from_environment())
    env.update(env_overrides or {})

    server = None
    for attempt in range(3):  # another process may grab the port between probe and bind
        port = free_port()
        log_path = log_dir / f"snowgate-{port}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [str(binary), "serve", "--listen", f"{HOST}:{port}"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if _wait_until_listening(proc, port, log_path):
            server = SnowgateServer(proc, port, log_path, env)
            break
        if "in use" not in log_path.read_text(errors="replace").lower() or attempt == 2:
            pytest.fail(
                f"snowgate exited with status {proc.returncode} before listening; "
                f"output:\n{log_path.read_text(errors='replace')}",
                pytrace=False,
            )
    assert server is not None
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def snowgate(tmp_path_factory) -> Iterator[SnowgateServer]:
    """The default server: demo user embucket/embucket, default token lifetimes."""
    with run_snowgate(tmp_path_factory.mktemp("snowgate")) as server:
        yield server


@pytest.fixture
def server(snowgate) -> Iterator[SnowgateServer]:
    """The shared server, with this test's connections closed after it."""
    yield snowgate
    snowgate.close_connections()


@pytest.fixture(scope="module")
def short_ttl_server(tmp_path_factory) -> Iterator[SnowgateServer]:
    """A server whose session tokens live 2 seconds (master tokens keep the default lifetime)."""
    with run_snowgate(
        tmp_path_factory.mktemp("snowgate-ttl"),
        {"SNOWGATE_TOKEN_TTL_SECONDS": "2"},
    ) as server:
        yield server


CUSTOM_USER = "Tester"
CUSTOM_PASSWORD = "n0t-the-default!"


@pytest.fixture(scope="module")
def custom_creds_server(tmp_path_factory) -> Iterator[SnowgateServer]:
    """A server whose demo user is configured through AUTH_DEMO_USER / AUTH_DEMO_PASSWORD."""
    with run_snowgate(
        tmp_path_factory.mktemp("snowgate-creds"),
        {"AUTH_DEMO_USER": CUSTOM_USER, "AUTH_DEMO_PASSWORD": CUSTOM_PASSWORD},
    ) as server:
        yield server


def session_token(conn) -> str:
    """The connector's current session token (`conn.rest.token`; deprecated but still supported)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        token = conn.rest.token
    assert isinstance(token, str) and token, f"no session token on the connection: {token!r}"
    return token
