//! External OAuth security integrations: which authorization server's access tokens log users in,
//! how a token names its user and role, and the keys that sign it. Stored as directory objects
//! ([`ObjectKind::SecurityIntegration`](super::storage::ObjectKind)); read at every OAuth login.

use serde::{Deserialize, Serialize};

/// Roles an OAuth token may never take, as Snowflake's default blocked list.
pub const PRIVILEGED_ROLES: [&str; 3] = ["ACCOUNTADMIN", "SECURITYADMIN", "ORGADMIN"];
/// Most integrations per account (each is read on every OAuth login).
pub const MAX_INTEGRATIONS: usize = 32;
/// Most entries in one list property, and the longest text of any property.
pub const MAX_LIST_ITEMS: usize = 64;
pub const MAX_TEXT_CHARS: usize = 1_024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MappingAttribute {
    #[default]
    LoginName,
    EmailAddress,
}

impl MappingAttribute {
    pub fn as_str(self) -> &'static str {
        match self {
            MappingAttribute::LoginName => "LOGIN_NAME",
            MappingAttribute::EmailAddress => "EMAIL_ADDRESS",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ExternalOauth {
    /// The integration's name (an identifier, stored as resolved).
    pub name: String,
    pub enabled: bool,
    /// OKTA, AZURE, PING_FEDERATE or CUSTOM: informative only.
    pub oauth_type: String,
    pub issuer: String,
    /// Claims tried in order for the user's name or e-mail.
    pub user_mapping_claims: Vec<String>,
    pub mapping_attribute: MappingAttribute,
    pub jws_keys_url: Option<String>,
    /// Base64 DER (as `RSA_PUBLIC_KEY` takes it), already validated.
    pub rsa_public_key: Option<String>,
    pub rsa_public_key_2: Option<String>,
    pub audiences: Vec<String>,
    pub allowed_roles: Vec<String>,
    pub blocked_roles: Vec<String>,
    /// DISABLE, ENABLE or ENABLE_FOR_PRIVILEGE.
    pub any_role_mode: String,
    pub scope_delimiter: String,
    pub scope_mapping_attribute: String,
    pub comment: Option<String>,
    pub created_on: u64,
    pub owner: Option<String>,
    #[serde(skip)]
    pub version: u64,
}

impl ExternalOauth {
    pub fn new(name: String, now: u64, owner: &str) -> ExternalOauth {
        ExternalOauth {
            name,
            oauth_type: "CUSTOM".into(),
            any_role_mode: "DISABLE".into(),
            scope_delimiter: ",".into(),
            scope_mapping_attribute: "scp".into(),
            created_on: now,
            owner: Some(owner.to_string()),
            ..ExternalOauth::default()
        }
    }

    /// The rules that hold across properties, checked before anything is written.
    pub fn check(&self) -> Result<(), String> {
        if self.issuer.is_empty() {
            return Err("EXTERNAL_OAUTH_ISSUER is required.".into());
        }
        if self.user_mapping_claims.is_empty() {
            return Err("EXTERNAL_OAUTH_TOKEN_USER_MAPPING_CLAIM is required.".into());
        }
        // Snowflake also accepts its account URL as `aud`; snowgate has no fixed URL to expect (the
        // Host header is the client's to choose), so the audiences must be named.
        if self.audiences.is_empty() {
            return Err("EXTERNAL_OAUTH_AUDIENCE_LIST is required: name the audiences tokens for snowgate carry.".into());
        }
        if self.jws_keys_url.is_some() == self.rsa_public_key.is_some() {
            return Err(
                "Exactly one of EXTERNAL_OAUTH_JWS_KEYS_URL and EXTERNAL_OAUTH_RSA_PUBLIC_KEY must be set."
                    .into(),
            );
        }
        if self.rsa_public_key_2.is_some() && self.rsa_public_key.is_none() {
            return Err(
                "EXTERNAL_OAUTH_RSA_PUBLIC_KEY_2 needs EXTERNAL_OAUTH_RSA_PUBLIC_KEY.".into(),
            );
        }
        if !self.allowed_roles.is_empty() && !self.blocked_roles.is_empty() {
            return Err(
                "EXTERNAL_OAUTH_ALLOWED_ROLES_LIST and EXTERNAL_OAUTH_BLOCKED_ROLES_LIST cannot both be set."
                    .into(),
            );
        }
        Ok(())
    }

    /// Whether a token may open a session in `role` (upper-cased name).
    pub fn role_allowed(&self, role: &str) -> bool {
        !PRIVILEGED_ROLES.contains(&role)
            && !self.blocked_roles.iter().any(|r| r == role)
            && (self.allowed_roles.is_empty() || self.allowed_roles.iter().any(|r| r == role))
    }

    /// `SHOW INTEGRATIONS`' `type` column.
    pub fn type_label(&self) -> String {
        format!("EXTERNAL_OAUTH - {}", self.oauth_type)
    }
}

/// One property of CREATE or ALTER … SET (`Some`) / UNSET (`None`).
#[derive(Debug, Clone)]
pub enum IntegrationProperty {
    /// Only EXTERNAL_OAUTH (checked by the parser).
    Type,
    Enabled(bool),
    OauthType(String),
    Issuer(String),
    UserMappingClaims(Vec<String>),
    MappingAttribute(MappingAttribute),
    JwsKeysUrl(Option<String>),
    RsaPublicKey(Option<String>),
    RsaPublicKey2(Option<String>),
    Audiences(Vec<String>),
    AllowedRoles(Vec<String>),
    BlockedRoles(Vec<String>),
    AnyRoleMode(String),
    ScopeDelimiter(String),
    ScopeMappingAttribute(String),
    Comment(Option<String>),
}

impl IntegrationProperty {
    pub fn apply(self, to: &mut ExternalOauth) {
        match self {
            IntegrationProperty::Type => {}
            IntegrationProperty::Enabled(b) => to.enabled = b,
            IntegrationProperty::OauthType(t) => to.oauth_type = t,
            IntegrationProperty::Issuer(i) => to.issuer = i,
            IntegrationProperty::UserMappingClaims(c) => to.user_mapping_claims = c,
            IntegrationProperty::MappingAttribute(a) => to.mapping_attribute = a,
            IntegrationProperty::JwsKeysUrl(u) => to.jws_keys_url = u,
            IntegrationProperty::RsaPublicKey(k) => to.rsa_public_key = k,
            IntegrationProperty::RsaPublicKey2(k) => to.rsa_public_key_2 = k,
            IntegrationProperty::Audiences(a) => to.audiences = a,
            IntegrationProperty::AllowedRoles(r) => to.allowed_roles = r,
            IntegrationProperty::BlockedRoles(r) => to.blocked_roles = r,
            IntegrationProperty::AnyRoleMode(m) => to.any_role_mode = m,
            IntegrationProperty::ScopeDelimiter(d) => to.scope_delimiter = d,
            IntegrationProperty::ScopeMappingAttribute(a) => to.scope_mapping_attribute = a,
            IntegrationProperty::Comment(c) => to.comment = c,
        }
    }
}
