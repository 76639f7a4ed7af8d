"""moto_server for the tests (scripts/test), with DynamoDB's requests answered one at a time.

DynamoDB applies each write to an item atomically: of twenty concurrent `UpdateItem ... ADD` calls
on one counter, each returns a different count. moto's server answers requests on threads and its
DynamoDB backend holds no lock, so two concurrent updates can read the same item and both return
the same count (seen in 6 of 30 rounds of twenty; the lockout test then saw a user locked twice).
Answering DynamoDB's requests one at a time gives back the atomicity snowgate relies on. moto runs
under Python's global interpreter lock, so this costs the tests little. Every other service
(Secrets Manager, STS) is served as moto serves it.

    python tests/moto_server.py -H 127.0.0.1 -p 5055
"""

from __future__ import annotations

import argparse
import os
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

DYNAMODB_TARGET = "DynamoDB_"


class OneDynamoDbRequestAtATime:
    def __init__(self, app) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith(DYNAMODB_TARGET):
            return self.app(environ, start_response)
        with self.lock:
            # The body is produced inside the lock too: moto builds it before returning, but a
            # lazy iterable would otherwise escape the lock.
            return list(self.app(environ, start_response))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    # As moto_server does: some answers name the server's own address.
    os.environ.setdefault("MOTO_PORT", str(args.port))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, OneDynamoDbRequestAtATime(app), threaded=True,
               request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
