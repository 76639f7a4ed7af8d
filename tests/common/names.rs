//! Names as the store and the directory take them, for tests that reach below the SQL front end.
//! Each is made the way the service makes it, so a test cannot hand a store a name the service
//! never would.

use snowgate::domain::ident::{Identifier, LoginName};
use snowgate::store::{CounterName, NamedKind, ObjectKey};

/// An identifier as SQL writes it: `ALICE` or `alice` (both `ALICE`), `"alice"` (quoted, kept).
pub fn ident(sql: &str) -> Identifier {
    Identifier::from_user_input(sql).expect("a test names something")
}

/// A user, role, policy or integration named as SQL writes it.
pub struct Named(NamedKind, Identifier);

pub fn named(kind: NamedKind, sql: &str) -> Named {
    Named(kind, ident(sql))
}

impl Named {
    pub fn key(&self) -> ObjectKey<'_> {
        ObjectKey::named(self.0, self.1.as_ident())
    }
}

/// The failed-login counter of a login name.
pub fn counter(login: &str) -> CounterName {
    CounterName::login(&LoginName::new(login))
}
