#!/usr/bin/env python3
"""Heartbeat and query-context latency with and without a flood of wrong passwords.

Starts `snowgate serve` (the binary in $SNOWGATE_BIN, else target/release/snowgate, else
target/debug/snowgate) on the in-memory store, logs in once, then measures N heartbeats and N
`SELECT CURRENT_DATABASE()` queries over one keep-alive connection: first on an idle server, then while
16 clients send wrong passwords as fast as they can. Prints p50/p99 of each, the flood's refused logins
per second (and how many were told to retry: HTTP 429), and the server's peak RSS.

    .venv/bin/python scripts/bench_login_flood.py [--requests 2000] [--flooders 16]

Only loopback traffic; every loop is bounded by --requests and the flood stops with the measurement.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def binary() -> str:
    for candidate in (os.environ.get("SNOWGATE_BIN"), ROOT / "target/release/snowgate", ROOT / "target/debug/snowgate"):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    sys.exit("build snowgate first (cargo build --release) or set SNOWGATE_BIN")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def login_body(user: str, password: str) -> bytes:
    return json.dumps({"data": {"ACCOUNT_NAME": "bench", "LOGIN_NAME": user, "PASSWORD": password,
                                "CLIENT_APP_ID": "bench", "CLIENT_APP_VERSION": "1"}}).encode()


def post(conn: http.client.HTTPConnection, path: str, body: bytes, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f'Snowflake Token="{token}"'
    conn.request("POST", path, body, headers)
    resp = conn.getresponse()
    return resp.status, json.loads(resp.read())


def measure(port: int, token: str, n: int) -> dict[str, list[float]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    out: dict[str, list[float]] = {"heartbeat": [], "query": []}
    query = json.dumps({"sqlText": "SELECT CURRENT_DATABASE()"}).encode()
    for _ in range(n):
        t = time.perf_counter()
        status, v = post(conn, "/session/heartbeat", b"{}", token)
        out["heartbeat"].append((time.perf_counter() - t) * 1000)
        assert status == 200 and v["success"], v
        t = time.perf_counter()
        status, v = post(conn, "/queries/v1/query-request", query, token)
        out["query"].append((time.perf_counter() - t) * 1000)
        assert status == 200 and v["success"], v
    conn.close()
    return out


def flood(port: int, stop: threading.Event, counts: dict[str, int], lock: threading.Lock) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while not stop.is_set():
        status, _ = post(conn, f"/session/v1/login-request?request_id={uuid.uuid4()}",
                         login_body(f"nobody_{uuid.uuid4().hex[:8]}", "wrong"))
        with lock:
            counts["429" if status == 429 else "refused"] += 1
    conn.close()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def summary(name: str, ms: list[float]) -> str:
    ms = sorted(ms)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"{name:9s} p50 {statistics.median(ms):7.2f} ms   p99 {p99:7.2f} ms   (n={len(ms)})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--flooders", type=int, default=16)
    args = ap.parse_args()
    port = free_port()
    env = {"PATH": os.environ.get("PATH", ""), "SNOWGATE_STORE": "memory", "RUST_LOG": "warn",
           "JWT_SECRET": "b" * 48}
    log = tempfile.NamedTemporaryFile(prefix="snowgate-bench-", suffix=".log", delete=False)
    proc = subprocess.Popen([binary(), "serve", "--listen", f"127.0.0.1:{port}"], env=env,
                            stdout=log, stderr=log)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        status, v = post(conn, "/session/v1/login-request", login_body("embucket", "embucket"))
        assert v["success"], v
        token = v["data"]["token"]
        print(f"binary: {binary()}")
        idle = measure(port, token, args.requests)
        print("idle server:")
        for k, ms in idle.items():
            print("  " + summary(k, ms))
        stop, lock = threading.Event(), threading.Lock()
        counts = {"refused": 0, "429": 0}
        threads = [threading.Thread(target=flood, args=(port, stop, counts, lock)) for _ in range(args.flooders)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        try:
            busy = measure(port, token, args.requests)
        finally:
            stop.set()
            for t in threads:
                t.join()
        elapsed = time.perf_counter() - start
        print(f"while {args.flooders} clients send wrong passwords:")
        for k, ms in busy.items():
            print("  " + summary(k, ms))
        print(f"  wrong-password logins answered: {counts['refused'] / elapsed:.0f}/s refused (390100), "
              f"{counts['429'] / elapsed:.0f}/s told to retry (429)")
        print(f"peak RSS: {peak_rss_mb(proc.pid):.1f} MB")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
