//! Which kind of credential a request presents: told from the token itself (and the type a client
//! may declare), before anything is read. A pure function, so its table is tested alone.

/// What `X-Snowflake-Authorization-Token-Type` declares. `OAUTH` (the SQL API's default) is not
/// binding: async-snowflake sends a key-pair JWT with no type at all, so an undeclared or OAUTH
/// token is told by its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    KeyPairJwt,
    Pat,
    Oauth,
}

impl Declared {
    /// The header's value, case-insensitively; `None` for one snowgate does not know (refused by
    /// the caller).
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_uppercase().as_str() {
            "KEYPAIR_JWT" => Some(Declared::KeyPairJwt),
            "PROGRAMMATIC_ACCESS_TOKEN" => Some(Declared::Pat),
            "OAUTH" => Some(Declared::Oauth),
            _ => None,
        }
    }
}

/// The credentials a request may present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenType {
    /// A key-pair JWT (RS256, `iss` `ACCOUNT.USER.SHA256:<fingerprint>`).
    KeyPair,
    /// A programmatic access token.
    Pat,
    /// A snowgate session token, from a driver's login.
    Session,
    /// A token `POST /oauth/token` issued, bound to one endpoint host.
    Exchanged,
    /// An External OAuth access token (a security integration's issuer).
    Oauth,
}

impl TokenType {
    /// The name the audit log and `/auth/forward`'s refusals use.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::KeyPair => "key_pair",
            TokenType::Pat => "pat",
            TokenType::Session => "session",
            TokenType::Exchanged => "exchanged",
            TokenType::Oauth => "oauth",
        }
    }
}

/// The type of `token` (declared as `declared`): a declared key pair or PAT is that; otherwise a
/// token that is no JWT is a PAT, an HS256 JWT is snowgate's own (its `kind` claim tells an
/// exchanged token from a session token), an RS JWT whose `iss` names a key fingerprint is a key
/// pair, and any other JWT is External OAuth. Nothing is verified here: each type's verifier
/// refuses what is not really of its type.
pub fn classify(token: &str, declared: Option<Declared>) -> TokenType {
    match declared {
        Some(Declared::KeyPairJwt) => return TokenType::KeyPair,
        Some(Declared::Pat) => return TokenType::Pat,
        Some(Declared::Oauth) | None => {}
    }
    if token.split('.').count() != 3 {
        return TokenType::Pat;
    }
    let Ok(header) = jsonwebtoken::decode_header(token) else {
        return TokenType::Pat;
    };
    #[derive(serde::Deserialize)]
    struct Shape {
        #[serde(default)]
        iss: String,
        #[serde(default)]
        kind: String,
    }
    let shape = jsonwebtoken::dangerous::insecure_decode_claims::<Shape>(token);
    if header.alg == jsonwebtoken::Algorithm::HS256 {
        return match shape.is_ok_and(|c| c.kind == "ingress") {
            true => TokenType::Exchanged,
            false => TokenType::Session,
        };
    }
    match shape.is_ok_and(|c| c.iss.contains(".SHA256:")) {
        true => TokenType::KeyPair,
        false => TokenType::Oauth,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn jwt(header: &str, claims: &str) -> String {
        let b = |s: &str| URL_SAFE_NO_PAD.encode(s.as_bytes());
        format!("{}.{}.c2ln", b(header), b(claims))
    }

    #[test]
    fn tokens_are_told_by_shape_unless_declared() {
        let kp = jwt(
            r#"{"alg":"RS256","typ":"JWT"}"#,
            r#"{"iss":"ACME.ALICE.SHA256:abc","sub":"ACME.ALICE"}"#,
        );
        let oauth = jwt(
            r#"{"alg":"RS256"}"#,
            r#"{"iss":"https://idp","sub":"alice"}"#,
        );
        let ours = jwt(r#"{"alg":"HS256","kid":"v1"}"#, r#"{"kind":"session"}"#);
        let exchanged = jwt(r#"{"alg":"HS256","kid":"v1"}"#, r#"{"kind":"ingress"}"#);
        assert_eq!(classify(&kp, None), TokenType::KeyPair);
        assert_eq!(classify(&kp, Some(Declared::Oauth)), TokenType::KeyPair);
        assert_eq!(classify(&oauth, None), TokenType::Oauth);
        assert_eq!(classify(&ours, None), TokenType::Session);
        assert_eq!(classify(&exchanged, None), TokenType::Exchanged);
        assert_eq!(classify("sgpat_abc", None), TokenType::Pat);
        assert_eq!(classify("a.b.c", None), TokenType::Pat);
        assert_eq!(classify(&oauth, Some(Declared::Pat)), TokenType::Pat);
        assert_eq!(
            classify("sgpat_x", Some(Declared::KeyPairJwt)),
            TokenType::KeyPair
        );
        assert_eq!(Declared::parse(" keypair_jwt "), Some(Declared::KeyPairJwt));
        assert_eq!(Declared::parse("BASIC"), None);
    }
}
