//! Snowflake identifier rules: unquoted names are case-insensitive and stored upper-cased, quoted names
//! keep their case exactly.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identifier(String);

impl Identifier {
    /// An identifier as a user typed it in a connect string: `analytics` → `ANALYTICS`,
    /// `"Mixed"` → `Mixed` (with `""` inside quotes meaning one `"`). `None` for an empty name.
    pub fn from_user_input(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            Some(inner) => Self::from_parsed(&inner.replace("\"\"", "\""), true),
            None => Self::from_parsed(raw, false),
        }
    }

    /// An identifier already split from its quotes by a parser. `None` for a blank one: `" "` names
    /// nothing anybody could log in as or use.
    pub fn from_parsed(value: &str, quoted: bool) -> Option<Self> {
        if value.trim().is_empty() {
            return None;
        }
        Some(Self(if quoted {
            value.to_string()
        } else {
            value.to_uppercase()
        }))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The account a driver names, as it appears in key-pair JWTs and `CURRENT_ACCOUNT()`: the part before
/// the first dot (a region suffix is dropped), upper-cased.
pub fn account_name(raw: &str) -> String {
    raw.split('.')
        .next()
        .unwrap_or_default()
        .trim()
        .to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_rules() {
        assert_eq!(
            Identifier::from_user_input("analytics").unwrap().as_str(),
            "ANALYTICS"
        );
        assert_eq!(
            Identifier::from_user_input("\"Mixed\"").unwrap().as_str(),
            "Mixed"
        );
        assert_eq!(
            Identifier::from_user_input("\"a\"\"b\"").unwrap().as_str(),
            "a\"b"
        );
        assert!(Identifier::from_user_input("  ").is_none());
        assert!(Identifier::from_user_input("\"\"").is_none());
        assert_eq!(account_name("myOrg-acct.us-east-1"), "MYORG-ACCT");
    }
}
