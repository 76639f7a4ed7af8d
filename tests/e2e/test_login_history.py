"""Login history through the real snowflake-connector-python: rows come back with a datetime
EVENT_TIMESTAMP, YES/NO success flags and the Snowflake error codes of failed logins.

Every test uses a user of its own, so the DynamoDB table's other logins do not matter. The module
has a server of its own: each instance writes at most a few refusals per client address and minute
to the history (snowgate::domain::refusals), and other modules' floods from 127.0.0.1 on the shared
server would use that budget up.
"""

from __future__ import annotations

import datetime

import pytest
from snowflake.connector.errors import DatabaseError, ProgrammingError

from conftest import rows, run_snowgate, unique

BY_USER = "SELECT * FROM TABLE(INFORMATION_SCHEMA.LOGIN_HISTORY_BY_USER())"
PASSWORD = "hist-Pw-12345"


@pytest.fixture(scope="module")
def history_server(tmp_path_factory):
    with run_snowgate(tmp_path_factory.mktemp("snowgate-history")) as server:
        yield server


@pytest.fixture
def server(history_server):
    """This module's server, with this test's connections closed after it."""
    yield history_server
    history_server.close_connections()


def new_user(server) -> str:
    name = unique("hist").upper().replace("-", "_")
    admin = server.connect()
    rows(admin, f"CREATE USER {name} PASSWORD = '{PASSWORD}'")
    return name


def test_failed_and_successful_logins_come_back_as_rows(server):
    name = new_user(server)
    with pytest.raises(DatabaseError) as info:
        server.connect(user=name, password="wrong-Pw-98765")
    assert info.value.errno == 390100
    conn = server.connect(user=name, password=PASSWORD)

    cur = conn.cursor()
    cur.execute(BY_USER)
    columns = [d[0] for d in cur.description]
    history = [dict(zip(columns, row)) for row in cur.fetchall()]
    cur.close()

    assert columns[:4] == ["EVENT_ID", "EVENT_TIMESTAMP", "EVENT_TYPE", "USER_NAME"]
    assert [r["IS_SUCCESS"] for r in history] == ["YES", "NO"]
    assert [r["ERROR_CODE"] for r in history] == [None, 390100]
    assert history[1]["ERROR_MESSAGE"] == "Incorrect username or password was specified."
    for r in history:
        assert isinstance(r["EVENT_TIMESTAMP"], datetime.datetime)
        assert r["EVENT_TIMESTAMP"].tzinfo is not None
        assert isinstance(r["EVENT_ID"], int) and 0 < r["EVENT_ID"] < 2**53
        assert r["USER_NAME"] == name
        assert r["EVENT_TYPE"] == "LOGIN"
        assert r["REPORTED_CLIENT_TYPE"] == "PYTHON_DRIVER"
        assert r["FIRST_AUTHENTICATION_FACTOR"] == "PASSWORD"
        assert r["SECOND_AUTHENTICATION_FACTOR"] is None
        assert r["CLIENT_IP"] == "127.0.0.1"
    # Newest first, and made just now (the server's clock is this machine's).
    assert history[0]["EVENT_TIMESTAMP"] >= history[1]["EVENT_TIMESTAMP"]
    age = datetime.datetime.now(datetime.timezone.utc) - history[0]["EVENT_TIMESTAMP"]
    assert abs(age) < datetime.timedelta(minutes=10)
    # No password in any column.
    assert "wrong-Pw-98765" not in repr(history) and PASSWORD not in repr(history)


def test_administrators_filter_everyones_history(server):
    name = new_user(server)
    for _ in range(2):
        with pytest.raises(DatabaseError):
            server.connect(user=name, password="nope-nope-1")
    admin = server.connect()
    failures = rows(
        admin,
        "select user_name, is_success, error_code from table(information_schema.login_history("
        "time_range_start => dateadd('hours', -1, current_timestamp()), result_limit => 10000)) "
        f"where user_name = '{name}' and is_success = 'NO' order by event_timestamp asc limit 5",
    )
    assert failures == [(name, "NO", 390100), (name, "NO", 390100)]


def test_another_users_history_is_refused_and_bad_arguments_are_clear(server):
    name = new_user(server)
    conn = server.connect(user=name, password=PASSWORD)
    with pytest.raises(ProgrammingError) as info:
        rows(conn, "SELECT * FROM TABLE(INFORMATION_SCHEMA.LOGIN_HISTORY_BY_USER(USER_NAME => 'EMBUCKET'))")
    assert info.value.errno == 3001
    with pytest.raises(ProgrammingError) as info:
        rows(conn, "SELECT * FROM TABLE(INFORMATION_SCHEMA.LOGIN_HISTORY_BY_USER(RESULT_LIMIT => 100000))")
    assert info.value.errno == 2029
    with pytest.raises(ProgrammingError) as info:
        rows(conn, "SELECT COUNT(*) FROM TABLE(INFORMATION_SCHEMA.LOGIN_HISTORY_BY_USER())")
    assert info.value.errno == 2
