"""An HTTP app behind real proxies that ask snowgate about every request: nginx (`auth_request`) and
Caddy (`forward_auth`), configured with the very blocks docs/protect-an-http-app.md shows.

The guide's configurations are read from docs/protect-an-http-app.md (the ```text blocks that start
with `location = /_snowgate` and `app.example.com {`), their addresses rewritten to this test's
ports, and wrapped in what a whole configuration needs to run as the current user in a scratch
directory (pid, logs and temp paths there; nothing under /etc). The app is a stdlib HTTP server in
this process that records the headers of every request it gets, so a test can tell what reached it
and how often.

Both proxies come from Debian (`nginx-light`, `caddy`); `scripts/test` installs them. Missing, the
test fails (never skips): the guide promises these configurations work.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import pwd
import re
import shutil
import subprocess
import threading
import time
import urllib.parse
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from conftest import (
    ACCOUNT,
    REPO_ROOT,
    SnowgateServer,
    free_port,
    rows,
    run_snowgate,
    session_token,
)
from rsa_keys import fingerprint, new_key, public_b64

APP_HOST = "app.example.com"
OTHER_HOST = "other.example.com"
PASSWORD = "Str0ng-Passw0rd!x"
# The proxies listen on 127.0.0.1; a client on this other loopback address is one the users' network
# policy does not admit (Linux routes all of 127.0.0.0/8 to lo).
BLOCKED_IP = "127.0.0.2"
START_TIMEOUT_S = 15.0


# --- the guide's configurations --------------------------------------------------------------------


GUIDE = REPO_ROOT / "docs" / "protect-an-http-app.md"


def readme_text_block(first_line: str) -> str:
    """The ```text block of the guide whose first line is ``first_line``."""
    markdown = GUIDE.read_text()
    blocks = re.findall(r"^```text\n(.*?)^```$", markdown, flags=re.M | re.S)
    found = [b for b in blocks if b.splitlines()[0].strip() == first_line]
    assert len(found) == 1, f"{GUIDE.name} has {len(found)} ```text blocks starting {first_line!r}"
    return found[0]


def with_ports(block: str, snowgate_port: int, app_port: int) -> str:
    """The guide's addresses (snowgate on 127.0.0.1:8080, the app on 127.0.0.1:9000) made this test's."""
    assert "127.0.0.1:8080" in block and "127.0.0.1:9000" in block, block
    return block.replace("127.0.0.1:8080", f"127.0.0.1:{snowgate_port}").replace(
        "127.0.0.1:9000", f"127.0.0.1:{app_port}"
    )


def nginx_conf(workdir: Path, port: int, snowgate_port: int, app_port: int) -> str:
    locations = with_ports(readme_text_block("location = /_snowgate {"), snowgate_port, app_port)
    # Run as root (CI), nginx would hand its workers to `nobody`, who cannot enter the scratch dir.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {workdir / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}daemon off;
