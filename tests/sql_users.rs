//! Users: CREATE (plain, IF NOT EXISTS, OR REPLACE), identifiers, DESCRIBE and SHOW, ALTER SET /
//! UNSET, DROP, and the login name a user logs in with.
//! Each test runs on the in-memory store and on DynamoDB (moto_server).

#[macro_use]
mod common;

use common::sql::*;
use common::*;
use serde_json::json;

on_every_store!(
    create_user_if_not_exists_plain_and_or_replace,
    identifiers_follow_snowflake_case_rules,
    describe_user_shows_properties_but_never_the_password,
    show_users_filters_with_a_case_insensitive_like,
    alter_user_set_and_unset_round_trip,
    alter_and_drop_of_missing_users,
    login_name_is_what_the_user_logs_in_with,
);

async fn create_user_if_not_exists_plain_and_or_replace(app: TestApp) {
    let admin = app.admin().await;
    let v = admin
        .ok("CREATE USER IF NOT EXISTS alice COMMENT='one'")
        .await;
    assert_eq!(
        rows(&v),
        vec![vec![json!("User ALICE successfully created.")]]
    );
    assert_eq!(v["data"]["statementTypeId"], 0x6000);
    let v = admin
        .ok("CREATE USER IF NOT EXISTS alice COMMENT='two'")
        .await;
    let status = rows(&v)[0][0].as_str().unwrap().to_string();
    assert!(status.contains("already exists"), "{status}");
    assert_eq!(admin.desc_user("alice").await["COMMENT"], "one");

    let v = admin
        .fails("CREATE USER alice COMMENT='three'", "002002")
        .await;
    assert!(v["message"].as_str().unwrap().contains("ALICE"), "{v}");
    assert_eq!(admin.desc_user("alice").await["COMMENT"], "one");

    admin
        .ok("CREATE USER bob PASSWORD='pw123456' COMMENT='first' DEFAULT_ROLE=sysadmin")
        .await;
    app.login_as("bob", "pw123456").await;
    let v = admin
        .ok("CREATE OR REPLACE USER bob COMMENT='second'")
        .await;
    assert!(rows(&v)[0][0].as_str().unwrap().contains("BOB"), "{v}");
    let bob = admin.desc_user("bob").await;
    assert_eq!(bob["COMMENT"], "second");
    assert_eq!(bob["HAS_PASSWORD"], "false");
    assert_eq!(bob["DEFAULT_ROLE"], "null");
    // The replaced user's password went with it.
    assert_failure(
        &password_login(&app, None, "bob", "pw123456").await,
        "390100",
    );
    // OR REPLACE of a missing user creates it.
    admin.ok("CREATE OR REPLACE USER carol").await;
    assert!(admin.user_exists("carol").await);
    // Trailing semicolon and lower-case keywords are fine.
    admin.ok("create user if not exists dave;").await;
    assert!(admin.user_exists("dave").await);
}

async fn identifiers_follow_snowflake_case_rules(app: TestApp) {
    let admin = app.admin().await;
    admin.ok("CREATE USER alice").await;
    for name in ["alice", "ALICE", "Alice", "\"ALICE\""] {
        assert_eq!(admin.desc_user(name).await["NAME"], "ALICE");
    }
    admin.fails("DESC USER \"alice\"", "002003").await;

    admin
        .ok("CREATE USER \"MixedCase\" PASSWORD='pw123456'")
        .await;
    let d = admin.desc_user("\"MixedCase\"").await;
    assert_eq!(d["NAME"], "MixedCase");
    let v = admin.fails("DESC USER mixedcase", "002003").await;
    assert!(v["message"].as_str().unwrap().contains("MIXEDCASE"), "{v}");
    admin
        .script(&[
            ("DESC USER \"mixedcase\"", "002003"),
            ("ALTER USER mixedcase SET COMMENT='x'", "002003"),
            ("ALTER USER \"MixedCase\" SET COMMENT='x'", OK),
        ])
        .await;
    let all = admin.names("SHOW USERS").await;
    assert!(all.contains(&"MixedCase".to_string()), "{all:?}");
    assert!(all.contains(&"ALICE".to_string()), "{all:?}");
    // Its login name compares case-insensitively, like every login name.
    app.login_as("mixedcase", "pw123456").await;
    let s = app.session(app.login_as("MIXEDCASE", "pw123456").await.session);
    let (_, v) = app.query(&s, "SELECT CURRENT_USER()").await;
    assert_eq!(v["data"]["rowset"], json!([["MixedCase"]]));
    // Roles follow the same rules.
    admin.ok("CREATE ROLE \"Readers\"").await;
    admin.ok("CREATE ROLE readers").await;
    let roles = admin.names("SHOW ROLES").await;
    assert!(roles.contains(&"Readers".to_string()) && roles.contains(&"READERS".to_string()));
    admin
        .fails("GRANT ROLE \"readers\" TO USER alice", "002003")
        .await;
    admin.ok("GRANT ROLE \"Readers\" TO USER alice").await;
}

