//! The session statements that hold no data: `BEGIN`/`START TRANSACTION`/`COMMIT`/`ROLLBACK`,
//! `ALTER SESSION SET|UNSET` and `SHOW PARAMETERS`. A small hand-written grammar on the measured
//! token stream (no recursion); values are never quoted back in errors.

use sqlparser::tokenizer::{Token, TokenWithSpan};

use super::limits::MAX_LIKE_PATTERN_CHARS;
use crate::domain::query::statement::{
    ContextStatement, ParameterChange, ParameterValue, SqlRejection,
};

/// Most parameters one `ALTER SESSION` names: more than snowgate keeps at all.
pub const MAX_CHANGES: usize = 64;

/// Whether the first two words make a session statement (so it is not administration).
pub fn is_session_statement(head: &[Token]) -> bool {
    let words: Vec<String> = head.iter().take(3).map(upper).collect();
    // `ALTER SESSION POLICY p …` administers a session policy.
    let session_policy = words.get(2).is_some_and(|w| w == "POLICY");
    !session_policy
        && matches!(
            words
                .iter()
                .take(2)
                .map(String::as_str)
                .collect::<Vec<_>>()
                .as_slice(),
            ["ALTER", "SESSION"] | ["SHOW", "PARAMETERS"]
        )
        || matches!(
            words.first().map(String::as_str),
            Some("BEGIN" | "START" | "COMMIT" | "ROLLBACK")
        )
}

/// An unquoted word upper-cased; anything else as an empty string.
fn upper(token: &Token) -> String {
    match token {
        Token::Word(w) if w.quote_style.is_none() => w.value.to_ascii_uppercase(),
        _ => String::new(),
    }
}

/// The session statement in `tokens`, or `None` when the statement is not one.
pub fn parse(tokens: &[TokenWithSpan]) -> Option<Result<ContextStatement, SqlRejection>> {
    let solid: Vec<Token> = tokens
        .iter()
        .map(|t| t.token.clone())
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    if !is_session_statement(&solid) {
        return None;
    }
    let mut p = Cursor {
        tokens: solid,
        pos: 0,
    };
    Some(p.statement().and_then(|s| {
        p.eat(&Token::SemiColon);
        if p.pos < p.tokens.len() {
            Err(p.unexpected())
        } else {
            Ok(s)
        }
    }))
}

struct Cursor {
    tokens: Vec<Token>,
    pos: usize,
}

impl Cursor {
    fn peek_word(&self) -> String {
        self.tokens.get(self.pos).map(upper).unwrap_or_default()
    }

    fn word(&mut self, w: &str) -> bool {
        let hit = self.peek_word() == w;
        self.pos += usize::from(hit);
        hit
    }

    fn eat(&mut self, t: &Token) -> bool {
        let hit = self.tokens.get(self.pos) == Some(t);
        self.pos += usize::from(hit);
        hit
    }

