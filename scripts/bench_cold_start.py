#!/usr/bin/env python3
"""Cold start: from exec to the first answered request, snowgate's release binary against a hello-world
reference built on the same crates, taken in turn --runs times. Prints the median and range of each
and the median of the pairwise ratios (both taken in the same run: this machine is shared and noisy).

--mode http (the default): `snowgate serve` against the bare axum server of `examples/hello.rs`; the
    first answer is an HTTP heartbeat on loopback.
--mode lambda: the binary started as Lambda starts it (`AWS_LAMBDA_RUNTIME_API` set, which is how
    `src/main.rs` picks the Lambda entry point) against a Runtime API emulated here. Its first
    `GET .../invocation/next` is handed one API Gateway v2 event (`--event`, from events/), and its
    `POST .../invocation/{id}/response` ends the measurement. The reference is the `lambda_http`
    hello-world of `examples/hello_lambda.rs`. Also prints the INIT part (exec to the first `next`).

--store memory (the default): the in-memory store and secrets from the environment.
--store moto: DynamoDB and Secrets Manager on a moto_server this script starts (a table and a secret
    made once), so the SDK configuration, both clients, the secret's load and the table check all
    happen before the first answer, as in a real INIT. moto is Python: its answers are slower than
    AWS's, so this mode is an upper bound. The reference does no AWS work, by design.

    cargo build --release --bin snowgate      # alone: examples bring the dev-dependencies' features
    cargo build --release --example hello --example hello_lambda
    scripts/bench_cold_start.py [--mode http|lambda] [--store memory|moto] [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUEST = (b"POST /session/heartbeat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           b"Content-Length: 2\r\nConnection: close\r\n\r\n{}")
JWT_SECRET = "a benchmark secret of at least thirty-two bytes"
TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_http_answer(argv: list[str], port: int, env: dict[str, str]) -> tuple[float, float]:
    """Seconds from exec to the first HTTP answer on `port` (twice: there is no separate INIT)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - start < TIMEOUT:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(REQUEST)
                    if s.recv(16).startswith(b"HTTP/1.1"):
                        t = time.perf_counter() - start
                        return t, t
            except OSError:
                time.sleep(0.0005)
        sys.exit(f"{argv[0]} did not answer within {TIMEOUT:.0f} s")
    finally:
        proc.kill()
        proc.wait()


class Invocation:
    """One cold start's exchange with the emulated Runtime API."""

    def __init__(self, event: bytes):
        self.event = event
        self.request_id = str(uuid.uuid4())
        self.handed_out = False
        self.first_next: float | None = None
        self.answered: float | None = None
        self.answer = b""
        self.done = threading.Event()
        self.lock = threading.Lock()


class RuntimeApi(BaseHTTPRequestHandler):
    """The part of the Lambda Runtime API a runtime needs for one invocation
    (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *_args) -> None:  # quiet
        pass

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        inv = self.server.invocation
        if inv is None or not self.path.endswith("/runtime/invocation/next"):
            self.reply(404)
            return
        with inv.lock:
            if inv.first_next is None:
                inv.first_next = time.perf_counter()
            first = not inv.handed_out
            inv.handed_out = True
        if not first:
            # Lambda freezes the process here; the run is over, so hold the poll until it ends.
            inv.done.wait(TIMEOUT)
            return
        deadline = int(time.time() * 1000) + 30_000
        self.reply(200, inv.event, {
            "Lambda-Runtime-Aws-Request-Id": inv.request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline),
            "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:bench",
            "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000;Sampled=0",
        })

    def do_POST(self) -> None:
        inv = self.server.invocation
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if inv is not None and self.path.endswith(f"/invocation/{inv.request_id}/response"):
            inv.answered = time.perf_counter()
            inv.answer = body
            self.reply(202, b'{"status":"OK"}')
            inv.done.set()
            return
        # An init or invocation error ends the run too; main() reports it.
        if inv is not None and self.path.endswith("/error"):
            inv.answer = b"runtime error: " + body
            self.reply(202, b'{"status":"OK"}')
            inv.done.set()
            return
        self.reply(404)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    invocation: Invocation

    def handle_error(self, request, client_address) -> None:
        # A killed runtime drops its held `next` poll: expected at the end of every run.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def first_lambda_answer(argv: list[str], event: bytes, env: dict[str, str]) -> tuple[float, float]:
    """Seconds from exec to the first `next` poll (INIT) and to the first invocation's response."""
    inv = Invocation(event)
    # A Runtime API of its own for each run: the previous runtime's last `next` poll may still be in
    # flight, and must not take this run's event.
    server = QuietServer(("127.0.0.1", 0), RuntimeApi)
    server.invocation = inv
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api = f"127.0.0.1:{server.server_address[1]}"
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env={**env, "AWS_LAMBDA_RUNTIME_API": api},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        if not inv.done.wait(TIMEOUT) or inv.answered is None:
            proc.kill()
            err = proc.communicate()[1].decode(errors="replace")[-2000:]
            sys.exit(f"{argv[0]} gave no invocation response: {inv.answer[:300]!r}\n{err}")
        if not json.loads(inv.answer).get("statusCode") == 200:
            sys.exit(f"{argv[0]} answered {inv.answer[:300]!r}")
        return inv.first_next - start, inv.answered - start
    finally:
        proc.kill()
        proc.wait()
        inv.done.set()
        server.shutdown()
        server.server_close()


