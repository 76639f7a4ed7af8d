//! The local front door over real sockets: silent, trickling and slow clients are dropped after their
//! deadline, excess connections wait for a slot, over-long request lines and headers get the Snowflake
//! envelope, and a normal login still works afterwards. Deadlines are short here (1–2 s); the tests
//! wait for the server to act, they never measure how fast it does.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{TestApp, login_body};
use serde_json::Value;
use snowgate::entrypoints::local::{ServerLimits, bind, serve_on};
use snowgate::http::WireLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Far above every deadline below: only reached if the server never acts, so a test fails, not hangs.
const GIVE_UP: Duration = Duration::from_secs(60);

fn limits(max_connections: usize) -> ServerLimits {
    ServerLimits {
        header_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(2),
        max_connections,
        wire: WireLimits::default(),
    }
}

async fn start(limits: ServerLimits) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = TestApp::new().router;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve_on(listener, app, limits, async {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// Reads until the server closes the connection (or resets it); returns what it sent.
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let read = tokio::time::timeout(GIVE_UP, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server never closed the connection");
    out
}

fn raw_request(path: &str, extra_headers: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
         connection: close\r\ncontent-length: {}\r\n{extra_headers}\r\n{body}",
        body.len()
    )
}

/// Sends one request on a new connection and parses the answer: status and JSON body.
async fn exchange(addr: SocketAddr, request: &str) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    parse_response(&read_to_close(&mut stream).await)
}

fn parse_response(raw: &[u8]) -> (u16, Value) {
    let text = String::from_utf8_lossy(raw);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    let json = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body:?}"));
    (status, json)
}

async fn login(addr: SocketAddr) -> Value {
    let body = login_body("embucket", "embucket").to_string();
    let (status, v) = exchange(
        addr,
        &raw_request("/session/v1/login-request?request_id=r1", "", &body),
    )
    .await;
    assert_eq!(status, 200);
    v
}

#[tokio::test]
async fn silent_connections_are_dropped_and_the_server_still_answers() {
    let (addr, _stop) = start(limits(50)).await;
    // Twice as many clients as slots connect and never send a byte: the server holds at most 50,
    // the rest wait in the backlog, and every one is dropped in turn.
    let mut silent = Vec::new();
    for _ in 0..100 {
        silent.push(TcpStream::connect(addr).await.unwrap());
    }
    // A real client queued behind them is served once they are dropped.
    let waiting = tokio::spawn(login(addr));
    for stream in &mut silent {
        let sent = read_to_close(stream).await;
        assert!(
            sent.is_empty() || sent.starts_with(b"HTTP/1.1 408"),
            "{sent:?}"
        );
    }
    let v = tokio::time::timeout(GIVE_UP, waiting)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v["success"], true, "{v}");
}

#[tokio::test]
async fn a_header_trickle_is_cut_off() {
    let (addr, _stop) = start(limits(16)).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /session/v1/login-request HTTP/1.1\r\n")
        .await
        .unwrap();
    let (mut reader, mut writer) = stream.into_split();
    // One header byte every 100 ms, for far longer than the header deadline, until the server hangs up.
    let trickle = tokio::spawn(async move {
        for _ in 0..600 {
            if writer.write_all(b"x").await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    });
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(GIVE_UP, reader.read_to_end(&mut buf)).await;
    assert!(!buf.starts_with(b"HTTP/1.1 200"), "{buf:?}");
    trickle.abort();
    assert_eq!(login(addr).await["success"], true);
}

#[tokio::test]
async fn a_stalled_body_is_refused_with_an_envelope() {
    let (addr, _stop) = start(limits(16)).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // Promise 1000 bytes, send 10, then nothing.
    stream
        .write_all(
            b"POST /session/v1/login-request HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
              content-length: 1000\r\n\r\n{\"data\": {",
        )
        .await
        .unwrap();
    let raw = read_to_close(&mut stream).await;
    let (status, v) = parse_response(&raw);
    assert_eq!(status, 200);
    let message = common::assert_failure(&v, "390400");
    assert!(message.contains("not received in time"), "{message}");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let (addr, _stop) = start(limits(16)).await;
    let body = login_body("embucket", "embucket").to_string();
    let request = format!(
        "POST /session/v1/login-request HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    // The response arrives, the connection stays open for another request, then is closed when idle.
    let raw = read_to_close(&mut stream).await;
    assert!(raw.starts_with(b"HTTP/1.1 200"), "{raw:?}");
}

#[tokio::test]
async fn over_long_request_line_and_headers_get_the_envelope() {
    let (addr, _stop) = start(limits(16)).await;
    let long_path = format!("/session/v1/login-request?request_id={}", "a".repeat(9000));
    let (status, v) = exchange(addr, &raw_request(&long_path, "", "{}")).await;
    assert_eq!(status, 414);
    assert!(common::assert_failure(&v, "390400").contains("8192"));

    let big = format!("x-filler: {}\r\n", "b".repeat(17_000));
    let (status, v) = exchange(addr, &raw_request("/session/v1/login-request", &big, "{}")).await;
    assert_eq!(status, 431);
    assert!(common::assert_failure(&v, "390400").contains("16384"));

    // Many small headers count together.
    let many: String = (0..200)
        .map(|i| format!("x-h{i}: {}\r\n", "c".repeat(100)))
        .collect();
    let (status, _) = exchange(addr, &raw_request("/session/v1/login-request", &many, "{}")).await;
    assert_eq!(status, 431);
    assert_eq!(login(addr).await["success"], true);
}

#[tokio::test]
async fn a_busy_address_is_named() {
    let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = taken.local_addr().unwrap();
    let err = bind(addr).await.expect_err("the port is taken");
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
}

#[tokio::test]
async fn stops_when_asked() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_on(
        listener,
        TestApp::new().router,
        limits(4),
        async {
            let _ = stopped.await;
        },
    ));
    assert_eq!(login(addr).await["success"], true);
    stop.send(()).unwrap();
    let result = tokio::time::timeout(GIVE_UP, server)
        .await
        .unwrap()
        .unwrap();
    assert!(result.is_ok());
    assert!(TcpStream::connect(addr).await.is_err());
}

/// Reads one response from a keep-alive connection: the status and the JSON body (by Content-Length).
async fn read_response(stream: &mut TcpStream) -> (u16, Value) {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(GIVE_UP, stream.read(&mut byte))
            .await
            .expect("response in time")
            .expect("connection still open");
        assert_eq!(n, 1, "the server closed a keep-alive connection");
        raw.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&raw).to_ascii_lowercase();
    let status: u16 = head[9..12].parse().unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map(|v| v.trim().parse().unwrap())
        .unwrap();
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.unwrap();
    (status, serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn routes_that_ignore_their_body_keep_the_connection_alive() {
    let (addr, _stop) = start(limits(8)).await;
    let token = login(addr).await["data"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let auth = format!("authorization: Snowflake Token=\"{token}\"\r\n");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // Heartbeats and telemetry with a body (as drivers send them), many on one connection.
    for (path, body) in [
        ("/session/heartbeat", "{}"),
        ("/telemetry/send", "{\"logs\":[]}"),
    ]
    .iter()
    .cycle()
    .take(8)
    {
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
             content-length: {}\r\n{auth}\r\n",
            body.len()
        );
        // Headers and body in separate packets, as Python's http.client sends them: the server
        // answers before the body arrives, and must still read it.
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        stream.write_all(body.as_bytes()).await.unwrap();
        let (status, v) = read_response(&mut stream).await;
        assert_eq!(
            (status, &v["success"]),
            (200, &Value::Bool(true)),
            "{path}: {v}"
        );
    }
}
