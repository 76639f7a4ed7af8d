"""Session idle timeout with the real Python connector: a server whose sessions end after a few idle
seconds (SNOWGATE_SESSION_IDLE_SECONDS, the limit when no session policy governs the user). Without
keep-alive an idle connection's next query fails; with ``client_session_keep_alive=True`` the
driver's heartbeat (derived from ``masterValidityInSeconds``, the idle limit) keeps it alive."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import snowflake.connector.errors as sf_errors
from conftest import SnowgateServer, run_snowgate, session_token

IDLE_SECONDS = 6


@pytest.fixture(scope="module")
def idle_server(tmp_path_factory) -> Iterator[SnowgateServer]:
    with run_snowgate(
        tmp_path_factory.mktemp("snowgate-idle"),
        {"SNOWGATE_SESSION_IDLE_SECONDS": str(IDLE_SECONDS)},
    ) as server:
        yield server
        server.close_connections()


def test_login_reports_the_idle_limit_as_master_validity(idle_server):
    body = {
        "data": {
            "ACCOUNT_NAME": "acme",
            "LOGIN_NAME": idle_server.user,
            "PASSWORD": idle_server.password,
            "CLIENT_APP_ID": "PythonConnector",
        }
    }
    v = idle_server.post("/session/v1/login-request", body)
    assert v["success"] is True, v
    assert v["data"]["masterValidityInSeconds"] == IDLE_SECONDS


def test_an_idle_connection_must_log_in_again(idle_server):
    conn = idle_server.connect()
    assert conn.cursor().execute("select 1").fetchall() == [(1,)]
    token = session_token(conn)
    time.sleep(IDLE_SECONDS + 2)
    # The connector knows its master token's validity (the idle limit) has passed, so it does not
    # try to renew: it asks for a new login.
    with pytest.raises(sf_errors.ReauthenticationRequest) as err:
        conn.cursor().execute("select 1")
    assert err.value.errno == 250001
    assert err.value.sqlstate == "08001"
    # On the wire: the session token is refused as expired (390112)...
    raw = idle_server.post("/queries/v1/query-request", {"sqlText": "select 1"}, token=token)
    assert (raw["success"], raw["code"]) == (False, "390112"), raw
    # ...and a new login works at once.
    again = idle_server.connect()
    assert again.cursor().execute("select current_user()").fetchall() == [
        (idle_server.user.upper(),)
    ]


def test_keep_alive_heartbeats_keep_the_session(idle_server):
    conn = idle_server.connect(client_session_keep_alive=True)
    session_id = conn.session_id
    time.sleep(3 * IDLE_SECONDS)
    rows = conn.cursor().execute("select current_session()").fetchall()
    assert rows == [(str(session_id),)]


def test_raw_renewal_of_an_idle_session_is_390114_and_ends_it(idle_server):
    body = {
        "data": {
            "ACCOUNT_NAME": "acme",
            "LOGIN_NAME": idle_server.user,
            "PASSWORD": idle_server.password,
        }
    }
    login = idle_server.post("/session/v1/login-request", body)["data"]
    time.sleep(IDLE_SECONDS + 1)
    renew = {"oldSessionToken": login["token"], "requestType": "RENEW"}
    v = idle_server.post("/session/token-request", renew, token=login["masterToken"])
    assert (v["success"], v["code"]) == (False, "390114"), v
    v = idle_server.post("/session/heartbeat", {}, token=login["token"])
    assert (v["success"], v["code"]) == (False, "390111"), v
