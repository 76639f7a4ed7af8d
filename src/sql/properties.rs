//! Typing the properties of administrative statements: from the raw `NAME = value` pairs of the
//! grammar to the domain's typed properties, with every check text alone allows (malformed keys,
//! CIDRs, flags, unknown names → an invalid-value error that never quotes the value).
//!
//! `value` is `Some` for `SET` / `CREATE`, `None` for `UNSET`.

use std::collections::BTreeMap;

use secrecy::SecretString;

use super::admin::Value;
use crate::domain::admin::command::{
    AccountCommand, AuthSetting, IpEntry, PatProperty, PolicyProperty, PolicySetting,
    SessionSetting, UserProperty, WifProperty,
};
use crate::domain::credentials::pats::{
    MAX_BYPASS_MINUTES, MAX_COMMENT_CHARS, MAX_ROTATED_GRACE_HOURS,
};
use crate::domain::credentials::rsa_keys::parse_public_key;
use crate::domain::credentials::workload_identity::{self as wif, AwsArn, Provider};
use crate::domain::directory::{NetworkPolicy, RsaKey, UserType};
use crate::domain::ident::Identifier;
use crate::domain::policy::{
    AuthMethod, CLIENT_TYPES, MfaEnrollment, NetworkPolicyEvaluation, PASSWORD_FIELDS,
    PAT_EXPIRY_DAYS, POLICY_CLIENTS, PatPolicy, PolicyKind, SESSION_TIMEOUT_MINS,
    WORKLOAD_PROVIDERS, WorkloadIdentityPolicy, parse_version,
};
use crate::domain::query::statement::SqlRejection;

type Typed<T> = Result<T, SqlRejection>;

fn invalid(message: impl Into<String>) -> SqlRejection {
    SqlRejection::InvalidValue(message.into())
}

/// One user property, by name.
pub fn user(name: &str, value: Option<&Value>) -> Typed<UserProperty> {
    Ok(match name {
        "TYPE" => UserProperty::Type(given(name, value, user_type)?),
        "PASSWORD" => UserProperty::Password(given(name, value, password)?),
        "LOGIN_NAME" => UserProperty::LoginName(given(name, value, login_name)?),
        "DEFAULT_ROLE" => UserProperty::DefaultRole(given(name, value, identifier)?),
        "DEFAULT_WAREHOUSE" => UserProperty::DefaultWarehouse(given(name, value, identifier)?),
        "DEFAULT_NAMESPACE" => UserProperty::DefaultNamespace(given(name, value, upper_text)?),
        "RSA_PUBLIC_KEY" => UserProperty::RsaPublicKey(given(name, value, rsa_key)?),
        "RSA_PUBLIC_KEY_2" => UserProperty::RsaPublicKey2(given(name, value, rsa_key)?),
        "NETWORK_POLICY" => UserProperty::NetworkPolicy(given(name, value, identifier)?),
        "DISABLED" => UserProperty::Disabled(given(name, value, boolean)?),
        "COMMENT" => UserProperty::Comment(given(name, value, text)?),
        "DISPLAY_NAME" => UserProperty::DisplayName(given(name, value, text)?),
        "EMAIL" => UserProperty::Email(given(name, value, text)?),
        "WORKLOAD_IDENTITY" => UserProperty::WorkloadIdentity(given(name, value, wif_value)?),
        other => return Err(invalid(format!("Invalid property '{other}' for USER."))),
    })
}

fn wif_value(name: &str, value: &Value) -> Typed<Provider> {
    match value {
        Value::Pairs(pairs) => workload_identity(pairs),
        _ => Err(invalid(format!(
            "{name} must be a parenthesised list such as (TYPE = AWS ARN = '…')."
        ))),
    }
}

