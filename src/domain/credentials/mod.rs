//! Stored credentials and their cryptography, no I/O: passwords, RSA keys, third-party JWT key sets,
//! TOTP, programmatic access tokens and workload identities.

pub mod jwks;
pub mod passwords;
pub mod pats;
pub mod rsa_keys;
pub mod seal;
pub mod totp;
pub mod workload_identity;
