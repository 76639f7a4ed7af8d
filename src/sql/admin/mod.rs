//! Parsing the administration statements (users, roles, network policies, the account's policy).
//! `sqlparser`'s Snowflake dialect tokenizes (quoting, strings, comments); the grammar below is the
//! small subset of Snowflake's that snowgate runs. Error texts never quote a string literal, since
//! those carry passwords and keys.

use sqlparser::tokenizer::{Token, TokenWithSpan, Word};

use super::{integrations, limits, properties};
use crate::domain::admin::command::{
    AdminCommand, AttachPolicy, CreateMode, GrantCommand, IntegrationCommand, KindPolicyAction,
    KindPolicyCommand, MfaAction, ObjectName, PatAction, PolicyChange, PolicyCommand, PolicyTarget,
    RoleCommand, ShowCommand, UserCommand, UserScoped, UserScopedAction, WifAction,
};
use crate::domain::ident::Identifier;
use crate::domain::policies::PolicyKind;
use crate::domain::statement::SqlRejection;

mod credentials;
mod grants;
mod objects;
mod policies;
mod show;
mod values;

use policies::policy;

/// A property value as written; `sql::properties` gives it its type.
#[derive(Clone, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Ident(Identifier),
    Number(String),
    /// Of scalars only.
    List(Vec<Value>),
    /// `(NAME = value, …)`, names upper-cased: the nested properties of authentication policies
    /// (`PAT_POLICY = (MAX_EXPIRY_IN_DAYS = 30)`), at most [`MAX_VALUE_DEPTH`] deep.
    Pairs(Vec<(String, Value)>),
}

/// How deep parenthesised values nest: `CLIENT_POLICY = (PYTHON_DRIVER = (MINIMUM_VERSION = …))`
/// is two. Bounds the parser's recursion.
pub const MAX_VALUE_DEPTH: usize = 3;

/// Deliberately opaque: values may be passwords or keys.
impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Value(..)")
    }
}

/// `NAME = value`, the name upper-cased.
struct Property {
    name: String,
    value: Value,
}

enum Alter {
    Set(Vec<Property>),
    Unset(Vec<String>),
}

/// `ALTER USER … SET MINS_TO_UNLOCK = 0` is an action, not a property: taken out of the `SET`.
fn take_unlock(alter: Alter) -> Result<(Alter, bool), SqlRejection> {
    let Alter::Set(props) = alter else {
        return Ok((alter, false));
    };
    let (locks, others): (Vec<Property>, Vec<Property>) =
        props.into_iter().partition(|p| p.name == "MINS_TO_UNLOCK");
    for lock in &locks {
        properties::unlock(&lock.value)?;
    }
    Ok((Alter::Set(others), !locks.is_empty()))
}

/// Types every property of an `ALTER … SET|UNSET` with `typed` (`None` values for `UNSET`).
fn typed<T>(
    alter: Alter,
    typed: fn(&str, Option<&Value>) -> Result<T, SqlRejection>,
) -> Result<Vec<T>, SqlRejection> {
    match alter {
        Alter::Set(props) => props
            .iter()
            .map(|p| typed(&p.name, Some(&p.value)))
            .collect(),
        Alter::Unset(names) => names.iter().map(|n| typed(n, None)).collect(),
    }
}

/// Whether the statement's first word (after any comments) is one this module owns.
pub fn is_admin(sql: &str) -> bool {
    classify(sql).is_some()
}

/// Whether the statement is about a user's programmatic access tokens or MFA methods (`ALTER USER
/// [IF EXISTS] [u] ADD|MODIFY|ROTATE|REMOVE PAT …`, `… ADD|REMOVE MFA METHOD …`, `SHOW USER PATS …`,
/// `SHOW MFA METHODS …`), from its first words alone: these are allowed to any role for the
/// session's own user, so they pass the early role check and are authorised where they run.
pub fn is_self_service(sql: &str) -> bool {
    if limits::first_word(sql)
        .is_some_and(|w| !w.eq_ignore_ascii_case("SHOW") && !w.eq_ignore_ascii_case("ALTER"))
    {
        return false;
    }
    let Some(head) = limits::head_tokens(sql, SELF_SERVICE_HEAD_TOKENS) else {
        return false;
    };
    let mut p = Parser {
        tokens: head,
        pos: 0,
    };
    if p.eat_kw("SHOW") {
        if p.eat_kw("MFA") {
            return p.peek_kw("METHODS");
        }
        return p.eat_kw("USER") && (p.peek_kw("PATS") || p.peek_kw("PROGRAMMATIC"));
    }
    if !(p.eat_kw("ALTER") && p.eat_kw("USER")) {
        return false;
    }
    if p.peek_kw("IF") {
        p.pos += 2;
    }
    let at_verb = |p: &Parser| p.at_pat_verb() || p.at_mfa_verb();
    at_verb(&p) || (p.ident().is_ok() && at_verb(&p))
}

