//! Serving the router over plain HTTP outside Lambda (`snowgate serve`). The accept loop is our own
//! (hyper's HTTP/1 connection builder) so that a slow or silent client cannot hold the server: every
//! phase of a connection has a deadline and the number of open connections is capped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulConnection, GracefulShutdown};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_io_timeout::TimeoutStream;
use tower::ServiceBuilder;
use tower_http::timeout::RequestBodyDeadlineLayer;

use crate::http::WireLimits;
use crate::http::extract::ClientIp;

/// Deadlines and caps of the local front door; defaults are far above what any driver needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// The request line and headers must arrive within this, counted from when the connection starts
    /// waiting for a request, so it also closes keep-alive connections left idle that long.
    pub header_timeout: Duration,
    /// The whole body of a request must arrive within this.
    pub body_timeout: Duration,
    /// A connection on which nothing is received or sent for this long is closed.
    pub idle_timeout: Duration,
    /// Connections open at once; further ones wait in the listen backlog until one closes.
    pub max_connections: usize,
    pub wire: WireLimits,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(120),
            max_connections: 512,
            wire: WireLimits::default(),
        }
    }
}

/// hyper's own read buffer: above the limits the router answers with an envelope, so that only
/// requests far past them meet hyper's plain-text refusal.
fn hyper_buffer(wire: &WireLimits) -> usize {
    (wire.max_uri_bytes + wire.max_header_bytes + 4096).max(8192)
}

/// Binds `addr`; the error names the address (a busy port is the usual cause).
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))
}

/// Serves `app` on `addr` until Ctrl-C or SIGTERM.
pub async fn serve(app: Router, addr: SocketAddr, limits: ServerLimits) -> std::io::Result<()> {
    let listener = bind(addr).await?;
    serve_on(listener, app, limits, shutdown()).await
}

/// Serves `app` on an already bound listener until `stop` completes, then lets open requests finish.
pub async fn serve_on(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    tracing::info!(listen = %listener.local_addr()?, "snowgate listening");
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        let next = async {
            // Waiting for a free slot first leaves excess clients in the kernel's backlog.
            let permit = Arc::clone(&slots).acquire_owned().await;
            (permit, listener.accept().await)
        };
        let (permit, accepted) = tokio::select! {
            () = &mut stop => break,
            next = next => next,
        };
        let Ok(permit) = permit else { break };
        match accepted {
            Ok((stream, peer)) => {
                let conn = connection(stream, peer, app.clone(), &limits);
                tokio::spawn(run_connection(graceful.watch(conn), permit));
            }
            // Out of file descriptors and the like: wait a little instead of spinning.
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

async fn run_connection<F: Future<Output = hyper::Result<()>>>(
    conn: F,
    _permit: OwnedSemaphorePermit,
) {
    // Timeouts, resets and malformed requests end here; none of them is the server's failure.
    if let Err(e) = conn.await {
        tracing::debug!(error = %e, "connection closed");
    }
}

/// One HTTP/1 connection with its deadlines; the client IP is the socket peer.
fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: &ServerLimits,
) -> impl GracefulConnection<Error = hyper::Error> + Send + 'static {
    let _ = stream.set_nodelay(true);
    let mut io = TimeoutStream::new(stream);
    io.set_read_timeout(Some(limits.idle_timeout));
    io.set_write_timeout(Some(limits.idle_timeout));
    let ip = peer.ip();
    let service = ServiceBuilder::new()
        .map_request(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ClientIp(Some(ip)));
            req
        })
        .layer(RequestBodyDeadlineLayer::new(limits.body_timeout))
        .service(app);
    hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(hyper_buffer(&limits.wire))
        // Enough for any header block under the byte limit, so that limit is the one that answers.
        .max_headers((limits.wire.max_header_bytes / 16).clamp(100, 1024))
        .serve_connection(
            TokioIo::new(Box::pin(io)),
            TowerToHyperService::new(service),
        )
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return ctrl_c.await.unwrap_or_default(),
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await.unwrap_or_default();
}
