//! `snowgate keygen`: makes an RSA key pair for key-pair login and hands the private half only to a
//! place that keeps it (a Secrets Manager secret, a new 0600 file, or both). What it prints is public:
//! the key as Snowflake's `RSA_PUBLIC_KEY` takes it (base64 DER of the SubjectPublicKeyInfo), its
//! `SHA256:` fingerprint, and optionally the `ALTER USER` statement that registers it.
//!
//! The private key never reaches stdout, stderr or the logs, not even in an error: every error below
//! names a secret id, a path or a failure kind, never key material.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use aws_sdk_secretsmanager::Client;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::pkcs8::der::zeroize::Zeroizing;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::rand_core::OsRng;
use rsa::{RsaPrivateKey, RsaPublicKey};
use thiserror::Error;

use crate::aws::describe;
use crate::domain::keys::{MIN_KEY_BITS, fingerprint};

/// The default key size: Snowflake's minimum, and quick to generate.
pub const DEFAULT_BITS: usize = 2048;
/// The largest key offered: snowgate (like the `rsa` crate's public-key parser it uses) refuses
/// public keys over 4096 bits, so a larger key could never be used to log in.
pub const MAX_BITS: usize = 4096;

/// The command line of `snowgate keygen`; `main.rs` only mounts it as a subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Key size in bits (2048 to 4096).
    #[arg(long, default_value_t = DEFAULT_BITS)]
    pub bits: usize,
    /// Secrets Manager secret (name or ARN) to store the private key PEM in: a new version when the
    /// secret exists, a new secret otherwise.
    #[arg(long, value_name = "ID")]
    pub secret_id: Option<String>,
    /// New file to write the private key PEM to (mode 0600; an existing file is never overwritten).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also print the `ALTER USER <NAME> SET RSA_PUBLIC_KEY='…';` statement for this user.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
}

#[derive(Debug, Error)]
pub enum KeygenError {
    #[error(
        "--bits {bits} is out of range: keys must have at least {MIN_KEY_BITS} bits (Snowflake's minimum) and at most {MAX_BITS}"
    )]
    Bits { bits: usize },
    /// Without a destination the private key would be printed or lost; neither is acceptable.
    #[error(
        "nowhere to keep the private key: pass --secret-id ID, --out FILE, or both (it is never printed)"
    )]
    NoDestination,
    #[error("--user must not be empty")]
    EmptyUser,
    #[error("{path} already exists; keygen never overwrites a file")]
    FileExists { path: String },
    #[error("could not write {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    /// `rsa` errors describe the failure, not the key.
    #[error("key generation failed: {0}")]
    Generate(String),
    #[error("secret {secret_id} could not be written: {reason}{}", file_note(.removed_file))]
    Secret {
        secret_id: String,
        reason: String,
        /// The `--out` file written earlier in this run and removed again, so a failed run leaves
        /// no stray key behind.
        removed_file: Option<String>,
    },
}

fn file_note(removed: &Option<String>) -> String {
    removed
        .as_ref()
        .map(|p| format!(" (the new key file {p} was removed again)"))
        .unwrap_or_default()
}

impl KeygenError {
    /// 2 for a bad command line (as clap's own usage errors), 1 for a failure while doing the work.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Bits { .. } | Self::NoDestination | Self::EmptyUser => 2,
            _ => 1,
        }
    }
}

/// A fresh key pair. The private half exists only as PKCS#8 PEM in a buffer that is zeroed on drop;
/// `Debug` leaves it out.
pub struct KeyPair {
    private_pem: Zeroizing<String>,
    /// DER SubjectPublicKeyInfo.
    pub public_der: Vec<u8>,
    /// `public_der` in base64, one line: what `RSA_PUBLIC_KEY = '…'` takes.
    pub public_base64: String,
    /// `SHA256:<base64>`, as Snowflake shows in `RSA_PUBLIC_KEY_FP` and drivers put in the JWT `iss`.
    pub fingerprint: String,
}

