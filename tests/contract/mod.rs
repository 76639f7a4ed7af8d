//! The store contract, written once.

pub mod batch;
pub mod history;
pub mod upstream;

use std::sync::Arc;

use snowgate::domain::session::{Credential, OAuthGrant, Session, SessionContext, new_session_id};
use snowgate::domain::statement::ParameterValue;
use snowgate::store::{SessionStore, StoreError};

use crate::common::names::{counter, named};

pub const NOW: u64 = 1_800_000_000;

pub fn session(id: u64) -> Session {
    Session {
        id,
        user: "EMBUCKET".into(),
        account: "ACME".into(),
        context: SessionContext {
            database: Some("DB".into()),
            schema: Some("PUBLIC".into()),
            warehouse: None,
            role: Some("ACCOUNTADMIN".into()),
            parameters: [("TIMEZONE".to_string(), ParameterValue::Text("UTC".into()))].into(),
        },
        created_at: NOW,
        expires_at: NOW + 100,
        client_app: Some("PythonConnector".into()),
        user_id: "3f1c2d9e-user".into(),
        token_id: "token-one".into(),
        oauth: Some(OAuthGrant {
            integration: "OKTA".into(),
            expires_at: NOW + 50,
            integration_created_on: NOW - 3600,
        }),
        opened_by: Some(Credential::Pat {
            name: "CI".into(),
            digest: "ab".repeat(32),
        }),
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
        oauth: None,
        opened_by: Some(Credential::KeyPair {
            fingerprint: "SHA256:abc=".into(),
        }),
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
        parameters: [
            ("AUTOCOMMIT".to_string(), ParameterValue::Boolean(false)),
            (
                "QUERY_TAG".to_string(),
                ParameterValue::Text("tag 'é'".into()),
            ),
            ("WEEK_START".to_string(), ParameterValue::Number(-1)),
        ]
        .into(),
    };
    assert!(store.update_context(a.id, &ctx, NOW + 1).await.unwrap());
    let got = store.get(a.id, NOW + 1).await.unwrap().unwrap();
    assert_eq!(got.context, ctx);
    // Parameters unset (none left) are gone from the record, not kept from before.
    let bare = SessionContext {
        parameters: Default::default(),
        ..ctx.clone()
    };
    assert!(store.update_context(a.id, &bare, NOW + 1).await.unwrap());
    assert_eq!(
        store.get(a.id, NOW + 1).await.unwrap().unwrap().context,
        bare
    );
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

    // A logout deletes only with a token the session accepts: the current one, or the one the
    // renewal replaced within the grace; a missing or expired session is no refusal.
    const GRACE: u64 = 30;
    assert!(
        !store
            .delete_with_token(d.id, "forged", NOW + 4, GRACE)
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_with_token(d.id, "token-one", NOW + 3 + GRACE, GRACE)
            .await
            .unwrap()
    );
    assert!(store.get(d.id, NOW + 4).await.unwrap().is_some());
    assert!(
        store
            .delete_with_token(d.id, "token-one", NOW + 2 + GRACE, GRACE)
            .await
            .unwrap()
    );
    assert_eq!(store.get(d.id, NOW + 4).await.unwrap(), None);
    assert!(
        store
            .delete_with_token(d.id, "token-two", NOW + 4, GRACE)
            .await
            .unwrap()
    );
    let e = session(new_session_id());
    store.create(&e).await.unwrap();
    assert!(
        !store
            .delete_with_token(e.id, "token-two", NOW, GRACE)
            .await
            .unwrap()
    );
    assert!(
        store
            .delete_with_token(e.id, "token-one", NOW, GRACE)
            .await
            .unwrap()
    );
    assert_eq!(store.get(e.id, NOW).await.unwrap(), None);
    let f = session(new_session_id());
    store.create(&f).await.unwrap();
    assert!(
        store
            .delete_with_token(f.id, "forged", f.expires_at, GRACE)
            .await
            .unwrap(),
        "an expired session is gone"
    );
}

