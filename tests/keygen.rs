//! `snowgate keygen` end to end: the real binary, its private key in a Secrets Manager secret on
//! moto_server or in a new file, and never on stdout or stderr.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::aws;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
use rsa::{RsaPrivateKey, RsaPublicKey};
use snowgate::domain::keys::{fingerprint, parse_public_key};

/// A finished `snowgate keygen` run.
struct Run {
    output: Output,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(&self) -> bool {
        self.output.status.success()
    }

    fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    /// The value of a labelled stdout line (`public_key: …`).
    fn field(&self, label: &str) -> &str {
        let prefix = format!("{label}: ");
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no {label} line in stdout:\n{}", self.stdout))
    }

    fn describe(&self) -> String {
        format!(
            "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.output.status, self.stdout, self.stderr
        )
    }
}

/// Runs the binary against `endpoint` with moto's dummy credentials, and `RUST_LOG=trace` so that
/// anything the SDK or snowgate logs is checked for key material too.
fn keygen(endpoint: &str, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_snowgate"))
        .arg("keygen")
        .args(args)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env_remove("AWS_ENDPOINT_URL_SECRETS_MANAGER")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env("AWS_CONFIG_FILE", "/nonexistent/snowgate-test-aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/snowgate-test-aws-credentials",
        )
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("RUST_LOG", "trace")
        .output()
        .expect("run snowgate keygen");
    Run {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        output,
    }
}

async fn secrets_client() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&aws::sdk_config().await)
}

async fn secret_version(client: &aws_sdk_secretsmanager::Client, id: &str, stage: &str) -> String {
    client
        .get_secret_value()
        .secret_id(id)
        .version_stage(stage)
        .send()
        .await
        .unwrap_or_else(|e| panic!("read {stage} of {id}: {}", snowgate::aws::describe(&e)))
        .secret_string
        .unwrap_or_else(|| panic!("{stage} of {id} has no secret string"))
}

/// The public half of a PKCS#8 PEM private key, as base64 DER, and its fingerprint.
fn public_of(pem: &str) -> (String, String) {
    let private = RsaPrivateKey::from_pkcs8_pem(pem).expect("a PKCS#8 PEM RSA private key");
    let der = RsaPublicKey::from(&private).to_public_key_der().unwrap();
    (STANDARD.encode(der.as_bytes()), fingerprint(der.as_bytes()))
}

/// Checks that a run printed exactly the public half of `pem`, in a form snowgate itself accepts.
fn assert_prints_public_half_of(run: &Run, pem: &str) {
    let (b64, fp) = public_of(pem);
    assert_eq!(run.field("public_key"), b64, "{}", run.describe());
    assert_eq!(run.field("fingerprint"), fp, "{}", run.describe());
    let parsed = parse_public_key(run.field("public_key")).expect("snowgate accepts the key");
    assert_eq!(parsed.fingerprint, fp);
}

/// Neither stream holds the PEM armour or any line of the PEM body.
fn assert_no_key_material(run: &Run, pem: &str) {
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(!text.contains("PRIVATE KEY"), "{name} shows a private key");
        for line in pem
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        {
            assert!(
                !text.contains(line),
                "{name} holds a line of the private key"
            );
        }
    }
}

/// For runs whose key was never kept: no armour and nothing that looks like a base64 key body (64
/// base64 characters in a row). Lower-case hex runs are the SDK's trace-logged SigV4 signatures and
/// hashes, not keys.
fn assert_no_key_like_text(run: &Run) {
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(!text.contains("PRIVATE KEY"), "{name}: {text}");
        let key_like = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '='))
            .filter(|w| w.len() >= 64)
            .find(|w| !w.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')));
        assert!(
            key_like.is_none(),
            "{name} holds key-like text {key_like:?}"
        );
    }
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(aws::unique("snowgate-keygen"));
    std::fs::create_dir(&dir).expect("create temp dir");
    dir
}