/// The provider part of a workload identity, from its `TYPE = … <provider's properties>`: each
/// provider is one arm reading its own properties (and refusing any other).
pub fn workload_identity(pairs: &[(String, Value)]) -> Typed<Provider> {
    let get = |key: &str| pairs.iter().find(|(n, _)| n == key).map(|(_, v)| v);
    let Some(kind) = get("TYPE") else {
        return Err(invalid("A workload identity needs TYPE (AWS)."));
    };
    let mut seen = std::collections::BTreeSet::new();
    if pairs.iter().any(|(n, _)| !seen.insert(n.as_str())) {
        return Err(invalid("A workload identity property is given twice."));
    }
    match upper_text("TYPE", kind)?.as_str() {
        "AWS" => {
            only(pairs, &["TYPE", "ARN", "ISSUER"], "AWS")?;
            aws_identity(get("ARN"), get("ISSUER"))
        }
        "OIDC" => {
            only(
                pairs,
                &["TYPE", "ISSUER", "SUBJECT", "OIDC_AUDIENCE_LIST"],
                "OIDC",
            )?;
            oidc_identity(get("ISSUER"), get("SUBJECT"), get("OIDC_AUDIENCE_LIST"))
        }
        other => Err(invalid(format!(
            "Workload identity TYPE '{other}' is not supported (AWS and OIDC are)."
        ))),
    }
}

/// Refuses any property of a workload identity of `kind` but `allowed`.
fn only(pairs: &[(String, Value)], allowed: &[&str], kind: &str) -> Typed<()> {
    match pairs.iter().find(|(n, _)| !allowed.contains(&n.as_str())) {
        Some((other, _)) => Err(invalid(format!(
            "Invalid property '{other}' for a workload identity of TYPE = {kind}."
        ))),
        None => Ok(()),
    }
}

fn aws_identity(arn: Option<&Value>, issuer: Option<&Value>) -> Typed<Provider> {
    let Some(arn) = arn else {
        return Err(invalid("A workload identity of TYPE = AWS needs ARN."));
    };
    let arn = AwsArn::parse(&text("ARN", arn)?).map_err(invalid)?;
    let issuer = issuer.map(|v| issuer_url("ISSUER", v)).transpose()?;
    Ok(Provider::Aws { arn, issuer })
}

fn oidc_identity(
    issuer: Option<&Value>,
    subject: Option<&Value>,
    audiences: Option<&Value>,
) -> Typed<Provider> {
    let (Some(issuer), Some(subject)) = (issuer, subject) else {
        return Err(invalid(
            "A workload identity of TYPE = OIDC needs ISSUER and SUBJECT.",
        ));
    };
    let issuer = issuer_url("ISSUER", issuer)?;
    let subject = text("SUBJECT", subject)?;
    if subject.is_empty() || subject.chars().count() > wif::MAX_SUBJECT_CHARS {
        return Err(invalid(format!(
            "SUBJECT must hold 1 to {} characters.",
            wif::MAX_SUBJECT_CHARS
        )));
    }
    let audiences = match audiences {
        Some(v) => audience_list(v)?,
        None => Vec::new(),
    };
    Ok(Provider::Oidc {
        issuer,
        subject,
        audiences,
    })
}

/// `OIDC_AUDIENCE_LIST = ('…', …)`: non-empty strings, kept as written (audiences are exact).
fn audience_list(value: &Value) -> Typed<Vec<String>> {
    let name = "OIDC_AUDIENCE_LIST";
    let Value::List(items) = value else {
        return Err(invalid(format!("{name} must be a parenthesised list.")));
    };
    if items.len() > wif::MAX_AUDIENCES {
        return Err(invalid(format!(
            "{name} holds at most {} entries.",
            wif::MAX_AUDIENCES
        )));
    }
    items
        .iter()
        .map(|item| match item {
            Value::Str(s) if !s.is_empty() && s.chars().count() <= wif::MAX_AUDIENCE_CHARS => {
                Ok(s.clone())
            }
            _ => Err(invalid(format!(
                "{name} must be a list of strings of 1 to {} characters.",
                wif::MAX_AUDIENCE_CHARS
            ))),
        })
        .collect()
}

/// An https URL of bounded length (an OIDC issuer).
fn issuer_url(name: &str, value: &Value) -> Typed<String> {
    let url = text(name, value)?;
    if url.chars().count() > wif::MAX_ISSUER_CHARS || !url.starts_with("https://") {
        return Err(invalid(format!(
            "{name} must be an https URL of at most {} characters.",
            wif::MAX_ISSUER_CHARS
        )));
    }
    Ok(url)
}

