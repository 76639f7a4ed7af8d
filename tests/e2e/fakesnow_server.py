"""A fakesnow server (``fakesnow[server]`` from PyPI, pinned in ``tests/requirements-fakesnow.txt``, in
``.venv-fakesnow``, which ``scripts/test`` creates) on a loopback port, with its request log in a file:
the engine the gateway tests put behind snowgate (``tests/e2e/test_gateway.py``, and the Node client
of ``tests/clients/test_gateway_node.py``)."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FAKESNOW = REPO_ROOT / ".venv-fakesnow" / "bin" / "fakesnow"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Fakesnow:
    """A fakesnow server on a loopback port, its output (uvicorn's access log) in a file."""

    def __init__(self, log_dir: Path):
        if not FAKESNOW.exists():
            pytest.fail(
                f"{FAKESNOW} is missing: ./scripts/test creates it from tests/requirements-fakesnow.txt",
                pytrace=False,
            )
        self.port = free_port()
        self.log_path = log_dir / "fakesnow.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(FAKESNOW), "-s", "-p", str(self.port), "--host", "127.0.0.1"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if "Uvicorn running" in self.log():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        pytest.fail(f"fakesnow did not start:\n{self.log()}", pytrace=False)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def logins(self) -> int:
        return self.log().count('"POST /session/v1/login-request')