/// `ALTER USER IF EXISTS name MODIFY PROGRAMMATIC`: seven words decide a self-service statement.
const SELF_SERVICE_HEAD_TOKENS: usize = 7;

/// Administrative statements have at most this many words before their object's name.
const HEAD_TOKENS: usize = 6;

/// `None` for a statement that is not administrative; else whether it is one snowgate runs, read
/// from its first few words only (the unsupported ones are refused in any role, before any
/// privilege check).
pub fn classify(sql: &str) -> Option<Result<(), SqlRejection>> {
    // Most statements (SELECT, USE, …) are ruled out by their first word, without tokenizing.
    if limits::first_word(sql)
        .is_some_and(|w| !ADMIN_VERBS.iter().any(|v| w.eq_ignore_ascii_case(v)))
    {
        return None;
    }
    let head = limits::head_tokens(sql, HEAD_TOKENS)?;
    let verb = match head.first()? {
        Token::Word(w) if w.quote_style.is_none() => w.value.to_ascii_uppercase(),
        _ => return None,
    };
    if !ADMIN_VERBS.contains(&verb.as_str()) || super::session::is_session_statement(&head) {
        return None;
    }
    let mut p = Parser {
        tokens: head,
        pos: 0,
    };
    Some(p.head().map(|_| ()))
}

const ADMIN_VERBS: [&str; 8] = [
    "CREATE", "ALTER", "DROP", "DESC", "DESCRIBE", "SHOW", "GRANT", "REVOKE",
];

/// An administration statement, within [`limits`].
pub fn parse(sql: &str) -> Result<AdminCommand, SqlRejection> {
    parse_tokens(limits::lex(sql)?)
}

