#!/usr/bin/env python3
"""Gateway benchmark: what snowgate adds to a statement it forwards to an engine behind it.

In one run, with `wrk` on loopback:

* against the minimal stub engine (`examples/hello.rs`, the bare axum server that also answers an
  engine login): the same query request sent to the stub directly, and through snowgate (release
  build, memory store, `SNOWGATE_UPSTREAM_URL` = the stub) on an open session whose engine session
  is already open: the ceiling of the forwarding path, at 16 connections and at one (the latency
  added, without queueing);
* against fakesnow's server (PyPI, pinned in bench/requirements.txt), at one connection: a query
  sent to fakesnow directly, and through snowgate.

    scripts/bench_gateway.py [--duration 6] [--connections 16] [--threads 2] [--no-build]

Needs wrk (`apt-get install wrk`) and the bench venv (`scripts/bench_setup`, which this script runs).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_load as bl  # noqa: E402  (the load benchmark's helpers: servers, wrk, parsing)

ROOT = bl.ROOT
# Has a FROM clause, so snowgate forwards it (a SELECT of constants alone is answered locally).
STATEMENT = {"sqlText": "SELECT a FROM (VALUES (1)) AS t(a)"}
# Every Snowflake driver sends this, and snowgate sends it to the engine; fakesnow's answer takes about
# a millisecond longer with it, so the direct runs send it too.
AS_DRIVERS = {"Accept": "application/snowflake"}
SECRET = "a benchmark secret of at least thirty-two bytes"


def snowgate_in_front(engine_port: int):
    port = bl.free_port()
    env = {"SNOWGATE_STORE": "memory", "SNOWGATE_LISTEN": f"127.0.0.1:{port}", "RUST_LOG": "warn",
           "JWT_SECRET": SECRET, "SNOWGATE_MAX_CONNECTIONS": "4096",
           "SNOWGATE_UPSTREAM_URL": f"http://127.0.0.1:{engine_port}"}
    return port, bl.server([str(ROOT / "target/release/snowgate"), "serve"], port, "snowgate", env)


def open_session(port: int) -> str:
    token = bl.post(port, bl.LOGIN, bl.login_body("embucket", "embucket"))["data"]["token"]
    # The first forwarded statement opens the engine session; the measured ones reuse it.
    first = bl.post(port, bl.QUERY, STATEMENT, token)
    assert first.get("success"), first
    return token


def bench_stub(args, results: dict) -> None:
    engine_port = bl.free_port()
    with bl.server([str(ROOT / "target/release/examples/hello"), str(engine_port)], engine_port, "stub"):
        # At one connection too: the latency snowgate adds, without the queueing of 16.
        one = argparse.Namespace(**{**vars(args), "connections": 1, "threads": 1})
        results["stub engine, direct"] = bl.wrk(args, engine_port, bl.QUERY, STATEMENT, extra=AS_DRIVERS)
        results["stub engine, direct, 1 connection"] = bl.wrk(one, engine_port, bl.QUERY, STATEMENT, extra=AS_DRIVERS)
        port, front = snowgate_in_front(engine_port)
        with front:
            token = open_session(port)
            results["stub engine, through snowgate"] = bl.wrk(args, port, bl.QUERY, STATEMENT, token, extra=AS_DRIVERS)
            results["stub engine, through snowgate, 1 connection"] = bl.wrk(
                one, port, bl.QUERY, STATEMENT, token, extra=AS_DRIVERS)


def bench_fakesnow(args, results: dict) -> None:
    one = argparse.Namespace(**{**vars(args), "connections": 1, "threads": 1})
    engine_port = bl.free_port()
    with bl.server([str(bl.VENV / "bin/fakesnow"), "-s", "-p", str(engine_port)], engine_port, "fakesnow"):
        direct = bl.post(engine_port, bl.LOGIN, bl.login_body("embucket", "embucket"))["data"]["token"]
        results["fakesnow, direct, 1 connection"] = bl.wrk(one, engine_port, bl.QUERY, STATEMENT, direct, extra=AS_DRIVERS)
        port, front = snowgate_in_front(engine_port)
        with front:
            token = open_session(port)
            results["fakesnow, through snowgate, 1 connection"] = bl.wrk(one, port, bl.QUERY, STATEMENT, token, extra=AS_DRIVERS)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=int, default=6)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-build", action="store_true")
    args = p.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    subprocess.run([str(ROOT / "scripts/bench_setup")], check=True)
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--bin", "snowgate"], cwd=ROOT, check=True)
        subprocess.run(["cargo", "build", "--release", "--example", "hello"], cwd=ROOT, check=True)
    results: dict[str, dict] = {}
    bench_stub(args, results)
    bench_fakesnow(args, results)
    print(f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration}s (fakesnow: -t1 -c1), loopback\n")
    print(f"| {'run':<44} | {'2xx/s':>9} | {'p50 ms':>7} | {'p99 ms':>7} | {'non-2xx':>7} |")
    print(f"|{'-' * 46}|{'-' * 11}|{'-' * 9}|{'-' * 9}|{'-' * 9}|")
    for name, r in results.items():
        print(f"| {name:<44} | {r['rps']:>9.0f} | {r['p50']:>7.2f} | {r['p99']:>7.2f} | {r['non2xx']:>7} |")
    d, t = results["stub engine, direct"], results["stub engine, through snowgate"]
    fd, ft = results["fakesnow, direct, 1 connection"], results["fakesnow, through snowgate, 1 connection"]
    print()
    print(f"stub: through snowgate / direct throughput: {t['rps'] / max(d['rps'], 1):.2f}x; "
          f"p50 added: {t['p50'] - d['p50']:.2f} ms")
    d1, t1 = results["stub engine, direct, 1 connection"], results["stub engine, through snowgate, 1 connection"]
    print(f"stub at one connection: p50 added {t1['p50'] - d1['p50']:.3f} ms "
          f"({d1['p50']:.3f} → {t1['p50']:.3f} ms)")
    print(f"fakesnow at one connection: p50 added {ft['p50'] - fd['p50']:.2f} ms "
          f"({fd['p50']:.2f} → {ft['p50']:.2f} ms); throughput {ft['rps'] / max(fd['rps'], 1):.2f}x")


if __name__ == "__main__":
    main()
