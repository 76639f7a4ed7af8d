#!/usr/bin/env python3
"""Regenerates the API Gateway event files in this directory: HTTP API (payload format 2.0) events,
one REST API (payload format 1.0) event of a named stage, and the three authorizer events (HTTP API
REQUEST, REST API REQUEST and TOKEN) snowgate answers as an API Gateway Lambda authorizer.

Standard library only, and deterministic: the same arguments always write the same bytes (fixed ids
and times, gzip mtime 0), so a regeneration with the defaults leaves `git diff` empty.

    python3 events/make_events.py                                  # the committed files
    python3 events/make_events.py --password 'deployed-pass'       # login events for a deployed stack
    python3 events/make_events.py --session-token "$ST" --master-token "$MT"   # token-bearing events

The login body is gzipped and base64-encoded (isBase64Encoded: true) exactly as
snowflake-connector-python 5.2.0 sends it; the other events carry plain JSON so they can be edited
by hand.
"""

import argparse
import base64
import gzip
import json
from pathlib import Path
from urllib.parse import parse_qsl

HERE = Path(__file__).resolve().parent

API_ID = "abcdef1234"
DOMAIN = f"{API_ID}.execute-api.us-east-1.amazonaws.com"
SOURCE_IP = "203.0.113.10"  # TEST-NET-3: never a real client
TIME = "22/Nov/2025:20:00:00 +0000"
TIME_EPOCH_MS = 1763841600000

PYTHON_UA = "PythonConnector/5.2.0 (Linux-6.1.0-28-cloud-amd64-x86_64-with-glibc2.36) CPython/3.11.7"
# Bodies here are plain JSON (no Content-Encoding), like the Go driver's requests.
GO_UA = "Go/1.13.2 (linux-amd64) go1.23.4"

PLACEHOLDER_SESSION = "REPLACE_WITH_SESSION_TOKEN"
PLACEHOLDER_MASTER = "REPLACE_WITH_MASTER_TOKEN"


def gzip_bytes(data: bytes) -> bytes:
    # mtime=0 keeps the gzip header, and so the base64 text, identical on every run.
    return gzip.compress(data, compresslevel=9, mtime=0)


def event(n, method, path, query, headers, body=None, gzipped=False, ua=PYTHON_UA):
    """One HTTP API v2 event. `n` numbers the request ids so every file differs."""
    headers = {
        "accept-encoding": "gzip, deflate",
        "host": DOMAIN,
        "user-agent": ua,
        "x-amzn-trace-id": f"Root=1-69221600-{n:024x}",
        "x-forwarded-for": SOURCE_IP,
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
        **headers,
    }
    ev = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {},
    }
    if query:
        # API Gateway joins repeated keys with commas; none repeat here.
        ev["queryStringParameters"] = dict(parse_qsl(query, keep_blank_values=True))
    ev["requestContext"] = {
        "accountId": "123456789012",
        "apiId": API_ID,
        "domainName": DOMAIN,
        "domainPrefix": API_ID,
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": SOURCE_IP,
            "userAgent": ua,
        },
        "requestId": f"Ab1Cd2Ef3Gh4I{n:02d}=",
        "routeKey": "$default",
        "stage": "$default",
        "time": TIME,
        "timeEpoch": TIME_EPOCH_MS + n,
    }
    if body is None:
        headers["content-length"] = "0"
        ev["isBase64Encoded"] = False
    else:
        raw = json.dumps(body).encode()
        if gzipped:
            raw = gzip_bytes(raw)
            headers["content-encoding"] = "gzip"
            ev["body"] = base64.b64encode(raw).decode()
            ev["isBase64Encoded"] = True
        else:
            ev["body"] = raw.decode()
            ev["isBase64Encoded"] = False
        headers["content-length"] = str(len(raw))
    # API Gateway lower-cases header names; sorted for stable diffs.
    ev["headers"] = dict(sorted(headers.items()))
    return ev


