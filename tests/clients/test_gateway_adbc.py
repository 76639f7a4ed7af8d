"""The engine gateway with a second driver: the Go driver (through adbc-driver-snowflake) logs in
through snowgate (password, key pair; a wrong password refused) and its SQL runs on a real fakesnow
server behind it. fakesnow's request log is the witness: one engine login per accepted snowgate
session, none for the refusal. (Node's snowflake-sdk cannot be the second driver here: fakesnow
answers statements in Arrow, which the Node driver does not read; Snowflake answers it in JSON.)"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

CLIENTS = Path(__file__).resolve().parent


def _load(name: str, path: Path):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


fakesnow_server = _load("fakesnow_server", CLIENTS.parent / "e2e" / "fakesnow_server.py")


@pytest.fixture
def engine(tmp_path):
    fakesnow = fakesnow_server.Fakesnow(tmp_path)
    fakesnow.start()
    yield fakesnow
    fakesnow.stop()


def test_go_driver_through_the_gateway(engine, tmp_path):
    # The matrix's server, key-pair user and recording proxy.
    from conftest import _matrix, venv_bin

    with _matrix(tmp_path, {"SNOWGATE_UPSTREAM_URL": engine.url}) as matrix:
        proc = matrix.run("adbc-driver-snowflake (Go) through the gateway",
                          [venv_bin("python", "python"), str(CLIENTS / "adbc_gateway_client.py")])
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "wrong password: 390100: ok" in proc.stdout
        # Two accepted sessions, each one engine session; the refused login never reached it.
        assert engine.logins() == 2, engine.log()[-3000:]
        assert engine.log().count('"POST /session?delete=true') >= 2, engine.log()[-3000:]
