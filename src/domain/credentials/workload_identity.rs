//! Workload identities of a (service) user: the cloud identities it logs in as with
//! `AUTHENTICATOR=WORKLOAD_IDENTITY`, kept in the [`User`](crate::domain::directory::User) record
//! so that a login is one directory read. The provider-specific part is [`Provider`]: adding a
//! provider is one variant there, one arm in the SQL front end's `workload_identity` and one in the
//! login.

use serde::{Deserialize, Serialize};

/// The name of the identity set through the `WORKLOAD_IDENTITY` user property.
pub const DEFAULT_NAME: &str = "DEFAULT";
/// At most this many identities per user (snowgate's limit; they are read on every WIF login).
pub const MAX_IDENTITIES_PER_USER: usize = 10;
/// Longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 256;
/// Longest ARN accepted (IAM's own limit is 2048; role paths are the long part).
pub const MAX_ARN_CHARS: usize = 2_048;
/// Longest ISSUER URL.
pub const MAX_ISSUER_CHARS: usize = 1_024;
/// Longest OIDC SUBJECT, as Snowflake.
pub const MAX_SUBJECT_CHARS: usize = 255;
/// Most entries of OIDC_AUDIENCE_LIST, and the longest entry.
pub const MAX_AUDIENCES: usize = 16;
pub const MAX_AUDIENCE_CHARS: usize = 1_024;
/// The audience an OIDC token must carry when the identity names none.
pub const DEFAULT_AUDIENCE: &str = "snowflakecomputing.com";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadIdentity {
    pub name: String,
    pub provider: Provider,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default)]
    pub comment: Option<String>,
    pub created_on: u64,
    /// Epoch seconds of the last login through it (0: never).
    #[serde(default)]
    pub last_used: u64,
}

/// What identifies the workload, per provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "UPPERCASE")]
pub enum Provider {
    Aws {
        arn: AwsArn,
        /// Set for the outbound-JWT form (`GetWebIdentityToken`): the JWT's issuer.
        #[serde(default)]
        issuer: Option<String>,
    },
    /// A JWT from any OpenID Connect issuer (GitHub Actions, Trigger.dev, …), verified against the
    /// issuer's published keys: `iss` = `issuer`, `sub` = `subject`, `aud` one of `audiences` (or
    /// [`DEFAULT_AUDIENCE`] when empty).
    Oidc {
        issuer: String,
        subject: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        audiences: Vec<String>,
    },
}

impl Provider {
    /// `TYPE` as written in SQL and sent as `PROVIDER` by drivers.
    pub fn type_name(&self) -> &'static str {
        match self {
            Provider::Aws { .. } => "AWS",
            Provider::Oidc { .. } => "OIDC",
        }
    }

    /// SHOW's `additional_info`, a JSON object.
    pub fn additional_info(&self) -> serde_json::Value {
        match self {
            Provider::Aws { arn, .. } => serde_json::json!({
                "awsPartition": arn.partition,
                "awsAccount": arn.account,
                "type": arn.kind.as_str(),
                "iamRole": arn.name,
            }),
            Provider::Oidc {
                issuer,
                subject,
                audiences,
            } => serde_json::json!({
                "issuer": issuer,
                "subject": subject,
                "audienceList": audiences,
            }),
        }
    }
}

impl Provider {
    /// The name an AWS identity is indexed by ([`AwsArn::index_name`]).
    pub fn aws_index_name(&self) -> Option<String> {
        match self {
            Provider::Aws { arn, .. } => Some(arn.index_name()),
            _ => None,
        }
    }

    /// The `(issuer, subject)` an OIDC identity is found by at login.
    pub fn oidc_key(&self) -> Option<(&str, &str)> {
        match self {
            Provider::Oidc {
                issuer, subject, ..
            } => Some((issuer, subject)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IamKind {
    IamRole,
    IamUser,
}

impl IamKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IamKind::IamRole => "IAM_ROLE",
            IamKind::IamUser => "IAM_USER",
        }
    }
}

/// An IAM role or user ARN, `arn:<partition>:iam::<12 digits>:role/<path/name>` (or `user/…`),
/// validated and split. Paths are kept: two roles of the same name under different paths differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsArn {
    pub partition: String,
    pub account: String,
    pub kind: IamKind,
    /// The path and name after `role/` or `user/`, e.g. `app` or `team/app`.
    pub name: String,
}

const PARTITIONS: [&str; 5] = ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b"];

