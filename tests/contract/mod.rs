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
