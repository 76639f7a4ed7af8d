//! Bounds on the work one statement can cause. Every statement is measured here, on its text and its
//! token stream, before `sqlparser`'s grammar or the administration grammar sees it: both build trees
//! by recursion, and `Display` and `Drop` of those trees recurse again, so nesting must be bounded
//! before any tree exists.
//!
//! The limits are far above what a driver or tool sends to snowgate (the statements it answers are
//! `USE …`, `SELECT CURRENT_*()` lists and administration with a few properties and keys; a 4096-bit
//! key is one token of ~740 bytes), and far below what would exhaust a 2 MiB thread stack or the
//! memory of a 128 MB Lambda.

use sqlparser::dialect::SnowflakeDialect;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use crate::domain::query::statement::SqlRejection;

/// Longest statement text accepted, in bytes (64 KiB).
pub const MAX_SQL_BYTES: usize = 64 * 1024;
/// Most tokens in one statement, whitespace and comments not counted.
pub const MAX_TOKENS: usize = 4_096;
/// Deepest nesting of `(`, `[` and `{` in one statement.
pub const MAX_NESTING: usize = 32;
/// `sqlparser`'s own recursion budget (its default is 50); a second guard behind [`MAX_NESTING`]
/// for recursion that does not show as brackets (`NOT NOT …`, `- - …`).
pub const PARSER_RECURSION_LIMIT: usize = 100;
/// Longest identifier, in characters: Snowflake's own limit.
pub const MAX_IDENTIFIER_CHARS: usize = 255;
/// Longest `LIKE` pattern accepted, in characters; names are at most 255.
pub const MAX_LIKE_PATTERN_CHARS: usize = 1_024;
/// How much of a statement is read to find its first keyword (see [`head_tokens`]).
const FIRST_KEYWORD_WINDOW: usize = 1_024;

fn too_long(what: &str, limit: usize) -> SqlRejection {
    SqlRejection::Syntax(format!(
        "statement too complex: more than {limit} {what} (snowgate's limit)."
    ))
}

/// Tokenizes `sql` within the limits: the tokens, whitespace and comments included.
pub fn lex(sql: &str) -> Result<Vec<TokenWithSpan>, SqlRejection> {
    if sql.len() > MAX_SQL_BYTES {
        return Err(too_long("bytes", MAX_SQL_BYTES));
    }
    let tokens = Tokenizer::new(&SnowflakeDialect {}, sql)
        .tokenize_with_location()
        .map_err(|_| {
            SqlRejection::Syntax("syntax error: the statement could not be tokenized.".into())
        })?;
    check_shape(&tokens)?;
    Ok(tokens)
}

/// Counts tokens and nesting in one pass.
fn check_shape(tokens: &[TokenWithSpan]) -> Result<(), SqlRejection> {
    let (mut count, mut depth) = (0usize, 0usize);
    for token in tokens {
        match &token.token {
            Token::Whitespace(_) => continue,
            Token::LParen | Token::LBracket | Token::LBrace => depth += 1,
            Token::RParen | Token::RBracket | Token::RBrace => depth = depth.saturating_sub(1),
            Token::Word(w) if w.value.chars().count() > MAX_IDENTIFIER_CHARS => {
                return Err(SqlRejection::Syntax(format!(
                    "identifier too long: at most {MAX_IDENTIFIER_CHARS} characters."
                )));
            }
            _ => {}
        }
        count += 1;
        if depth > MAX_NESTING {
            return Err(too_long("levels of nesting", MAX_NESTING));
        }
        if count > MAX_TOKENS {
            return Err(too_long("tokens", MAX_TOKENS));
        }
    }
    Ok(())
}

/// The statement's first word when the text says it plainly: an ASCII letter after ASCII
/// whitespace, then letters, digits, `_` or `$` up to an ASCII character that cannot continue a
/// word, or the end. `None` when only the tokenizer can tell (a comment, a quote, non-ASCII text).
/// A word found here is the first token's text, or the prefix of a literal (`X'00'`), never part of
/// a longer word: callers use it to rule a statement out without tokenizing it.
pub fn first_word(sql: &str) -> Option<&str> {
    let text = sql.trim_start_matches(|c: char| c.is_ascii_whitespace());
    if !text.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
        .unwrap_or(text.len());
    match text[end..].chars().next() {
        Some(c) if !c.is_ascii() => None,
        _ => Some(&text[..end]),
    }
}

