//! `POST /oauth/token` as Snowpark Container Services clients call it: a key-pair JWT
//! (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`, `assertion`) or a PAT
//! (`…:token-exchange`, `subject_token`, `subject_token_type=programmatic_access_token`) for a
//! short-lived token bound to one endpoint host and role (`scope=[session:role:<ROLE> ]<host>`).
//! Here the form is read into an [`Exchange`]; the gatekeeper proves the credential like any
//! request's ([`super::Access`]) and mints the token.

use secrecy::SecretString;

use super::Declared;

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// How long an exchanged token works. Snowflake does not document its own; clients read the
/// token's `exp` (ex_spcs_token) or assume five minutes (snowflakeauth), so ten minutes serves both,
/// and a revoked user or credential is refused at once anyway (every request re-checks them).
pub const EXCHANGED_TOKEN_SECONDS: u64 = 600;

/// The longest endpoint host accepted (a DNS name).
const MAX_HOST_CHARS: usize = 253;
/// The longest role name accepted in a scope.
const MAX_ROLE_CHARS: usize = 255;

/// The form fields of a token request, as sent (each bounded by the caller).
#[derive(Debug, Default)]
pub struct TokenForm {
    pub grant_type: Option<String>,
    pub assertion: Option<SecretString>,
    pub subject_token: Option<SecretString>,
    pub subject_token_type: Option<String>,
    pub scope: Option<String>,
}

/// A token request understood: the credential, its declared type, the role and host asked for.
#[derive(Debug)]
pub struct Exchange {
    pub credential: SecretString,
    pub declared: Declared,
    pub role: Option<String>,
    pub host: String,
}

/// Why a token request is refused before its credential is read: RFC 6749 §5.2's error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormRefusal {
    /// `invalid_request`, `unsupported_grant_type` or `invalid_scope`.
    pub error: &'static str,
    pub description: &'static str,
}

const fn refusal(error: &'static str, description: &'static str) -> FormRefusal {
    FormRefusal { error, description }
}

impl TokenForm {
    pub fn exchange(self) -> Result<Exchange, FormRefusal> {
        let (credential, declared) = match self.grant_type.as_deref() {
            Some(JWT_BEARER) => (self.assertion, Declared::KeyPairJwt),
            Some(TOKEN_EXCHANGE) => {
                let pat = self
                    .subject_token_type
                    .as_deref()
                    .is_some_and(|t| t.eq_ignore_ascii_case("programmatic_access_token"));
                if !pat {
                    return Err(refusal(
                        "invalid_request",
                        "subject_token_type must be programmatic_access_token.",
                    ));
                }
                (self.subject_token, Declared::Pat)
            }
            Some(_) => {
                return Err(refusal(
                    "unsupported_grant_type",
                    "Only the jwt-bearer and token-exchange grant types are supported.",
                ));
            }
            None => return Err(refusal("invalid_request", "grant_type is required.")),
        };
        let credential = credential.ok_or(refusal(
            "invalid_request",
            "The assertion or subject_token is required.",
        ))?;
        let scope = self.scope.ok_or(refusal(
            "invalid_scope",
            "scope must name the endpoint host.",
        ))?;
        let (role, host) = parse_scope(&scope)?;
        Ok(Exchange {
            credential,
            declared,
            role,
            host,
        })
    }
}

/// `[session:role:<ROLE> ]<host>` (also `session:scope:<ROLE>`, as one published client writes it):
/// the role exactly as given (Snowflake matches its case) and the host, canonical.
pub fn parse_scope(scope: &str) -> Result<(Option<String>, String), FormRefusal> {
    let bad = refusal(
        "invalid_scope",
        "scope must be [session:role:<ROLE> ]<endpoint host>.",
    );
    let (mut role, mut host) = (None, None);
    for word in scope.split_whitespace() {
        let asked = word
            .strip_prefix("session:role:")
            .or_else(|| word.strip_prefix("session:scope:"));
        match asked {
            Some(r) if role.is_none() && !r.is_empty() && r.chars().count() <= MAX_ROLE_CHARS => {
                role = Some(r.to_string());
            }
            None if host.is_none() && valid_host(word) => host = Some(canonical_host(word)),
            _ => return Err(bad),
        }
    }
    Ok((role, host.ok_or(bad)?))
}

fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= MAX_HOST_CHARS
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
}

/// A host as compared: lower case, without a port or a trailing dot.
pub fn canonical_host(host: &str) -> String {
    let host = host.trim();
    let host = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_name_a_host_and_maybe_a_role() {
        assert_eq!(
            parse_scope("session:role:Analyst app-1.example.com"),
            Ok((Some("Analyst".into()), "app-1.example.com".into()))
        );
        assert_eq!(
            parse_scope("APP.Example.com:443"),
            Ok((None, "app.example.com".into()))
        );
        assert_eq!(
            parse_scope("session:scope:R h.example").map(|s| s.0),
            Ok(Some("R".into()))
        );
        for bad in [
            "",
            "session:role:R",
            "a.example b.example",
            "session:role:A session:role:B h",
            "h/../x",
            "session:role: h",
            &"h".repeat(300),
        ] {
            assert!(parse_scope(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn forms_need_a_known_grant_a_credential_and_a_scope() {
        let form = |grant: &str, scope: Option<&str>| TokenForm {
            grant_type: Some(grant.into()),
            assertion: Some(SecretString::from("jwt")),
            subject_token: Some(SecretString::from("pat")),
            subject_token_type: Some("programmatic_access_token".into()),
            scope: scope.map(str::to_string),
        };
        let ok = form(JWT_BEARER, Some("h.example")).exchange().unwrap();
        assert_eq!(
            (ok.declared, ok.host.as_str()),
            (Declared::KeyPairJwt, "h.example")
        );
        let pat = form(TOKEN_EXCHANGE, Some("h.example")).exchange().unwrap();
        assert_eq!(pat.declared, Declared::Pat);
        let err = |f: TokenForm| f.exchange().unwrap_err().error;
        assert_eq!(err(form("password", Some("h"))), "unsupported_grant_type");
        assert_eq!(err(form(JWT_BEARER, None)), "invalid_scope");
        let mut no_type = form(TOKEN_EXCHANGE, Some("h"));
        no_type.subject_token_type = Some("access_token".into());
        assert_eq!(err(no_type), "invalid_request");
        let mut no_assertion = form(JWT_BEARER, Some("h"));
        no_assertion.assertion = None;
        assert_eq!(err(no_assertion), "invalid_request");
        assert_eq!(err(TokenForm::default()), "invalid_request");
    }
}