def rest_event(n, method, path, query, headers, body, stage="prod", ua=PYTHON_UA):
    """One REST API (v1) event of `stage`: `path` is the resource path (no stage);
    `requestContext.path` has the stage in front, as API Gateway sends it. Plain JSON body."""
    headers = {
        "Accept-Encoding": "gzip, deflate",
        "Host": DOMAIN,
        "User-Agent": ua,
        "X-Amzn-Trace-Id": f"Root=1-69221600-{n:024x}",
        "X-Forwarded-For": SOURCE_IP,
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        **headers,
    }
    raw = json.dumps(body)
    headers["Content-Length"] = str(len(raw.encode()))
    headers = dict(sorted(headers.items()))
    params = dict(parse_qsl(query, keep_blank_values=True)) or None
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": params,
        "multiValueQueryStringParameters": params and {k: [v] for k, v in params.items()},
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": API_ID,
            "domainName": DOMAIN,
            "domainPrefix": API_ID,
            "extendedRequestId": f"Ab1Cd2Ef3Gh4J{n:02d}=",
            "httpMethod": method,
            "identity": {"sourceIp": SOURCE_IP, "userAgent": ua},
            "path": f"/{stage}{path}",
            "protocol": "HTTP/1.1",
            "requestId": f"00000000-0000-4000-8000-{n:012d}",
            "requestTime": TIME,
            "requestTimeEpoch": TIME_EPOCH_MS + n,
            "resourceId": "abc123",
            "resourcePath": "/{proxy+}",
            "stage": stage,
        },
        "body": raw,
        "isBase64Encoded": False,
    }


APP_PATH = "/app/hello"  # a route of the example backend that snowgate guards as authorizer


def http_api_authorizer(n, headers):
    """An HTTP API REQUEST authorizer event, payload format 2.0, for GET APP_PATH: a proxied request's
    fields without a body, plus `type`, `routeArn` and `identitySource`."""
    ev = event(n, "GET", APP_PATH, "", headers, ua=GO_UA)
    del ev["isBase64Encoded"]
    del ev["headers"]["content-length"]
    route = "ANY /app/{proxy+}"
    ev["requestContext"]["routeKey"] = route
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": f"arn:aws:execute-api:us-east-1:123456789012:{API_ID}/$default/GET{APP_PATH}",
        "identitySource": [headers["authorization"]],
        "routeKey": route,
        **{k: v for k, v in ev.items() if k not in ("version", "routeKey")},
        "pathParameters": {"proxy": APP_PATH.removeprefix("/app/")},
    }


def method_arn(stage="prod"):
    return f"arn:aws:execute-api:us-east-1:123456789012:{API_ID}/{stage}/GET{APP_PATH}"


def rest_request_authorizer(n, headers, stage="prod"):
    """A REST API REQUEST authorizer event for GET APP_PATH of `stage`."""
    headers = dict(sorted({
        "Accept-Encoding": "gzip, deflate",
        "Host": DOMAIN,
        "User-Agent": GO_UA,
        "X-Amzn-Trace-Id": f"Root=1-69221600-{n:024x}",
        "X-Forwarded-For": SOURCE_IP,
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        **headers,
    }.items()))
    return {
        "type": "REQUEST",
        "methodArn": method_arn(stage),
        "resource": "/app/{proxy+}",
        "path": APP_PATH,
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {},
        "multiValueQueryStringParameters": {},
        "pathParameters": {"proxy": APP_PATH.removeprefix("/app/")},
        "stageVariables": {},
        "requestContext": {
            "path": f"/{stage}{APP_PATH}",
            "accountId": "123456789012",
            "resourceId": "abc123",
            "stage": stage,
            "requestId": f"00000000-0000-4000-8000-{n:012d}",
            "identity": {"sourceIp": SOURCE_IP, "userAgent": GO_UA},
            "resourcePath": "/app/{proxy+}",
            "httpMethod": "GET",
            "apiId": API_ID,
            "domainName": DOMAIN,
        },
    }


def login_body(account, user, password):
    return {
        "data": {
            "CLIENT_APP_ID": "PythonConnector",
            "CLIENT_APP_VERSION": "5.2.0",
            "SVN_REVISION": None,
            "ACCOUNT_NAME": account,
            "LOGIN_NAME": user,
            "PASSWORD": password,
            "CLIENT_ENVIRONMENT": {
                "APPLICATION": "PythonConnector",
                "OS": "Linux",
                "OS_VERSION": "Linux-6.1.0-28-cloud-amd64-x86_64-with-glibc2.36",
                "PYTHON_VERSION": "3.11.7",
                "PYTHON_RUNTIME": "CPython",
                "PYTHON_COMPILER": "GCC 12.2.0",
                "OCSP_MODE": "FAIL_OPEN",
                "TRACING": 30,
                "LOGIN_TIMEOUT": None,
                "NETWORK_TIMEOUT": None,
                "SOCKET_TIMEOUT": None,
            },
            "EXT_AUTHN_DUO_METHOD": "push",
            "SESSION_PARAMETERS": {"CLIENT_SESSION_KEEP_ALIVE": False},
        }
    }