/// One property of `ALTER USER … MODIFY WORKLOAD IDENTITY … SET|UNSET`.
pub fn wif_modify(name: &str, value: Option<&Value>) -> Typed<WifProperty> {
    Ok(match name {
        "DISABLED" => WifProperty::Disabled(given(name, value, boolean)?),
        "COMMENT" => WifProperty::Comment(given(name, value, wif_comment)?),
        "TYPE" => {
            return Err(invalid(
                "The TYPE of a workload identity cannot be changed.",
            ));
        }
        other => {
            return Err(invalid(format!(
                "Invalid property '{other}' for ALTER USER … MODIFY WORKLOAD IDENTITY."
            )));
        }
    })
}

fn wif_comment(name: &str, value: &Value) -> Typed<String> {
    let comment = text(name, value)?;
    if comment.chars().count() > wif::MAX_COMMENT_CHARS {
        return Err(invalid(format!(
            "{name} is longer than {} characters.",
            wif::MAX_COMMENT_CHARS
        )));
    }
    Ok(comment)
}

/// One property of `ALTER USER … ADD PAT`.
pub fn pat_add(name: &str, value: &Value) -> Typed<PatProperty> {
    Ok(match name {
        "ROLE_RESTRICTION" => PatProperty::RoleRestriction(identifier(name, value)?),
        "DAYS_TO_EXPIRY" => PatProperty::DaysToExpiry(number(name, value, (1, u32::MAX))?),
        "MINS_TO_BYPASS_NETWORK_POLICY_REQUIREMENT" => {
            PatProperty::MinsToBypassNetworkPolicy(Some(bypass(name, value)?))
        }
        "COMMENT" => PatProperty::Comment(Some(pat_comment(name, value)?)),
        other => {
            return Err(invalid(format!(
                "Invalid property '{other}' for PROGRAMMATIC ACCESS TOKEN."
            )));
        }
    })
}

/// One property of `ALTER USER … MODIFY PAT … SET|UNSET`.
pub fn pat_modify(name: &str, value: Option<&Value>) -> Typed<PatProperty> {
    Ok(match name {
        "DISABLED" => PatProperty::Disabled(given(name, value, boolean)?),
        "MINS_TO_BYPASS_NETWORK_POLICY_REQUIREMENT" => {
            PatProperty::MinsToBypassNetworkPolicy(given(name, value, bypass)?)
        }
        "COMMENT" => PatProperty::Comment(given(name, value, pat_comment)?),
        other => {
            return Err(invalid(format!(
                "Invalid property '{other}' for ALTER USER … MODIFY PROGRAMMATIC ACCESS TOKEN."
            )));
        }
    })
}

/// `EXPIRE_ROTATED_TOKEN_AFTER_HOURS` of `ALTER USER … ROTATE PAT`.
pub fn pat_rotate(name: &str, value: &Value) -> Typed<u32> {
    match name {
        "EXPIRE_ROTATED_TOKEN_AFTER_HOURS" => number(name, value, (0, MAX_ROTATED_GRACE_HOURS)),
        other => Err(invalid(format!(
            "Invalid property '{other}' for ALTER USER … ROTATE PROGRAMMATIC ACCESS TOKEN."
        ))),
    }
}

fn bypass(name: &str, value: &Value) -> Typed<u32> {
    number(name, value, (0, MAX_BYPASS_MINUTES))
}

fn pat_comment(name: &str, value: &Value) -> Typed<String> {
    let comment = text(name, value)?;
    if comment.chars().count() > MAX_COMMENT_CHARS {
        return Err(invalid(format!(
            "{name} is longer than {MAX_COMMENT_CHARS} characters."
        )));
    }
    Ok(comment)
}

/// `f` applied to a given value; `None` (UNSET) stays `None`.
fn given<T>(
    name: &str,
    value: Option<&Value>,
    f: fn(&str, &Value) -> Typed<T>,
) -> Typed<Option<T>> {
    value.map(|v| f(name, v)).transpose()
}