impl AwsArn {
    /// Parses an IAM role or user ARN; the message says what is wrong (never echoing more than the
    /// bounded ARN itself, which is not a secret).
    pub fn parse(text: &str) -> Result<AwsArn, String> {
        if text.len() > MAX_ARN_CHARS {
            return Err(format!("ARN is longer than {MAX_ARN_CHARS} characters."));
        }
        let bad = || "ARN must look like 'arn:aws:iam::123456789012:role/name' (or ':user/name').";
        let mut parts = text.splitn(6, ':');
        let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(bad().into());
        };
        if !PARTITIONS.contains(&partition) {
            return Err(format!(
                "ARN partition must be one of {}.",
                PARTITIONS.join(", ")
            ));
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err("ARN account must be 12 digits.".into());
        }
        let (kind, name) = match resource.split_once('/') {
            Some(("role", name)) => (IamKind::IamRole, name),
            Some(("user", name)) => (IamKind::IamUser, name),
            _ => return Err(bad().into()),
        };
        if !valid_iam_path(name) {
            return Err(bad().into());
        }
        Ok(AwsArn {
            partition: partition.into(),
            account: account.into(),
            kind,
            name: name.into(),
        })
    }

    /// The identity STS reports (`GetCallerIdentity`'s `<Arn>`) as the IAM ARN a user is bound to:
    /// `arn:<p>:sts::<acct>:assumed-role/<role>/<session>` is the role `arn:<p>:iam::<acct>:role/<role>`
    /// (STS drops the role's path, so only the last path segment of a bound role is compared).
    pub fn from_caller(text: &str) -> Option<AwsArn> {
        if let Ok(arn) = AwsArn::parse(text) {
            return Some(arn);
        }
        let rest = text.strip_prefix("arn:")?;
        let (partition, rest) = rest.split_once(':')?;
        let rest = rest.strip_prefix("sts::")?;
        let (account, resource) = rest.split_once(':')?;
        let role = resource.strip_prefix("assumed-role/")?;
        let (role, _session) = role.split_once('/')?;
        AwsArn::parse(&format!("arn:{partition}:iam::{account}:role/{role}")).ok()
    }

    /// What a bound identity and every caller that [`AwsArn::matches`] it have in common: the ARN
    /// with a role's path dropped (STS names an assumed role without it). The AWS index's name.
    pub fn index_name(&self) -> String {
        let name = match self.kind {
            IamKind::IamRole => self.name.rsplit('/').next().unwrap_or(""),
            IamKind::IamUser => self.name.as_str(),
        };
        AwsArn {
            name: name.to_string(),
            ..self.clone()
        }
        .to_string()
    }

    /// Whether `caller` (from STS) is this identity. An assumed role carries no path, so a bound
    /// role matches by its last segment.
    pub fn matches(&self, caller: &AwsArn) -> bool {
        let last = |n: &str| n.rsplit('/').next().unwrap_or("").to_string();
        self.partition == caller.partition
            && self.account == caller.account
            && self.kind == caller.kind
            && (self.name == caller.name
                || (self.kind == IamKind::IamRole && last(&self.name) == caller.name))
    }
}

impl std::fmt::Display for AwsArn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            IamKind::IamRole => "role",
            IamKind::IamUser => "user",
        };
        write!(
            f,
            "arn:{}:iam::{}:{kind}/{}",
            self.partition, self.account, self.name
        )
    }
}

/// IAM names and paths: `[\w+=,.@-]` segments separated by `/`, none empty.
fn valid_iam_path(name: &str) -> bool {
    !name.is_empty()
        && name.split('/').all(|seg| {
            !seg.is_empty()
                && seg.len() <= 128
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_are_validated_and_split() {
        let arn = AwsArn::parse("arn:aws:iam::123456789012:role/team/app").unwrap();
        assert_eq!(arn.account, "123456789012");
        assert_eq!(arn.kind, IamKind::IamRole);
        assert_eq!(arn.name, "team/app");
        assert_eq!(arn.to_string(), "arn:aws:iam::123456789012:role/team/app");
        let user = AwsArn::parse("arn:aws-cn:iam::123456789012:user/bob").unwrap();
        assert_eq!(user.kind, IamKind::IamUser);
        for bad in [
            "",
            "arn:aws:iam::12345678901:role/app",
            "arn:aws:iam::1234567890123:role/app",
            "arn:aws:iam::12345678901a:role/app",
            "arn:aws:s3::123456789012:role/app",
            "arn:moon:iam::123456789012:role/app",
            "arn:aws:iam::123456789012:group/app",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role/a//b",
            "arn:aws:iam::123456789012:role/a b",
            "arn:aws:iam:us-east-1:123456789012:role/app",
        ] {
            assert!(AwsArn::parse(bad).is_err(), "{bad}");
        }
        let long = format!("arn:aws:iam::123456789012:role/{}", "a/".repeat(2_000));
        assert!(AwsArn::parse(&long).is_err());
    }

    #[test]
    fn assumed_roles_map_to_their_role() {
        let caller =
            AwsArn::from_caller("arn:aws:sts::123456789012:assumed-role/app/session-1").unwrap();
        assert_eq!(caller.to_string(), "arn:aws:iam::123456789012:role/app");
        let bound = AwsArn::parse("arn:aws:iam::123456789012:role/team/app").unwrap();
        assert!(bound.matches(&caller));
        let other = AwsArn::from_caller("arn:aws:sts::210987654321:assumed-role/app/s").unwrap();
        assert!(!bound.matches(&other));
        let user = AwsArn::from_caller("arn:aws:iam::123456789012:user/app").unwrap();
        assert!(!bound.matches(&user));
        assert!(AwsArn::from_caller("arn:aws:sts::123456789012:federated-user/x").is_none());
    }

    #[test]
    fn additional_info_names_the_parts() {
        let p = Provider::Aws {
            arn: AwsArn::parse("arn:aws:iam::123456789012:role/app").unwrap(),
            issuer: None,
        };
        assert_eq!(
            p.additional_info(),
            serde_json::json!({"awsPartition": "aws", "awsAccount": "123456789012",
                "type": "IAM_ROLE", "iamRole": "app"})
        );
    }
}
