//! Which login method a login asks for, from its AUTHENTICATOR (any case), its PROVIDER, and, for
//! the Go driver's OAuth flows (no AUTHENTICATOR), the fields it sends. Pure: it reads nothing and
//! checks no credential; `Gatekeeper` runs the method it picks.

use crate::domain::policy::AuthMethod;
use crate::error::{Error, Result};

/// What [`pick`] reads of a login.
#[derive(Debug, Clone, Copy, Default)]
pub struct Asked<'a> {
    pub authenticator: Option<&'a str>,
    pub provider: Option<&'a str>,
    /// `CLIENT_ENVIRONMENT.OAUTH_TYPE` was sent.
    pub oauth_flow: bool,
    /// A TOKEN was sent.
    pub token: bool,
    /// A PASSWORD was sent.
    pub password: bool,
}

/// The PROVIDER of a workload identity login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadProvider {
    Aws,
    Oidc,
}

/// The login method picked, with what running it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Picked {
    /// AUTHENTICATOR absent, empty, `SNOWFLAKE`, or `USERNAME_PASSWORD_MFA` (Node names its MFA
    /// logins; the other drivers send none): a password, or a PAT given as the password.
    Password,
    /// `SNOWFLAKE_JWT`.
    KeyPair,
    /// `PROGRAMMATIC_ACCESS_TOKEN`.
    Pat,
    /// `OAUTH`, or Go's form: no AUTHENTICATOR, a TOKEN, no PASSWORD, `OAUTH_TYPE` sent.
    Oauth,
    /// `WORKLOAD_IDENTITY`, by its PROVIDER (`None`: missing or not supported, which the login
    /// refuses as a workload identity login).
    WorkloadIdentity(Option<WorkloadProvider>),
}

impl Picked {
    /// The method, as policies, the audit trail and the login history name it.
    pub fn method(self) -> AuthMethod {
        match self {
            Picked::Password => AuthMethod::Password,
            Picked::KeyPair => AuthMethod::Keypair,
            Picked::Pat => AuthMethod::ProgrammaticAccessToken,
            Picked::Oauth => AuthMethod::Oauth,
            Picked::WorkloadIdentity(_) => AuthMethod::WorkloadIdentity,
        }
    }

    /// Whether the credential, not LOGIN_NAME, says who logs in (OAuth, workload identity).
    pub fn credential_names_user(self) -> bool {
        matches!(self, Picked::Oauth | Picked::WorkloadIdentity(_))
    }
}

/// The method a login asks for, or the 390400 refusal of an AUTHENTICATOR not supported.
pub fn pick(asked: &Asked<'_>) -> Result<Picked> {
    let go_oauth = asked.oauth_flow && asked.token && !asked.password;
    let authenticator = asked.authenticator.map(str::to_ascii_uppercase);
    Ok(match authenticator.as_deref() {
        None | Some("") if go_oauth => Picked::Oauth,
        Some("OAUTH") => Picked::Oauth,
        None | Some("") | Some("SNOWFLAKE") | Some("USERNAME_PASSWORD_MFA") => Picked::Password,
        Some("SNOWFLAKE_JWT") => Picked::KeyPair,
        Some("PROGRAMMATIC_ACCESS_TOKEN") => Picked::Pat,
        Some("WORKLOAD_IDENTITY") => Picked::WorkloadIdentity(provider(asked.provider)),
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "Authenticator '{other}' is not supported."
            )));
        }
    })
}

