//! Login history: every login attempt is recorded and read back with
//! `INFORMATION_SCHEMA.LOGIN_HISTORY[_BY_USER]`, on every store. The clock is moved between logins so
//! that their order is known.

#[macro_use]
mod common;

use common::sql::*;
use common::*;
use serde_json::{Value, json};

on_every_store!(
    successes_and_failures_are_recorded_with_their_facts,
    users_see_their_own_history_and_administrators_everyones,
    time_range_limit_filters_order_and_columns,
    hostile_arguments_get_clear_errors,
    a_refused_login_by_login_name_is_recorded_under_its_user,
    a_flood_of_refusals_writes_at_most_the_bound,
);

const BY_USER: &str = "SELECT * FROM TABLE(INFORMATION_SCHEMA.LOGIN_HISTORY_BY_USER())";
const EVERYONE: &str = "select * from table(information_schema.login_history())";
const ALICE_PW: &str = "alice-Secret-pw-1";

/// One map per row, column name → value.
fn events(v: &Value) -> Vec<std::collections::BTreeMap<String, Value>> {
    listing(v)
}

async fn with_alice(app: &TestApp) -> Session<'_> {
    let admin = app.admin().await;
    admin
        .ok(&format!("CREATE USER alice PASSWORD = '{ALICE_PW}'"))
        .await;
    app.advance(1);
    admin
}