async fn describe_user_shows_properties_but_never_the_password(app: TestApp) {
    let admin = app.admin().await;
    let key = &keys().a;
    admin.ok(&format!(
            "CREATE USER alice PASSWORD='s3cret-pa55word' COMMENT='analyst' DISPLAY_NAME='Alice A.' \
             EMAIL='alice@example.com' DEFAULT_ROLE=public DEFAULT_WAREHOUSE=wh_xs \
             DEFAULT_NAMESPACE='analytics.raw' RSA_PUBLIC_KEY='{key}'"
        ),
    )
    .await;
    let (_, v) = app.query(&admin, "DESC USER alice").await;
    let text = v.to_string();
    assert!(!text.contains("s3cret-pa55word"), "{text}");
    assert!(!text.contains("argon2"), "the hash must not show: {text}");
    let cols: Vec<_> = v["data"]["rowtype"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(cols, ["property", "value", "default", "description"]);
    assert_eq!(v["data"]["statementTypeId"], 0x1000);
    let d = admin.desc_user("alice").await;
    let expected = [
        ("NAME", "ALICE"),
        ("COMMENT", "analyst"),
        ("DISPLAY_NAME", "Alice A."),
        ("LOGIN_NAME", "ALICE"),
        ("EMAIL", "alice@example.com"),
        ("TYPE", "PERSON"),
        ("DISABLED", "false"),
        ("DEFAULT_WAREHOUSE", "WH_XS"),
        ("DEFAULT_NAMESPACE", "ANALYTICS.RAW"),
        ("DEFAULT_ROLE", "PUBLIC"),
        ("HAS_PASSWORD", "true"),
        ("RSA_PUBLIC_KEY_2", "null"),
        ("RSA_PUBLIC_KEY_2_FP", "null"),
        ("NETWORK_POLICY", "null"),
    ];
    for (property, value) in expected {
        assert_eq!(d[property], value, "{property}: {d:?}");
    }
    assert_eq!(d["RSA_PUBLIC_KEY"], key.as_str());
    let key_fp = d["RSA_PUBLIC_KEY_FP"].as_str().unwrap();
    assert_eq!(key_fp, fp(key));
    assert!(
        key_fp.starts_with("SHA256:") && key_fp.len() == 51,
        "{key_fp}"
    );

    // A key-only SERVICE user has no password; a PEM-armoured key is stored as its base64 DER.
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----",
        keys()
            .b
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    );
    admin
        .ok(&format!(
            "CREATE USER svc TYPE=SERVICE RSA_PUBLIC_KEY='{pem}'"
        ))
        .await;
    let d = admin.desc_user("svc").await;
    assert_eq!(d["HAS_PASSWORD"], "false");
    assert_eq!(d["TYPE"], "SERVICE");
    assert_eq!(d["RSA_PUBLIC_KEY"], keys().b.as_str());
    assert_eq!(d["RSA_PUBLIC_KEY_FP"], fp(&keys().b).as_str());

    // SHOW USERS never shows the password either.
    let v = admin.ok("SHOW USERS").await;
    let text = v.to_string();
    assert!(
        !text.contains("s3cret-pa55word") && !text.contains("argon2"),
        "{text}"
    );
    let alice = listing(&v)
        .into_iter()
        .find(|u| u["name"] == "ALICE")
        .unwrap();
    assert_eq!(alice["has_password"], "true");
    assert_eq!(alice["has_rsa_public_key"], "true");
    assert_eq!(alice["login_name"], "ALICE");
    assert_eq!(alice["type"], "PERSON");
    // DESC of a missing user.
    admin.fails("DESC USER nobody", "002003").await;
    admin.fails("DESCRIBE USER nobody", "002003").await;
}