/// One network policy property, by name; `UNSET` of a list empties it.
pub fn policy(name: &str, value: Option<&Value>) -> Typed<PolicyProperty> {
    let list = |value: Option<&Value>| match value {
        Some(v) => ip_list(name, v),
        None => Ok(Vec::new()),
    };
    Ok(match name {
        "ALLOWED_IP_LIST" => PolicyProperty::AllowedIpList(list(value)?),
        "BLOCKED_IP_LIST" => PolicyProperty::BlockedIpList(list(value)?),
        "COMMENT" => PolicyProperty::Comment(given(name, value, text)?),
        other => {
            return Err(invalid(format!(
                "Invalid property '{other}' for NETWORK POLICY."
            )));
        }
    })
}

/// A role's only property.
pub fn role_comment(name: &str, value: &Value) -> Typed<String> {
    match name {
        "COMMENT" => text(name, value),
        other => Err(invalid(format!("Invalid property '{other}' for ROLE."))),
    }
}

/// `ALTER ACCOUNT SET|UNSET name`: only the network policy.
pub fn account(name: &str, value: Option<&Value>) -> Typed<AccountCommand> {
    if name == "ALLOW_CLIENT_MFA_CACHING" {
        let allowed = given(name, value, boolean)?.unwrap_or(false);
        return Ok(AccountCommand::AllowClientMfaCaching(allowed));
    }
    if name != "NETWORK_POLICY" {
        let verb = if value.is_some() { "SET" } else { "UNSET" };
        return Err(SqlRejection::Unsupported(format!(
            "ALTER ACCOUNT {verb} {name} (only NETWORK_POLICY and ALLOW_CLIENT_MFA_CACHING)"
        )));
    }
    Ok(AccountCommand::NetworkPolicy(given(
        name, value, identifier,
    )?))
}

/// `MINS_TO_UNLOCK`: only 0, unlock now.
pub fn unlock(value: &Value) -> Typed<()> {
    match text("MINS_TO_UNLOCK", value).as_deref() {
        Ok("0") => Ok(()),
        _ => Err(invalid(
            "MINS_TO_UNLOCK must be 0 (unlock now); locks last the configured time.",
        )),
    }
}

/// A scalar as text: strings, numbers and identifiers (with Snowflake's case rules).
fn text(name: &str, value: &Value) -> Typed<String> {
    match value {
        Value::Str(s) | Value::Number(s) => Ok(s.clone()),
        Value::Ident(i) => Ok(i.to_string()),
        Value::List(_) | Value::Pairs(_) => Err(invalid(format!("{name} must be a string."))),
    }
}

fn upper_text(name: &str, value: &Value) -> Typed<String> {
    text(name, value).map(|t| t.to_uppercase())
}

/// A name given as an identifier or a string, with Snowflake's case rules.
fn identifier(name: &str, value: &Value) -> Typed<Identifier> {
    match value {
        Value::Ident(i) => Ok(i.clone()),
        Value::Str(s) => Identifier::from_user_input(s)
            .ok_or_else(|| invalid(format!("{name} must not be empty."))),
        _ => Err(invalid(format!("{name} must be a name."))),
    }
}

fn boolean(name: &str, value: &Value) -> Typed<bool> {
    match text(name, value).map(|s| s.to_ascii_uppercase()).as_deref() {
        Ok("TRUE") => Ok(true),
        Ok("FALSE") => Ok(false),
        _ => Err(invalid(format!("{name} must be TRUE or FALSE."))),
    }
}

fn user_type(name: &str, value: &Value) -> Typed<UserType> {
    text(name, value)
        .ok()
        .and_then(|t| UserType::parse(&t))
        .ok_or_else(|| invalid("TYPE must be PERSON, SERVICE or LEGACY_SERVICE."))
}

fn password(name: &str, value: &Value) -> Typed<SecretString> {
    let password = text(name, value)?;
    if password.is_empty() {
        return Err(invalid("PASSWORD must not be empty."));
    }
    Ok(SecretString::from(password))
}

fn login_name(name: &str, value: &Value) -> Typed<String> {
    let login = text(name, value)?.trim().to_uppercase();
    if login.is_empty() {
        return Err(invalid("LOGIN_NAME must not be empty."));
    }
    Ok(login)
}

