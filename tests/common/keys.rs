//! Real RSA key pairs for key-pair login tests.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::EncodePublicKey;
use snowgate::domain::keys::fingerprint;

/// An RSA key pair as a test needs it: the PKCS#1 DER to sign with, the public key as
/// `RSA_PUBLIC_KEY` takes it, and its fingerprint.
pub struct TestKey {
    pub pkcs1_der: Vec<u8>,
    pub spki_der: Vec<u8>,
    pub public_b64: String,
    pub fp: String,
}

impl TestKey {
    /// A new 2048-bit key: slow (tenths of a second), so tests make theirs once per binary.
    pub fn generate() -> Self {
        let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key");
        let spki_der = private
            .to_public_key()
            .to_public_key_der()
            .expect("SPKI DER")
            .as_bytes()
            .to_vec();
        TestKey {
            pkcs1_der: private.to_pkcs1_der().expect("PKCS#1").as_bytes().to_vec(),
            public_b64: STANDARD.encode(&spki_der),
            fp: fingerprint(&spki_der),
            spki_der,
        }
    }
}
