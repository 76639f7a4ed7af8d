//! The sealed engine token of a session: kept with the session, set only by compare and set (two
//! first statements cannot both store one), untouched by renewals and context changes, gone with
//! the session.

use std::sync::Arc;

use snowgate::domain::session::{SealedUpstream, Session, new_session_id};
use snowgate::store::SessionStore;

use super::{NOW, session};

fn sealed(text: &str) -> SealedUpstream {
    SealedUpstream {
        kid: "v1".into(),
        sealed: text.into(),
        opened_at: NOW,
    }
}

pub async fn run_upstream(store: Arc<dyn SessionStore>) {
    // Written with the session, read back as it was.
    let with = Session {
        upstream: Some(sealed("c2VhbGVk")),
        ..session(new_session_id())
    };
    store.create(&with).await.unwrap();
    assert_eq!(store.get(with.id, NOW).await.unwrap(), Some(with.clone()));

    // Set only over the value expected: none at first, then the one read.
    let s = session(new_session_id());
    store.create(&s).await.unwrap();
    let (one, two) = (sealed("b25l"), sealed("dHdv"));
    assert!(
        !store
            .set_upstream(s.id, Some(&two), &one, NOW)
            .await
            .unwrap()
    );
    assert!(store.set_upstream(s.id, None, &one, NOW).await.unwrap());
    assert!(
        !store.set_upstream(s.id, None, &two, NOW).await.unwrap(),
        "a second first open loses"
    );
    assert_eq!(
        store.get(s.id, NOW).await.unwrap().unwrap().upstream,
        Some(one.clone())
    );
    assert!(
        store
            .set_upstream(s.id, Some(&one), &two, NOW)
            .await
            .unwrap()
    );
    assert_eq!(
        store.get(s.id, NOW).await.unwrap().unwrap().upstream,
        Some(two.clone())
    );

    // A renewal and a context change keep it.
    assert!(store.rotate_token(s.id, "token-two", NOW).await.unwrap());
    let mut context = s.context.clone();
    context.database = Some("D2".into());
    assert!(store.update_context(s.id, &context, NOW).await.unwrap());
    assert!(store.touch(s.id, NOW).await.unwrap());
    let read = store.get(s.id, NOW).await.unwrap().unwrap();
    assert_eq!(read.upstream, Some(two.clone()));
    assert_eq!(read.context.database.as_deref(), Some("D2"));

    // Two first opens at once: exactly one wins.
    let race = session(new_session_id());
    store.create(&race).await.unwrap();
    let (a, b) = (sealed("YQ=="), sealed("Yg=="));
    let (won_a, won_b) = tokio::join!(
        store.set_upstream(race.id, None, &a, NOW),
        store.set_upstream(race.id, None, &b, NOW)
    );
    assert!(
        won_a.unwrap() ^ won_b.unwrap(),
        "exactly one of two racing opens is stored"
    );

    // Not on an expired or deleted session, and gone with it.
    assert!(
        !store
            .set_upstream(s.id, Some(&two), &one, s.expires_at)
            .await
            .unwrap()
    );
    store.delete(s.id).await.unwrap();
    assert!(
        !store
            .set_upstream(s.id, Some(&two), &one, NOW)
            .await
            .unwrap()
    );
    assert!(!store.set_upstream(s.id, None, &one, NOW).await.unwrap());
    assert_eq!(store.get(s.id, NOW).await.unwrap(), None);
}
