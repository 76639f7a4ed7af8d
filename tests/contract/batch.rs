//! The batch contract: `read_many` answers each read as its single read would, in order.

use std::sync::Arc;

use snowgate::domain::session::new_session_id;
use snowgate::store::NamedKind::{Role, User};
use snowgate::store::{Failures, Found, Read, Store, StoreError, Versioned, Write};

use super::{NOW, session};
use crate::common::names::{counter, named};

pub async fn run_read_many(store: Arc<dyn Store>) {
    let live = session(new_session_id());
    store.create(&live).await.unwrap();
    store
        .put_object(named(User, "ALICE").key(), r#"{"a":1}"#, Write::Create)
        .await
        .unwrap();
    // Same name, other kind: a different object.
    store
        .put_object(named(Role, "ALICE").key(), r#"{"r":1}"#, Write::Create)
        .await
        .unwrap();
    store
        .record_failure(&counter("ALICE"), "attempt-1", NOW, NOW + 60)
        .await
        .unwrap();
    let missing = new_session_id();
    let (role, alice, nobody) = (
        named(Role, "ALICE"),
        named(User, "ALICE"),
        named(User, "NOBODY"),
    );
    let (alice_counter, nobody_counter) = (counter("ALICE"), counter("NOBODY"));
    let reads = [
        Read::Object(role.key()),
        Read::Session(live.id),
        Read::Failures(&alice_counter),
        Read::Object(alice.key()),
        Read::Session(missing),
        Read::Object(nobody.key()),
        Read::Failures(&nobody_counter),
        // Asked twice: answered twice.
        Read::Object(alice.key()),
    ];
    let doc = |d: &str| {
        Found::Object(Some(Versioned {
            doc: d.into(),
            version: 1,
        }))
    };
    assert_eq!(
        store.read_many(&reads, NOW).await.unwrap(),
        vec![
            doc(r#"{"r":1}"#),
            Found::Session(Some(live.clone())),
            Found::Failures(Failures {
                count: 1,
                until: NOW + 60
            }),
            doc(r#"{"a":1}"#),
            Found::Session(None),
            Found::Object(None),
            Found::Failures(Failures::default()),
            doc(r#"{"a":1}"#),
        ]
    );
    // Past their ends, the session and the count read as gone.
    let later = store
        .read_many(
            &[Read::Session(live.id), Read::Failures(&alice_counter)],
            NOW + 200,
        )
        .await
        .unwrap();
    assert_eq!(
        later,
        vec![Found::Session(None), Found::Failures(Failures::default())]
    );
    assert!(store.read_many(&[], NOW).await.unwrap().is_empty());
    let too_many = vec![Read::Session(1); snowgate::store::MAX_BATCH_READS + 1];
    assert!(matches!(
        store.read_many(&too_many, NOW).await,
        Err(StoreError::Fault(_))
    ));
}