worker_processes 1;
pid {workdir / "nginx.pid"};
error_log {workdir / "error.log"} info;
events {{ worker_connections 64; }}
http {{
    access_log {workdir / "access.log"};
{temp}
    server {{
        listen 127.0.0.1:{port};
        server_name {APP_HOST};
{locations}
    }}
}}
"""


def caddyfile(workdir: Path, port: int, snowgate_port: int, app_port: int) -> str:
    site = with_ports(readme_text_block(f"{APP_HOST} {{"), snowgate_port, app_port)
    # Plain HTTP on this test's port, on loopback only; the rest is the guide's block as it is.
    site = site.replace(f"{APP_HOST} {{", f"http://{APP_HOST}:{port} {{\n    bind 127.0.0.1", 1)
    return f"""{{
    admin off
    auto_https off
    storage file_system {workdir / "storage"}
}}
{site}"""


# --- the app ---------------------------------------------------------------------------------------


@dataclass
class EchoApp:
    """What reached the app: the headers of every request, in order."""

    port: int = 0
    seen: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.seen)

    def last(self) -> dict[str, str]:
        with self.lock:
            return self.seen[-1]


@contextmanager
def echo_app() -> Iterator[EchoApp]:
    app = EchoApp()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            # Lower-cased names, every copy kept: a header sent twice must show as sent twice.
            headers: dict[str, str] = {}
            for name, value in self.headers.items():
                key = name.lower()
                headers[key] = f"{headers[key]}\n{value}" if key in headers else value
            with app.lock:
                app.seen.append(headers)
            body = json.dumps(headers).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    app.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app
    finally:
        server.shutdown()
        server.server_close()


# --- the proxies -----------------------------------------------------------------------------------


def proxy_binary(name: str) -> str:
    found = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None
    )
    if found is None:
        pytest.fail(
            f"{name} is not installed: scripts/test installs it "
            "(apt-get install -y nginx-light caddy)",
            pytrace=False,
        )
    return found


def wait_listening(proc: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the proxy exited with {proc.returncode}:\n{log.read_text()}", pytrace=False)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/", headers={"Host": "probe.invalid"})
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
        finally:
            conn.close()
    pytest.fail(f"the proxy did not answer on {port}:\n{log.read_text()}", pytrace=False)


@contextmanager
def running(argv: list[str], port: int, workdir: Path, env: dict[str, str]) -> Iterator[None]:
    log = workdir / "proxy.out"
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        wait_listening(proc, port, log)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextmanager
def nginx(workdir: Path, snowgate_port: int, app_port: int) -> Iterator[int]:
    binary = proxy_binary("nginx")
    port = free_port()
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (workdir / kind).mkdir(parents=True, exist_ok=True)
    conf = workdir / "nginx.conf"
    conf.write_text(nginx_conf(workdir, port, snowgate_port, app_port))
    # -e: the error log before the configuration is read (the built-in one is under /var/log).
    argv = [binary, "-p", str(workdir), "-c", str(conf), "-e", str(workdir / "error.log")]
    with running(argv, port, workdir, dict(os.environ)):
        yield port


@contextmanager
def caddy(workdir: Path, snowgate_port: int, app_port: int) -> Iterator[int]:
    binary = proxy_binary("caddy")
    port = free_port()
    conf = workdir / "Caddyfile"
    conf.write_text(caddyfile(workdir, port, snowgate_port, app_port))
    # Caddy keeps its state under $HOME / the XDG directories: keep them in the scratch dir.
    env = dict(os.environ, HOME=str(workdir), XDG_DATA_HOME=str(workdir / "data"),
               XDG_CONFIG_HOME=str(workdir / "config"))
    argv = [binary, "run", "--config", str(conf), "--adapter", "caddyfile"]
    with running(argv, port, workdir, env):
        yield port


@dataclass
class Stack:
    snowgate: SnowgateServer
    app: EchoApp
    proxy_port: int
    proxy: str

    def call(self, authorization: str | None, host: str = APP_HOST, source: str = "127.0.0.1",
             **extra: str) -> tuple[int, dict[str, str] | None]:
        """GET / through the proxy; the status and, on 200, the headers the app saw."""
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.proxy_port, timeout=10, source_address=(source, 0)
        )
        headers = {"Host": host, **{k.replace("_", "-"): v for k, v in extra.items()}}
        if authorization is not None:
            headers["Authorization"] = authorization
        try:
            conn.request("GET", "/some/page?x=1", headers=headers)
            resp = conn.getresponse()
            body = resp.read()
        finally:
            conn.close()
        return resp.status, (json.loads(body) if resp.status == 200 else None)


@pytest.fixture(scope="module")
def snowgate_behind_proxies(tmp_path_factory) -> Iterator[SnowgateServer]:
    # The proxies are 127.0.0.1: their X-Forwarded-For names the client. The account is pinned, as
    # the guide says to, so that a PAT's caller (a PAT names no account) has one too.
    env = {"SNOWGATE_TRUSTED_PROXIES": "127.0.0.1/32", "SNOWGATE_ACCOUNT": ACCOUNT}
    with run_snowgate(tmp_path_factory.mktemp("snowgate-fwd"), env) as server:
        yield server


@pytest.fixture(scope="module", params=["nginx", "caddy"])
def stack(request, snowgate_behind_proxies, tmp_path_factory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp(request.param)
    start = nginx if request.param == "nginx" else caddy
    with echo_app() as app, start(workdir, snowgate_behind_proxies.port, app.port) as port:
        yield Stack(snowgate_behind_proxies, app, port, request.param)
    snowgate_behind_proxies.close_connections()


# --- credentials -----------------------------------------------------------------------------------


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def key_pair_jwt(key, user: str, issued: int | None = None, life: int = 3540) -> str:
    """A key-pair JWT as the SQL API's clients sign it (59 minutes)."""
    now = int(time.time()) if issued is None else issued
    claims = {
        "iss": f"{ACCOUNT.upper()}.{user}.{fingerprint(key)}",
        "sub": f"{ACCOUNT.upper()}.{user}",
        "iat": now,
        "exp": now + life,
    }
    signed = b64url(b'{"alg":"RS256","typ":"JWT"}') + "." + b64url(json.dumps(claims).encode())
    return signed + "." + b64url(key.sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256()))