fn rsa_key(name: &str, value: &Value) -> Typed<RsaKey> {
    let key = parse_public_key(&text(name, value)?)
        .map_err(|why| invalid(format!("Invalid {name}: {why}.")))?;
    Ok(RsaKey {
        der_base64: key.base64_der,
        fingerprint: key.fingerprint,
    })
}

fn ip_list(name: &str, value: &Value) -> Typed<Vec<IpEntry>> {
    let Value::List(items) = value else {
        return Err(invalid(format!("{name} must be a parenthesised list.")));
    };
    items
        .iter()
        .map(|item| {
            let written = match item {
                Value::List(_) => Err(invalid(format!("{name} must be a list of strings."))),
                scalar => text(name, scalar),
            }?;
            let net = NetworkPolicy::parse_entry(&written)
                .map_err(|why| invalid(format!("Invalid {name}: {why}.")))?;
            Ok(IpEntry { written, net })
        })
        .collect()
}

/// The typing of one kind of policy's properties.
pub type PolicyTyper = fn(&str, Option<&Value>) -> Typed<PolicySetting>;

pub fn kind_policy(kind: PolicyKind) -> PolicyTyper {
    match kind {
        PolicyKind::Authentication => authentication_setting,
        PolicyKind::Password => password_setting,
        PolicyKind::Session => session_setting,
    }
}

/// Most entries in one list property: far above any real policy, and bounded beyond the
/// statement's token limit so one list cannot fill a record.
pub const MAX_LIST_ITEMS: usize = 100;

fn unknown(kind: PolicyKind, name: &str) -> SqlRejection {
    invalid(format!("Invalid property '{name}' for {}.", kind.label()))
}

fn authentication_setting(name: &str, value: Option<&Value>) -> Typed<PolicySetting> {
    if name == "COMMENT" {
        return Ok(PolicySetting::Comment(given(name, value, text)?));
    }
    Ok(PolicySetting::Authentication(match name {
        "AUTHENTICATION_METHODS" => AuthSetting::Methods(given(name, value, methods)?),
        "MFA_ENROLLMENT" => AuthSetting::MfaEnrollment(given(name, value, |n, v| {
            one_of(
                n,
                v,
                MfaEnrollment::parse,
                "REQUIRED, REQUIRED_PASSWORD_ONLY or OPTIONAL",
            )
        })?),
        "CLIENT_TYPES" => AuthSetting::ClientTypes(given(name, value, |n, v| {
            word_list(n, v, Some(&CLIENT_TYPES))
        })?),
        "CLIENT_POLICY" => AuthSetting::ClientPolicy(given(name, value, client_policy)?),
        "SECURITY_INTEGRATIONS" => {
            AuthSetting::SecurityIntegrations(given(name, value, |n, v| word_list(n, v, None))?)
        }
        "PAT_POLICY" => AuthSetting::Pat(given(name, value, pat_policy)?),
        "WORKLOAD_IDENTITY_POLICY" => {
            AuthSetting::WorkloadIdentity(given(name, value, workload_identity_policy)?)
        }
        other => return Err(unknown(PolicyKind::Authentication, other)),
    }))
}

fn password_setting(name: &str, value: Option<&Value>) -> Typed<PolicySetting> {
    if name == "COMMENT" {
        return Ok(PolicySetting::Comment(given(name, value, text)?));
    }
    let field = PASSWORD_FIELDS
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| unknown(PolicyKind::Password, name))?;
    let number = value
        .map(|v| number(field.name, v, (field.min, field.max)))
        .transpose()?;
    Ok(PolicySetting::Password(field.name, number))
}

fn session_setting(name: &str, value: Option<&Value>) -> Typed<PolicySetting> {
    if name == "COMMENT" {
        return Ok(PolicySetting::Comment(given(name, value, text)?));
    }
    let minutes = |n: &str, v: &Value| number(n, v, SESSION_TIMEOUT_MINS);
    let roles = |n: &str, v: &Value| word_list(n, v, None);
    Ok(PolicySetting::Session(match name {
        "SESSION_IDLE_TIMEOUT_MINS" => {
            SessionSetting::IdleTimeoutMins(given(name, value, minutes)?)
        }
        "SESSION_UI_IDLE_TIMEOUT_MINS" => {
            SessionSetting::UiIdleTimeoutMins(given(name, value, minutes)?)
        }
        "ALLOWED_SECONDARY_ROLES" => {
            SessionSetting::AllowedSecondaryRoles(given(name, value, roles)?)
        }
        "BLOCKED_SECONDARY_ROLES" => {
            SessionSetting::BlockedSecondaryRoles(given(name, value, roles)?)
        }
        other => return Err(unknown(PolicyKind::Session, other)),
    }))
}

