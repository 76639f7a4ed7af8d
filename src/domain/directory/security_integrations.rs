//! External OAuth security integrations: which authorization server's access tokens log users in,
//! how a token names its user and role, and the keys that sign it. Stored as directory objects
//! ([`ObjectKind::SecurityIntegration`](crate::domain::ports::storage::ObjectKind)); read at every
//! OAuth login.

use serde::{Deserialize, Serialize};

/// Roles an OAuth session may never take, as Snowflake's default blocked list. Snowflake lets an
/// account take them off the list (the account parameter
/// EXTERNAL_OAUTH_ADD_PRIVILEGED_ROLES_TO_BLOCKED_LIST = FALSE); snowgate has no such parameter, so
/// they are blocked whatever the integration's lists say.
pub const PRIVILEGED_ROLES: [&str; 3] = ["ACCOUNTADMIN", "SECURITYADMIN", "ORGADMIN"];
/// The creator assumed for an integration stored without one: the lowest role that could create
/// integrations before only ACCOUNTADMIN could.
pub const LEGACY_CREATOR_ROLE: &str = "SECURITYADMIN";
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
    /// The role that created it (its owner). The integration logs in no user holding a system role
    /// this role does not hold, and opens no session in such a role: it cannot lift its creator.
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

    /// The role that created the integration, which bounds whom it logs in.
    pub fn creator_role(&self) -> &str {
        self.owner.as_deref().unwrap_or(LEGACY_CREATOR_ROLE)
    }

    /// Whether an OAuth session of this integration may be in `role` (upper-cased name), at login and
    /// at every USE ROLE: never a privileged role, nor a blocked one, and one of the allowed ones if
    /// any are listed. (The creator's bound is checked besides, with the user's roles.)
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
