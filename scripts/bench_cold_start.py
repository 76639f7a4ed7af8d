#!/usr/bin/env python3
"""Cold start: from exec to the first answered request, for the release binary (`snowgate serve` on
the in-memory store) and the bare axum server of `examples/hello.rs`, taken in turn --runs times.
Prints the median and range of each and the median of the pairwise ratios.

    scripts/bench_cold_start.py [--runs 20]      (after cargo build --release --bin snowgate --example hello)
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUEST = (b"POST /session/heartbeat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           b"Content-Length: 2\r\nConnection: close\r\n\r\n{}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_answer(argv: list[str], port: int, env: dict[str, str]) -> float:
    """Seconds from exec to the first HTTP answer on `port`."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - start < 10:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(REQUEST)
                    if s.recv(16).startswith(b"HTTP/1.1"):
                        return time.perf_counter() - start
            except OSError:
                time.sleep(0.0005)
        sys.exit(f"{argv[0]} did not answer within 10 s")
    finally:
        proc.kill()
        proc.wait()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=20)
    args = p.parse_args()
    snowgate, hello = ROOT / "target/release/snowgate", ROOT / "target/release/examples/hello"
    for binary in (snowgate, hello):
        if not binary.is_file():
            sys.exit(f"{binary} is missing: cargo build --release --bin snowgate --example hello")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SNOWGATE_", "AWS_"))}
    env.update({"SNOWGATE_STORE": "memory", "RUST_LOG": "info",
                "JWT_SECRET": "a benchmark secret of at least thirty-two bytes"})
    times: dict[str, list[float]] = {"snowgate": [], "hello": []}
    for _ in range(args.runs):
        port = free_port()
        times["snowgate"].append(first_answer(
            [str(snowgate), "serve"], port, {**env, "SNOWGATE_LISTEN": f"127.0.0.1:{port}"}))
        port = free_port()
        times["hello"].append(first_answer([str(hello), str(port)], port, env))
    for name, ts in times.items():
        ms = [t * 1000 for t in ts]
        print(f"{name:>8}: median {statistics.median(ms):.2f} ms (min {min(ms):.2f}, max {max(ms):.2f})")
    ratios = [a / b for a, b in zip(times["snowgate"], times["hello"])]
    print(f"   ratio: median {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