def start_moto() -> tuple[subprocess.Popen, str]:
    exe = shutil.which("moto_server") or str(ROOT / ".venv/bin/moto_server")
    if not Path(exe).exists():
        sys.exit("--store moto needs moto_server on PATH (scripts/test installs it into .venv)")
    port = free_port()
    proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    sys.exit("moto_server did not start")


def moto_env(url: str) -> dict[str, str]:
    """A table and a secret on moto, and the environment that points snowgate at them."""
    import boto3  # in bench/requirements.txt and in the test venv

    aws = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": url}
    kw = {"endpoint_url": url, "region_name": "us-east-1", "aws_access_key_id": "testing",
          "aws_secret_access_key": "testing"}
    ddb = boto3.client("dynamodb", **kw)
    ddb.create_table(TableName="snowgate-bench", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in ("pk", "sk")],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}])
    boto3.client("secretsmanager", **kw).create_secret(Name="snowgate-bench", SecretString=json.dumps(
        {"jwt_secret": JWT_SECRET, "demo_user": "bench", "demo_password": "a bench password"}))
    return {**aws, "SNOWGATE_TABLE": "snowgate-bench", "SNOWGATE_SECRET_ID": "snowgate-bench"}


def report(times: dict[str, list[tuple[float, float]]], lambda_mode: bool) -> None:
    parts = [("first answer", 1)] + ([("INIT (exec to first next)", 0)] if lambda_mode else [])
    for label, i in parts:
        print(f"{label}:")
        for name, ts in times.items():
            ms = [t[i] * 1000 for t in ts]
            print(f"  {name:>8}: median {statistics.median(ms):.2f} ms "
                  f"(min {min(ms):.2f}, max {max(ms):.2f})")
        a, b = times.values()
        ratios = [x[i] / y[i] for x, y in zip(a, b)]
        print(f"     ratio: median {statistics.median(ratios):.2f}x "
              f"(min {min(ratios):.2f}, max {max(ratios):.2f})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--mode", choices=("http", "lambda"), default="http")
    p.add_argument("--store", choices=("memory", "moto"), default="memory")
    p.add_argument("--event", default="events/heartbeat.json",
                   help="the API Gateway v2 event of the first invocation (lambda mode)")
    p.add_argument("--target-dir", default=str(ROOT / "target/release"))
    args = p.parse_args()
    lambda_mode = args.mode == "lambda"
    target = Path(args.target_dir)
    snowgate = target / "snowgate"
    hello = target / "examples" / ("hello_lambda" if lambda_mode else "hello")
    for binary in (snowgate, hello):
        if not binary.is_file():
            sys.exit(f"{binary} is missing: cargo build --release --bin snowgate; "
                     "cargo build --release --example hello --example hello_lambda")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SNOWGATE_", "AWS_"))}
    # A password of its own: the built-in one stops a start in Lambda (the hardening the bench keeps).
    env.update({"SNOWGATE_STORE": "memory", "RUST_LOG": "info", "JWT_SECRET": JWT_SECRET,
                "AUTH_DEMO_PASSWORD": "a bench password"})
    moto = None
    snowgate_env = dict(env)
    if args.store == "moto":
        moto, url = start_moto()
        snowgate_env.update(moto_env(url))
    try:
        times = run(args, lambda_mode, snowgate, hello, env, snowgate_env)
    finally:
        if moto is not None:
            moto.kill()
            moto.wait()
    print(f"mode {args.mode}, store {args.store}, {args.runs} runs, each pair taken in turn")
    report(times, lambda_mode)


def run(args, lambda_mode: bool, snowgate: Path, hello: Path, env: dict[str, str],
        snowgate_env: dict[str, str]) -> dict[str, list[tuple[float, float]]]:
    times: dict[str, list[tuple[float, float]]] = {"snowgate": [], "hello": []}
    if not lambda_mode:
        for _ in range(args.runs):
            port = free_port()
            times["snowgate"].append(first_http_answer(
                [str(snowgate), "serve"], port, {**snowgate_env, "SNOWGATE_LISTEN": f"127.0.0.1:{port}"}))
            port = free_port()
            times["hello"].append(first_http_answer([str(hello), str(port)], port, env))
        return times
    event = (ROOT / args.event).read_bytes()
    # What the Lambda service sets for every function; lambda_runtime requires the first three.
    lambda_env = {"AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
                  "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench",
                  "AWS_LAMBDA_LOG_STREAM_NAME": "bench", "LAMBDA_TASK_ROOT": str(ROOT)}
    for _ in range(args.runs):
        times["snowgate"].append(first_lambda_answer(
            [str(snowgate)], event, {**snowgate_env, **lambda_env}))
        times["hello"].append(first_lambda_answer([str(hello)], event, {**env, **lambda_env}))
    return times


if __name__ == "__main__":
    main()