#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test runs it (or export SNOWGATE_TEST_AWS_ENDPOINT and add -- --include-ignored)"]
async fn stores_the_private_key_in_a_new_secret_then_in_a_new_version() {
    let endpoint = aws::endpoint();
    let client = secrets_client().await;
    let id = aws::unique("snowgate-keygen");

    // 1. The secret does not exist yet: created, holding the key whose public half was printed.
    let first = keygen(&endpoint, &["--secret-id", &id, "--user", "svc_user"]);
    assert!(first.ok(), "{}", first.describe());
    let pem1 = secret_version(&client, &id, "AWSCURRENT").await;
    assert!(pem1.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    assert_prints_public_half_of(&first, &pem1);
    let b64 = first.field("public_key");
    assert_eq!(
        first.field("sql"),
        format!("ALTER USER svc_user SET RSA_PUBLIC_KEY='{b64}';")
    );
    assert!(
        first
            .stdout
            .contains(&format!("ALTER USER svc_user SET RSA_PUBLIC_KEY='{b64}';"))
    );
    assert_eq!(first.stdout.lines().count(), 3, "{}", first.describe());
    assert!(first.stderr.contains(&id), "{}", first.describe());
    assert_no_key_material(&first, &pem1);

    // 2. Again: a new version; AWSCURRENT is the new key, AWSPREVIOUS the first.
    let second = keygen(&endpoint, &["--secret-id", &id]);
    assert!(second.ok(), "{}", second.describe());
    let pem2 = secret_version(&client, &id, "AWSCURRENT").await;
    assert_ne!(pem2, pem1);
    assert_eq!(secret_version(&client, &id, "AWSPREVIOUS").await, pem1);
    assert_prints_public_half_of(&second, &pem2);
    assert_ne!(second.field("public_key"), first.field("public_key"));
    assert_ne!(second.field("fingerprint"), first.field("fingerprint"));
    assert!(!second.stdout.contains("sql:"), "{}", second.describe());
    assert_no_key_material(&second, &pem2);
    assert_no_key_material(&second, &pem1);
}

#[test]
fn writes_the_private_key_to_a_new_0600_file_and_never_over_one() {
    let dir = temp_dir();
    let path = dir.join("k.pem");
    let path_str = path.to_str().unwrap();
    // No AWS is needed for a file; a closed port proves none is contacted.
    let run = keygen("http://127.0.0.1:9", &["--out", path_str]);
    assert!(run.ok(), "{}", run.describe());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "key file mode {mode:o}");
    let pem = std::fs::read_to_string(&path).unwrap();
    assert_prints_public_half_of(&run, &pem);
    assert_no_key_material(&run, &pem);

    let again = keygen("http://127.0.0.1:9", &["--out", path_str]);
    assert!(!again.ok(), "{}", again.describe());
    assert!(again.stdout.is_empty(), "{}", again.describe());
    assert!(
        again.stderr.contains("already exists"),
        "{}",
        again.describe()
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), pem, "file changed");
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn refuses_to_run_without_a_destination_or_with_a_small_key() {
    let none = keygen("http://127.0.0.1:9", &["--user", "svc_user"]);
    assert!(!none.ok(), "{}", none.describe());
    assert_eq!(none.code(), Some(2), "{}", none.describe());
    assert!(none.stdout.is_empty(), "{}", none.describe());
    assert!(
        none.stderr.contains("--secret-id") && none.stderr.contains("--out"),
        "{}",
        none.describe()
    );

    let dir = temp_dir();
    let path = dir.join("small.pem");
    let small = keygen(
        "http://127.0.0.1:9",
        &["--bits", "1024", "--out", path.to_str().unwrap()],
    );
    assert!(!small.ok(), "{}", small.describe());
    assert!(small.stdout.is_empty(), "{}", small.describe());
    assert!(small.stderr.contains("2048"), "{}", small.describe());
    assert!(!path.exists(), "a refused run wrote a key file");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_secret_store_failure_names_the_secret_and_shows_no_key() {
    let dir = temp_dir();
    let path = dir.join("k.pem");
    let id = aws::unique("snowgate-keygen-unreachable");
    // Port 9 (discard) is closed on the test machines: every SDK call fails to connect.
    let run = keygen(
        "http://127.0.0.1:9",
        &["--secret-id", &id, "--out", path.to_str().unwrap()],
    );
    assert!(!run.ok(), "{}", run.describe());
    assert_eq!(run.code(), Some(1), "{}", run.describe());
    assert!(run.stdout.is_empty(), "{}", run.describe());
    assert!(run.stderr.contains(&id), "{}", run.describe());
    assert!(
        run.stderr.contains("connection failed"),
        "{}",
        run.describe()
    );
    assert_no_key_like_text(&run);
    // All or nothing: the key file written before the failed store is gone.
    assert!(!path.exists(), "{}", run.describe());
    std::fs::remove_dir_all(&dir).unwrap();
}