async fn show_users_filters_with_a_case_insensitive_like(app: TestApp) {
    let admin = app.admin().await;
    for user in ["svc_a", "svc_b", "bob", "\"svc_lower\""] {
        admin.ok(&format!("CREATE USER {user}")).await;
    }
    let all = admin.names("SHOW USERS").await;
    for user in ["EMBUCKET", "SVC_A", "SVC_B", "BOB", "svc_lower"] {
        assert!(all.contains(&user.to_string()), "{user} in {all:?}");
    }
    let v = admin.ok("SHOW USERS").await;
    let demo = listing(&v)
        .into_iter()
        .find(|u| u["name"] == "EMBUCKET")
        .unwrap();
    assert_eq!(demo["default_role"], "ACCOUNTADMIN");
    assert_eq!(demo["disabled"], "false");
    for pattern in ["SVC%", "svc%", "Svc_%"] {
        let mut got = admin.names(&format!("SHOW USERS LIKE '{pattern}'")).await;
        got.sort();
        assert_eq!(got, ["SVC_A", "SVC_B", "svc_lower"], "{pattern}");
    }
    assert_eq!(admin.names("SHOW USERS LIKE 'svc_a'").await, ["SVC_A"]);
    assert_eq!(
        admin.names("show terse users like '%bucket'").await,
        ["EMBUCKET"]
    );
    assert!(admin.names("SHOW USERS LIKE 'nobody%'").await.is_empty());
}

async fn alter_user_set_and_unset_round_trip(app: TestApp) {
    let admin = app.admin().await;
    admin.ok("CREATE ROLE analyst").await;
    admin.ok("CREATE USER bob PASSWORD='pw123456'").await;
    let d = admin.desc_user("bob").await;
    assert_eq!(
        (&d["COMMENT"], &d["DEFAULT_ROLE"], &d["DISABLED"]),
        (&json!("null"), &json!("null"), &json!("false"))
    );
    let v = admin
        .ok("ALTER USER bob SET COMMENT = $$it's bob$$, DEFAULT_ROLE = 'analyst' DISABLED = TRUE")
        .await;
    assert_eq!(
        rows(&v),
        vec![vec![json!("Statement executed successfully.")]]
    );
    let d = admin.desc_user("bob").await;
    assert_eq!(
        (&d["COMMENT"], &d["DEFAULT_ROLE"], &d["DISABLED"]),
        (&json!("it's bob"), &json!("ANALYST"), &json!("true"))
    );
    // Disabled: the right password gets 390101, a wrong one 390100.
    assert_failure(
        &password_login(&app, None, "bob", "pw123456").await,
        "390101",
    );
    assert_failure(&password_login(&app, None, "bob", "wrong").await, "390100");
    admin.ok("ALTER USER bob UNSET COMMENT, DEFAULT_ROLE").await;
    admin.ok("alter user bob set disabled = false").await;
    let d = admin.desc_user("bob").await;
    assert_eq!(
        (&d["COMMENT"], &d["DEFAULT_ROLE"], &d["DISABLED"]),
        (&json!("null"), &json!("null"), &json!("false"))
    );
    app.login_as("bob", "pw123456").await;
    admin.ok("ALTER USER bob SET DISABLED = TRUE").await;
    admin.ok("ALTER USER bob UNSET DISABLED").await;
    assert_eq!(admin.desc_user("bob").await["DISABLED"], "false");
    // A new password replaces the old one.
    admin.ok("ALTER USER bob SET PASSWORD = 'new-pw-789'").await;
    assert_failure(
        &password_login(&app, None, "bob", "pw123456").await,
        "390100",
    );
    app.login_as("bob", "new-pw-789").await;
    // The default role applies at login once granted.
    admin.ok("ALTER USER bob SET DEFAULT_ROLE = analyst").await;
    let v = password_login(&app, None, "bob", "new-pw-789").await;
    assert_eq!(
        v["data"]["sessionInfo"]["roleName"], "PUBLIC",
        "not granted yet"
    );
    admin.ok("GRANT ROLE analyst TO USER bob").await;
    let v = password_login(&app, None, "bob", "new-pw-789").await;
    assert_eq!(v["data"]["sessionInfo"]["roleName"], "ANALYST");
}