impl KeyPair {
    /// The private key as PKCS#8 PEM. Only for writing it to its destination.
    pub fn private_key_pem(&self) -> &str {
        &self.private_pem
    }
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("private_pem", &"[redacted]")
            .field("public_base64", &self.public_base64)
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

/// Checks the key size before any work: [`MIN_KEY_BITS`] to [`MAX_BITS`].
pub fn check_bits(bits: usize) -> Result<(), KeygenError> {
    if (MIN_KEY_BITS..=MAX_BITS).contains(&bits) {
        Ok(())
    } else {
        Err(KeygenError::Bits { bits })
    }
}

/// Generates an RSA key pair of `bits` bits from the OS random source.
pub fn generate(bits: usize) -> Result<KeyPair, KeygenError> {
    check_bits(bits)?;
    let private =
        RsaPrivateKey::new(&mut OsRng, bits).map_err(|e| KeygenError::Generate(e.to_string()))?;
    let private_pem = private
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| KeygenError::Generate(format!("PKCS#8 encoding: {e}")))?;
    let public = RsaPublicKey::from(&private);
    // The same rule logins apply, so keygen can never hand out a key the service would refuse.
    crate::domain::keys::check_strength(&public).map_err(KeygenError::Generate)?;
    let public_der = public
        .to_public_key_der()
        .map_err(|e| KeygenError::Generate(format!("SPKI encoding: {e}")))?
        .into_vec();
    Ok(KeyPair {
        private_pem,
        public_base64: STANDARD.encode(&public_der),
        fingerprint: fingerprint(&public_der),
        public_der,
    })
}

/// Writes `pem` to a file that must not exist yet, readable by its owner only. `create_new` makes
/// the existence check and the creation one step, so a key is never written over another file (or
/// through a symlink planted there). A half-written file is removed.
pub fn write_new_file(path: &Path, pem: &str) -> Result<(), KeygenError> {
    let shown = path.display().to_string();
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::AlreadyExists => KeygenError::FileExists {
                path: shown.clone(),
            },
            _ => KeygenError::File {
                path: shown.clone(),
                source,
            },
        })?;
    if let Err(source) = file
        .write_all(pem.as_bytes())
        .and_then(|()| file.sync_all())
    {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(KeygenError::File {
            path: shown,
            source,
        });
    }
    Ok(())
}

/// Where a secret write went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSecret {
    /// `true` when the secret did not exist and was created.
    pub created: bool,
    pub version_id: Option<String>,
}

/// Stores `pem` as the secret string of `secret_id`: a new version (which becomes AWSCURRENT, the
/// old one AWSPREVIOUS) when the secret exists, a new secret when it does not. PutSecretValue is
/// tried first, so an existing secret costs one call; the SDK fills in the idempotency token, so its
/// retries never add a second version.
pub async fn store_in_secret(
    client: &Client,
    secret_id: &str,
    pem: &str,
) -> Result<StoredSecret, KeygenError> {
    let failed = |reason: String| KeygenError::Secret {
        secret_id: secret_id.to_string(),
        reason,
        removed_file: None,
    };
    match put(client, secret_id, pem).await {
        Ok(v) => return Ok(v),
        Err(e)
            if !e
                .as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            return Err(failed(describe(&e)));
        }
        Err(_) => {}
    }
    let created = client
        .create_secret()
        .name(secret_id)
        .description("RSA private key (PKCS#8 PEM) made by snowgate keygen")
        .secret_string(pem)
        .send()
        .await;
    match created {
        Ok(out) => Ok(StoredSecret {
            created: true,
            version_id: out.version_id,
        }),
        // Someone created it between our two calls: it exists now, so add our version to it.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_exists_exception()) =>
        {
            put(client, secret_id, pem)
                .await
                .map_err(|e| failed(describe(&e)))
        }
        Err(e) => Err(failed(describe(&e))),
    }
}

async fn put(
    client: &Client,
    secret_id: &str,
    pem: &str,
) -> Result<
    StoredSecret,
    aws_sdk_secretsmanager::error::SdkError<
        aws_sdk_secretsmanager::operation::put_secret_value::PutSecretValueError,
    >,
> {
    let out = client
        .put_secret_value()
        .secret_id(secret_id)
        .secret_string(pem)
        .send()
        .await?;
    Ok(StoredSecret {
        created: false,
        version_id: out.version_id,
    })
}

