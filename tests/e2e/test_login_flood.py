"""A flood of wrong passwords against the real server: argon2 runs on a few dedicated threads with a
bounded queue, so memory stays bounded and everybody else keeps being served. The latency side of this
is measured in the load benchmark, not here; this test asserts what must always hold."""

import json
import threading
import urllib.error
import urllib.request
import uuid

from conftest import login_body

CLIENTS = 16
ATTEMPTS = 1000
MAX_RSS_MB = 96
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def raw_login(server, user: str, password: str) -> tuple[int, dict]:
    """(HTTP status, envelope) of one login; 429 ("busy, retry") is an answer too."""
    data = json.dumps(login_body(user, password)).encode()
    req = urllib.request.Request(
        f"{server.base_url}/session/v1/login-request?request_id={uuid.uuid4()}",
        data=data,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with _DIRECT.open(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


def test_a_wrong_password_flood_keeps_memory_bounded_and_others_served(server):
    conn = server.connect()
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        for i in range(ATTEMPTS // CLIENTS):
            # Distinct unknown names, so the lockout never short-cuts the hashing.
            status, body = raw_login(server, f"nobody_{n}_{i}", "wrong")
            with lock:
                answers.append((status, body.get("code")))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    # Meanwhile a logged-in client keeps working.
    heartbeats_ok = 0
    while any(t.is_alive() for t in threads):
        assert conn.cursor().execute("SELECT CURRENT_USER()").fetchone() == ("EMBUCKET",)
        heartbeats_ok += 1
    for t in threads:
        t.join()

    assert len(answers) == (ATTEMPTS // CLIENTS) * CLIENTS
    allowed = {(200, "390100"), (429, "390503")}
    assert set(answers) <= allowed, set(answers) - allowed
    assert sum(1 for a in answers if a == (200, "390100")) > 0
    assert heartbeats_ok > 0
    rss = peak_rss_mb(server.proc.pid)
    assert rss < MAX_RSS_MB, f"peak RSS {rss:.1f} MB after {ATTEMPTS} wrong passwords"
    # And the right password still works afterwards.
    status, body = raw_login(server, "embucket", "embucket")
    assert (status, body["success"]) == (200, True), body
