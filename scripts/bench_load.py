#!/usr/bin/env python3
"""Load benchmark: snowgate against the ceiling of this box and against fakesnow's server.

Runs, each for --duration seconds with `wrk -t<threads> -c<connections>` on loopback:

* snowgate (release build, in-memory store, or `--store sqlite`, the default of `snowgate serve`): query context (`SELECT CURRENT_DATABASE()` on an open
  session), heartbeats, forward-auth decisions (a cached key-pair JWT, a PAT, a session token),
  key-pair logins, password logins; then query context and heartbeats again while
  another wrk floods wrong-password logins;
* a bare axum server (`examples/hello.rs`) answering the query and heartbeat routes with a fixed body;
* fakesnow's server (PyPI `fakesnow[server]`, pinned in bench/requirements.txt) on the same query and
  its login.

Prints requests/s, p50/p99 latency and, for snowgate, peak RSS and memory per live session.

    scripts/bench_load.py [--duration 10] [--connections 16] [--threads 2] [--store memory|sqlite]
                          [--no-build] [--no-fakesnow]

Needs wrk (`apt-get install wrk`) and the bench venv (`scripts/bench_setup`, which this script runs).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-bench"
QUERY = "/queries/v1/query-request"
HEARTBEAT = "/session/heartbeat"
FORWARD = "/auth/forward"
LOGIN = "/session/v1/login-request"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, proc: subprocess.Popen, what: str) -> None:
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{what} exited at start (code {proc.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"{what} did not listen on {port}")


@contextmanager
def server(argv: list[str], port: int, what: str, env: dict[str, str] | None = None):
    proc = subprocess.Popen(argv, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_for(port, proc, what)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


def post(port: int, path: str, body: dict, token: str | None = None) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "Accept": "application/snowflake"}
    if token:
        headers["Authorization"] = f'Snowflake Token="{token}"'
    conn.request("POST", path, json.dumps(body), headers)
    answer = json.loads(conn.getresponse().read())
    conn.close()
    return answer


def rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def wrk_script(path: str, body: dict, token: str | None, extra: dict[str, str] | None = None) -> str:
    headers = 'wrk.headers["Content-Type"] = "application/json"\n'
    if token:
        headers += f'wrk.headers["Authorization"] = {json.dumps(f"Snowflake Token={chr(34)}{token}{chr(34)}")}\n'
    for name, value in (extra or {}).items():
        headers += f'wrk.headers[{json.dumps(name)}] = {json.dumps(value)}\n'
    script = f'wrk.method = "POST"\nwrk.path = {json.dumps(path)}\nwrk.body = {json.dumps(json.dumps(body))}\n{headers}'
    f = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    f.write(script)
    f.close()
    return f.name


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def parse_wrk(out: str) -> dict:
    def latency(p: str) -> float:
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * UNITS[m.group(2)] if m else float("nan")

    rps = float(m.group(1)) if (m := re.search(r"Requests/sec:\s+([\d.]+)", out)) else 0.0
    total = int(m.group(1)) if (m := re.search(r"(\d+) requests in", out)) else 0
    non2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)) else 0
    # Only answered requests count: a server that fails some under load is not faster for it.
    ok_rps = rps * (total - non2xx) / total if total else 0.0
    return {"rps": ok_rps, "p50": latency("50"), "p99": latency("99"), "non2xx": non2xx}


def wrk(args, port: int, path: str, body: dict, token: str | None = None, background: bool = False,
        extra: dict[str, str] | None = None):
    argv = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency",
            "-s", wrk_script(path, body, token, extra), f"http://127.0.0.1:{port}{path}"]
    if background:
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return parse_wrk(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)


def key_pair():
    sys.path.insert(0, str(next((VENV / "lib").glob("python3*/site-packages"))))
    import jwt  # noqa: E402  (PyJWT, from the bench venv)
    from cryptography.hazmat.primitives import serialization  # noqa: E402
    from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    fp = "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode()

    def token() -> str:
        now = int(time.time())
        sub = "ACME.SVC_BENCH"
        return jwt.encode({"iss": f"{sub}.{fp}", "sub": sub, "iat": now, "exp": now + 3600}, key,
                          algorithm="RS256")

    return base64.b64encode(der).decode(), token


def login_body(user: str, password: str) -> dict:
    return {"data": {"ACCOUNT_NAME": "acme", "LOGIN_NAME": user, "PASSWORD": password,
                     "CLIENT_APP_ID": "PythonConnector", "CLIENT_APP_VERSION": "3.12.0",
                     "SESSION_PARAMETERS": {}}}


def bench_snowgate(args, results: dict) -> None:
    port = free_port()
    env = {"SNOWGATE_STORE": args.store, "SNOWGATE_LISTEN": f"127.0.0.1:{port}", "RUST_LOG": "info",
           "JWT_SECRET": "a benchmark secret of at least thirty-two bytes", "SNOWGATE_MAX_CONNECTIONS": "4096",
           "SNOWGATE_DATA_DIR": tempfile.mkdtemp(prefix="snowgate-bench-")}
    with server([str(ROOT / "target/release/snowgate"), "serve"], port, "snowgate", env) as proc:
        admin = post(port, LOGIN, login_body("embucket", "embucket"))["data"]["token"]
        public, jwt_token = key_pair()
        for sql in ["CREATE ROLE loader",
                    f"CREATE USER svc_bench TYPE=SERVICE DEFAULT_ROLE=loader RSA_PUBLIC_KEY='{public}'",
                    "GRANT ROLE loader TO USER svc_bench"]:
            assert post(port, QUERY, {"sqlText": sql}, admin)["success"], sql
        session = post(port, LOGIN, {"data": {"ACCOUNT_NAME": "acme", "LOGIN_NAME": "svc_bench",
                                              "AUTHENTICATOR": "SNOWFLAKE_JWT", "TOKEN": jwt_token()}})
        token = session["data"]["token"]
        query = {"sqlText": "SELECT CURRENT_DATABASE()"}
        # The peak under query load, not the set-up's: the administrator's password login above
        # hashed with argon2 (19 MiB for its duration). Linux resets VmHWM on "5" to clear_refs.
        idle_mb = rss_kb(proc.pid, "VmRSS") / 1024
        Path(f"/proc/{proc.pid}/clear_refs").write_text("5")
        results["snowgate query context"] = wrk(args, port, QUERY, query, token)
        results["snowgate query context"]["idle_rss_mb"] = idle_mb
        results["snowgate query context"]["rss_mb"] = rss_kb(proc.pid, "VmHWM") / 1024
        results["snowgate heartbeat"] = wrk(args, port, HEARTBEAT, {}, token)
        # Forward-auth decisions (`/auth/forward`, what nginx's auth_request calls per request): a
        # key-pair JWT reused (verified once, then cached until its exp), a PAT, a session token.
        results["snowgate forward-auth, cached key-pair JWT"] = wrk(
            args, port, FORWARD, {}, extra={"Authorization": f"Bearer {jwt_token()}",
                                            "X-Snowflake-Authorization-Token-Type": "KEYPAIR_JWT"})
        # A PAT needs its user under a network policy (the default PAT policy, as in Snowflake).
        for sql in ["CREATE NETWORK POLICY bench_loopback ALLOWED_IP_LIST = ('127.0.0.1')",
                    "ALTER USER embucket SET NETWORK_POLICY = bench_loopback"]:
            assert post(port, QUERY, {"sqlText": sql}, admin)["success"], sql
        added = post(port, QUERY, {"sqlText": "ALTER USER embucket ADD PAT bench"}, admin)
        pat = added["data"]["rowset"][0][1]
        results["snowgate forward-auth, PAT"] = wrk(
            args, port, FORWARD, {}, extra={"Authorization": f"Bearer {pat}",
                                            "X-Snowflake-Authorization-Token-Type":
                                                "PROGRAMMATIC_ACCESS_TOKEN"})
        results["snowgate forward-auth, session token"] = wrk(args, port, FORWARD, {}, token)
        before = rss_kb(proc.pid, "VmRSS")
        kp_body = {"data": {"ACCOUNT_NAME": "acme", "LOGIN_NAME": "svc_bench",
                            "AUTHENTICATOR": "SNOWFLAKE_JWT", "TOKEN": jwt_token()}}
        kp = wrk(args, port, LOGIN, kp_body)
        logins = kp["rps"] * args.duration
        kp["bytes_per_session"] = (rss_kb(proc.pid, "VmRSS") - before) * 1024 / max(logins, 1)
        results["snowgate key-pair login"] = kp
        results["snowgate password login"] = wrk(args, port, LOGIN, login_body("embucket", "embucket"))
        flood = wrk(args, port, LOGIN, login_body("nobody", "wrong"), background=True)
        try:
            time.sleep(1)
            results["snowgate query context, wrong-password flood"] = wrk(args, port, QUERY, query, token)
            results["snowgate heartbeat, wrong-password flood"] = wrk(args, port, HEARTBEAT, {}, token)
        finally:
            flood.terminate()
            flood.wait()
        results["snowgate peak RSS"] = {"rss_mb": rss_kb(proc.pid, "VmHWM") / 1024}


def bench_hello(args, results: dict) -> None:
    port = free_port()
    with server([str(ROOT / "target/release/examples/hello"), str(port)], port, "hello"):
        results["axum hello-world query"] = wrk(args, port, QUERY, {"sqlText": "SELECT CURRENT_DATABASE()"})
        results["axum hello-world heartbeat"] = wrk(args, port, HEARTBEAT, {})
    # The same router behind snowgate's accept loop (deadlines, connection cap): the front door's
    # share of the gap, apart from authentication.
    port = free_port()
    with server([str(ROOT / "target/release/examples/hello"), str(port), "front-door"], port, "hello"):
        results["axum hello-world query, snowgate's front door"] = wrk(
            args, port, QUERY, {"sqlText": "SELECT CURRENT_DATABASE()"})


def bench_fakesnow(args, results: dict) -> None:
    port = free_port()
    with server([str(VENV / "bin/fakesnow"), "-s", "-p", str(port)], port, "fakesnow"):
        token = post(port, LOGIN, login_body("embucket", "embucket"))["data"]["token"]
        results["fakesnow query context"] = wrk(args, port, QUERY, {"sqlText": "SELECT CURRENT_DATABASE()"}, token)
        results["fakesnow login"] = wrk(args, port, LOGIN, login_body("embucket", "embucket"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-build", action="store_true")
    p.add_argument("--no-fakesnow", action="store_true")
    p.add_argument("--store", choices=["memory", "sqlite"], default="memory")
    args = p.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    subprocess.run([str(ROOT / "scripts/bench_setup")], check=True)
    if not args.no_build:
        # Two builds: an example pulls in the dev-dependencies' features (tokio "full", ...), which
        # would otherwise leak into the binary measured.
        subprocess.run(["cargo", "build", "--release", "--bin", "snowgate"], cwd=ROOT, check=True)
        subprocess.run(["cargo", "build", "--release", "--example", "hello"], cwd=ROOT, check=True)
    results: dict[str, dict] = {}
    bench_snowgate(args, results)
    bench_hello(args, results)
    if not args.no_fakesnow:
        bench_fakesnow(args, results)
    print(f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration}s, loopback, {args.store} store\n")
    print(f"| {'run':<48} | {'2xx/s':>9} | {'p50 ms':>7} | {'p99 ms':>7} | {'non-2xx':>7} |")
    print(f"|{'-' * 50}|{'-' * 11}|{'-' * 9}|{'-' * 9}|{'-' * 9}|")
    for name, r in results.items():
        if "rps" in r:
            print(f"| {name:<48} | {r['rps']:>9.0f} | {r['p50']:>7.2f} | {r['p99']:>7.2f} | {r['non2xx']:>7} |")
    q, h = results["snowgate query context"], results["snowgate heartbeat"]
    print()
    print(f"query context vs hello-world: {q['rps'] / results['axum hello-world query']['rps']:.2f}x")
    print(f"heartbeat vs hello-world:     {h['rps'] / results['axum hello-world heartbeat']['rps']:.2f}x")
    door = results["axum hello-world query, snowgate's front door"]["rps"]
    print(f"hello-world behind snowgate's front door vs hello-world: "
          f"{door / results['axum hello-world query']['rps']:.2f}x; query context vs it: {q['rps'] / door:.2f}x")
    for kind in ("cached key-pair JWT", "PAT", "session token"):
        f = results[f"snowgate forward-auth, {kind}"]
        print(f"forward-auth ({kind}) vs hello-world heartbeat: "
              f"{f['rps'] / results['axum hello-world heartbeat']['rps']:.2f}x")
    if "fakesnow query context" in results:
        print(f"query context vs fakesnow:    {q['rps'] / max(results['fakesnow query context']['rps'], 1):.0f}x")
        print(f"login vs fakesnow login:      key pair {results['snowgate key-pair login']['rps'] / max(results['fakesnow login']['rps'], 1):.1f}x")
    print(f"RSS idle before the query-context run: {q['idle_rss_mb']:.1f} MiB; peak under query-context "
          f"load: {q['rss_mb']:.1f} MiB; peak over the login and flood runs that follow: "
          f"{results['snowgate peak RSS']['rss_mb']:.1f} MiB")
    print(f"memory per live session: {results['snowgate key-pair login']['bytes_per_session']:.0f} bytes")
    print(f"password logins/s: {results['snowgate password login']['rps']:.0f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
