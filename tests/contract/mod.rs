//! The store contract, written once.

use std::sync::Arc;

use snowgate::domain::session::{Session, SessionContext, new_session_id};
use snowgate::store::{SessionStore, StoreError};

const NOW: u64 = 1_800_000_000;

fn session(id: u64) -> Session {
    Session {
        id,
        user: "EMBUCKET".into(),
        account: "ACME".into(),
        context: SessionContext {
            database: Some("DB".into()),
            schema: Some("PUBLIC".into()),
            warehouse: None,
            role: Some("ACCOUNTADMIN".into()),
        },
        created_at: NOW,
        expires_at: NOW + 100,
        client_app: Some("PythonConnector".into()),
        user_id: "3f1c2d9e-user".into(),
        token_id: "token-one".into(),
        ..Session::default()
    }
}

pub async fn run(store: Arc<dyn SessionStore>) {
    let a = session(new_session_id());
    let b = Session {
        user: "OTHER".into(),
        context: SessionContext::default(),
        client_app: None,
        user_id: String::new(),
        ..session(new_session_id())
    };

    // Create, then read back exactly what was written.
    store.create(&a).await.unwrap();
    store.create(&b).await.unwrap();
    assert_eq!(store.get(a.id, NOW).await.unwrap(), Some(a.clone()));
    assert_eq!(store.get(b.id, NOW).await.unwrap(), Some(b.clone()));
    assert_eq!(store.get(new_session_id(), NOW).await.unwrap(), None);

    // Creation never overwrites.
    let clash = Session {
        user: "MALLORY".into(),
        ..a.clone()
    };
    assert!(matches!(
        store.create(&clash).await,
        Err(StoreError::AlreadyExists)
    ));
    assert_eq!(store.get(a.id, NOW).await.unwrap(), Some(a.clone()));

    // Context updates apply to live sessions only, and only to that session.
    let ctx = SessionContext {
        database: Some("Mixed".into()),
        schema: Some("RAW".into()),
        warehouse: Some("WH".into()),
        role: Some("ANALYST".into()),
    };
    assert!(store.update_context(a.id, &ctx, NOW + 1).await.unwrap());
    let got = store.get(a.id, NOW + 1).await.unwrap().unwrap();
    assert_eq!(got.context, ctx);
    assert_eq!(got.user, a.user);
    assert_eq!(got.expires_at, a.expires_at);
    assert_eq!(store.get(b.id, NOW).await.unwrap(), Some(b.clone()));
    let ghost = new_session_id();
    assert!(!store.update_context(ghost, &ctx, NOW).await.unwrap());
    assert_eq!(
        store.get(ghost, NOW).await.unwrap(),
        None,
        "an update must not create"
    );

    // Expiry: gone at expires_at, whatever the backend's TTL machinery does.
    assert_eq!(store.get(a.id, a.expires_at).await.unwrap(), None);
    assert!(
        !store
            .update_context(b.id, &ctx, b.expires_at + 5)
            .await
            .unwrap()
    );

    // Delete is idempotent and leaves other sessions alone.
    let c = session(new_session_id());
    store.create(&c).await.unwrap();
    store.delete(c.id).await.unwrap();
    assert_eq!(store.get(c.id, NOW).await.unwrap(), None);
    store.delete(c.id).await.unwrap();
    store.delete(new_session_id()).await.unwrap();
    assert!(!store.update_context(c.id, &ctx, NOW).await.unwrap());
    assert_eq!(store.get(b.id, NOW).await.unwrap(), Some(b));

    // A renewal moves the token id to previous_token_id, on live sessions only.
    let d = session(new_session_id());
    store.create(&d).await.unwrap();
    assert!(
        store
            .rotate_token(d.id, "token-two", NOW + 3)
            .await
            .unwrap()
    );
    let got = store.get(d.id, NOW + 3).await.unwrap().unwrap();
    assert_eq!(got.token_id, "token-two");
    assert_eq!(got.previous_token_id.as_deref(), Some("token-one"));
    assert_eq!(got.renewed_at, NOW + 3);
    assert_eq!(got.context, d.context, "a renewal keeps the context");
    assert!(!store.rotate_token(d.id, "t", d.expires_at).await.unwrap());
    assert!(
        !store
            .rotate_token(new_session_id(), "t", NOW)
            .await
            .unwrap()
    );
}

/// Failed-login counters: atomic, deduplicated by attempt, expiring, and cleared on demand.
pub async fn run_lockout(store: Arc<dyn snowgate::store::Store>) {
    let until = NOW + 900;
    assert_eq!(store.failures("ALICE", NOW).await.unwrap().count, 0);
    let (f, raised) = store
        .record_failure("ALICE", "req-1", NOW, until)
        .await
        .unwrap();
    assert_eq!((f.count, raised), (1, true));
    // A driver's retry of the same login counts once.
    let (f, raised) = store
        .record_failure("ALICE", "req-1", NOW, until)
        .await
        .unwrap();
    assert_eq!((f.count, raised), (1, false));
    let (f, _) = store
        .record_failure("ALICE", "req-2", NOW + 1, until + 1)
        .await
        .unwrap();
    assert_eq!(
        f,
        snowgate::store::Failures {
            count: 2,
            until: until + 1
        }
    );
    assert_eq!(store.failures("ALICE", NOW + 1).await.unwrap().count, 2);
    assert_eq!(
        store.failures("BOB", NOW).await.unwrap().count,
        0,
        "per name"
    );

    // Parallel attempts each count exactly once.
    let attempts = (0..20).map(|i| {
        let store = Arc::clone(&store);
        async move {
            store
                .record_failure("CAROL", &format!("p-{i}"), NOW, until)
                .await
                .unwrap()
        }
    });
    let results = futures_join_all(attempts).await;
    let mut counts: Vec<u32> = results.iter().map(|(f, _)| f.count).collect();
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=20).collect::<Vec<_>>(),
        "each attempt saw its own count"
    );
    assert_eq!(store.failures("CAROL", NOW).await.unwrap().count, 20);

    // Expired counts read as zero and start again at one.
    assert_eq!(store.failures("ALICE", until + 1).await.unwrap().count, 0);
    let (f, raised) = store
        .record_failure("ALICE", "req-3", until + 2, until + 900)
        .await
        .unwrap();
    assert_eq!((f.count, raised), (1, true));

    store.clear_failures("ALICE").await.unwrap();
    assert_eq!(store.failures("ALICE", until + 2).await.unwrap().count, 0);
    store.clear_failures("NOBODY").await.unwrap();
}