/// Tokens come from [`limits::lex`].
pub fn parse_tokens(tokens: Vec<TokenWithSpan>) -> Result<AdminCommand, SqlRejection> {
    let tokens = tokens
        .into_iter()
        .map(|t| t.token)
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let mut p = Parser { tokens, pos: 0 };
    let statement = p.statement()?;
    p.eat(&Token::SemiColon);
    if !p.at_end() {
        return Err(p.unexpected());
    }
    Ok(statement)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

fn unsupported(what: &str) -> SqlRejection {
    SqlRejection::Unsupported(format!("'{what}'"))
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.tokens.len() || matches!(self.peek(), Some(Token::EOF))
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    /// A description of the next token that never shows a string literal's content.
    fn describe_next(&self) -> String {
        match self.peek() {
            None | Some(Token::EOF) => "end of statement".into(),
            Some(Token::Word(w)) => format!("'{}'", w.value),
            Some(Token::SingleQuotedString(_)) | Some(Token::DollarQuotedString(_)) => {
                "a string".into()
            }
            Some(Token::Number(..)) => "a number".into(),
            Some(other) => format!("'{other}'"),
        }
    }

    fn unexpected(&self) -> SqlRejection {
        SqlRejection::Syntax(format!(
            "syntax error: unexpected {}.",
            self.describe_next()
        ))
    }

    fn peek_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(Word { value, quote_style: None, .. })) if value.eq_ignore_ascii_case(kw))
    }

    fn peek_kw_at(&self, offset: usize, kw: &str) -> bool {
        matches!(self.tokens.get(self.pos + offset), Some(Token::Word(Word { value, quote_style: None, .. })) if value.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        let yes = self.peek_kw(kw);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), SqlRejection> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(SqlRejection::Syntax(format!(
                "syntax error: expected {kw}, found {}.",
                self.describe_next()
            )))
        }
    }

    fn eat(&mut self, token: &Token) -> bool {
        let yes = self.peek() == Some(token);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn ident(&mut self) -> Result<Identifier, SqlRejection> {
        match self.peek().cloned() {
            Some(Token::Word(w)) => {
                self.pos += 1;
                Identifier::from_parsed(&w.value, w.quote_style.is_some())
                    .ok_or_else(|| SqlRejection::Syntax("syntax error: empty identifier.".into()))
            }
            _ => Err(SqlRejection::Syntax(format!(
                "syntax error: expected a name, found {}.",
                self.describe_next()
            ))),
        }
    }

    fn if_exists(&mut self) -> Result<bool, SqlRejection> {
        if self.eat_kw("IF") {
            self.expect_kw("EXISTS")?;
            return Ok(true);
        }
        Ok(false)
    }

    fn if_not_exists(&mut self) -> Result<bool, SqlRejection> {
        if self.eat_kw("IF") {
            self.expect_kw("NOT")?;
            self.expect_kw("EXISTS")?;
            return Ok(true);
        }
        Ok(false)
    }

    fn like(&mut self) -> Result<Option<String>, SqlRejection> {
        if !self.eat_kw("LIKE") {
            return Ok(None);
        }
        match self.next() {
            Some(Token::SingleQuotedString(s))
                if s.chars().count() > limits::MAX_LIKE_PATTERN_CHARS =>
            {
                Err(SqlRejection::Syntax(format!(
                    "statement too complex: a LIKE pattern of more than {} characters (snowgate's limit).",
                    limits::MAX_LIKE_PATTERN_CHARS
                )))
            }
            Some(Token::SingleQuotedString(s)) => Ok(Some(s)),
            _ => Err(SqlRejection::Syntax(
                "syntax error: LIKE needs a quoted pattern.".into(),
            )),
        }
    }

    fn alter(&mut self) -> Result<Alter, SqlRejection> {
        if self.eat_kw("SET") {
            let props = self.properties()?;
            if props.is_empty() {
                return Err(self.unexpected());
            }
            return Ok(Alter::Set(props));
        }
        if self.eat_kw("UNSET") {
            let mut names = Vec::new();
            loop {
                match self.next() {
                    Some(Token::Word(w)) if w.quote_style.is_none() => {
                        names.push(w.value.to_ascii_uppercase())
                    }
                    _ => {
                        self.pos -= 1;
                        return Err(self.unexpected());
                    }
                }
                if !self.eat(&Token::Comma) {
                    return Ok(Alter::Unset(names));
                }
            }
        }
        Err(SqlRejection::Unsupported(
            "this ALTER form (only SET and UNSET are supported)".into(),
        ))
    }

    /// The verb and the kind of object: a few words, enough to refuse an unsupported statement,
    /// and to know an administrative one, before the rest is read.
    fn head(&mut self) -> Result<Head, SqlRejection> {
        if self.eat_kw("CREATE") {
            let or_replace = self.eat_kw("OR");
            if or_replace {
                self.expect_kw("REPLACE")?;
            }
            return Ok(Head::Create(or_replace, self.object_kind()?));
        }
        if self.eat_kw("ALTER") {
            if self.eat_kw("ACCOUNT") {
                return Ok(Head::AlterAccount);
            }
            return match self.object_kind()? {
                Kind::Role => Err(unsupported("ALTER ROLE")),
                kind => Ok(Head::Alter(kind)),
            };
        }
        if self.eat_kw("DROP") {
            return Ok(Head::Drop(self.object_kind()?));
        }
        if self.eat_kw("DESC") || self.eat_kw("DESCRIBE") {
            return match self.object_kind()? {
                Kind::Role => Err(unsupported("DESCRIBE ROLE")),
                kind => Ok(Head::Describe(kind)),
            };
        }
        if self.eat_kw("SHOW") {
            return self.show_head();
        }
        let grant = self.eat_kw("GRANT");
        if grant || self.eat_kw("REVOKE") {
            return self.grant_head(grant);
        }
        Err(unsupported("this statement"))
    }

    fn statement(&mut self) -> Result<AdminCommand, SqlRejection> {
        match self.head()? {
            Head::Create(or_replace, kind) => self.create(or_replace, kind),
            Head::AlterAccount => {
                if let Some(attach) = self.attach(PolicyTarget::Account)? {
                    return Ok(attach);
                }
                let mut changes = typed(self.alter()?, properties::account)?;
                // Later settings win, as they would one after the other.
                let last = changes.pop().ok_or_else(|| self.unexpected())?;
                Ok(AdminCommand::Account(last))
            }
            Head::Alter(Kind::Integration) => {
                let if_exists = self.if_exists()?;
                let name = self.ident()?;
                let properties = typed(self.alter()?, integrations::property)?;
                Ok(AdminCommand::Integration(IntegrationCommand::Alter {
                    name,
                    if_exists,
                    properties,
                }))
            }
            Head::Describe(Kind::Integration) => {
                let name = self.ident()?;
                Ok(AdminCommand::Integration(IntegrationCommand::Describe {
                    name,
                }))
            }
            Head::Alter(kind) => self.alter_object(kind),
            Head::Drop(Kind::Policy(kind)) => {
                let if_exists = self.if_exists()?;
                let name = self.object_name()?;
                Ok(policy(kind, KindPolicyAction::Drop { name, if_exists }))
            }
            Head::Drop(kind) => {
                let if_exists = self.if_exists()?;
                let name = self.ident()?;
                Ok(match kind {
                    Kind::User => AdminCommand::User(UserCommand::Drop { name, if_exists }),
                    Kind::Role => AdminCommand::Role(RoleCommand::Drop { name, if_exists }),
                    Kind::NetworkPolicy | Kind::Policy(_) => {
                        AdminCommand::NetworkPolicy(PolicyCommand::Drop { name, if_exists })
                    }
                    Kind::Integration => {
                        AdminCommand::Integration(IntegrationCommand::Drop { name, if_exists })
                    }
                })
            }
            Head::Describe(Kind::Policy(kind)) => {
                let name = self.object_name()?;
                Ok(policy(kind, KindPolicyAction::Describe { name }))
            }
            Head::Describe(kind) => {
                let name = self.ident()?;
                Ok(AdminCommand::Show(match kind {
                    Kind::NetworkPolicy => ShowCommand::DescribeNetworkPolicy { name },
                    _ => ShowCommand::DescribeUser { name },
                }))
            }
            Head::Show(kind) => {
                let like = self.like()?;
                Ok(AdminCommand::Show(match kind {
                    Kind::User => ShowCommand::Users { like },
                    Kind::Role => ShowCommand::Roles { like },
                    Kind::NetworkPolicy => ShowCommand::NetworkPolicies { like },
                    Kind::Policy(kind) => {
                        return Ok(policy(kind, KindPolicyAction::Show { like }));
                    }
                    Kind::Integration => {
                        return Ok(AdminCommand::Integration(IntegrationCommand::Show { like }));
                    }
                }))
            }
            Head::Grant(grant) => self.grant(grant),
            Head::ShowMfa => Ok(AdminCommand::Mfa(self.show_for_user(MfaAction::Show)?)),
            Head::ShowPats => Ok(AdminCommand::Pat(self.show_for_user(PatAction::Show)?)),
            Head::ShowWorkloadIdentities => Ok(AdminCommand::WorkloadIdentity(
                self.show_for_user(WifAction::Show)?,
            )),
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    User,
    Role,
    NetworkPolicy,
    Policy(PolicyKind),
    /// `[SECURITY] INTEGRATION` (External OAuth only).
    Integration,
}

/// A statement's first words. `Alter` and `Describe` never hold `Kind::Role` (refused in `head`).
enum Head {
    Create(bool, Kind),
    AlterAccount,
    Alter(Kind),
    Drop(Kind),
    Describe(Kind),
    Show(Kind),
    Grant(bool),
    ShowPats,
    ShowMfa,
    ShowWorkloadIdentities,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::admin::command::{AccountCommand, PolicyProperty, UserProperty};
    use crate::domain::directory::UserType;

    pub(super) fn id(s: &str) -> Identifier {
        Identifier::from_parsed(s, true).unwrap()
    }

    #[test]
    fn create_user_with_typed_properties() {
        let s = parse(
            "CREATE OR REPLACE USER IF NOT EXISTS svc_loader TYPE = SERVICE DEFAULT_ROLE = 'loader' \
             DISABLED = FALSE COMMENT = $$it's$$ LOGIN_NAME = ' svc ';",
        )
        .unwrap();
        let AdminCommand::User(UserCommand::Create {
            name,
            mode,
            properties,
        }) = s
        else {
            panic!("{s:?}")
        };
        assert_eq!(name, id("SVC_LOADER"));
        assert!(mode.or_replace && mode.if_not_exists);
        assert!(matches!(
            &properties[..],
            [
                UserProperty::Type(Some(UserType::Service)),
                UserProperty::DefaultRole(Some(role)),
                UserProperty::Disabled(Some(false)),
                UserProperty::Comment(Some(comment)),
                UserProperty::LoginName(Some(login)),
            ] if role == &id("LOADER") && comment == "it's" && login == "SVC"
        ));
    }

    #[test]
    fn commands_never_show_secrets_when_debugged() {
        let command = parse("create user u password = 'hunter2' comment = 'hunter3'").unwrap();
        let debug = format!("{command:?}");
        assert!(!debug.contains("hunter"), "{debug}");
    }

    /// Each statement is refused as an invalid value while parsing.
    pub(super) fn assert_invalid(statements: &[&str]) {
        for sql in statements {
            let parsed = parse(sql);
            assert!(
                matches!(parsed, Err(SqlRejection::InvalidValue(_))),
                "{sql}: {parsed:?}"
            );
        }
    }

    #[test]
    fn invalid_values_are_refused_while_parsing() {
        assert_invalid(&[
            "create user u rsa_public_key = 'MIIB'",
            "create user u disabled = maybe",
            "create user u type = robot",
            "create user u password = ''",
            "create user u login_name = '  '",
            "create user u default_role = ('a')",
            "create user u shoe_size = 42",
            "alter user u unset shoe_size",
            "create network policy p allowed_ip_list = ('10.0.0.0/33')",
            "create network policy p allowed_ip_list = '10.0.0.1'",
            "create role r owner = x",
            "alter user u set mins_to_unlock = 5",
            "create user u mins_to_unlock = 0",
        ]);
    }

    #[test]
    fn other_forms() {
        let unset = parse("alter user if exists \"Mixed\" unset rsa_public_key, comment").unwrap();
        assert!(matches!(
            unset,
            AdminCommand::User(UserCommand::Alter { ref name, if_exists: true, ref properties, unlock: false })
                if name == &id("Mixed")
                && matches!(&properties[..], [UserProperty::RsaPublicKey(None), UserProperty::Comment(None)])
        ));
        assert!(matches!(
            parse("revoke role analyst from user bob").unwrap(),
            AdminCommand::Grant(GrantCommand { ref role, ref user, grant: false })
                if role == &id("ANALYST") && user == &id("BOB")
        ));
        assert!(matches!(
            parse("show users like 'SVC%'").unwrap(),
            AdminCommand::Show(ShowCommand::Users { like: Some(ref l) }) if l == "SVC%"
        ));
        let AdminCommand::NetworkPolicy(PolicyCommand::Create { properties, .. }) = parse(
            "create network policy p allowed_ip_list = ('127.0.0.1/32', '::1') blocked_ip_list=()",
        )
        .unwrap() else {
            panic!()
        };
        let PolicyProperty::AllowedIpList(allowed) = &properties[0] else {
            panic!()
        };
        let written: Vec<_> = allowed.iter().map(|e| e.written.as_str()).collect();
        assert_eq!(written, ["127.0.0.1/32", "::1"]);
        assert_eq!(allowed[1].net, "::1/128".parse::<ipnet::IpNet>().unwrap());
        assert_eq!(properties[1], PolicyProperty::BlockedIpList(vec![]));
        assert!(matches!(
            parse("alter user u set mins_to_unlock = 0, comment = 'x'").unwrap(),
            AdminCommand::User(UserCommand::Alter { unlock: true, ref properties, .. })
                if matches!(&properties[..], [UserProperty::Comment(Some(_))])
        ));
        assert!(matches!(
            parse("alter account set network_policy = p").unwrap(),
            AdminCommand::Account(AccountCommand::NetworkPolicy(Some(_)))
        ));
        assert!(matches!(
            parse("alter account unset network_policy").unwrap(),
            AdminCommand::Account(AccountCommand::NetworkPolicy(None))
        ));
    }

    #[test]
    fn refusals_never_quote_strings() {
        for (sql, unsupported) in [
            ("grant application role app.r to user u", true),
            ("grant usage on warehouse w to role r", true),
            ("grant role r to role s", true),
            ("create table t (a int)", true),
            ("show warehouses", true),
            ("create user u password = 'hunter2' 'hunter3'", false),
            ("create user u password 'hunter2'", false),
            ("alter user u set", false),
        ] {
            let err = parse(sql).unwrap_err();
            assert_eq!(
                matches!(err, SqlRejection::Unsupported(_)),
                unsupported,
                "{sql}: {err:?}"
            );
            assert!(!format!("{err:?}").contains("hunter"), "{sql}: {err:?}");
        }
        assert!(is_admin("  create user x") && is_admin("DESC USER x") && !is_admin("select 1"));
        assert!(is_admin("/* dbt */ -- c\n alter user u set comment = 'x'"));
    }
}