async fn successes_and_failures_are_recorded_with_their_facts(app: TestApp) {
    with_alice(&app).await;
    let ip = Some("192.0.2.10");
    let (_, v) = app
        .post_from(ip, LOGIN, None, login_body("alice", ALICE_PW))
        .await;
    let alice = app.session(v["data"]["token"].as_str().unwrap().to_string());
    let ok_at = START + 1;
    app.advance(1);
    assert_failure(
        &password_login(&app, ip, "Alice", "wrong-pw-xyz").await,
        "390100",
    );
    app.advance(1);
    assert_failure(
        &password_login(&app, ip, "ghost", "ghost-pw-xyz").await,
        "390100",
    );
    app.advance(1);
    let jwt = json!({"data": {
        "CLIENT_APP_ID": "JDBC", "CLIENT_APP_VERSION": "3.19.0", "ACCOUNT_NAME": "acme",
        "LOGIN_NAME": "alice", "AUTHENTICATOR": "SNOWFLAKE_JWT", "TOKEN": "eyJnot.a-real.jwt-xyz"
    }});
    assert_failure(&app.post_from(ip, LOGIN, None, jwt).await.1, "390144");
    app.advance(1);

    let v = alice.ok(BY_USER).await;
    let names: Vec<&str> = v["data"]["rowtype"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "EVENT_ID",
            "EVENT_TIMESTAMP",
            "EVENT_TYPE",
            "USER_NAME",
            "CLIENT_IP",
            "REPORTED_CLIENT_TYPE",
            "REPORTED_CLIENT_VERSION",
            "FIRST_AUTHENTICATION_FACTOR",
            "SECOND_AUTHENTICATION_FACTOR",
            "IS_SUCCESS",
            "ERROR_CODE",
            "ERROR_MESSAGE",
            "RELATED_EVENT_ID",
            "CONNECTION"
        ]
    );
    let rowtype = &v["data"]["rowtype"];
    assert_eq!(rowtype[0]["type"], "fixed");
    assert_eq!(rowtype[1]["type"], "timestamp_ltz");
    assert_eq!(rowtype[1]["scale"], 9);
    assert_eq!(rowtype[10]["type"], "fixed");
    assert_eq!(rowtype[3]["type"], "text");

    let rows = events(&v);
    let summary: Vec<(Value, Value, Value, Value)> = rows
        .iter()
        .map(|r| {
            (
                r["IS_SUCCESS"].clone(),
                r["FIRST_AUTHENTICATION_FACTOR"].clone(),
                r["ERROR_CODE"].clone(),
                r["REPORTED_CLIENT_TYPE"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                json!("NO"),
                json!("RSA_KEYPAIR"),
                json!("390144"),
                json!("JDBC_DRIVER")
            ),
            (
                json!("NO"),
                json!("PASSWORD"),
                json!("390100"),
                json!("PYTHON_DRIVER")
            ),
            (
                json!("YES"),
                json!("PASSWORD"),
                Value::Null,
                json!("PYTHON_DRIVER")
            ),
        ]
    );
    let success = &rows[2];
    assert_eq!(success["EVENT_TIMESTAMP"], format!("{ok_at}.000000000"));
    assert_eq!(success["EVENT_TYPE"], "LOGIN");
    assert_eq!(success["USER_NAME"], "ALICE");
    assert_eq!(success["CLIENT_IP"], "192.0.2.10");
    assert_eq!(success["REPORTED_CLIENT_VERSION"], "5.2.0");
    assert_eq!(success["SECOND_AUTHENTICATION_FACTOR"], Value::Null);
    assert_eq!(success["ERROR_MESSAGE"], Value::Null);
    assert_eq!(success["RELATED_EVENT_ID"], "0");
    assert_eq!(success["CONNECTION"], Value::Null);
    assert_eq!(
        rows[1]["ERROR_MESSAGE"],
        "Incorrect username or password was specified."
    );
    // The typed login name "Alice" is recorded as the user it names.
    assert_eq!(rows[1]["USER_NAME"], "ALICE");
    let mut ids: Vec<u64> = rows
        .iter()
        .map(|r| r["EVENT_ID"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(ids.iter().all(|&id| id > 0 && id < 1 << 53), "{ids:?}");
    ids.dedup();
    assert_eq!(ids.len(), 3);

    // An unknown name is shown as typed (upper-cased), like Snowflake does.
    let admin = app.admin().await;
    let everyone = admin.ok(EVERYONE).await;
    let ghost: Vec<_> = events(&everyone)
        .into_iter()
        .filter(|r| r["USER_NAME"] == "GHOST")
        .collect();
    assert_eq!(ghost.len(), 1, "{everyone}");
    assert_eq!(ghost[0]["IS_SUCCESS"], "NO");

    // No password, token or JWT reaches any column.
    let text = format!("{v}{everyone}");
    for secret in [
        ALICE_PW,
        "wrong-pw-xyz",
        "ghost-pw-xyz",
        "eyJnot",
        &alice.token,
    ] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
}

/// A user whose LOGIN_NAME is not their name: a refused login with that login name (any case) is
/// the user's, as Snowflake shows it.
async fn a_refused_login_by_login_name_is_recorded_under_its_user(app: TestApp) {
    let admin = app.admin().await;
    admin
        .ok("CREATE USER bob LOGIN_NAME = 'bob.smith@example.com' PASSWORD = 'bob-Secret-pw-1'")
        .await;
    app.advance(1);
    assert_failure(
        &password_login(&app, None, "Bob.Smith@Example.com", "wrong-pw-xyz").await,
        "390100",
    );
    app.advance(1);
    let everyone = admin.ok(EVERYONE).await;
    let refused: Vec<_> = events(&everyone)
        .into_iter()
        .filter(|r| r["IS_SUCCESS"] == "NO")
        .map(|r| r["USER_NAME"].clone())
        .collect();
    assert_eq!(refused, [json!("BOB")], "{everyone}");
}

async fn users_see_their_own_history_and_administrators_everyones(app: TestApp) {
    let admin = with_alice(&app).await;
    let alice = app.session(app.login_as("alice", ALICE_PW).await.session);
    let users = |v: &Value| -> Vec<String> {
        let mut names: Vec<String> = events(v)
            .iter()
            .map(|r| r["USER_NAME"].as_str().unwrap_or("-").to_string())
            .collect();
        names.sort();
        names.dedup();
        names
    };
    // Alice (PUBLIC) sees her own logins, whichever function she calls.
    assert_eq!(users(&alice.ok(BY_USER).await), ["ALICE"]);
    assert_eq!(users(&alice.ok(EVERYONE).await), ["ALICE"]);
    let by_name =
        "SELECT * FROM TABLE(INFORMATION_SCHEMA.LOGIN_HISTORY_BY_USER(USER_NAME => 'alice'))";
    assert_eq!(users(&alice.ok(by_name).await), ["ALICE"]);
    // …but not another user's.
    let embucket =
        "SELECT * FROM TABLE(INFORMATION_SCHEMA.LOGIN_HISTORY_BY_USER(USER_NAME => 'EMBUCKET'))";
    let v = alice.fails(embucket, "003001").await;
    assert!(v["message"].as_str().unwrap().contains("EMBUCKET"), "{v}");
    // USERADMIN administers users but does not read their logins.
    admin.ok("GRANT ROLE USERADMIN TO USER alice").await;
    alice.ok("USE ROLE USERADMIN").await;
    alice.fails(embucket, "003001").await;
    // SECURITYADMIN and ACCOUNTADMIN see everyone.
    admin.ok("GRANT ROLE SECURITYADMIN TO USER alice").await;
    alice.ok("USE ROLE SECURITYADMIN").await;
    assert_eq!(users(&alice.ok(embucket).await), ["EMBUCKET"]);
    assert_eq!(users(&alice.ok(EVERYONE).await), ["ALICE", "EMBUCKET"]);
    assert_eq!(users(&admin.ok(by_name).await), ["ALICE"]);
}

async fn time_range_limit_filters_order_and_columns(app: TestApp) {
    with_alice(&app).await;
    // Logins an hour apart: success, failure, success, failure, success (newest).
    let mut times = Vec::new();
    let mut alice = None;
    for i in 0..5 {
        app.advance(3600);
        times.push(START + 1 + 3600 * (i + 1));
        if i % 2 == 0 {
            alice = Some(app.login_as("alice", ALICE_PW).await.session);
        } else {
            assert_failure(&password_login(&app, None, "alice", "nope").await, "390100");
        }
    }
    let alice = app.session(alice.unwrap());
    app.advance(10);
    let stamps = |v: &Value| -> Vec<u64> {
        let i = column(v, "EVENT_TIMESTAMP");
        rows(v)
            .iter()
            .map(|r| {
                r[i].as_str()
                    .unwrap()
                    .split('.')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect()
    };
    let newest_first: Vec<u64> = times.iter().rev().copied().collect();
    assert_eq!(stamps(&alice.ok(BY_USER).await), newest_first);

    let q = |args: &str, rest: &str| {
        format!("select * from table(information_schema.login_history_by_user({args})) {rest}")
    };
    let last_two_hours = "TIME_RANGE_START => DATEADD('hours', -2, CURRENT_TIMESTAMP())";
    assert_eq!(
        stamps(&alice.ok(&q(last_two_hours, "")).await),
        newest_first[..2]
    );
    let absolute = "TIME_RANGE_START => TO_TIMESTAMP_LTZ('2027-01-15 10:00:00'), TIME_RANGE_END => '2027-01-15 12:00:00'";
    // START is 2027-01-15 08:00:00 UTC: the logins at 10:00:01 and 11:00:01.
    assert_eq!(
        stamps(&alice.ok(&q(absolute, "")).await),
        [times[2], times[1]]
    );
    assert_eq!(
        stamps(&alice.ok(&q("RESULT_LIMIT => 2", "")).await),
        newest_first[..2]
    );
    let failures = alice
        .ok(&q("", "WHERE IS_SUCCESS = 'NO' AND error_code = 390100"))
        .await;
    assert_eq!(stamps(&failures), [times[3], times[1]]);
    assert_eq!(
        stamps(
            &alice
                .ok(&q("", "order by event_timestamp asc limit 2"))
                .await
        ),
        times[..2]
    );
    assert_eq!(
        stamps(
            &alice
                .ok(&q("", "ORDER BY EVENT_TIMESTAMP DESC LIMIT 1"))
                .await
        ),
        newest_first[..1]
    );

    // A column list, in any order and case.
    let v = alice
        .ok(&q("RESULT_LIMIT => 1", "").replace('*', "is_success, Event_Timestamp, USER_NAME"))
        .await;
    let names: Vec<&str> = v["data"]["rowtype"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["IS_SUCCESS", "EVENT_TIMESTAMP", "USER_NAME"]);
    assert_eq!(
        rows(&v),
        vec![vec![
            json!("YES"),
            json!(format!("{}.000000000", times[4])),
            json!("ALICE")
        ]]
    );
    // Qualified by a database name, lower case: the same function.
    let qualified = "SELECT * FROM TABLE(mydb.information_schema.login_history_by_user())";
    assert_eq!(stamps(&alice.ok(qualified).await), newest_first);

    // Seven days after the second login (10 seconds and 3 hours before the last), the first two are
    // gone, whatever the range asks for.
    app.advance(7 * 24 * 3600 - 3 * 3600);
    let alice = app.session(app.login_as("alice", ALICE_PW).await.session);
    let now = times[4] + 10 + 7 * 24 * 3600 - 3 * 3600;
    assert_eq!(
        stamps(&alice.ok(&q("TIME_RANGE_START => '2000-01-01'", "")).await),
        [now, times[4], times[3], times[2]]
    );
}

async fn hostile_arguments_get_clear_errors(app: TestApp) {
    let admin = app.admin().await;
    let f = |args: &str| {
        format!("SELECT * FROM TABLE(INFORMATION_SCHEMA.LOGIN_HISTORY_BY_USER({args}))")
    };
    admin.fails(&f("RESULT_LIMIT => 100000000"), "002029").await;
    admin.fails(&f("RESULT_LIMIT => -1"), "002029").await;
    admin
        .fails(&f("TIME_RANGE_START => 'not a time'"), "002029")
        .await;
    admin
        .fails(&f("TIME_RANGE_START => '2026-02-30 10:00:00'"), "002029")
        .await;
    let v = admin.fails(&f("PASSWORD => 'x'"), "001003").await;
    assert!(v["message"].as_str().unwrap().contains("PASSWORD"), "{v}");
    let deep = format!(
        "TIME_RANGE_START => {}CURRENT_TIMESTAMP(){}",
        "DATEADD('hours', -1, ".repeat(40),
        ")".repeat(40)
    );
    admin.fails(&f(&deep), "001003").await;
    admin
        .fails(
            "SELECT COUNT(*) FROM TABLE(INFORMATION_SCHEMA.LOGIN_HISTORY())",
            "000002",
        )
        .await;
    admin
        .fails(
            "SELECT * FROM TABLE(INFORMATION_SCHEMA.LOGIN_HISTORY()) WHERE USER_NAME LIKE 'A%'",
            "000002",
        )
        .await;
    // A name no user has is an empty answer; one longer than any name can be is refused.
    let unknown = format!("USER_NAME => '{}'", "x".repeat(255));
    assert!(rows(&admin.ok(&f(&unknown)).await).is_empty());
    let long = format!("USER_NAME => '{}'", "x".repeat(5000));
    admin.fails(&f(&long), "002029").await;
    // A range that ends before it starts is empty too.
    let inverted = "TIME_RANGE_START => CURRENT_TIMESTAMP(), TIME_RANGE_END => DATEADD('days', -1, CURRENT_TIMESTAMP())";
    assert!(rows(&admin.ok(&f(inverted)).await).is_empty());
}

/// The refused logins in the history, newest first (as ACCOUNTADMIN sees everyone's).
async fn refusals(admin: &Session<'_>) -> Vec<std::collections::BTreeMap<String, Value>> {
    let v = admin
        .ok("SELECT * FROM TABLE(INFORMATION_SCHEMA.LOGIN_HISTORY(RESULT_LIMIT => 10000))")
        .await;
    events(&v)
        .into_iter()
        .filter(|e| e["IS_SUCCESS"] == "NO")
        .collect()
}

async fn a_flood_of_refusals_writes_at_most_the_bound(app: TestApp) {
    use snowgate::domain::refusals::{PER_KEY, PER_WINDOW, WINDOW_SECONDS};
    let admin = app.admin().await;
    // Refused cheaply, before any password work: the account admits loopback only.
    admin
        .ok("CREATE NETWORK POLICY local_only ALLOWED_IP_LIST=('127.0.0.1')")
        .await;
    let set = "ALTER ACCOUNT SET NETWORK_POLICY = local_only";
    let (_, v) = app.query_from(Some("127.0.0.1"), &admin, set).await;
    assert_eq!(v["success"], true, "{v}");
    let per_key = PER_KEY as usize;
    // One client trying 60 names: PER_KEY records.
    for i in 0..60 {
        let v = password_login(&app, Some("192.0.2.1"), &format!("name{i}"), "pw").await;
        assert_failure(&v, "390422");
    }
    assert_eq!(refusals(&admin).await.len(), per_key);
    // One name from 60 clients: PER_KEY more.
    for i in 0..60 {
        let ip = format!("198.51.100.{i}");
        password_login(&app, Some(&ip), "target", "pw").await;
    }
    let recorded = refusals(&admin).await;
    assert_eq!(recorded.len(), 2 * per_key);
    let target = recorded
        .iter()
        .filter(|e| e["USER_NAME"] == "TARGET")
        .count();
    assert_eq!(target, per_key);
    // The next window records again; many names from many clients: PER_WINDOW at most.
    app.advance(WINDOW_SECONDS);
    let flood = PER_WINDOW as usize + 40;
    for i in 0..flood {
        let ip = format!("10.{}.{}.1", i / 250, i % 250);
        let v = password_login(&app, Some(&ip), &format!("user{i}"), "pw").await;
        assert_failure(&v, "390422");
    }

    assert_eq!(
        refusals(&admin).await.len(),
        2 * per_key + PER_WINDOW as usize
    );
}
