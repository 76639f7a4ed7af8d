//! Password checks. Both sides are hashed first so the comparison takes the same time whatever the
//! lengths, then compared in constant time.

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub fn password_matches(given: &SecretString, expected: &SecretString) -> bool {
    let a = Sha256::digest(given.expose_secret().as_bytes());
    let b = Sha256::digest(expected.expose_secret().as_bytes());
    a.ct_eq(&b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_exactly() {
        let s = |v: &str| SecretString::from(v);
        assert!(password_matches(&s("embucket"), &s("embucket")));
        assert!(!password_matches(&s("Embucket"), &s("embucket")));
        assert!(!password_matches(&s(""), &s("embucket")));
        assert!(!password_matches(&s("embucket "), &s("embucket")));
    }
}