fn provider(given: Option<&str>) -> Option<WorkloadProvider> {
    match given.map(str::to_ascii_uppercase).as_deref() {
        Some("AWS") => Some(WorkloadProvider::Aws),
        Some("OIDC") => Some(WorkloadProvider::Oidc),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with<'a>(authenticator: Option<&'a str>, provider: Option<&'a str>) -> Asked<'a> {
        Asked {
            authenticator,
            provider,
            ..Asked::default()
        }
    }

    #[test]
    fn each_authenticator_picks_its_method() {
        use Picked::*;
        use WorkloadProvider::*;
        let table: &[(Option<&str>, Option<&str>, Picked)] = &[
            (None, None, Password),
            (Some(""), None, Password),
            (Some("SNOWFLAKE"), None, Password),
            (Some("snowflake"), None, Password),
            (Some("USERNAME_PASSWORD_MFA"), None, Password),
            (Some("username_password_mfa"), None, Password),
            (Some("SNOWFLAKE_JWT"), None, KeyPair),
            (Some("snowflake_jwt"), None, KeyPair),
            (Some("PROGRAMMATIC_ACCESS_TOKEN"), None, Pat),
            (Some("Programmatic_Access_Token"), None, Pat),
            (Some("OAUTH"), None, Oauth),
            (Some("oauth"), None, Oauth),
            (
                Some("WORKLOAD_IDENTITY"),
                Some("AWS"),
                WorkloadIdentity(Some(Aws)),
            ),
            (
                Some("WORKLOAD_IDENTITY"),
                Some("aws"),
                WorkloadIdentity(Some(Aws)),
            ),
            (
                Some("WORKLOAD_IDENTITY"),
                Some("OIDC"),
                WorkloadIdentity(Some(Oidc)),
            ),
            (
                Some("workload_identity"),
                Some("Oidc"),
                WorkloadIdentity(Some(Oidc)),
            ),
            (
                Some("WORKLOAD_IDENTITY"),
                Some("AZURE"),
                WorkloadIdentity(None),
            ),
            (Some("WORKLOAD_IDENTITY"), None, WorkloadIdentity(None)),
            // PROVIDER only matters to workload identity.
            (Some("SNOWFLAKE"), Some("AWS"), Password),
        ];
        for (authenticator, provider, want) in table {
            let got = pick(&with(*authenticator, *provider)).ok();
            assert_eq!(got, Some(*want), "{authenticator:?} {provider:?}");
        }
    }

    #[test]
    fn go_sends_oauth_as_a_token_with_oauth_type_and_no_authenticator() {
        let go = |authenticator, oauth_flow, token, password| {
            pick(&Asked {
                authenticator,
                oauth_flow,
                token,
                password,
                ..Asked::default()
            })
            .ok()
        };
        assert_eq!(go(None, true, true, false), Some(Picked::Oauth));
        assert_eq!(go(Some(""), true, true, false), Some(Picked::Oauth));
        // Not Go's form: a password login as before.
        assert_eq!(go(None, false, true, false), Some(Picked::Password));
        assert_eq!(go(None, true, false, false), Some(Picked::Password));
        assert_eq!(go(None, true, true, true), Some(Picked::Password));
        // An AUTHENTICATOR wins over OAUTH_TYPE.
        assert_eq!(
            go(Some("SNOWFLAKE"), true, true, false),
            Some(Picked::Password)
        );
        assert_eq!(
            go(Some("SNOWFLAKE_JWT"), true, true, false),
            Some(Picked::KeyPair)
        );
    }

    #[test]
    fn an_unknown_authenticator_is_refused_as_today() {
        for (given, named) in [
            ("EXTERNALBROWSER", "EXTERNALBROWSER"),
            ("https://okta.example", "HTTPS://OKTA.EXAMPLE"),
            (" SNOWFLAKE", " SNOWFLAKE"),
        ] {
            let err = pick(&with(Some(given), None)).unwrap_err();
            let want = format!("Authenticator '{named}' is not supported.");
            assert!(
                matches!(&err, Error::BadRequest(m) if *m == want),
                "{given}: {err:?}"
            );
            assert_eq!(crate::snowflake::codes::of(&err), "390400");
        }
    }

    #[test]
    fn the_picked_method_names_itself_alike_everywhere() {
        let names = |p: Picked| {
            let m = p.method();
            (m.policy_name(), m.audit_name(), m.history_factor())
        };
        let pw = ("PASSWORD", Some("password"), Some("PASSWORD"));
        assert_eq!(names(Picked::Password), pw);
        let kp = ("KEYPAIR", Some("key_pair"), Some("RSA_KEYPAIR"));
        assert_eq!(names(Picked::KeyPair), kp);
        let pat = "PROGRAMMATIC_ACCESS_TOKEN";
        assert_eq!(names(Picked::Pat), (pat, Some("pat"), Some(pat)));
        let oauth = ("OAUTH", Some("oauth"), Some("OAUTH_ACCESS_TOKEN"));
        assert_eq!(names(Picked::Oauth), oauth);
        let wif = "WORKLOAD_IDENTITY";
        let wif_names = (wif, Some("workload_identity"), Some(wif));
        assert_eq!(names(Picked::WorkloadIdentity(None)), wif_names);
    }
}
