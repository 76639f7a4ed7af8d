"""Faults and concurrency on the AWS backends (moto_server), through the real binary.

* DynamoDB cut off mid-traffic: retryable answers (HTTP 503) within the SDK's bounded timeouts, nothing
  half-written, full service once it is back.
* Secrets Manager down: a clear error at a cold start; a warm instance keeps its cached secret.
* Several server processes on one table: 1,000 parallel logins and deletes lose or duplicate nothing; 20
  parallel wrong passwords lock the user exactly once; parallel USE on one session stays consistent.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import aws_client, aws_server_env, login_body, run_snowgate_to_exit, snowgate_table

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class CuttableProxy:
    """A TCP relay in front of moto that the test can cut (refusing and dropping every connection)
    and restore, on the same port."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.up = threading.Event()
        self.up.set()
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while self.up.is_set():
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.close()
            except OSError:
                pass

    def cut(self) -> None:
        self.up.clear()
        with self.lock:
            for s in self.open:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
            self.open.clear()

    def restore(self) -> None:
        self.up.set()

    def close(self) -> None:
        self.cut()
        self.listener.close()


def post(server, path: str, body: dict, token: str | None = None, timeout: float = 30) -> tuple[int, dict]:
    """(HTTP status, envelope); non-200 answers are returned, not raised."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f'Snowflake Token="{token}"'
    req = urllib.request.Request(server.base_url + path, json.dumps(body).encode(), headers, method="POST")
    try:
        with _DIRECT.open(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def login(server, user="embucket", password="embucket", request_id=None) -> tuple[int, dict]:
    rid = request_id or str(uuid.uuid4())
    return post(server, f"/session/v1/login-request?request_id={rid}", login_body(user, password))


def query(server, token: str, sql: str) -> tuple[int, dict]:
    return post(server, "/queries/v1/query-request", {"sqlText": sql}, token)


@pytest.fixture
def moto_host_port(aws_endpoint):
    host, port = aws_endpoint.rsplit("//", 1)[1].split(":")
    return host, int(port)


def test_dynamodb_cut_off_mid_traffic_is_retryable_and_recovers(start_server, aws_endpoint, moto_host_port, dynamodb):
    proxy = CuttableProxy(*moto_host_port)
    try:
        with snowgate_table(dynamodb, "fault") as table:
            env = aws_server_env(proxy.url) | {"SNOWGATE_TABLE": table}
            server = start_server(env)
            status, v = login(server)
            assert (status, v["success"]) == (200, True), v
            token = v["data"]["token"]
            assert query(server, token, "USE DATABASE before_cut")[1]["success"]

            proxy.cut()
            # Every route answers the retryable 503 (drivers retry it), within the SDK's bounded
            # timeouts rather than hanging; nothing is written.
            for status, v in (
                query(server, token, "USE DATABASE during_cut"),
                post(server, "/session/heartbeat", {}, token),
                login(server),
            ):
                assert status == 503, v
                assert (v["success"], v["code"]) == (False, "390503"), v

            proxy.restore()
            # Full service again, and the session is exactly as it was before the cut.
            status, v = query(server, token, "SELECT CURRENT_DATABASE()")
            assert (status, v["data"]["rowset"]) == (200, [["BEFORE_CUT"]]), v
            status, v = login(server)
            assert (status, v["success"]) == (200, True), v
    finally:
        proxy.close()


def test_secrets_manager_down_at_cold_start_is_a_clear_error(tmp_path, aws_endpoint):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    env = aws_server_env(f"http://127.0.0.1:{port}") | {"SNOWGATE_SECRET_ID": "snowgate/unreachable"}
    exited = run_snowgate_to_exit(env, timeout=60)
    assert exited.returncode != 0
    assert "snowgate/unreachable" in exited.stderr, exited.stderr


def test_a_warm_instance_keeps_its_cached_secret_when_secrets_manager_is_down(
    start_server, aws_endpoint, moto_host_port
):
    secrets = aws_client("secretsmanager", aws_endpoint)
    name = f"snowgate-e2e-warm-{uuid.uuid4().hex[:8]}"
    value = {"jwt_secret": uuid.uuid4().hex * 2, "demo_user": "warm_admin", "demo_password": "warm-pw-1"}
    secrets.create_secret(Name=name, SecretString=json.dumps(value))
    proxy = CuttableProxy(*moto_host_port)
    try:
        env = aws_server_env(proxy.url) | {
            "SNOWGATE_SECRET_ID": name,
            "SNOWGATE_SECRET_REFRESH_SECONDS": "1",
        }
        server = start_server(env, user="warm_admin", password="warm-pw-1")
        proxy.cut()
        # Refreshes are due and fail in the background; requests go on with the cached secret.
        for _ in range(5):
            status, v = login(server, "warm_admin", "warm-pw-1")
            assert (status, v["success"]) == (200, True), v
            status, v = query(server, v["data"]["token"], "SELECT CURRENT_USER()")
            assert v["data"]["rowset"] == [["WARM_ADMIN"]], v
    finally:
        proxy.close()


@pytest.fixture
def shared_table_servers(start_server, aws_endpoint, dynamodb):
    """Three server processes on one DynamoDB table, as three Lambda instances."""
    with snowgate_table(dynamodb, "many") as table:
        env = aws_server_env(aws_endpoint) | {"SNOWGATE_TABLE": table, "JWT_SECRET": "s" * 48}
        yield [start_server(env) for _ in range(3)]


def test_parallel_logins_and_deletes_across_instances_lose_and_duplicate_nothing(shared_table_servers):
    servers = shared_table_servers
    total = 1000

    def one(i: int) -> tuple[int, str]:
        status, v = login(servers[i % 3])
        assert (status, v["success"]) == (200, True), v
        return v["data"]["sessionId"], v["data"]["token"]

    with ThreadPoolExecutor(16) as pool:
        sessions = list(pool.map(one, range(total)))
    assert len({sid for sid, _ in sessions}) == total, "duplicate session ids"

    # Each session is seen by another instance, then deleted through a third.
    def check_and_delete(i: int) -> None:
        _, token = sessions[i]
        status, v = post(servers[(i + 1) % 3], "/session/heartbeat", {}, token)
        assert (status, v["success"]) == (200, True), v
        status, v = post(servers[(i + 2) % 3], "/session?delete=true", {}, token)
        assert (status, v["success"]) == (200, True), v

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(check_and_delete, range(total)))

    def gone(i: int) -> str:
        _, token = sessions[i]
        return post(servers[i % 3], "/session/heartbeat", {}, token)[1]["code"]

    with ThreadPoolExecutor(16) as pool:
        assert set(pool.map(gone, range(total))) == {"390111"}


def test_parallel_wrong_passwords_on_several_instances_lock_exactly_once(shared_table_servers):
    servers = shared_table_servers
    admin = login(servers[0])[1]["data"]["token"]
    status, v = query(servers[0], admin, "CREATE USER target_user PASSWORD = 'right-pw-1'")
    assert v["success"], v

    def wrong(i: int) -> str:
        status, v = login(servers[i % 3], "target_user", "wrong")
        return v["code"]

    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(wrong, range(20)))
    assert set(codes) <= {"390100", "390102"}, codes
    assert codes.count("390100") >= 5, codes
    assert login(servers[1], "target_user", "right-pw-1")[1]["code"] == "390102"
    # One lock event across all instances.
    locks = sum(s.log().count("user locked after too many failed logins") for s in servers)
    assert locks == 1, locks


def test_parallel_use_on_one_session_stays_consistent(shared_table_servers):
    servers = shared_table_servers
    token = login(servers[0])[1]["data"]["token"]
    assert query(servers[0], token, "USE DATABASE analytics")[1]["success"]

    def use(i: int) -> str:
        status, v = query(servers[i % 3], token, f"USE SCHEMA s{i}")
        assert (status, v["success"]) == (200, True), v
        assert v["data"]["finalSchemaName"] == f"S{i}", v
        return v["data"]["finalSchemaName"]

    with ThreadPoolExecutor(20) as pool:
        written = set(pool.map(use, range(40)))
    status, v = query(servers[1], token, "SELECT CURRENT_DATABASE(), CURRENT_SCHEMA()")
    database, schema = v["data"]["rowset"][0]
    assert database == "ANALYTICS"
    assert schema in written, (schema, written)


def test_secret_rotation_during_traffic_fails_no_request(start_server, aws_endpoint):
    secrets = aws_client("secretsmanager", aws_endpoint)
    name = f"snowgate-e2e-rotate-{uuid.uuid4().hex[:8]}"

    def value() -> str:
        return json.dumps(
            {"jwt_secret": uuid.uuid4().hex * 2, "demo_user": "rot_admin", "demo_password": "rot-pw-1"}
        )

    secrets.create_secret(Name=name, SecretString=value())
    env = aws_server_env(aws_endpoint) | {"SNOWGATE_SECRET_ID": name, "SNOWGATE_SECRET_REFRESH_SECONDS": "1"}
    server = start_server(env, user="rot_admin", password="rot-pw-1")
    stop = threading.Event()
    failures: list[object] = []
    done = [0]

    def traffic() -> None:
        while not stop.is_set():
            status, v = login(server, "rot_admin", "rot-pw-1")
            if not v.get("success"):
                failures.append(("login", status, v))
                continue
            token = v["data"]["token"]
            for _ in range(3):
                status, q = query(server, token, "SELECT CURRENT_USER()")
                if not q.get("success"):
                    failures.append(("query", status, q))
            status, d = post(server, "/session?delete=true", {}, token)
            if not d.get("success"):
                failures.append(("delete", status, d))
            done[0] += 1

    threads = [threading.Thread(target=traffic) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for _ in range(3):
            stop.wait(2)
            secrets.put_secret_value(SecretId=name, SecretString=value())
        stop.wait(2)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert failures == []
    assert done[0] > 10
