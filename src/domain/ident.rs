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

    pub fn as_ident(&self) -> Ident<'_> {
        Ident(&self.0)
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A borrowed identifier in its stored form, as `&str` is to `String`: how a store is told which
/// user, role or policy it is asked about. It is made from an [`Identifier`], or from a name the
/// service itself wrote (a record's `name`, a session's user), which came from one. Code outside
/// the crate cannot make one from any other text:
///
/// ```compile_fail
/// let name = snowgate::domain::ident::Ident::stored("alice");
/// ```
///
/// ```
/// use snowgate::domain::ident::Identifier;
/// let id = Identifier::from_user_input("alice").unwrap();
/// assert_eq!(id.as_ident().as_str(), "ALICE");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ident<'a>(&'a str);

impl<'a> Ident<'a> {
    /// A name read back from a record or a session, or the configured demo user's: already in
    /// stored form, never request text.
    pub(crate) fn stored(name: &'a str) -> Self {
        Self(name)
    }

    pub fn as_str(self) -> &'a str {
        self.0
    }
}

impl<'a> From<&'a Identifier> for Ident<'a> {
    fn from(id: &'a Identifier) -> Self {
        Self(&id.0)
    }
}

/// A login name as it is compared: case-insensitive, so held upper-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LoginName(String);

impl LoginName {
    pub fn new(raw: &str) -> Self {
        Self(raw.to_uppercase())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The user a login name names when it is that user's own unquoted name (most users): an
    /// unquoted name is stored upper-cased, as the login name is.
    pub fn as_own_name(&self) -> Ident<'_> {
        Ident(&self.0)
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

    #[test]
    fn login_names_compare_upper_cased_and_name_the_unquoted_user() {
        assert_eq!(LoginName::new("Alice.Smith"), LoginName::new("ALICE.smith"));
        assert_eq!(LoginName::new("alice").as_own_name().as_str(), "ALICE");
        let quoted = Identifier::from_user_input("\"alice\"").unwrap();
        assert_ne!(LoginName::new("alice").as_own_name(), quoted.as_ident());
    }
}
