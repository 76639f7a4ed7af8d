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

    /// At `ADD|MODIFY|ROTATE|REMOVE PAT|PROGRAMMATIC`.
    fn at_pat_verb(&self) -> bool {
        ["ADD", "MODIFY", "ROTATE", "REMOVE"]
            .iter()
            .any(|v| self.peek_kw(v))
            && (self.peek_kw_at(1, "PAT") || self.peek_kw_at(1, "PROGRAMMATIC"))
    }

    /// At the verb of a statement about one user's credentials: PATs, workload identities, MFA.
    fn at_user_scoped_verb(&self) -> bool {
        self.at_pat_verb() || self.at_wif_verb() || self.at_mfa_verb()
    }

    /// After `ALTER USER [IF EXISTS] [name]`, at a PAT, workload identity or MFA verb.
    fn user_scoped(
        &mut self,
        user: Option<Identifier>,
        if_exists: bool,
    ) -> Result<AdminCommand, SqlRejection> {
        if self.at_pat_verb() {
            self.pat(user, if_exists)
        } else if self.at_wif_verb() {
            self.wif(user, if_exists)
        } else {
            self.mfa(user, if_exists)
        }
    }

    /// The next word, upper-cased (a verb such as `ADD`).
    fn verb(&mut self) -> Result<String, SqlRejection> {
        match self.next() {
            Some(Token::Word(w)) => Ok(w.value.to_ascii_uppercase()),
            _ => Err(self.unexpected()),
        }
    }

    /// At `ADD|REMOVE MFA`.
    fn at_mfa_verb(&self) -> bool {
        (self.peek_kw("ADD") || self.peek_kw("REMOVE")) && self.peek_kw_at(1, "MFA")
    }

    /// After `ALTER USER [IF EXISTS] [name]`, at `ADD|REMOVE MFA METHOD TOTP`.
    fn mfa(
        &mut self,
        user: Option<Identifier>,
        if_exists: bool,
    ) -> Result<AdminCommand, SqlRejection> {
        let action = match self.eat_kw("ADD") {
            true => MfaAction::Add,
            false => {
                self.expect_kw("REMOVE")?;
                MfaAction::Remove
            }
        };
        self.expect_kw("MFA")?;
        self.expect_kw("METHOD")?;
        // TOTP is the only method; REMOVE also takes its name as SHOW MFA METHODS lists it.
        if !self.eat_kw("TOTP") {
            return Err(SqlRejection::Unsupported(format!(
                "MFA method {} (only TOTP)",
                self.describe_next()
            )));
        }
        Ok(AdminCommand::Mfa(UserScoped::new(user, if_exists, action)))
    }

    /// At `ADD|MODIFY|REMOVE WORKLOAD`.
    fn at_wif_verb(&self) -> bool {
        ["ADD", "MODIFY", "REMOVE"].iter().any(|v| self.peek_kw(v))
            && self.peek_kw_at(1, "WORKLOAD")
    }

    /// `PAT` or `PROGRAMMATIC ACCESS TOKEN` (`PATS` / `… TOKENS` when `plural`).
    fn pat_object(&mut self, plural: bool) -> Result<(), SqlRejection> {
        if self.eat_kw(if plural { "PATS" } else { "PAT" }) {
            return Ok(());
        }
        self.expect_kw("PROGRAMMATIC")?;
        self.expect_kw("ACCESS")?;
        self.expect_kw(if plural { "TOKENS" } else { "TOKEN" })
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

    /// A scalar, a parenthesised list of scalars, or parenthesised `NAME = value` pairs.
    fn value(&mut self) -> Result<Value, SqlRejection> {
        self.nested_value(1)
    }

    /// Recursion bounded by [`MAX_VALUE_DEPTH`].
    fn nested_value(&mut self, depth: usize) -> Result<Value, SqlRejection> {
        if !self.eat(&Token::LParen) {
            return self.scalar();
        }
        if depth > MAX_VALUE_DEPTH {
            return Err(SqlRejection::Syntax(format!(
                "statement too complex: property values nest at most {MAX_VALUE_DEPTH} levels deep."
            )));
        }
        let pairs = matches!(self.peek(), Some(Token::Word(w)) if w.quote_style.is_none())
            && self.tokens.get(self.pos + 1) == Some(&Token::Eq);
        if pairs {
            return self.pairs(depth);
        }
        let mut items = Vec::new();
        if self.eat(&Token::RParen) {
            return Ok(Value::List(items));
        }
        loop {
            items.push(self.scalar()?);
            if self.eat(&Token::RParen) {
                return Ok(Value::List(items));
            }
            if !self.eat(&Token::Comma) {
                return Err(self.unexpected());
            }
        }
    }

    /// After `(`: `NAME = value` pairs, separated by commas or (as in `WORKLOAD_IDENTITY = (TYPE =
    /// AWS ARN = '…')`) by spaces, to the closing `)`.
    fn pairs(&mut self, depth: usize) -> Result<Value, SqlRejection> {
        let mut pairs = Vec::new();
        loop {
            let name = self.property_name()?;
            if !self.eat(&Token::Eq) {
                return Err(self.unexpected());
            }
            pairs.push((name, self.nested_value(depth + 1)?));
            if self.eat(&Token::RParen) {
                return Ok(Value::Pairs(pairs));
            }
            self.eat(&Token::Comma);
        }
    }

    /// An unquoted word, upper-cased.
    fn property_name(&mut self) -> Result<String, SqlRejection> {
        match self.peek() {
            Some(Token::Word(w)) if w.quote_style.is_none() => {
                let name = w.value.to_ascii_uppercase();
                self.pos += 1;
                Ok(name)
            }
            _ => Err(SqlRejection::Syntax(format!(
                "syntax error: expected a property name, found {}.",
                self.describe_next()
            ))),
        }
    }

    fn scalar(&mut self) -> Result<Value, SqlRejection> {
        match self.peek().cloned() {
            Some(Token::SingleQuotedString(s)) => self.advance(Value::Str(s)),
            Some(Token::DollarQuotedString(s)) => self.advance(Value::Str(s.value)),
            Some(Token::Number(n, _)) => self.advance(Value::Number(n)),
            Some(Token::Word(w)) => Identifier::from_parsed(&w.value, w.quote_style.is_some())
                .ok_or_else(|| SqlRejection::Syntax("syntax error: empty identifier.".into()))
                .and_then(|i| self.advance(Value::Ident(i))),
            _ => Err(SqlRejection::Syntax(format!(
                "syntax error: expected a value, found {}.",
                self.describe_next()
            ))),
        }
    }

    fn advance(&mut self, value: Value) -> Result<Value, SqlRejection> {
        self.pos += 1;
        Ok(value)
    }

    /// `NAME = value` pairs, optionally comma-separated, until the end of the statement.
    fn properties(&mut self) -> Result<Vec<Property>, SqlRejection> {
        let mut props = Vec::new();
        while !self.at_end() && self.peek() != Some(&Token::SemiColon) {
            let name = match self.next() {
                Some(Token::Word(w)) if w.quote_style.is_none() => w.value.to_ascii_uppercase(),
                _ => {
                    self.pos -= 1;
                    return Err(SqlRejection::Syntax(format!(
                        "syntax error: expected a property name, found {}.",
                        self.describe_next()
                    )));
                }
            };
            if !self.eat(&Token::Eq) {
                return Err(SqlRejection::Syntax(format!(
                    "syntax error: expected = after {name}, found {}.",
                    self.describe_next()
                )));
            }
            let value = self.value()?;
            props.push(Property { name, value });
            self.eat(&Token::Comma);
        }
        Ok(props)
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

    fn show_head(&mut self) -> Result<Head, SqlRejection> {
        self.eat_kw("TERSE");
        if self.eat_kw("MFA") {
            self.expect_kw("METHODS")?;
            return Ok(Head::ShowMfa);
        }
        if self.eat_kw("USER") {
            if self.eat_kw("WORKLOAD") {
                for kw in ["IDENTITY", "AUTHENTICATION", "METHODS"] {
                    self.expect_kw(kw)?;
                }
                return Ok(Head::ShowWorkloadIdentities);
            }
            self.pat_object(true)?;
            return Ok(Head::ShowPats);
        }
        if self.eat_kw("USERS") {
            return Ok(Head::Show(Kind::User));
        }
        if self.eat_kw("SECURITY") || self.peek_kw("INTEGRATIONS") {
            self.expect_kw("INTEGRATIONS")?;
            return Ok(Head::Show(Kind::Integration));
        }
        if self.eat_kw("ROLES") {
            return Ok(Head::Show(Kind::Role));
        }
        if self.eat_kw("NETWORK") {
            self.expect_kw("POLICIES")?;
            return Ok(Head::Show(Kind::NetworkPolicy));
        }
        if let Some(kind) = self.policy_kind() {
            self.expect_kw("POLICIES")?;
            return Ok(Head::Show(Kind::Policy(kind)));
        }
        Err(unsupported("this SHOW statement"))
    }

    fn grant_head(&mut self, grant: bool) -> Result<Head, SqlRejection> {
        let verb = if grant { "GRANT" } else { "REVOKE" };
        if !self.eat_kw("ROLE") {
            return Err(SqlRejection::Unsupported(format!(
                "'{verb} {}' (only {verb} ROLE … {} USER … is supported)",
                self.describe_next().trim_matches('\''),
                if grant { "TO" } else { "FROM" }
            )));
        }
        Ok(Head::Grant(grant))
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

    /// `[FOR USER <u>]` ending a SHOW USER … statement, which shows `action`.
    fn show_for_user<A: UserScopedAction>(
        &mut self,
        action: A,
    ) -> Result<UserScoped<A>, SqlRejection> {
        let user = match self.eat_kw("FOR") {
            true => {
                self.expect_kw("USER")?;
                Some(self.ident()?)
            }
            false => None,
        };
        Ok(UserScoped::new(user, false, action))
    }

    /// After `ALTER USER [IF EXISTS] [name]`, at `ADD|MODIFY|REMOVE WORKLOAD`.
    fn wif(
        &mut self,
        user: Option<Identifier>,
        if_exists: bool,
    ) -> Result<AdminCommand, SqlRejection> {
        let verb = self.verb()?;
        self.expect_kw("WORKLOAD")?;
        self.expect_kw("IDENTITY")?;
        let name = self.ident()?;
        let action = match verb.as_str() {
            "ADD" => {
                let pairs: Vec<(String, Value)> = self
                    .properties()?
                    .into_iter()
                    .map(|p| (p.name, p.value))
                    .collect();
                WifAction::Add {
                    name,
                    provider: properties::workload_identity(&pairs)?,
                }
            }
            "MODIFY" if self.eat_kw("RENAME") => {
                self.expect_kw("TO")?;
                WifAction::Modify {
                    name,
                    properties: Vec::new(),
                    rename: Some(self.ident()?),
                }
            }
            "MODIFY" => WifAction::Modify {
                name,
                properties: typed(self.alter()?, properties::wif_modify)?,
                rename: None,
            },
            _ => WifAction::Remove { name },
        };
        Ok(AdminCommand::WorkloadIdentity(UserScoped::new(
            user, if_exists, action,
        )))
    }

    /// After `ALTER USER [IF EXISTS] [name]`, at `ADD|MODIFY|ROTATE|REMOVE`.
    fn pat(
        &mut self,
        user: Option<Identifier>,
        if_exists: bool,
    ) -> Result<AdminCommand, SqlRejection> {
        let verb = self.verb()?;
        self.pat_object(false)?;
        let action = match verb.as_str() {
            "ADD" => {
                let if_not_exists = self.if_not_exists()?;
                let name = self.ident()?;
                let properties = self
                    .properties()?
                    .iter()
                    .map(|p| properties::pat_add(&p.name, &p.value))
                    .collect::<Result<_, _>>()?;
                PatAction::Add {
                    name,
                    if_not_exists,
                    properties,
                }
            }
            "MODIFY" => {
                let name = self.ident()?;
                if self.eat_kw("RENAME") {
                    self.expect_kw("TO")?;
                    let to = self.ident()?;
                    PatAction::Modify {
                        name,
                        properties: Vec::new(),
                        rename: Some(to),
                    }
                } else {
                    PatAction::Modify {
                        name,
                        properties: typed(self.alter()?, properties::pat_modify)?,
                        rename: None,
                    }
                }
            }
            "ROTATE" => {
                let name = self.ident()?;
                let mut hours = None;
                for p in self.properties()? {
                    hours = Some(properties::pat_rotate(&p.name, &p.value)?);
                }
                PatAction::Rotate {
                    name,
                    expire_rotated_after_hours: hours,
                }
            }
            _ => PatAction::Remove {
                name: self.ident()?,
            },
        };
        Ok(AdminCommand::Pat(UserScoped::new(user, if_exists, action)))
    }

    fn create(&mut self, or_replace: bool, kind: Kind) -> Result<AdminCommand, SqlRejection> {
        let mode = CreateMode {
            or_replace,
            if_not_exists: self.if_not_exists()?,
        };
        if let Kind::Policy(kind) = kind {
            let name = self.object_name()?;
            let props = self.properties()?;
            let settings = typed(Alter::Set(props), properties::kind_policy(kind))?;
            return Ok(policy(
                kind,
                KindPolicyAction::Create {
                    name,
                    mode,
                    settings,
                },
            ));
        }
        let name = self.ident()?;
        let props = self.properties()?;
        Ok(match kind {
            Kind::Integration => AdminCommand::Integration(IntegrationCommand::Create {
                name,
                mode,
                properties: integrations::create(typed(
                    Alter::Set(props),
                    integrations::property,
                )?)?,
            }),
            Kind::User => AdminCommand::User(UserCommand::Create {
                name,
                mode,
                properties: typed(Alter::Set(props), properties::user)?,
            }),
            Kind::Role => {
                let mut comment = None;
                for p in &props {
                    comment = Some(properties::role_comment(&p.name, &p.value)?);
                }
                AdminCommand::Role(RoleCommand::Create {
                    name,
                    mode,
                    comment,
                })
            }
            Kind::NetworkPolicy | Kind::Policy(_) => {
                AdminCommand::NetworkPolicy(PolicyCommand::Create {
                    name,
                    mode,
                    properties: typed(Alter::Set(props), properties::policy)?,
                })
            }
        })
    }

    fn alter_object(&mut self, kind: Kind) -> Result<AdminCommand, SqlRejection> {
        let if_exists = self.if_exists()?;
        if let Kind::Policy(kind) = kind {
            return self.alter_policy(kind, if_exists);
        }
        let is_user = matches!(kind, Kind::User);
        if is_user && self.at_user_scoped_verb() {
            return self.user_scoped(None, if_exists);
        }
        let name = self.ident()?;
        if is_user && self.at_user_scoped_verb() {
            return self.user_scoped(Some(name), if_exists);
        }
        if is_user {
            let target = PolicyTarget::User {
                name: name.clone(),
                if_exists,
            };
            if let Some(attach) = self.attach(target)? {
                return Ok(attach);
            }
        }
        let alter = self.alter()?;
        Ok(match kind {
            Kind::NetworkPolicy => AdminCommand::NetworkPolicy(PolicyCommand::Alter {
                name,
                if_exists,
                properties: typed(alter, properties::policy)?,
            }),
            _ => {
                let (alter, unlock) = take_unlock(alter)?;
                AdminCommand::User(UserCommand::Alter {
                    name,
                    if_exists,
                    properties: typed(alter, properties::user)?,
                    unlock,
                })
            }
        })
    }

    /// After `ALTER {AUTHENTICATION|PASSWORD|SESSION} POLICY [IF EXISTS]`.
    fn alter_policy(
        &mut self,
        kind: PolicyKind,
        if_exists: bool,
    ) -> Result<AdminCommand, SqlRejection> {
        let name = self.object_name()?;
        let change = if self.eat_kw("RENAME") {
            self.expect_kw("TO")?;
            PolicyChange::Rename(self.object_name()?)
        } else {
            PolicyChange::Settings(typed(self.alter()?, properties::kind_policy(kind))?)
        };
        Ok(policy(
            kind,
            KindPolicyAction::Alter {
                name,
                if_exists,
                change,
            },
        ))
    }

    /// `SET {AUTHENTICATION|PASSWORD|SESSION} POLICY name [FORCE]` or `UNSET … POLICY` on the
    /// account or a user; `None` (nothing read) for any other `SET` / `UNSET`.
    fn attach(&mut self, target: PolicyTarget) -> Result<Option<AdminCommand>, SqlRejection> {
        let set = self.peek_kw("SET");
        if !(set || self.peek_kw("UNSET")) {
            return Ok(None);
        }
        let start = self.pos;
        self.pos += 1;
        let Some(kind) = self.policy_kind().filter(|_| self.peek_kw("POLICY")) else {
            self.pos = start;
            return Ok(None);
        };
        self.pos += 1;
        let policy = if set { Some(self.object_name()?) } else { None };
        let force = set && self.eat_kw("FORCE");
        Ok(Some(AdminCommand::AttachPolicy(AttachPolicy {
            kind,
            target,
            policy,
            force,
        })))
    }

    /// `AUTHENTICATION`, `PASSWORD` or `SESSION`, eaten; nothing eaten otherwise.
    fn policy_kind(&mut self) -> Option<PolicyKind> {
        let kind = [
            ("AUTHENTICATION", PolicyKind::Authentication),
            ("PASSWORD", PolicyKind::Password),
            ("SESSION", PolicyKind::Session),
        ]
        .into_iter()
        .find(|(kw, _)| self.peek_kw(kw))
        .map(|(_, k)| k)?;
        self.pos += 1;
        Some(kind)
    }

    /// `name`, `schema.name` or `database.schema.name`.
    fn object_name(&mut self) -> Result<ObjectName, SqlRejection> {
        let mut parts = vec![self.ident()?];
        while parts.len() < 3 && self.eat(&Token::Period) {
            parts.push(self.ident()?);
        }
        let name = parts.pop().ok_or_else(|| self.unexpected())?;
        let schema = parts.pop();
        Ok(ObjectName {
            database: parts.pop(),
            schema,
            name,
        })
    }

    /// After `GRANT ROLE` / `REVOKE ROLE`.
    fn grant(&mut self, grant: bool) -> Result<AdminCommand, SqlRejection> {
        let verb = if grant { "GRANT" } else { "REVOKE" };
        let role = self.ident()?;
        self.expect_kw(if grant { "TO" } else { "FROM" })?;
        if !self.eat_kw("USER") {
            return Err(SqlRejection::Unsupported(format!(
                "'{verb} ROLE' to a grantee other than a user"
            )));
        }
        let user = self.ident()?;
        Ok(AdminCommand::Grant(GrantCommand { role, user, grant }))
    }

    fn object_kind(&mut self) -> Result<Kind, SqlRejection> {
        if self.eat_kw("USER") {
            return Ok(Kind::User);
        }
        if self.eat_kw("ROLE") {
            return Ok(Kind::Role);
        }
        if self.eat_kw("NETWORK") {
            self.expect_kw("POLICY")?;
            return Ok(Kind::NetworkPolicy);
        }
        if self.eat_kw("SECURITY") || self.peek_kw("INTEGRATION") {
            self.expect_kw("INTEGRATION")?;
            return Ok(Kind::Integration);
        }
        if let Some(kind) = self.policy_kind() {
            self.expect_kw("POLICY")?;
            return Ok(Kind::Policy(kind));
        }
        Err(SqlRejection::Unsupported(format!(
            "objects of type {} (snowgate administers users, roles and policies)",
            self.describe_next()
        )))
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

fn policy(kind: PolicyKind, action: KindPolicyAction) -> AdminCommand {
    AdminCommand::Policy(KindPolicyCommand { kind, action })
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
    use crate::domain::admin::command::{AccountCommand, PatCommand, PolicyProperty, UserProperty};
    use crate::domain::directory::UserType;

    fn id(s: &str) -> Identifier {
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
    fn assert_invalid(statements: &[&str]) {
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
    fn mfa_statements() {
        let mfa = |sql: &str| match parse(sql) {
            Ok(AdminCommand::Mfa(m)) => Some((m.user.map(|u| u.into_string()), m.action)),
            _ => None,
        };
        assert_eq!(
            mfa("ALTER USER ADD MFA METHOD TOTP"),
            Some((None, MfaAction::Add))
        );
        assert_eq!(
            mfa("alter user if exists joe remove mfa method totp"),
            Some((Some("JOE".into()), MfaAction::Remove))
        );
        assert_eq!(mfa("SHOW MFA METHODS"), Some((None, MfaAction::Show)));
        assert_eq!(
            mfa("SHOW MFA METHODS FOR USER joe"),
            Some((Some("JOE".into()), MfaAction::Show))
        );
        assert!(parse("ALTER USER ADD MFA METHOD PASSKEY").is_err());
        assert!(parse("ALTER USER joe ADD MFA METHOD").is_err());
        assert!(is_self_service("ALTER USER ADD MFA METHOD TOTP"));
        assert!(is_self_service(
            "ALTER USER IF EXISTS joe REMOVE MFA METHOD TOTP"
        ));
        assert!(is_self_service("SHOW MFA METHODS"));
        assert!(!is_self_service("ALTER USER joe SET DISABLED = TRUE"));
    }

    #[test]
    fn pat_statements() {
        for (sql, yes) in [
            ("ALTER USER ADD PAT t", true),
            ("alter user add programmatic access token t", true),
            (
                "ALTER USER IF EXISTS u MODIFY PAT t SET DISABLED = TRUE",
                true,
            ),
            (
                "ALTER USER \"Mixed\" ROTATE PROGRAMMATIC ACCESS TOKEN t",
                true,
            ),
            ("/* c */ ALTER USER u REMOVE PAT t", true),
            ("SHOW USER PATS", true),
            ("show user programmatic access tokens for user u", true),
            ("ALTER USER add SET COMMENT = 'x'", false),
            ("ALTER USER u SET PASSWORD = 'p'", false),
            ("SHOW USERS", false),
            ("SELECT 1", false),
        ] {
            assert_eq!(is_self_service(sql), yes, "{sql}");
        }
        let AdminCommand::Pat(c) = parse(
            "ALTER USER IF EXISTS u ADD PAT IF NOT EXISTS t ROLE_RESTRICTION = r DAYS_TO_EXPIRY = 3 \
             MINS_TO_BYPASS_NETWORK_POLICY_REQUIREMENT = 5 COMMENT = 'c'",
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(c.user, Some(id("U")));
        assert!(c.if_exists);
        let PatAction::Add {
            name,
            if_not_exists: true,
            properties,
        } = c.action
        else {
            panic!()
        };
        assert_eq!(name, id("T"));
        assert_eq!(properties.len(), 4);
        assert!(matches!(
            parse("ALTER USER MODIFY PAT t RENAME TO u").unwrap(),
            AdminCommand::Pat(PatCommand {
                user: None,
                action: PatAction::Modify {
                    rename: Some(_),
                    ..
                },
                ..
            })
        ));
        assert!(matches!(
            parse("SHOW USER PATS FOR USER bob").unwrap(),
            AdminCommand::Pat(PatCommand {
                user: Some(_),
                action: PatAction::Show,
                ..
            })
        ));
        assert_invalid(&[
            "ALTER USER ADD PAT t DAYS_TO_EXPIRY = 'x'",
            "ALTER USER ADD PAT t DAYS_TO_EXPIRY = 0",
            "ALTER USER ADD PAT t DISABLED = TRUE",
            "ALTER USER MODIFY PAT t SET ROLE_RESTRICTION = r",
            "ALTER USER ROTATE PAT t EXPIRE_ROTATED_TOKEN_AFTER_HOURS = 169",
        ]);
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

    #[test]
    fn policies_of_three_kinds_parse_into_one_shape() {
        use crate::domain::admin::command::{AuthSetting, PolicySetting};
        let AdminCommand::Policy(KindPolicyCommand { kind, action }) = parse(
            "create or replace authentication policy if not exists db.sch.ap \
             authentication_methods = ('keypair', 'PASSWORD') \
             client_policy = (python_driver = (minimum_version = '3.0.1')) \
             pat_policy = (max_expiry_in_days = 30, network_policy_evaluation = not_enforced) \
             comment = 'c'",
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(kind, PolicyKind::Authentication);
        let KindPolicyAction::Create {
            name,
            mode,
            settings,
        } = action
        else {
            panic!()
        };
        assert!(mode.or_replace && mode.if_not_exists);
        assert_eq!(
            (name.database, name.schema, name.name),
            (Some(id("DB")), Some(id("SCH")), id("AP"))
        );
        assert!(
            matches!(&settings[1], PolicySetting::Authentication(AuthSetting::ClientPolicy(Some(m))) if m["PYTHON_DRIVER"] == "3.0.1")
        );
        assert!(
            matches!(&settings[2], PolicySetting::Authentication(AuthSetting::Pat(Some(p))) if p.max_expiry_in_days == 30 && p.default_expiry_in_days == 15)
        );
        for sql in [
            "alter session policy sp set session_idle_timeout_mins = 30",
            "alter password policy if exists pp unset password_min_length, comment",
            "alter password policy pp rename to db.s.pp2",
            "drop session policy if exists sp",
            "show password policies like 'p%'",
            "desc authentication policy x.y.ap",
            "alter account set authentication policy ap force",
            "alter account unset session policy",
            "alter user if exists u set password policy pp",
            "alter user u unset authentication policy",
        ] {
            assert!(
                matches!(
                    parse(sql),
                    Ok(AdminCommand::Policy(_) | AdminCommand::AttachPolicy(_))
                ),
                "{sql}"
            );
        }
        assert!(is_admin("alter session policy sp set comment = 'x'"));
        let label = |sql: &str| parse(sql).unwrap().audit_label();
        assert_eq!(
            label("drop session policy db.s.x"),
            ("DROP SESSION POLICY", "X".to_string())
        );
        assert_eq!(
            label("show authentication policies"),
            ("SHOW AUTHENTICATION POLICIES", "-".to_string())
        );
        assert_eq!(
            label("alter user bob set password policy p"),
            ("ALTER USER", "BOB".to_string())
        );
        assert!(!is_admin("alter session set timezone = 'UTC'"));
    }

    #[test]
    fn user_scoped_statements_are_labelled_by_user_and_object() {
        let label = |sql: &str| parse(sql).unwrap().audit_label();
        for (sql, kind, object) in [
            ("alter user add pat t", "ALTER USER ADD PAT", "-.T"),
            (
                "alter user bob rotate pat t",
                "ALTER USER ROTATE PAT",
                "BOB.T",
            ),
            ("show user pats for user bob", "SHOW USER PATS", "BOB"),
            (
                "alter user remove mfa method totp",
                "ALTER USER REMOVE MFA METHOD",
                "-",
            ),
            ("show mfa methods for user bob", "SHOW MFA METHODS", "BOB"),
            (
                "alter user bob remove workload identity w",
                "ALTER USER REMOVE WORKLOAD IDENTITY",
                "BOB.W",
            ),
            (
                "show user workload identity authentication methods",
                "SHOW USER WORKLOAD IDENTITY AUTHENTICATION METHODS",
                "-",
            ),
        ] {
            assert_eq!(label(sql), (kind, object.to_string()), "{sql}");
        }
    }

    #[test]
    fn hostile_policy_values_are_refused() {
        assert_invalid(&[
            "create password policy p password_min_length = 7",
            "create password policy p password_max_retries = 11",
            "create password policy p password_history = 99999999999999",
            "create password policy p password_min_length = '-1'",
            "create session policy s session_idle_timeout_mins = 4",
            "create authentication policy a authentication_methods = ('TELEPATHY')",
            "create authentication policy a authentication_methods = ()",
            "create authentication policy a client_types = ('ALL', 'DRIVERS')",
            "create authentication policy a client_policy = (python_driver = (minimum_version = '1.x'))",
            "create authentication policy a client_policy = (cobol_driver = (minimum_version = '1'))",
            "create authentication policy a pat_policy = (max_expiry_in_days = 0)",
            "create authentication policy a pat_policy = (max_expiry_in_days = 1, max_expiry_in_days = 2)",
            "create authentication policy a mfa_enrollment = sometimes",
            "create authentication policy a shoe_size = 42",
            "create session policy s password_min_length = 8",
        ]);
        let deep = format!(
            "create authentication policy a pat_policy = {}1{}",
            "(a = ".repeat(4),
            ")".repeat(4)
        );
        assert!(matches!(parse(&deep), Err(SqlRejection::Syntax(m)) if m.contains("nest")));
    }
}
