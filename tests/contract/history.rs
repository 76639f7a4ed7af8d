//! The login history contract: events read back exactly, newest first, by user or for everyone,
//! within a time range and a limit, expired ones left out.

use std::sync::Arc;

use snowgate::domain::login_history::{HistoryQuery, LoginEvent, RETENTION_SECONDS};
use snowgate::store::Store;

use super::NOW;

const DAY: u64 = 86_400;

fn event(time: u64, n: u64, user: Option<&str>, success: bool) -> LoginEvent {
    LoginEvent {
        id: (time << 21) | n,
        time,
        user_name: user.map(str::to_string),
        client_ip: Some("192.0.2.7".into()),
        client_type: Some("PYTHON_DRIVER".into()),
        client_version: Some("4.0.0".into()),
        first_factor: Some("PASSWORD".into()),
        second_factor: None,
        success,
        error_code: (!success).then_some(390100),
        error_message: (!success).then(|| "Incorrect username or password was specified.".into()),
        expires_at: time + RETENTION_SECONDS,
    }
}

fn query(user: Option<&str>, from: u64, to: u64, limit: usize, now: u64) -> HistoryQuery {
    HistoryQuery {
        user: user.map(str::to_string),
        from,
        to,
        limit,
        now,
    }
}

pub async fn run(store: Arc<dyn Store>) {
    let old = event(NOW - 3 * DAY, 1, Some("CAROL"), true);
    let a0 = event(NOW, 1, Some("ALICE"), true);
    let anon = event(NOW + 5, 1, None, false);
    let a10 = event(NOW + 10, 1, Some("ALICE"), false);
    let b15 = event(NOW + 15, 1, Some("BOB"), true);
    let a20 = event(NOW + 20, 1, Some("ALICE"), true);
    // Two in the same second: the larger id is the newer.
    let a20b = event(NOW + 20, 2, Some("ALICE"), false);
    for e in [&a10, &old, &a0, &anon, &b15, &a20b, &a20] {
        store.record_login(e).await.unwrap();
    }
    let now = NOW + 30;
    let week_ago = now - RETENTION_SECONDS;

    let alice = store
        .login_history(&query(Some("ALICE"), week_ago, now, 100, now))
        .await
        .unwrap();
    assert_eq!(
        alice,
        vec![a20b.clone(), a20.clone(), a10.clone(), a0.clone()]
    );

    let everyone = store
        .login_history(&query(None, week_ago, now, 100, now))
        .await
        .unwrap();
    assert_eq!(
        everyone,
        vec![
            a20b.clone(),
            a20.clone(),
            b15.clone(),
            a10.clone(),
            anon.clone(),
            a0.clone(),
            old.clone()
        ]
    );

    // Both ends of the range are included.
    let middle = store
        .login_history(&query(None, NOW + 5, NOW + 15, 100, now))
        .await
        .unwrap();
    assert_eq!(middle, vec![b15.clone(), a10.clone(), anon.clone()]);

    // The limit keeps the newest.
    let two = store
        .login_history(&query(None, week_ago, now, 2, now))
        .await
        .unwrap();
    assert_eq!(two, vec![a20b.clone(), a20.clone()]);
    let one = store
        .login_history(&query(Some("ALICE"), NOW, NOW + 10, 1, now))
        .await
        .unwrap();
    assert_eq!(one, vec![a10.clone()]);

    // Nobody, an inverted range, a range before anything: empty.
    for q in [
        query(Some("NOBODY"), week_ago, now, 100, now),
        query(None, now, week_ago, 100, now),
        query(Some("ALICE"), NOW + 21, NOW + 25, 100, now),
        query(None, 0, NOW - 4 * DAY, 100, now),
    ] {
        assert_eq!(store.login_history(&q).await.unwrap(), vec![], "{q:?}");
    }

    // Expired events are gone whatever the range asks for.
    let later = a0.expires_at;
    let left = store
        .login_history(&query(Some("ALICE"), 0, later, 100, later))
        .await
        .unwrap();
    assert_eq!(left, vec![a20b, a20, a10]);
    let left = store
        .login_history(&query(None, 0, later, 100, later))
        .await
        .unwrap();
    assert!(!left.contains(&old) && !left.contains(&a0), "{left:?}");
    assert_eq!(left.len(), 5);
}
