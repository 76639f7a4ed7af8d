"""End-to-end fixtures: start the real `snowgate` binary and drive it with the real Python connector.

Environment knobs (all optional):

* ``SNOWGATE_BIN``      -- the server binary (default: ``target/debug/snowgate`` of this checkout).
* ``SNOWGATE_E2E_ENV``  -- a JSON object of extra environment variables for every server started here,
  e.g. ``{"SNOWGATE_TOKEN_TTL_SECONDS": "60", "RUST_LOG": "debug"}``. It is applied
  on top of the (cleaned) test environment and below each fixture's own settings, so a fixture that
  needs e.g. a 2-second token lifetime still gets it.
* Every server gets a fresh, empty SQLite data directory (``SNOWGATE_DATA_DIR``) unless its overrides
  name one, so servers never share state; a test that restarts on the same directory passes it.
* ``SNOWGATE_TEST_AWS_ENDPOINT`` -- required by the AWS-backend tests (``aws_endpoint`` fixture): the URL
  of a moto_server (DynamoDB and Secrets Manager). ``scripts/test`` starts one and sets it, together
  with dummy ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` / ``AWS_REGION``.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
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

    def kill(self) -> None:
        """SIGKILL the process (no graceful shutdown), as a crashed or recycled instance. The
        connections opened through it are forgotten, not closed: closing them later would log their
        sessions out, and a new server may be listening on this port by then."""
        self._connections.clear()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=SHUTDOWN_TIMEOUT_S)

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


_LOG_SEQ = itertools.count(1)  # a port may be reused by a later server in the same test
_DATA_SEQ = itertools.count(1)  # one fresh data directory per server


def server_env(
    env_overrides: dict[str, str | None] | None = None, data_dir: Path | None = None
) -> dict[str, str]:
    """The environment of a server process: the test environment without the server's own variables,
    then SNOWGATE_E2E_ENV, then `env_overrides` (a None value removes the variable). Without a
    SNOWGATE_DATA_DIR of its own, a server started here gets `data_dir`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_SCRUBBED_PREFIXES) and k not in _SCRUBBED_NAMES
    }
    env.setdefault("RUST_LOG", "info")
    env["NO_COLOR"] = "1"
    env.update(extra_env_from_environment())
    for name, value in (env_overrides or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    if data_dir is not None and "SNOWGATE_DATA_DIR" not in env:
        env["SNOWGATE_DATA_DIR"] = str(data_dir)
    return env


@contextmanager
def run_snowgate(
    log_dir: Path, env_overrides: dict[str, str | None] | None = None
) -> Iterator[SnowgateServer]:
    """Start `snowgate serve` on a free loopback port with the given environment; stop it afterwards.
    An override whose value is None removes that variable."""
    binary = snowgate_bin()
    env = server_env(env_overrides, log_dir / f"data-{next(_DATA_SEQ)}")

    server = None
    for attempt in range(3):  # another process may grab the port between probe and bind
        port = free_port()
        log_path = log_dir / f"snowgate-{port}-{next(_LOG_SEQ)}.log"
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
        # Its own local store even in the DynamoDB run: the demo user is an ordinary directory user,
        # and in a table shared with the default server EMBUCKET/embucket exists (as it should).
        {
            "AUTH_DEMO_USER": CUSTOM_USER,
            "AUTH_DEMO_PASSWORD": CUSTOM_PASSWORD,
            "SNOWGATE_TABLE": None,
        },
    ) as server:
        yield server


