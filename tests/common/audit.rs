//! The `snowgate::audit` lines a test provokes, captured as the service writes them.

use std::sync::{Arc, Mutex};

use tracing_subscriber::layer::SubscriberExt;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

/// The audit lines logged while `f` runs (on this thread: tests run on a current-thread runtime).
pub async fn capture<F: Future<Output = ()>>(f: F) -> String {
    let out = Capture::default();
    let subscriber = tracing_subscriber::registry().with(snowgate::logging::layer(
        false,
        Some("snowgate::audit=info"),
        out.clone(),
    ));
    // tracing caches, per log line, whether any subscriber wants it. A line first reached on a
    // thread with no subscriber, while no test's is set, is cached as wanted by none, and that can
    // race with the subscriber another test sets at the same moment: its capture then comes back
    // empty. A do-nothing global subscriber wants every line, so the cache always defers to the
    // subscriber set here.
    static BASE: std::sync::Once = std::sync::Once::new();
    BASE.call_once(|| {
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry());
    });
    let _guard = tracing::subscriber::set_default(subscriber);
    f.await;
    String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
}
