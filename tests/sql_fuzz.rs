//! Properties of the SQL front end on arbitrary input: it never panics (nor overflows the stack of a
//! test thread, 2 MiB like a server worker's), and whatever passes it is within the limits; past
//! them the answer is a syntax error.

use proptest::prelude::*;
use snowgate::domain::statement::{SqlFrontEnd, SqlRejection};
use snowgate::sql::limits::{MAX_NESTING, MAX_SQL_BYTES, MAX_TOKENS};
use snowgate::sql::{FrontEnd, parse_statement};

/// Words and symbols of both grammars, and a few hostile ones.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "SELECT",
            "USE",
            "CREATE",
            "ALTER",
            "DROP",
            "DESC",
            "SHOW",
            "GRANT",
            "REVOKE",
            "OR",
            "REPLACE",
            "USER",
            "USERS",
            "ROLE",
            "ROLES",
            "NETWORK",
            "POLICY",
            "POLICIES",
            "ACCOUNT",
            "SET",
            "UNSET",
            "IF",
            "NOT",
            "EXISTS",
            "LIKE",
            "TO",
            "FROM",
            "TERSE",
            "PASSWORD",
            "RSA_PUBLIC_KEY",
            "ALLOWED_IP_LIST",
            "COMMENT",
            "CURRENT_ROLE()",
            "CASE",
            "WHEN",
            "THEN",
            "END",
            "CAST",
            "AS",
            "INT",
            "::",
            "(",
            ")",
            "[",
            "]",
            "{",
            "}",
            ",",
            ";",
            "=",
            "+",
            "-",
            "*",
            "%",
            "'%%'",
            "'10.0.0.1'",
            "$$x$$",
            "\"Q\"",
            "/* c */",
            "1",
            "1e9",
            "x",
            "NULL",
            "TRUE",
        ])
        .prop_map(str::to_string),
        "[a-z_]{1,8}",
        "'[^'\\\\]{0,12}'",
    ]
}

/// The deepest bracket nesting of a soup (its strings hold no brackets).
fn depth(tokens: &[String]) -> usize {
    let (mut now, mut max) = (0usize, 0usize);
    for t in tokens {
        for c in t.chars().filter(|_| !t.starts_with('\'')) {
            match c {
                '(' | '[' | '{' => now += 1,
                ')' | ']' | '}' => now = now.saturating_sub(1),
                _ => {}
            }
            max = max.max(now);
        }
    }
    max
}

fn is_syntax_error(r: &Result<impl std::fmt::Debug, SqlRejection>) -> bool {
    matches!(r, Err(SqlRejection::Syntax(_)))
}

proptest! {
    // Few cases of large inputs: each case parses up to ~6,000 tokens in a debug build.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>(), repeat in 1usize..400) {
        let text = text.repeat(repeat);
        let _ = FrontEnd.is_admin(&text);
        let result = parse_statement(&text);
        if text.len() > MAX_SQL_BYTES {
            prop_assert!(is_syntax_error(&result));
        }
    }

    #[test]
    fn token_soups_never_panic_and_respect_the_limits(
        prefix in prop::sample::select(vec![
            "", "SELECT ", "CREATE NETWORK POLICY p ALLOWED_IP_LIST = ", "ALTER USER u SET ",
            "SHOW USERS LIKE ", "USE ", "GRANT ROLE r TO USER ",
        ]),
        soup in prop::collection::vec(token(), 0..6_000),
        open in 0usize..80,
    ) {
        let sql = format!("{prefix}{}{}", "(".repeat(open), soup.join(" "));
        let _ = FrontEnd.is_admin(&sql);
        let result = parse_statement(&sql);
        let mut all = vec!["(".to_string(); open];
        all.extend(soup.iter().cloned());
        let counted = soup.iter().filter(|t| *t != "/* c */").count();
        if depth(&all) > MAX_NESTING || counted > MAX_TOKENS || sql.len() > MAX_SQL_BYTES {
            prop_assert!(is_syntax_error(&result), "{result:?}");
        }
    }
}