def session_token(conn) -> str:
    """The connector's current session token (`conn.rest.token`; deprecated but still supported)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        token = conn.rest.token
    assert isinstance(token, str) and token, f"no session token on the connection: {token!r}"
    return token


# --- helpers for tests that start their own servers ---------------------------------------------------


@pytest.fixture
def start_server(tmp_path) -> Iterator:
    """A factory: ``start_server(env, user=..., password=...)`` starts a new `snowgate serve` process with
    ``env`` on top of the cleaned environment (None removes a variable) and returns its
    SnowgateServer; ``user``/``password`` are the demo credentials its helpers log in with (needed
    when they come from Secrets Manager). Every server started is stopped at teardown."""
    with ExitStack() as stack:

        def start(
            env: dict[str, str | None] | None = None,
            *,
            user: str | None = None,
            password: str | None = None,
        ) -> SnowgateServer:
            server = stack.enter_context(run_snowgate(tmp_path, env))
            if user is not None:
                server.user = user
            if password is not None:
                server.password = password
            return server

        yield start


@dataclass
class Exited:
    returncode: int
    stdout: str
    stderr: str


def run_snowgate_to_exit(
    env_overrides: dict[str, str | None] | None = None, timeout: float = STARTUP_TIMEOUT_S
) -> Exited:
    """Run `snowgate serve` expecting it to exit by itself (a start-up failure); fails the test if it is
    still running after ``timeout`` seconds (it is then killed)."""
    port = free_port()
    try:
        with tempfile.TemporaryDirectory(prefix="snowgate-e2e-data-") as data_dir:
            done = subprocess.run(
                [str(snowgate_bin()), "serve", "--listen", f"{HOST}:{port}"],
                env=server_env(env_overrides, Path(data_dir)),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout,
            )
    except subprocess.TimeoutExpired as e:
        err = (e.stderr or b"").decode(errors="replace")
        pytest.fail(
            f"snowgate was expected to exit but still ran after {timeout:.0f}s; stderr:\n{err}",
            pytrace=False,
        )
    return Exited(
        done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
    )


# --- AWS (moto_server) ---------------------------------------------------------------------------------

AWS_ENDPOINT_VAR = "SNOWGATE_TEST_AWS_ENDPOINT"
# Inherited variables that would send the server's SDK somewhere other than the test endpoint.
_AWS_STRAY = (
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
)


@pytest.fixture(scope="session")
def aws_endpoint() -> str:
    """The moto_server URL from SNOWGATE_TEST_AWS_ENDPOINT. Missing or unreachable fails the test (never
    skips): the AWS backends must be tested wherever the suite runs."""
    endpoint = os.environ.get(AWS_ENDPOINT_VAR, "").strip().rstrip("/")
    if not endpoint:
        pytest.fail(
            f"{AWS_ENDPOINT_VAR} is not set: the AWS-backend tests need a moto_server "
            "(DynamoDB + Secrets Manager). Run ./scripts/test, or start "
            "`moto_server -H 127.0.0.1 -p 5055` and export "
            f"{AWS_ENDPOINT_VAR}=http://127.0.0.1:5055 AWS_ACCESS_KEY_ID=testing "
            "AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1",
            pytrace=False,
        )
    try:
        with _DIRECT.open(endpoint + "/moto-api/", timeout=5):
            pass
    except OSError as e:
        pytest.fail(f"{AWS_ENDPOINT_VAR}={endpoint} is not reachable: {e}", pytrace=False)
    return endpoint


def aws_region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def aws_server_env(endpoint: str) -> dict[str, str | None]:
    """Environment that points a server's AWS SDK at ``endpoint`` with dummy credentials."""
    env: dict[str, str | None] = {name: None for name in _AWS_STRAY}
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_REGION=aws_region(),
        AWS_ACCESS_KEY_ID=os.environ.get("AWS_ACCESS_KEY_ID") or "testing",
        AWS_SECRET_ACCESS_KEY=os.environ.get("AWS_SECRET_ACCESS_KEY") or "testing",
        AWS_EC2_METADATA_DISABLED="true",
        # Test tables are seeded with the built-in demo password, which a DynamoDB server
        # otherwise refuses to start with.
        SNOWGATE_ALLOW_DEFAULT_PASSWORD="true",
    )
    return env


def aws_client(service: str, endpoint: str):
    """A boto3 client for ``service`` on the test endpoint."""
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=aws_region(),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID") or "testing",
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY") or "testing",
    )


# --- connector helpers ---------------------------------------------------------------------------------


def rows(conn, sql: str) -> list[tuple]:
    """Every row of ``sql`` run through the connector, as tuples."""
    cur = conn.cursor()
    try:
        cur.execute(sql)
        return [tuple(r) for r in cur.fetchall()]
    finally:
        cur.close()


def query_one(conn, sql: str) -> tuple:
    """The one row of ``sql``; fails the test if there is not exactly one."""
    result = rows(conn, sql)
    assert len(result) == 1, f"{sql!r} returned {result!r}"
    return result[0]


# --- raw protocol helpers ------------------------------------------------------------------------------


def login_body(user: str, password: str, account: str = ACCOUNT, **context: str) -> dict:
    """A password login body shaped like the Python connector's; ``context`` adds fields to ``data``
    (e.g. ``databaseName="analytics"``)."""
    data: dict[str, Any] = {
        "CLIENT_APP_ID": "PythonConnector",
        "CLIENT_APP_VERSION": "5.2.0",
        "ACCOUNT_NAME": account,
        "LOGIN_NAME": user,
        "PASSWORD": password,
        "CLIENT_ENVIRONMENT": {"APPLICATION": "PythonConnector", "OS": "Linux"},
        "SESSION_PARAMETERS": {"CLIENT_SESSION_KEEP_ALIVE": False},
    }
    data.update(context)
    return {"data": data}


def jwt_header(token: str) -> dict:
    """The decoded (unverified) JOSE header of a JWT."""
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def unique(prefix: str) -> str:
    """A name no other test run uses, for tables and secrets on the shared moto_server."""
    return f"snowgate-e2e-{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def dynamodb(aws_endpoint):
    return aws_client("dynamodb", aws_endpoint)


@contextmanager
def snowgate_table(dynamodb, prefix: str) -> Iterator[str]:
    """A table laid out like template.yaml's (pk/sk strings, TTL on expires_at), deleted afterwards."""
    name = unique(prefix)
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in ("pk", "sk")],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 20})
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
    try:
        yield name
    finally:
        dynamodb.delete_table(TableName=name)
