//! What the third-party JWT tests share: a key-set fetcher serving documents from a map, and the
//! key fixtures in `tests/fixtures/jwks/`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use snowgate::domain::jwks::{FetchError, JwksFetcher};

/// Serves documents from a map by URL (anything else is unreachable) and counts fetches. Each fetch
/// yields a few times first, as a network fetch would, so that concurrent callers overlap.
#[derive(Default)]
pub struct FakeFetcher {
    pub documents: Mutex<HashMap<String, String>>,
    pub fetches: AtomicUsize,
}

#[async_trait]
impl JwksFetcher for FakeFetcher {
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        let documents = self.documents.lock().unwrap();
        documents
            .get(url)
            .map(|d| d.clone().into_bytes())
            .ok_or(FetchError::Unreachable)
    }
}

/// A key fixture's text.
pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("tests/fixtures/jwks/{name}")).unwrap()
}

/// Base64url without padding, as JWKs and JWTs carry bytes.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}