def exchange(server: SnowgateServer, form: dict[str, str]) -> tuple[int, str]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        conn.request("POST", "/oauth/token", body=urllib.parse.urlencode(form),
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


@dataclass
class User:
    name: str
    key: object
    admin: object  # the administrator's connector session


@pytest.fixture
def user(stack) -> User:
    """A user with a key pair and a password, default role ANALYST_*, under a network policy that
    admits 127.0.0.1 only (a PAT needs one)."""
    admin = stack.snowgate.connect()
    tag = uuid.uuid4().hex[:8].upper()
    name, role, policy = f"ALICE_{tag}", f"ANALYST_{tag}", f"LOCAL_{tag}"
    key = new_key()
    for sql in (
        f"CREATE ROLE {role}",
        f"CREATE NETWORK POLICY {policy} ALLOWED_IP_LIST=('127.0.0.1')",
        f"CREATE USER {name} PASSWORD='{PASSWORD}' DEFAULT_ROLE={role} NETWORK_POLICY={policy} "
        f"RSA_PUBLIC_KEY='{public_b64(key)}'",
        f"GRANT ROLE {role} TO USER {name}",
    ):
        rows(admin, sql)
    return User(name, key, admin)


def assert_reached_as(stack: Stack, seen: dict[str, str] | None, user: User) -> None:
    assert seen is not None
    assert seen.get("sf-context-current-user") == user.name, seen
    assert seen.get("sf-context-current-role") == f"ANALYST_{user.name.split('_')[1]}", seen
    assert seen.get("sf-context-current-account") == ACCOUNT.upper(), seen
    assert "authorization" not in seen, f"{stack.proxy} passed Authorization on: {seen}"


# --- the cases -------------------------------------------------------------------------------------


def test_every_credential_reaches_the_app_with_the_identity_and_without_authorization(stack, user):
    count = stack.app.count
    # A new key-pair JWT for every call, as a Native App's proxy mints them.
    for _ in range(2):
        status, seen = stack.call(f"Bearer {key_pair_jwt(user.key, user.name)}")
        assert status == 200
        assert_reached_as(stack, seen, user)
    # One JWT signed ten minutes ago and reused, as the SQL API's clients keep one for 54 minutes.
    reused = key_pair_jwt(user.key, user.name, issued=int(time.time()) - 600)
    for _ in range(3):
        status, seen = stack.call(f"Bearer {reused}", X_Snowflake_Authorization_Token_Type="KEYPAIR_JWT")
        assert status == 200
        assert_reached_as(stack, seen, user)
    # A PAT, sent the way SPCS's tutorial does.
    cur = user.admin.cursor()
    cur.execute(f"ALTER USER {user.name} ADD PROGRAMMATIC ACCESS TOKEN fwd")
    ((_, pat),) = cur.fetchall()
    status, seen = stack.call(f'Snowflake Token="{pat}"')
    assert status == 200
    assert_reached_as(stack, seen, user)
    # A key-pair JWT and a PAT exchanged at /oauth/token for a token bound to this host.
    for form in (
        {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
         "scope": f"session:role:ANALYST_{user.name.split('_')[1]} {APP_HOST}",
         "assertion": key_pair_jwt(user.key, user.name)},
        {"grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
         "scope": APP_HOST, "subject_token": pat,
         "subject_token_type": "programmatic_access_token"},
    ):
        code, exchanged = exchange(stack.snowgate, form)
        assert code == 200, exchanged
        status, seen = stack.call(f'Snowflake Token="{exchanged}"')
        assert status == 200
        assert_reached_as(stack, seen, user)
    # A connector's session token, and the one requestType ISSUE hands out (SPCS's tutorial).
    conn = stack.snowgate.connect(user=user.name, password=PASSWORD)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        issued = conn.rest._token_request("ISSUE")["data"]["sessionToken"]
    for token in (session_token(conn), issued):
        status, seen = stack.call(f'Snowflake Token="{token}"')
        assert status == 200
        assert_reached_as(stack, seen, user)
    assert stack.app.count == count + 10


def test_a_replaced_key_is_refused_at_once_and_the_second_slot_restores_it(stack, user):
    jwt = key_pair_jwt(user.key, user.name)
    assert stack.call(f"Bearer {jwt}")[0] == 200
    count = stack.app.count
    rows(user.admin, f"ALTER USER {user.name} SET RSA_PUBLIC_KEY='{public_b64(new_key())}'")
    # The very JWT that passed a moment ago (its signature remembered) is refused now.
    assert stack.call(f"Bearer {jwt}")[0] == 401
    assert stack.call(f"Bearer {key_pair_jwt(user.key, user.name)}")[0] == 401
    assert stack.app.count == count, "a refused request reached the app"
    rows(user.admin, f"ALTER USER {user.name} SET RSA_PUBLIC_KEY_2='{public_b64(user.key)}'")
    status, seen = stack.call(f"Bearer {jwt}")
    assert status == 200
    assert_reached_as(stack, seen, user)
    assert stack.app.count == count + 1


def test_a_spoofed_identity_never_reaches_the_app(stack, user):
    jwt = key_pair_jwt(user.key, user.name)
    spoof = dict(
        Sf_Context_Current_User="ACCOUNTADMIN_USER",
        Sf_Context_Current_Role="ACCOUNTADMIN",
        Sf_Context_Current_Account="OTHER",
        Sf_Context_Current_User_Email="boss@example.com",
    )
    status, seen = stack.call(f"Bearer {jwt}", **spoof)
    assert status == 200
    assert_reached_as(stack, seen, user)
    assert "ACCOUNTADMIN" not in json.dumps(seen) and "boss@" not in json.dumps(seen), seen
    # Without a credential the spoofed copies do not get through either.
    count = stack.app.count
    assert stack.call(None, **spoof)[0] == 401
    assert stack.call("Bearer not-a-token", **spoof)[0] == 401
    assert stack.app.count == count


def test_disabled_users_blocked_addresses_and_other_hosts_are_refused(stack, user):
    jwt = key_pair_jwt(user.key, user.name)
    code, exchanged = exchange(stack.snowgate, {
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "scope": OTHER_HOST, "assertion": jwt,
    })
    assert code == 200, exchanged
    count = stack.app.count
    # A token exchanged for another host is no good here.
    assert stack.call(f'Snowflake Token="{exchanged}"')[0] == 401
    # The client's address (from the proxy's X-Forwarded-For) is outside the user's network policy.
    assert stack.call(f"Bearer {jwt}", source=BLOCKED_IP)[0] == 401
    assert stack.app.count == count
    assert stack.call(f"Bearer {jwt}")[0] == 200
    rows(user.admin, f"ALTER USER {user.name} SET DISABLED = TRUE")
    count = stack.app.count
    assert stack.call(f"Bearer {jwt}")[0] == 401
    assert stack.app.count == count