/// What a successful run shows. Everything here is public.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub public_key: String,
    pub fingerprint: String,
    pub sql: Option<String>,
    /// Where the private key went, for stderr.
    pub notes: Vec<String>,
}

impl Output {
    /// The stdout text: labelled lines, the public key on one line so it can be copied whole.
    pub fn stdout(&self) -> String {
        let mut s = format!(
            "public_key: {}\nfingerprint: {}\n",
            self.public_key, self.fingerprint
        );
        if let Some(sql) = &self.sql {
            s.push_str(&format!("sql: {sql}\n"));
        }
        s
    }
}

/// `ALTER USER <user> SET RSA_PUBLIC_KEY='<key>';`. A name that is not a plain (or already quoted)
/// Snowflake identifier is double-quoted, so whatever was passed cannot change the statement.
pub fn alter_user_sql(user: &str, public_base64: &str) -> String {
    format!(
        "ALTER USER {} SET RSA_PUBLIC_KEY='{public_base64}';",
        sql_identifier(user)
    )
}

fn sql_identifier(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    let quoted = name.len() > 2
        && name.starts_with('"')
        && name.ends_with('"')
        && !name[1..name.len() - 1].replace("\"\"", "").contains('"');
    if plain || quoted {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// The whole command: checks the arguments, generates the key, writes the file (before anything is
/// printed, so a key is never shown without being kept), then stores the secret.
pub async fn run(args: &Args) -> Result<Output, KeygenError> {
    let client = match &args.secret_id {
        Some(_) => Some(Client::new(&crate::aws::sdk_config().await)),
        None => None,
    };
    run_with(args, client.as_ref()).await
}

/// [`run`] with the Secrets Manager client given (required when `args.secret_id` is set).
pub async fn run_with(args: &Args, secrets: Option<&Client>) -> Result<Output, KeygenError> {
    check_bits(args.bits)?;
    if args.secret_id.is_none() && args.out.is_none() {
        return Err(KeygenError::NoDestination);
    }
    if args.user.as_deref().is_some_and(|u| u.trim().is_empty()) {
        return Err(KeygenError::EmptyUser);
    }
    // A cheap early check so an existing file fails before seconds of key generation;
    // `write_new_file` is what actually guarantees it.
    if let Some(path) = &args.out
        && path.symlink_metadata().is_ok()
    {
        return Err(KeygenError::FileExists {
            path: path.display().to_string(),
        });
    }

    // Generation is CPU-bound (seconds for big keys): keep it off the async workers.
    let bits = args.bits;
    let pair = tokio::task::spawn_blocking(move || generate(bits))
        .await
        .map_err(|e| KeygenError::Generate(e.to_string()))??;

    let mut notes = Vec::new();
    if let Some(path) = &args.out {
        write_new_file(path, pair.private_key_pem())?;
        notes.push(format!(
            "private key written to {} (mode 0600)",
            path.display()
        ));
    }
    if let Some(secret_id) = &args.secret_id {
        let client =
            secrets.expect("run_with: a Secrets Manager client is required with secret_id");
        match store_in_secret(client, secret_id, pair.private_key_pem()).await {
            Ok(stored) => notes.push(format!(
                "private key stored in secret {secret_id} ({}{})",
                if stored.created {
                    "new secret"
                } else {
                    "new version"
                },
                stored
                    .version_id
                    .map(|v| format!(", version {v}"))
                    .unwrap_or_default()
            )),
            Err(KeygenError::Secret {
                secret_id, reason, ..
            }) => {
                // All or nothing: a run that fails prints no public key, so a key file it wrote would
                // hold a key nobody registers. Remove it.
                let removed_file = args
                    .out
                    .as_ref()
                    .filter(|p| std::fs::remove_file(p).is_ok())
                    .map(|p| p.display().to_string());
                return Err(KeygenError::Secret {
                    secret_id,
                    reason,
                    removed_file,
                });
            }
            Err(e) => return Err(e),
        }
    }

    Ok(Output {
        sql: args
            .user
            .as_deref()
            .map(|u| alter_user_sql(u, &pair.public_base64)),
        public_key: pair.public_base64.clone(),
        fingerprint: pair.fingerprint.clone(),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::keys::parse_public_key;
    use rsa::pkcs8::DecodePrivateKey;

    #[test]
    fn generated_key_round_trips_and_matches_its_fingerprint() {
        let pair = generate(2048).unwrap();
        let parsed = parse_public_key(&pair.public_base64).expect("snowgate accepts the key");
        assert_eq!(parsed.fingerprint, pair.fingerprint);
        assert_eq!(parsed.base64_der, pair.public_base64);
        assert!(pair.fingerprint.starts_with("SHA256:"));
        assert!(!pair.public_base64.contains('\n'));

        let private = RsaPrivateKey::from_pkcs8_pem(pair.private_key_pem()).unwrap();
        let der = RsaPublicKey::from(&private).to_public_key_der().unwrap();
        assert_eq!(der.as_bytes(), pair.public_der.as_slice());

        let debug = format!("{pair:?}");
        assert!(!debug.contains("PRIVATE KEY"), "{debug}");

        // The file writer: 0600, and never over an existing file.
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("snowgate-keygen-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&dir).unwrap();
        let path = dir.join("k.pem");
        write_new_file(&path, pair.private_key_pem()).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(matches!(
            write_new_file(&path, "other"),
            Err(KeygenError::FileExists { .. })
        ));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            pair.private_key_pem()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bits_out_of_range_are_refused_before_any_work() {
        for bits in [0, 512, 1024, 2047, 4097, 8192] {
            let err = generate(bits).unwrap_err();
            assert!(err.to_string().contains("2048"), "{err}");
            assert_eq!(err.exit_code(), 2);
        }
        for bits in [2048, 3072, 4096] {
            check_bits(bits).unwrap();
        }
    }

    #[test]
    fn generated_keys_have_exactly_the_bits_asked_and_exponent_65537() {
        use rsa::pkcs8::DecodePublicKey;
        use rsa::traits::PublicKeyParts;
        for bits in [2048, 2049] {
            let pair = generate(bits).unwrap();
            let public = RsaPublicKey::from_public_key_der(&pair.public_der).unwrap();
            assert_eq!(public.n().bits(), bits);
            assert_eq!(*public.e(), rsa::BigUint::from(65_537u32));
            assert!(crate::domain::keys::parse_public_key(&pair.public_base64).is_ok());
        }
    }

    #[tokio::test]
    async fn a_destination_is_required() {
        let args = Args {
            bits: 2048,
            secret_id: None,
            out: None,
            user: Some("u".into()),
        };
        let err = run_with(&args, None).await.unwrap_err();
        assert!(matches!(err, KeygenError::NoDestination));
        assert!(err.to_string().contains("--secret-id"));
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn user_names_cannot_escape_the_statement() {
        assert_eq!(
            alter_user_sql("svc_user", "AAA"),
            "ALTER USER svc_user SET RSA_PUBLIC_KEY='AAA';"
        );
        assert_eq!(
            alter_user_sql("\"Mixed\"", "AAA"),
            "ALTER USER \"Mixed\" SET RSA_PUBLIC_KEY='AAA';"
        );
        assert_eq!(
            alter_user_sql("a; DROP USER b", "AAA"),
            "ALTER USER \"a; DROP USER b\" SET RSA_PUBLIC_KEY='AAA';"
        );
        assert_eq!(sql_identifier("x\"y"), "\"x\"\"y\"");
        assert_eq!(sql_identifier("\"a\"b\""), "\"\"\"a\"\"b\"\"\"");
        assert_eq!(sql_identifier("svc-user"), "\"svc-user\"");
        assert_eq!(sql_identifier("1abc"), "\"1abc\"");
    }

    #[test]
    fn output_has_labelled_lines() {
        let out = Output {
            public_key: "AAA".into(),
            fingerprint: "SHA256:xyz".into(),
            sql: Some(alter_user_sql("u", "AAA")),
            notes: vec!["private key stored".into()],
        };
        assert_eq!(
            out.stdout(),
            "public_key: AAA\nfingerprint: SHA256:xyz\nsql: ALTER USER u SET RSA_PUBLIC_KEY='AAA';\n"
        );
    }
}