/// A whole number within `range`, given as a number or a string of digits.
fn number(name: &str, value: &Value, (min, max): (u32, u32)) -> Typed<u32> {
    let out_of_range = || {
        invalid(format!(
            "{name} must be a whole number from {min} to {max}."
        ))
    };
    let digits = match value {
        Value::Number(n) | Value::Str(n) => n.trim(),
        _ => return Err(out_of_range()),
    };
    if digits.is_empty() || digits.len() > 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(out_of_range());
    }
    digits
        .parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(out_of_range)
}

/// A scalar naming one of an enum's values.
fn one_of<T>(name: &str, value: &Value, parse: fn(&str) -> Option<T>, expected: &str) -> Typed<T> {
    text(name, value)
        .ok()
        .and_then(|t| parse(t.trim()))
        .ok_or_else(|| invalid(format!("{name} must be {expected}.")))
}

/// A parenthesised list of names or strings, upper-cased (unless quoted as identifiers),
/// duplicates dropped, at most [`MAX_LIST_ITEMS`]; each one of `allowed` when given. `ALL`
/// stands alone.
fn word_list(name: &str, value: &Value, allowed: Option<&[&str]>) -> Typed<Vec<String>> {
    let Value::List(items) = value else {
        return Err(invalid(format!("{name} must be a parenthesised list.")));
    };
    if items.len() > MAX_LIST_ITEMS {
        return Err(invalid(format!(
            "{name} holds at most {MAX_LIST_ITEMS} entries."
        )));
    }
    let mut words: Vec<String> = Vec::new();
    for item in items {
        let word = match item {
            Value::Str(s) => s.trim().to_uppercase(),
            Value::Ident(i) => i.to_string(),
            _ => return Err(invalid(format!("{name} must be a list of names."))),
        };
        if word.is_empty() {
            return Err(invalid(format!("{name} must not hold an empty name.")));
        }
        if let Some(allowed) = allowed
            && !allowed.contains(&word.as_str())
        {
            return Err(invalid(format!(
                "{name} accepts only {}.",
                allowed.join(", ")
            )));
        }
        if !words.contains(&word) {
            words.push(word);
        }
    }
    if words.len() > 1 && words.iter().any(|w| w == "ALL") {
        return Err(invalid(format!(
            "{name}: 'ALL' cannot be combined with other values."
        )));
    }
    Ok(words)
}

fn methods(name: &str, value: &Value) -> Typed<Vec<AuthMethod>> {
    let names: Vec<&str> = AuthMethod::EVERY.map(AuthMethod::policy_name).to_vec();
    let words = word_list(name, value, Some(&names))?;
    if words.is_empty() {
        return Err(invalid(format!("{name} must not be empty.")));
    }
    Ok(words.iter().filter_map(|w| AuthMethod::parse(w)).collect())
}

/// `(NAME = value, …)`, each name at most once.
fn pairs<'v>(name: &str, value: &'v Value) -> Typed<&'v [(String, Value)]> {
    match value {
        Value::Pairs(pairs) if pairs.len() <= MAX_LIST_ITEMS => {
            for (i, (key, _)) in pairs.iter().enumerate() {
                if pairs[..i].iter().any(|(k, _)| k == key) {
                    return Err(invalid(format!("{name}: {key} is given twice.")));
                }
            }
            Ok(pairs)
        }
        Value::List(items) if items.is_empty() => Ok(&[]),
        _ => Err(invalid(format!(
            "{name} must be a parenthesised list of NAME = value."
        ))),
    }
}