    fn expect_word(&mut self, w: &str) -> Result<(), SqlRejection> {
        if self.word(w) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    /// The position only: the token may be a secret pasted in the wrong place.
    fn unexpected(&self) -> SqlRejection {
        SqlRejection::Syntax(format!(
            "syntax error: unexpected token at position {} of the statement.",
            self.pos + 1
        ))
    }

    fn statement(&mut self) -> Result<ContextStatement, SqlRejection> {
        match self.peek_word().as_str() {
            "BEGIN" => {
                self.pos += 1;
                let _ = self.word("TRANSACTION") || self.word("WORK");
                self.transaction_name()
            }
            "START" => {
                self.pos += 1;
                self.expect_word("TRANSACTION")?;
                self.transaction_name()
            }
            "COMMIT" | "ROLLBACK" => {
                self.pos += 1;
                self.word("WORK");
                Ok(ContextStatement::Transaction)
            }
            "ALTER" => {
                self.pos += 2;
                self.alter_session()
            }
            _ => {
                self.pos += 2;
                self.show_parameters()
            }
        }
    }

    /// `BEGIN … NAME t`: the name is accepted and forgotten.
    fn transaction_name(&mut self) -> Result<ContextStatement, SqlRejection> {
        if self.word("NAME") {
            self.name()?;
        }
        Ok(ContextStatement::Transaction)
    }

    fn name(&mut self) -> Result<String, SqlRejection> {
        match self.tokens.get(self.pos) {
            Some(Token::Word(w)) if w.quote_style.is_none() => {
                self.pos += 1;
                Ok(w.value.to_ascii_uppercase())
            }
            _ => Err(self.unexpected()),
        }
    }

    /// `SET a = v [,] b = v …` or `UNSET a [, b …]`, Snowflake accepting commas or spaces.
    fn alter_session(&mut self) -> Result<ContextStatement, SqlRejection> {
        let set = if self.word("SET") {
            true
        } else {
            self.expect_word("UNSET")?;
            false
        };
        let mut changes = Vec::new();
        loop {
            if changes.len() == MAX_CHANGES {
                return Err(SqlRejection::Syntax(format!(
                    "statement too complex: more than {MAX_CHANGES} parameters (snowgate's limit)."
                )));
            }
            let name = self.name()?;
            changes.push(if set {
                if !self.eat(&Token::Eq) {
                    return Err(self.unexpected());
                }
                ParameterChange::Set(name, self.value()?)
            } else {
                ParameterChange::Unset(name)
            });
            self.eat(&Token::Comma);
            if matches!(self.tokens.get(self.pos), None | Some(Token::SemiColon)) {
                return Ok(ContextStatement::AlterSession(changes));
            }
        }
    }

    fn value(&mut self) -> Result<ParameterValue, SqlRejection> {
        let negative = self.eat(&Token::Minus);
        let value = match self.tokens.get(self.pos) {
            Some(Token::Number(n, _)) => {
                let text = if negative { format!("-{n}") } else { n.clone() };
                text.parse().map(ParameterValue::Number).map_err(|_| {
                    SqlRejection::InvalidValue("a parameter value is not an integer.".into())
                })?
            }
            _ if negative => return Err(self.unexpected()),
            Some(Token::SingleQuotedString(s)) => ParameterValue::Text(s.clone()),
            Some(Token::Word(w)) if w.quote_style.is_none() => {
                match w.value.to_ascii_uppercase().as_str() {
                    "TRUE" => ParameterValue::Boolean(true),
                    "FALSE" => ParameterValue::Boolean(false),
                    _ => ParameterValue::Text(w.value.clone()),
                }
            }
            _ => return Err(self.unexpected()),
        };
        self.pos += 1;
        Ok(value)
    }

    /// `SHOW PARAMETERS [LIKE '…'] [IN SESSION]`; other scopes are not the session's.
    fn show_parameters(&mut self) -> Result<ContextStatement, SqlRejection> {
        let like = if self.word("LIKE") {
            match self.tokens.get(self.pos) {
                Some(Token::SingleQuotedString(s))
                    if s.chars().count() <= MAX_LIKE_PATTERN_CHARS =>
                {
                    self.pos += 1;
                    Some(s.clone())
                }
                Some(Token::SingleQuotedString(_)) => {
                    return Err(SqlRejection::Syntax(format!(
                        "LIKE pattern too long: at most {MAX_LIKE_PATTERN_CHARS} characters."
                    )));
                }
                _ => return Err(self.unexpected()),
            }
        } else {
            None
        };
        if self.word("IN") && !self.word("SESSION") {
            return Err(SqlRejection::Unsupported(
                "SHOW PARAMETERS outside the session".into(),
            ));
        }
        Ok(ContextStatement::ShowParameters { like })
    }
}

/// For tests: a statement's text through the limits and this grammar.
#[cfg(test)]
pub fn parse_text(sql: &str) -> Option<Result<ContextStatement, SqlRejection>> {
    match super::limits::lex(sql) {
        Ok(tokens) => parse(&tokens),
        Err(e) => Some(Err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(sql: &str) -> ContextStatement {
        parse_text(sql).expect("a session statement").expect(sql)
    }

    #[test]
    fn forms() {
        for sql in [
            "begin",
            "BEGIN WORK",
            "start transaction name t",
            "commit;",
            "ROLLBACK WORK",
        ] {
            assert_eq!(ok(sql), ContextStatement::Transaction, "{sql}");
        }
        assert_eq!(
            ok("alter session set a = 1 b='x', c = true D = -2, e = utc"),
            ContextStatement::AlterSession(vec![
                ParameterChange::Set("A".into(), ParameterValue::Number(1)),
                ParameterChange::Set("B".into(), ParameterValue::Text("x".into())),
                ParameterChange::Set("C".into(), ParameterValue::Boolean(true)),
                ParameterChange::Set("D".into(), ParameterValue::Number(-2)),
                ParameterChange::Set("E".into(), ParameterValue::Text("utc".into())),
            ])
        );
        assert_eq!(
            ok("ALTER SESSION UNSET a, b"),
            ContextStatement::AlterSession(vec![
                ParameterChange::Unset("A".into()),
                ParameterChange::Unset("B".into())
            ])
        );
        assert_eq!(
            ok("show parameters like 'T%' in session"),
            ContextStatement::ShowParameters {
                like: Some("T%".into())
            }
        );
        assert!(parse_text("select 1").is_none());
        assert!(parse_text("alter user x set a = 1").is_none());
    }

    #[test]
    fn refusals_never_quote_values() {
        for sql in [
            "alter session set a = 's3cr3t' 's3cr3t'",
            "alter session set a = - 's3cr3t'",
            "alter session set a 's3cr3t'",
            "begin 's3cr3t'",
            "alter session unset 's3cr3t'",
        ] {
            let err = parse_text(sql).unwrap().unwrap_err();
            assert!(!format!("{err:?}").contains("s3cr3t"), "{sql}: {err:?}");
        }
    }
}