def token_header(token):
    return f'Snowflake Token="{token}"'


def build(args):
    st, mt = args.session_token, args.master_token
    json_headers = {"content-type": "application/json", "accept": "application/snowflake"}
    return {
        "login-password.json": event(
            1, "POST", "/session/v1/login-request",
            "request_id=8c6f0d4e-2b1a-4c3d-9e8f-0a1b2c3d4e01&databaseName=analytics&warehouse=wh",
            {**json_headers, "authorization": token_header("None")},
            login_body(args.account, args.user, args.password), gzipped=True,
        ),
        "login-wrong-password.json": event(
            2, "POST", "/session/v1/login-request",
            "requestId=8c6f0d4e-2b1a-4c3d-9e8f-0a1b2c3d4e02",
            json_headers,
            login_body(args.account, args.user, "not-the-password"), ua=GO_UA,
        ),
        "query-current.json": event(
            3, "POST", "/queries/v1/query-request",
            "requestId=8c6f0d4e-2b1a-4c3d-9e8f-0a1b2c3d4e03",
            {**json_headers, "authorization": token_header(st)},
            {"sqlText": "select current_user(), current_role()", "asyncExec": False, "sequenceId": 1},
            ua=GO_UA,
        ),
        "token-request.json": event(
            4, "POST", "/session/token-request",
            "requestId=8c6f0d4e-2b1a-4c3d-9e8f-0a1b2c3d4e04",
            # Renewal authenticates with the master token; the body names the old session token.
            {**json_headers, "authorization": token_header(mt)},
            {"oldSessionToken": st, "requestType": "RENEW"}, ua=GO_UA,
        ),
        "heartbeat.json": event(
            5, "POST", "/session/heartbeat",
            "requestId=8c6f0d4e-2b1a-4c3d-9e8f-0a1b2c3d4e05",
            {"content-type": "application/json", "accept": "application/json",
             "authorization": token_header(st)},
            ua=GO_UA,
        ),
        "session-delete.json": event(
            6, "POST", "/session", "delete=true",
            {**json_headers, "authorization": token_header(st)},
            {}, ua=GO_UA,
        ),
        "telemetry.json": event(
            7, "POST", "/telemetry/send", "",
            {**json_headers, "authorization": token_header(st)},
            {"logs": [{"message": {"type": "client_time_consume_first_result",
                                   "source": "PythonConnector",
                                   "query_id": "01b2c3d4-0000-0000-0000-000000000001",
                                   "value": 12},
                       "timestamp": str(TIME_EPOCH_MS)}]},
            ua=GO_UA,
        ),
        "unknown-path.json": event(
            8, "POST", "/nope", "", json_headers, {}, ua=GO_UA,
        ),
        "login-password-rest-v1.json": rest_event(
            9, "POST", "/session/v1/login-request",
            "request_id=8c6f0d4e-2b1a-4c3d-9e8f-0a1b2c3d4e09&databaseName=analytics",
            {"Content-Type": "application/json", "Accept": "application/snowflake",
             "Authorization": token_header("None")},
            login_body(args.account, args.user, args.password),
        ),
        "authorizer-http-api.json": http_api_authorizer(
            10, {"accept": "application/json", "authorization": token_header(st)},
        ),
        "authorizer-rest-request.json": rest_request_authorizer(
            11, {"Accept": "application/json", "Authorization": token_header(st)},
        ),
        "authorizer-rest-token.json": {
            "type": "TOKEN",
            "authorizationToken": token_header(st),
            "methodArn": method_arn(),
        },
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--account", default="acme")
    p.add_argument("--user", default="embucket")
    p.add_argument("--password", default="embucket", help="for login-password.json")
    p.add_argument("--session-token", default=PLACEHOLDER_SESSION)
    p.add_argument("--master-token", default=PLACEHOLDER_MASTER)
    p.add_argument("--out-dir", type=Path, default=HERE)
    args = p.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, ev in build(args).items():
        (args.out_dir / name).write_text(json.dumps(ev, indent=2) + "\n")
        print(args.out_dir / name)


if __name__ == "__main__":
    main()