/// `(PYTHON_DRIVER = (MINIMUM_VERSION = '3.0.0'), …)`.
fn client_policy(name: &str, value: &Value) -> Typed<BTreeMap<String, String>> {
    let mut policy = BTreeMap::new();
    for (client, settings) in pairs(name, value)? {
        if !POLICY_CLIENTS.contains(&client.as_str()) {
            return Err(invalid(format!(
                "{name}: unknown client '{client}'; expected one of {}.",
                POLICY_CLIENTS.join(", ")
            )));
        }
        let minimum = match pairs(client, settings)? {
            [(key, version)] if key == "MINIMUM_VERSION" => text(key, version)?,
            _ => {
                return Err(invalid(format!(
                    "{name}: {client} takes (MINIMUM_VERSION = 'x.y.z')."
                )));
            }
        };
        if parse_version(&minimum).is_none() {
            return Err(invalid(format!(
                "{name}: {client}'s MINIMUM_VERSION must be up to four dot-separated numbers."
            )));
        }
        policy.insert(client.clone(), minimum.trim().to_string());
    }
    Ok(policy)
}

fn pat_policy(name: &str, value: &Value) -> Typed<PatPolicy> {
    let mut pat = PatPolicy::default();
    for (key, v) in pairs(name, value)? {
        match key.as_str() {
            "DEFAULT_EXPIRY_IN_DAYS" => {
                pat.default_expiry_in_days = number(key, v, PAT_EXPIRY_DAYS)?
            }
            "MAX_EXPIRY_IN_DAYS" => pat.max_expiry_in_days = number(key, v, PAT_EXPIRY_DAYS)?,
            "NETWORK_POLICY_EVALUATION" => {
                pat.network_policy_evaluation = one_of(
                    key,
                    v,
                    NetworkPolicyEvaluation::parse,
                    "ENFORCED_REQUIRED, ENFORCED_NOT_REQUIRED or NOT_ENFORCED",
                )?
            }
            "REQUIRE_ROLE_RESTRICTION_FOR_SERVICE_USERS" => {
                pat.require_role_restriction_for_service_users = boolean(key, v)?
            }
            "REQUIRE_ROLE_RESTRICTION_FOR_PERSON_USERS" => {
                pat.require_role_restriction_for_person_users = boolean(key, v)?
            }
            "BLOCKED_ROLES_LIST" => pat.blocked_roles_list = word_list(key, v, None)?,
            other => return Err(invalid(format!("Invalid property '{other}' for {name}."))),
        }
    }
    Ok(pat)
}

fn workload_identity_policy(name: &str, value: &Value) -> Typed<WorkloadIdentityPolicy> {
    let mut policy = WorkloadIdentityPolicy::default();
    for (key, v) in pairs(name, value)? {
        let list = |allowed: Option<&[&str]>| word_list(key, v, allowed);
        match key.as_str() {
            "ALLOWED_PROVIDERS" => policy.allowed_providers = list(Some(&WORKLOAD_PROVIDERS))?,
            "ALLOWED_AWS_ACCOUNTS" => policy.allowed_aws_accounts = list(None)?,
            "ALLOWED_AWS_PARTITIONS" => policy.allowed_aws_partitions = list(None)?,
            "ALLOWED_AZURE_ISSUERS" => policy.allowed_azure_issuers = string_list(key, v)?,
            "ALLOWED_OIDC_ISSUERS" => policy.allowed_oidc_issuers = string_list(key, v)?,
            other => return Err(invalid(format!("Invalid property '{other}' for {name}."))),
        }
    }
    Ok(policy)
}

/// Issuer URLs keep their case.
fn string_list(name: &str, value: &Value) -> Typed<Vec<String>> {
    let Value::List(items) = value else {
        return Err(invalid(format!("{name} must be a parenthesised list.")));
    };
    if items.len() > MAX_LIST_ITEMS {
        return Err(invalid(format!(
            "{name} holds at most {MAX_LIST_ITEMS} entries."
        )));
    }
    items
        .iter()
        .map(|item| match item {
            Value::Str(s) if s.eq_ignore_ascii_case("ALL") => Ok("ALL".to_string()),
            Value::Str(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            _ => Err(invalid(format!("{name} must be a list of strings."))),
        })
        .collect()
}