/// Failed-login counters: atomic, deduplicated by attempt, expiring, and cleared on demand.
pub async fn run_lockout(store: Arc<dyn snowgate::store::Store>) {
    let until = NOW + 900;
    assert_eq!(
        store.failures(&counter("ALICE"), NOW).await.unwrap().count,
        0
    );
    let (f, raised) = store
        .record_failure(&counter("ALICE"), "req-1", NOW, until)
        .await
        .unwrap();
    assert_eq!((f.count, raised), (1, true));
    // A driver's retry of the same login counts once.
    let (f, raised) = store
        .record_failure(&counter("ALICE"), "req-1", NOW, until)
        .await
        .unwrap();
    assert_eq!((f.count, raised), (1, false));
    let (f, _) = store
        .record_failure(&counter("ALICE"), "req-2", NOW + 1, until + 1)
        .await
        .unwrap();
    assert_eq!(
        f,
        snowgate::store::Failures {
            count: 2,
            until: until + 1
        }
    );
    assert_eq!(
        store
            .failures(&counter("ALICE"), NOW + 1)
            .await
            .unwrap()
            .count,
        2
    );
    assert_eq!(
        store.failures(&counter("BOB"), NOW).await.unwrap().count,
        0,
        "per name"
    );

    // Parallel attempts each count exactly once.
    let attempts = (0..20).map(|i| {
        let store = Arc::clone(&store);
        async move {
            store
                .record_failure(&counter("CAROL"), &format!("p-{i}"), NOW, until)
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
    assert_eq!(
        store.failures(&counter("CAROL"), NOW).await.unwrap().count,
        20
    );

    // Expired counts read as zero and start again at one.
    assert_eq!(
        store
            .failures(&counter("ALICE"), until + 1)
            .await
            .unwrap()
            .count,
        0
    );
    let (f, raised) = store
        .record_failure(&counter("ALICE"), "req-3", until + 2, until + 900)
        .await
        .unwrap();
    assert_eq!((f.count, raised), (1, true));

    store.clear_failures(&counter("ALICE")).await.unwrap();
    assert_eq!(
        store
            .failures(&counter("ALICE"), until + 2)
            .await
            .unwrap()
            .count,
        0
    );
    store.clear_failures(&counter("NOBODY")).await.unwrap();
}

/// The session and its user in one read.
pub async fn run_session_and_object(store: Arc<dyn snowgate::store::Store>) {
    use snowgate::store::NamedKind::User;
    let s = session(new_session_id());
    store.create(&s).await.unwrap();
    store
        .put_object(
            named(User, "EMBUCKET").key(),
            r#"{"u":1}"#,
            snowgate::store::Write::Create,
        )
        .await
        .unwrap();
    // A user named like the session's sort key is still read as a user.
    store
        .put_object(
            named(User, "SESSION").key(),
            r#"{"u":2}"#,
            snowgate::store::Write::Create,
        )
        .await
        .unwrap();
    let (got, doc) = store
        .session_and_object(s.id, NOW, named(User, "EMBUCKET").key())
        .await
        .unwrap();
    assert_eq!(got, Some(s.clone()));
    let doc = doc.map(|d| (d.doc, d.version));
    assert_eq!(doc, Some((r#"{"u":1}"#.to_string(), 1)));
    let (got, doc) = store
        .session_and_object(s.id, NOW, named(User, "SESSION").key())
        .await
        .unwrap();
    assert_eq!(got, Some(s.clone()));
    assert_eq!(doc.map(|d| d.doc).as_deref(), Some(r#"{"u":2}"#));
    let (got, doc) = store
        .session_and_object(s.id, s.expires_at, named(User, "NOBODY").key())
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
/// The directory half of the contract: versioned documents by kind and name.
pub async fn run_directory(store: Arc<dyn snowgate::store::Store>) {
    use snowgate::store::NamedKind::{NetworkPolicy, Role, User};
    use snowgate::store::Write::{Create, IfVersion, Replace};

    let doc = |s: &Arc<dyn snowgate::store::Store>, kind, name: &'static str| {
        let s = Arc::clone(s);
        async move {
            s.get_object(named(kind, name).key())
                .await
                .unwrap()
                .map(|v| (v.doc, v.version))
        }
    };
    assert_eq!(doc(&store, User, "ALICE").await, None);
    assert_eq!(
        store
            .put_object(named(User, "ALICE").key(), r#"{"v":1}"#, Create)
            .await
            .unwrap(),
        1
    );
    store
        .put_object(named(User, "BOB").key(), r#"{"v":"b"}"#, Create)
        .await
        .unwrap();
    // Kinds are separate namespaces.
    store
        .put_object(named(Role, "ALICE").key(), r#"{"role":true}"#, Create)
        .await
        .unwrap();
    assert_eq!(
        doc(&store, User, "ALICE").await,
        Some((r#"{"v":1}"#.into(), 1))
    );
    assert_eq!(
        doc(&store, Role, "ALICE").await,
        Some((r#"{"role":true}"#.into(), 1))
    );
    assert_eq!(doc(&store, NetworkPolicy, "ALICE").await, None);

    // Create never overwrites; replace does, and counts a version.
    assert!(matches!(
        store
            .put_object(named(User, "ALICE").key(), r#"{"v":2}"#, Create)
            .await,
        Err(StoreError::AlreadyExists)
    ));
    assert_eq!(
        doc(&store, User, "ALICE").await,
        Some((r#"{"v":1}"#.into(), 1))
    );
    assert_eq!(
        store
            .put_object(named(User, "ALICE").key(), r#"{"v":3}"#, Replace)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        doc(&store, User, "ALICE").await,
        Some((r#"{"v":3}"#.into(), 2))
    );

    // A conditional write applies only over the version it names: two writers that read version 2,
    // one wins, the other gets a conflict and writes nothing.
    assert_eq!(
        store
            .put_object(named(User, "ALICE").key(), r#"{"v":4}"#, IfVersion(2))
            .await
            .unwrap(),
        3
    );
    assert!(matches!(
        store
            .put_object(named(User, "ALICE").key(), r#"{"v":"lost"}"#, IfVersion(2))
            .await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        store
            .put_object(named(User, "NOBODY").key(), r#"{"v":5}"#, IfVersion(1))
            .await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        doc(&store, User, "NOBODY").await,
        None,
        "a conditional write must not create"
    );
    assert_eq!(
        doc(&store, User, "ALICE").await,
        Some((r#"{"v":4}"#.into(), 3))
    );

    // Parallel conditional writers over one version: exactly one wins.
    let writers = (0..8).map(|i| {
        let store = Arc::clone(&store);
        async move {
            store
                .put_object(
                    named(User, "BOB").key(),
                    &format!(r#"{{"w":{i}}}"#),
                    IfVersion(1),
                )
                .await
                .is_ok()
        }
    });
    let wins = futures_join_all(writers)
        .await
        .into_iter()
        .filter(|w| *w)
        .count();
    assert_eq!(wins, 1);

    // Names keep their case: a quoted name is a different object.
    store
        .put_object(named(User, "\"alice\"").key(), r#"{"quoted":true}"#, Create)
        .await
        .unwrap();
    assert_eq!(doc(&store, User, "ALICE").await.unwrap().0, r#"{"v":4}"#);

    // Listing: every document of the kind with its version, in name order (upper case first).
    let listed: Vec<(String, u64)> = store
        .list_objects(User.into())
        .await
        .unwrap()
        .into_iter()
        .map(|v| (v.doc, v.version))
        .collect();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[0], (r#"{"v":4}"#.into(), 3));
    assert_eq!(listed[1].1, 2, "BOB was written once more by the winner");
    assert_eq!(listed[2], (r#"{"quoted":true}"#.into(), 1));
    assert!(
        store
            .list_objects(NetworkPolicy.into())
            .await
            .unwrap()
            .is_empty()
    );

    // Delete reports whether the object existed; a new object starts again at version 1.
    assert!(store.delete_object(named(User, "BOB").key()).await.unwrap());
    assert!(!store.delete_object(named(User, "BOB").key()).await.unwrap());
    assert_eq!(doc(&store, User, "BOB").await, None);
    assert_eq!(
        store
            .put_object(named(User, "BOB").key(), "{}", Create)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        doc(&store, Role, "ALICE").await.unwrap().0,
        r#"{"role":true}"#
    );
}

/// Activity: `touch` moves `last_active` on live, non-idle sessions only, and never revives an idle,
/// expired or deleted one.
pub async fn run_touch(store: Arc<dyn SessionStore>) {
    let idle = |id| Session {
        last_active: NOW,
        idle_limit: 10,
        ..session(id)
    };
    let a = idle(new_session_id());
    store.create(&a).await.unwrap();
    assert!(store.touch(a.id, NOW + 9).await.unwrap());
    let got = store.get(a.id, NOW + 9).await.unwrap().unwrap();
    assert_eq!(got.last_active, NOW + 9);
    assert_eq!(got.idle_limit, 10);
    assert_eq!(got.context, a.context, "activity keeps the context");
    // The limit counts from the last touch: still alive 9 s after it, idle 10 s after it.
    assert!(store.touch(a.id, NOW + 18).await.unwrap());
    assert!(
        !store.touch(a.id, NOW + 28).await.unwrap(),
        "idle: not revived"
    );
    let got = store.get(a.id, NOW + 28).await.unwrap().unwrap();
    assert_eq!(got.last_active, NOW + 18, "a refused touch writes nothing");
    assert!(got.is_idle(NOW + 28));

    // A session without a limit never goes idle, but still expires.
    let b = session(new_session_id());
    store.create(&b).await.unwrap();
    assert!(store.touch(b.id, NOW + 99).await.unwrap());
    assert_eq!(
        store
            .get(b.id, NOW + 99)
            .await
            .unwrap()
            .unwrap()
            .last_active,
        NOW + 99
    );
    assert!(!store.touch(b.id, b.expires_at).await.unwrap());

    // Deleted or unknown sessions are not created by a touch.
    let c = idle(new_session_id());
    store.create(&c).await.unwrap();
    store.delete(c.id).await.unwrap();
    assert!(!store.touch(c.id, NOW + 1).await.unwrap());
    assert_eq!(store.get(c.id, NOW + 1).await.unwrap(), None);
    let unknown = new_session_id();
    assert!(!store.touch(unknown, NOW).await.unwrap());
    assert_eq!(store.get(unknown, NOW).await.unwrap(), None);
}