/// The session and its user in one read.
pub async fn run_session_and_object(store: Arc<dyn snowgate::store::Store>) {
    use snowgate::store::ObjectKind::User;
    let s = session(new_session_id());
    store.create(&s).await.unwrap();
    store
        .put_object(User, "EMBUCKET", r#"{"u":1}"#, false)
        .await
        .unwrap();
    // A user named like the session's sort key is still read as a user.
    store
        .put_object(User, "SESSION", r#"{"u":2}"#, false)
        .await
        .unwrap();
    let (got, doc) = store
        .session_and_object(s.id, NOW, User, "EMBUCKET")
        .await
        .unwrap();
    assert_eq!(got, Some(s.clone()));
    assert_eq!(doc.as_deref(), Some(r#"{"u":1}"#));
    let (got, doc) = store
        .session_and_object(s.id, NOW, User, "SESSION")
        .await
        .unwrap();
    assert_eq!(got, Some(s.clone()));
    assert_eq!(doc.as_deref(), Some(r#"{"u":2}"#));
    let (got, doc) = store
        .session_and_object(s.id, s.expires_at, User, "NOBODY")
        .await
        .unwrap();
    assert_eq!((got, doc), (None, None), "expired session, missing user");
}

/// Runs futures in parallel on the runtime and collects their outputs.
async fn futures_join_all<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
/// The directory half of the contract: documents by kind and name.
pub async fn run_directory(store: Arc<dyn snowgate::store::Store>) {
    use snowgate::store::ObjectKind::{NetworkPolicy, Role, User};

    assert_eq!(store.get_object(User, "ALICE").await.unwrap(), None);
    store
        .put_object(User, "ALICE", r#"{"v":1}"#, false)
        .await
        .unwrap();
    store
        .put_object(User, "BOB", r#"{"v":"b"}"#, false)
        .await
        .unwrap();
    // Kinds are separate namespaces.
    store
        .put_object(Role, "ALICE", r#"{"role":true}"#, false)
        .await
        .unwrap();
    assert_eq!(
        store.get_object(User, "ALICE").await.unwrap().as_deref(),
        Some(r#"{"v":1}"#)
    );
    assert_eq!(
        store.get_object(Role, "ALICE").await.unwrap().as_deref(),
        Some(r#"{"role":true}"#)
    );
    assert_eq!(
        store.get_object(NetworkPolicy, "ALICE").await.unwrap(),
        None
    );

    // Create never overwrites; replace does.
    assert!(matches!(
        store.put_object(User, "ALICE", r#"{"v":2}"#, false).await,
        Err(StoreError::AlreadyExists)
    ));
    assert_eq!(
        store.get_object(User, "ALICE").await.unwrap().as_deref(),
        Some(r#"{"v":1}"#)
    );
    store
        .put_object(User, "ALICE", r#"{"v":3}"#, true)
        .await
        .unwrap();
    assert_eq!(
        store.get_object(User, "ALICE").await.unwrap().as_deref(),
        Some(r#"{"v":3}"#)
    );

    // Update only touches existing objects.
    assert!(
        store
            .update_object(User, "ALICE", r#"{"v":4}"#)
            .await
            .unwrap()
    );
    assert!(
        !store
            .update_object(User, "NOBODY", r#"{"v":5}"#)
            .await
            .unwrap()
    );
    assert_eq!(store.get_object(User, "NOBODY").await.unwrap(), None);

    // Names keep their case: a quoted name is a different object.
    store
        .put_object(User, "alice", r#"{"quoted":true}"#, false)
        .await
        .unwrap();
    assert_eq!(
        store.get_object(User, "ALICE").await.unwrap().as_deref(),
        Some(r#"{"v":4}"#)
    );

    // Listing: every document of the kind, in name order (byte order: upper case first).
    assert_eq!(
        store.list_objects(User).await.unwrap(),
        vec![
            r#"{"v":4}"#.to_string(),
            r#"{"v":"b"}"#.into(),
            r#"{"quoted":true}"#.into()
        ]
    );
    assert_eq!(
        store.list_objects(NetworkPolicy).await.unwrap(),
        Vec::<String>::new()
    );

    // Delete reports whether the object existed.
    assert!(store.delete_object(User, "BOB").await.unwrap());
    assert!(!store.delete_object(User, "BOB").await.unwrap());
    assert_eq!(store.get_object(User, "BOB").await.unwrap(), None);
    assert_eq!(
        store.get_object(Role, "ALICE").await.unwrap().as_deref(),
        Some(r#"{"role":true}"#)
    );
}