async fn alter_and_drop_of_missing_users(app: TestApp) {
    let admin = app.admin().await;
    let v = admin
        .ok("ALTER USER IF EXISTS ghost SET COMMENT = 'x'")
        .await;
    assert_eq!(v["success"], true);
    assert!(!admin.user_exists("ghost").await);
    let v = admin
        .fails("ALTER USER ghost SET COMMENT = 'x'", "002003")
        .await;
    assert!(v["message"].as_str().unwrap().contains("GHOST"));
    admin
        .fails("ALTER USER ghost UNSET COMMENT", "002003")
        .await;
    let v = admin.ok("DROP USER IF EXISTS ghost").await;
    assert!(rows(&v)[0][0].as_str().unwrap().contains("GHOST"));
    admin.fails("DROP USER ghost", "002003").await;

    admin.ok("CREATE USER bob PASSWORD = 'pw123456'").await;
    app.login_as("bob", "pw123456").await;
    let v = admin.ok("DROP USER bob").await;
    assert!(rows(&v)[0][0].as_str().unwrap().contains("dropped"));
    assert!(!admin.user_exists("bob").await);
    assert_failure(
        &password_login(&app, None, "bob", "pw123456").await,
        "390100",
    );
    admin.fails("DROP USER bob", "002003").await;
    assert!(!admin.names("SHOW USERS").await.contains(&"BOB".to_string()));
    // The name is free again.
    admin.ok("CREATE USER bob PASSWORD = 'other-pw-1'").await;
    app.login_as("bob", "other-pw-1").await;
}

async fn login_name_is_what_the_user_logs_in_with(app: TestApp) {
    let admin = app.admin().await;
    admin
        .script(&[
            ("CREATE ROLE analyst", OK),
            (
                "CREATE USER carol LOGIN_NAME='c.login' PASSWORD='pw123456' DEFAULT_ROLE=analyst",
                OK,
            ),
            ("GRANT ROLE analyst TO USER carol", OK),
        ])
        .await;
    assert_eq!(admin.desc_user("carol").await["LOGIN_NAME"], "C.LOGIN");
    for login in ["c.login", "C.LOGIN"] {
        let s = app.session(app.login_as(login, "pw123456").await.session);
        let (_, v) = app.query(&s, "SELECT CURRENT_USER(), CURRENT_ROLE()").await;
        assert_eq!(v["data"]["rowset"], json!([["CAROL", "ANALYST"]]));
        // The session is the user's (not its login name's): its grants apply.
        s.ok("USE ROLE public").await;
        s.ok("USE ROLE analyst").await;
    }
    let v = password_login(&app, None, "carol", "pw123456").await;
    assert_failure(&v, "390100");

    // Nobody else may take that login name, nor a name equal to it, nor the demo user's.
    for sql in [
        "CREATE USER dave LOGIN_NAME='C.LOGIN' PASSWORD='pw123456'",
        "CREATE USER \"C.LOGIN\" PASSWORD='pw123456'",
        "CREATE USER erin LOGIN_NAME='embucket'",
    ] {
        admin.fails(sql, "002029").await;
    }
    assert!(!admin.user_exists("dave").await);
    admin
        .script(&[
            ("CREATE USER dave PASSWORD='pw123456'", OK),
            ("ALTER USER dave SET LOGIN_NAME='c.login'", "002029"),
            ("ALTER USER carol SET LOGIN_NAME='dave'", "002029"),
        ])
        .await;
    app.login_as("dave", "pw123456").await;

    // Changing it moves the login; the old one is free again.
    admin
        .ok("ALTER USER carol SET LOGIN_NAME='carol.new'")
        .await;
    assert_failure(
        &password_login(&app, None, "c.login", "pw123456").await,
        "390100",
    );
    app.login_as("carol.new", "pw123456").await;
    admin.ok("ALTER USER dave SET LOGIN_NAME='c.login'").await;
    app.login_as("c.login", "pw123456").await;
    assert_failure(
        &password_login(&app, None, "dave", "pw123456").await,
        "390100",
    );
    // Unset: back to the user's name.
    admin.ok("ALTER USER carol UNSET LOGIN_NAME").await;
    app.login_as("carol", "pw123456").await;
    assert_failure(
        &password_login(&app, None, "carol.new", "pw123456").await,
        "390100",
    );
    // Dropping a user frees its login name.
    admin.ok("DROP USER dave").await;
    assert_failure(
        &password_login(&app, None, "c.login", "pw123456").await,
        "390100",
    );
    admin
        .ok("CREATE USER frank LOGIN_NAME='c.login' PASSWORD='pw123456'")
        .await;
    let s = app.session(app.login_as("c.login", "pw123456").await.session);
    let (_, v) = app.query(&s, "SELECT CURRENT_USER()").await;
    assert_eq!(v["data"]["rowset"], json!([["FRANK"]]));
}