/// The first `n` tokens of the statement, whitespace and comments skipped. Reads only the first
/// KiB when that holds them, so that a statement's kind is known, and its privilege checked, before
/// a hostile text is tokenized whole; else the whole text, if within [`MAX_SQL_BYTES`].
pub fn head_tokens(sql: &str, n: usize) -> Option<Vec<Token>> {
    let mut end = sql.len().min(FIRST_KEYWORD_WINDOW);
    while !sql.is_char_boundary(end) {
        end -= 1;
    }
    if end < sql.len() {
        // The window may end inside a comment, a string or a word: unless a token follows the
        // first `n`, the whole text is read.
        if let Some(tokens) = solid_tokens(&sql[..end], n + 1)
            && tokens.len() > n
        {
            return Some(tokens[..n].to_vec());
        }
        if sql.len() > MAX_SQL_BYTES {
            return None;
        }
    }
    solid_tokens(sql, n)
}

/// Up to `n` tokens other than whitespace and comments.
fn solid_tokens(text: &str, n: usize) -> Option<Vec<Token>> {
    let tokens = Tokenizer::new(&SnowflakeDialect {}, text).tokenize().ok()?;
    Some(
        tokens
            .into_iter()
            .filter(|t| !matches!(t, Token::Whitespace(_) | Token::EOF))
            .take(n)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_word_is_the_first_token_or_unknown() {
        for (sql, word) in [
            ("SELECT CURRENT_ROLE()", Some("SELECT")),
            ("  \n\tselect 1", Some("select")),
            ("show", Some("show")),
            ("use$x db", Some("use$x")),
            ("CREATE(", Some("CREATE")),
            ("X'00'", Some("X")),
            ("/* c */ CREATE USER u", None),
            ("-- c\nDROP USER u", None),
            ("\"CREATE\" USER", None),
            ("(SELECT 1)", None),
            ("caf\u{e9} 1", None),
            ("\u{a0}SELECT 1", None),
            ("", None),
        ] {
            assert_eq!(first_word(sql), word, "{sql:?}");
            if let Some(word) = word {
                let first = solid_tokens(sql, 1).and_then(|t| t.into_iter().next());
                match first {
                    Some(Token::Word(w)) => assert_eq!(w.value, word, "{sql:?}"),
                    other => assert!(other.is_some(), "{sql:?}: a literal, at least"),
                }
            }
        }
    }

    #[test]
    fn limits_hold_on_length_tokens_and_nesting() {
        let deep = format!("SELECT {}1", "(".repeat(MAX_NESTING + 1));
        assert!(matches!(lex(&deep), Err(SqlRejection::Syntax(m)) if m.contains("nesting")));
        let ok = format!(
            "SELECT {}1{}",
            "(".repeat(MAX_NESTING),
            ")".repeat(MAX_NESTING)
        );
        assert!(lex(&ok).is_ok());
        let many = format!("SELECT 1{}", "+1".repeat(MAX_TOKENS));
        assert!(matches!(lex(&many), Err(SqlRejection::Syntax(m)) if m.contains("tokens")));
        let long = format!("SELECT '{}'", "x".repeat(MAX_SQL_BYTES));
        assert!(matches!(lex(&long), Err(SqlRejection::Syntax(m)) if m.contains("bytes")));
        // Comments and whitespace do not count as tokens.
        let spaced = format!("SELECT {} 1", "/* c */ ".repeat(MAX_TOKENS));
        assert!(lex(&spaced).is_ok());
    }

    #[test]
    fn head_tokens_skip_comments_and_read_little() {
        let first = |sql: &str| match head_tokens(sql, 1).unwrap_or_default().first() {
            Some(Token::Word(w)) => w.value.to_ascii_uppercase(),
            _ => String::new(),
        };
        assert_eq!(first("  /* x */ -- y\n create user u"), "CREATE");
        assert_eq!(first(""), "");
        let hostile = format!(
            "CREATE NETWORK POLICY p ALLOWED_IP_LIST = {}",
            "(".repeat(100_000)
        );
        assert_eq!(head_tokens(&hostile, 6).map(|t| t.len()), Some(6));
        let late = format!("/*{}*/ drop user u", "c".repeat(2 * FIRST_KEYWORD_WINDOW));
        assert_eq!(first(&late), "DROP");
        let cut = format!("{}createuser", " ".repeat(FIRST_KEYWORD_WINDOW - 6));
        assert_eq!(first(&cut), "CREATEUSER");
    }
}
