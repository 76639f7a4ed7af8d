//! The SQL front end: statement text in, [`Statement`]s out, within bounded work ([`limits`]).
//! Session-context `USE …` and `SELECT CURRENT_*()` are parsed here on `sqlparser`'s Snowflake
//! dialect, administration in [`admin`]. The domain never sees SQL syntax, only [`Statement`]s.

pub mod admin;
mod history;
mod integrations;
pub mod limits;
mod properties;
pub mod session;

use sqlparser::ast::{
    Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectName, ObjectNamePart,
    SelectItem, SetExpr, Statement as Ast, UnaryOperator, Use, Value,
};
use sqlparser::dialect::SnowflakeDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::domain::ident::Identifier;
pub use crate::domain::query::statement::{
    ContextFunction, ContextStatement, SelectColumn, SelectValue, SessionFunction, SqlFrontEnd,
    SqlRejection, Statement, UseTarget,
};

/// The front end the service runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct FrontEnd;

impl SqlFrontEnd for FrontEnd {
    fn is_admin(&self, sql: &str) -> Result<bool, SqlRejection> {
        admin::classify(sql)
            .transpose()
            .map(|admin| admin.is_some())
    }

    fn parse(&self, sql: &str) -> Result<Statement, SqlRejection> {
        parse_statement(sql)
    }

    fn is_self_service(&self, sql: &str) -> bool {
        admin::is_self_service(sql)
    }
}

/// Parses one statement of either family. The text is measured against [`limits`] first.
pub fn parse_statement(sql: &str) -> Result<Statement, SqlRejection> {
    let tokens = limits::lex(sql)?;
    if admin::is_admin(sql) {
        admin::parse_tokens(tokens).map(Statement::Admin)
    } else if let Some(select) = select_current(&tokens) {
        Ok(Statement::Context(select))
    } else if let Some(statement) = session::parse(&tokens) {
        statement.map(Statement::Context)
    } else {
        let ast = parse_one(tokens)?;
        if let Some(read) = history::parse(&ast)? {
            return Ok(Statement::LoginHistory(read));
        }
        context_statement(&ast).map(Statement::Context)
    }
}

/// `SELECT CURRENT_X() [AS alias], …` read straight off the tokens: drivers and tools send this
/// form on every connect and health check, and the full parser costs more than the rest of the
/// request. Anything else (a constant, an alias without `AS`, a `FROM`, a keyword as alias) is
/// `None` and goes to the full parser, which answers these forms the same way (checked in the tests
/// below).
fn select_current(tokens: &[TokenWithSpan]) -> Option<ContextStatement> {
    let mut solid = tokens
        .iter()
        .map(|t| &t.token)
        .filter(|t| !matches!(t, Token::Whitespace(_)));
    let plain = |t: Option<&Token>, kw: &str| matches!(t, Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(kw));
    if !plain(solid.next(), "SELECT") {
        return None;
    }
    let mut columns = Vec::new();
    loop {
        let Some(Token::Word(f)) = solid.next() else {
            return None;
        };
        let function = context_function(&f.value).filter(|_| f.quote_style.is_none())?;
        if solid.next() != Some(&Token::LParen) || solid.next() != Some(&Token::RParen) {
            return None;
        }
        let mut name = format!("{}()", f.value.to_ascii_uppercase());
        let mut next = solid.next();
        if plain(next, "AS") {
            let Some(Token::Word(alias)) = solid.next() else {
                return None;
            };
            if alias.keyword != Keyword::NoKeyword || !matches!(alias.quote_style, None | Some('"'))
            {
                return None;
            }
            name =
                Identifier::from_parsed(&alias.value, alias.quote_style.is_some())?.into_string();
            next = solid.next();
        }
        columns.push(SelectColumn {
            name,
            value: SelectValue::Function(function),
        });
        match next {
            Some(Token::Comma) => continue,
            Some(Token::SemiColon) if matches!(solid.next(), None | Some(Token::EOF)) => break,
            None | Some(Token::EOF) => break,
            _ => return None,
        }
    }
    Some(ContextStatement::SelectCurrent(columns))
}

fn context_function(name: &str) -> Option<ContextFunction> {
    Some(match name.to_ascii_uppercase().as_str() {
        "CURRENT_DATABASE" => ContextFunction::Database,
        "CURRENT_SCHEMA" => ContextFunction::Schema,
        "CURRENT_WAREHOUSE" => ContextFunction::Warehouse,
        "CURRENT_ROLE" => ContextFunction::Role,
        "CURRENT_USER" => ContextFunction::User,
        "CURRENT_ACCOUNT" => ContextFunction::Account,
        "CURRENT_SESSION" => ContextFunction::Session,
        "CURRENT_VERSION" => ContextFunction::Version,
        "CURRENT_IP_ADDRESS" => ContextFunction::IpAddress,
        _ => return None,
    })
}

/// A session-context statement, within [`limits`].
pub fn parse(sql: &str) -> Result<ContextStatement, SqlRejection> {
    let tokens = limits::lex(sql)?;
    match session::parse(&tokens) {
        Some(statement) => statement,
        None => parse_tokens(tokens),
    }
}

/// Tokens come from [`limits::lex`]: `sqlparser` only ever sees a measured token stream (and never
/// logs the text, which it would from `parse_sql`).
fn parse_tokens(tokens: Vec<TokenWithSpan>) -> Result<ContextStatement, SqlRejection> {
    context_statement(&parse_one(tokens)?)
}

/// The one statement of `tokens`.
fn parse_one(tokens: Vec<TokenWithSpan>) -> Result<Ast, SqlRejection> {
    let mut statements = Parser::new(&SnowflakeDialect {})
        .with_recursion_limit(limits::PARSER_RECURSION_LIMIT)
        .with_tokens_with_locations(tokens)
        .parse_statements()
        .map_err(|e| SqlRejection::Syntax(syntax_error(&e)))?;
    match statements.len() {
        0 => Err(SqlRejection::Syntax("Empty SQL statement.".into())),
        1 => statements
            .pop()
            .ok_or_else(|| SqlRejection::Syntax("Empty SQL statement.".into())),
        more => Err(SqlRejection::Unsupported(format!(
            "multiple statements in one request ({more} given)"
        ))),
    }
}

/// A session-context statement: `USE …` or a plain `SELECT` list.
fn context_statement(statement: &Ast) -> Result<ContextStatement, SqlRejection> {
    match statement {
        Ast::Use(target) => parse_use(target).map(ContextStatement::Use),
        Ast::Query(query) => {
            let SetExpr::Select(select) = query.body.as_ref() else {
                return Err(unsupported_statement());
            };
            // Anything beyond a bare projection (FROM, WHERE, ORDER BY, LIMIT, …) shows up in the
            // printed form, so comparing the two is an exact test for "a plain SELECT list".
            let projection: Vec<String> = select.projection.iter().map(|i| i.to_string()).collect();
            let bare = format!("SELECT {}", projection.join(", "));
            if query.to_string() != bare {
                return Err(unsupported_statement());
            }
            if let [item] = select.projection.as_slice()
                && let Some(call) = session_function(item)?
            {
                return Ok(call);
            }
            select
                .projection
                .iter()
                .map(parse_select_item)
                .collect::<Result<Vec<_>, _>>()
                .map(ContextStatement::SelectCurrent)
        }
        _ => Err(unsupported_statement()),
    }
}

/// The parser's position, never its text: that quotes the offending token, which may be a password.
fn syntax_error(e: &sqlparser::parser::ParserError) -> String {
    if matches!(e, sqlparser::parser::ParserError::RecursionLimitExceeded) {
        return format!(
            "statement too complex: more than {} levels of nesting (snowgate's limit).",
            limits::PARSER_RECURSION_LIMIT
        );
    }
    let text = e.to_string();
    match text.rfind(" at Line: ") {
        Some(at) => format!("syntax error{}.", &text[at..]),
        None => "syntax error.".to_string(),
    }
}

fn unsupported_statement() -> SqlRejection {
    SqlRejection::Unsupported("this statement".into())
}

fn parse_use(target: &Use) -> Result<UseTarget, SqlRejection> {
    match target {
        Use::Database(name) => Ok(UseTarget::Database(single(name)?)),
        Use::Schema(name) => {
            let (database, schema) = qualified(name)?;
            Ok(UseTarget::Schema { database, schema })
        }
        Use::Warehouse(name) => Ok(UseTarget::Warehouse(single(name)?)),
        Use::Role(name) => Ok(UseTarget::Role(single(name)?)),
        // `USE x` names a database, `USE x.y` a database and a schema.
        Use::Object(name) => match qualified(name)? {
            (None, database) => Ok(UseTarget::Database(database)),
            (Some(database), schema) => Ok(UseTarget::Schema {
                database: Some(database),
                schema,
            }),
        },
        _ => Err(SqlRejection::Unsupported(format!("'{target}'"))),
    }
}

fn parts(name: &ObjectName) -> Result<Vec<Identifier>, SqlRejection> {
    name.0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(ident) => {
                Identifier::from_parsed(&ident.value, ident.quote_style.is_some())
                    .ok_or_else(|| SqlRejection::Syntax("Empty identifier.".into()))
            }
            other => Err(SqlRejection::Unsupported(format!("the name '{other}'"))),
        })
        .collect()
}

fn single(name: &ObjectName) -> Result<Identifier, SqlRejection> {
    let mut parts = parts(name)?;
    match parts.len() {
        1 => Ok(parts.remove(0)),
        _ => Err(SqlRejection::Syntax(format!(
            "Invalid object name '{name}'."
        ))),
    }
}

fn qualified(name: &ObjectName) -> Result<(Option<Identifier>, Identifier), SqlRejection> {
    let mut parts = parts(name)?;
    match parts.len() {
        1 => Ok((None, parts.remove(0))),
        2 => {
            let schema = parts.remove(1);
            Ok((Some(parts.remove(0)), schema))
        }
        _ => Err(SqlRejection::Syntax(format!(
            "Invalid object name '{name}'."
        ))),
    }
}

fn parse_select_item(item: &SelectItem) -> Result<SelectColumn, SqlRejection> {
    let (expr, alias) = match item {
        SelectItem::UnnamedExpr(expr) => (expr, None),
        SelectItem::ExprWithAlias { expr, alias } => (expr, Some(alias)),
        _ => return Err(SqlRejection::Unsupported("this select item".into())),
    };
    // Snowflake names an unaliased column after the expression, upper-cased.
    let name = |default: String| match alias {
        Some(alias) => Identifier::from_parsed(&alias.value, alias.quote_style.is_some())
            .map(|i| i.into_string())
            .unwrap_or_default(),
        None => default,
    };
    if let Some(value) = constant(expr)? {
        return Ok(SelectColumn {
            name: name(expr.to_string().to_uppercase()),
            value,
        });
    }
    // Expressions are not quoted back: they may hold string literals, and those may be secrets.
    let Expr::Function(function) = expr else {
        return Err(SqlRejection::Unsupported(
            "a select item that is not a constant or a CURRENT_*() function".into(),
        ));
    };
    let no_args = match &function.args {
        FunctionArguments::None => true,
        FunctionArguments::List(list) => list.args.is_empty() && list.clauses.is_empty(),
        FunctionArguments::Subquery(_) => false,
    };
    let context_function = match function.name.0.as_slice() {
        [ObjectNamePart::Identifier(ident)] if ident.quote_style.is_none() => {
            context_function(&ident.value)
        }
        _ => None,
    }
    .ok_or_else(|| SqlRejection::Unsupported(format!("the function '{}'", function.name)))?;
    if !no_args || function.filter.is_some() || function.over.is_some() {
        return Err(SqlRejection::Syntax(format!(
            "{} takes no arguments.",
            function.name.to_string().to_ascii_uppercase()
        )));
    }
    Ok(SelectColumn {
        name: name(format!(
            "{}()",
            function.name.to_string().to_ascii_uppercase()
        )),
        value: SelectValue::Function(context_function),
    })
}

/// Most digits of a NUMBER, Snowflake's limit.
const MAX_PRECISION: usize = 38;

/// An expression with its leading minus taken off: `(true, 5)` for `-5`.
pub(crate) fn signed(expr: &Expr) -> (bool, &Expr) {
    match expr {
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => (true, expr.as_ref()),
        other => (false, other),
    }
}

/// A literal: `1`, `-2.50`, `'x'`, `TRUE`, `NULL`; `None` for anything else.
fn constant(expr: &Expr) -> Result<Option<SelectValue>, SqlRejection> {
    let (negative, expr) = signed(expr);
    let Expr::Value(value) = expr else {
        return Ok(None);
    };
    Ok(Some(match &value.value {
        Value::Number(text, false) => number(text, negative)?,
        _ if negative => return Ok(None),
        Value::SingleQuotedString(t) => SelectValue::Text(t.clone()),
        Value::Boolean(b) => SelectValue::Boolean(*b),
        Value::Null => SelectValue::Null,
        _ => return Ok(None),
    }))
}

/// A decimal literal as NUMBER(p, s): `007.50` is NUMBER(3, 2), shown as `7.50`.
fn number(text: &str, negative: bool) -> Result<SelectValue, SqlRejection> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if !(int.chars().chain(frac.chars())).all(|c| c.is_ascii_digit()) {
        return Err(SqlRejection::Unsupported(
            "a number literal that is not decimal".into(),
        ));
    }
    let int = int.trim_start_matches('0');
    let precision = (int.len() + frac.len()).max(1);
    if precision > MAX_PRECISION {
        return Err(SqlRejection::Unsupported(format!(
            "a number literal of more than {MAX_PRECISION} digits"
        )));
    }
    let int = if int.is_empty() { "0" } else { int };
    let sign = if negative { "-" } else { "" };
    let text = match frac {
        "" => format!("{sign}{int}"),
        f => format!("{sign}{int}.{f}"),
    };
    // Both fit: precision is at most 38.
    Ok(SelectValue::Number {
        text,
        precision: u8::try_from(precision).unwrap_or(38),
        scale: u8::try_from(frac.len()).unwrap_or(38),
    })
}

/// `SELECT SYSTEM$CANCEL_ALL_QUERIES(id)` / `SYSTEM$ABORT_SESSION(id)`: the id a number or a
/// quoted number.
fn session_function(item: &SelectItem) -> Result<Option<ContextStatement>, SqlRejection> {
    let SelectItem::UnnamedExpr(Expr::Function(call)) = item else {
        return Ok(None);
    };
    let function = match call.name.to_string().to_ascii_uppercase().as_str() {
        "SYSTEM$CANCEL_ALL_QUERIES" => SessionFunction::CancelAllQueries,
        "SYSTEM$ABORT_SESSION" => SessionFunction::AbortSession,
        _ => return Ok(None),
    };
    let session_id = session_id_argument(call).ok_or_else(|| {
        SqlRejection::Syntax(format!(
            "{} takes one argument, a session id.",
            call.name.to_string().to_ascii_uppercase()
        ))
    })?;
    Ok(Some(ContextStatement::SessionFunction {
        function,
        session_id,
        name: call.to_string().to_uppercase(),
    }))
}

fn session_id_argument(call: &Function) -> Option<u64> {
    let FunctionArguments::List(list) = &call.args else {
        return None;
    };
    let ([FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v)))], [], None, None) = (
        list.args.as_slice(),
        list.clauses.as_slice(),
        &call.filter,
        &call.over,
    ) else {
        return None;
    };
    match &v.value {
        Value::Number(n, false) | Value::SingleQuotedString(n) => n.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Identifier {
        Identifier::from_parsed(s, true).unwrap()
    }

    /// The token-level reading of `SELECT CURRENT_X()` agrees with the full parser wherever it
    /// answers, and leaves every other form to it.
    #[test]
    fn the_select_current_shortcut_agrees_with_the_parser() {
        for sql in [
            "SELECT CURRENT_DATABASE()",
            "select current_database(), current_schema()",
            "SELECT CURRENT_USER(), CURRENT_ROLE() ;",
            "SELECT current_warehouse() AS wh, CURRENT_ACCOUNT() as \"Acct\"",
            "SELECT CURRENT_VERSION()",
            "  SELECT /* probe */ CURRENT_SESSION() -- tail",
        ] {
            let tokens = limits::lex(sql).unwrap();
            let fast = select_current(&tokens).unwrap_or_else(|| panic!("no shortcut: {sql}"));
            assert_eq!(Ok(fast), parse_tokens(tokens), "{sql}");
        }
        for sql in [
            "SELECT CURRENT_DATABASE() FROM t",
            "SELECT CURRENT_DATABASE() db",
            "SELECT CURRENT_DATABASE() AS select",
            "SELECT 1",
            "SELECT CURRENT_DATABASE(1)",
            "SELECT \"CURRENT_DATABASE\"()",
            "SELECT CURRENT_DATABASE(); SELECT 1",
            "SELECT CURRENT_DATABASE(),",
            "SELECT SYSTEM$CANCEL_ALL_QUERIES(1)",
        ] {
            assert_eq!(select_current(&limits::lex(sql).unwrap()), None, "{sql}");
        }
    }

    #[test]
    fn use_forms() {
        assert_eq!(
            parse("use database analytics").unwrap(),
            ContextStatement::Use(UseTarget::Database(id("ANALYTICS")))
        );
        assert_eq!(
            parse("USE \"MixedDb\".raw").unwrap(),
            ContextStatement::Use(UseTarget::Schema {
                database: Some(id("MixedDb")),
                schema: id("RAW")
            })
        );
        assert_eq!(
            parse("use schema s1;").unwrap(),
            ContextStatement::Use(UseTarget::Schema {
                database: None,
                schema: id("S1")
            })
        );
        assert_eq!(
            parse("USE ROLE sysadmin").unwrap(),
            ContextStatement::Use(UseTarget::Role(id("SYSADMIN")))
        );
        assert_eq!(
            parse("use warehouse wh").unwrap(),
            ContextStatement::Use(UseTarget::Warehouse(id("WH")))
        );
        assert_eq!(
            parse("use x").unwrap(),
            ContextStatement::Use(UseTarget::Database(id("X")))
        );
    }

    #[test]
    fn select_current_functions_with_and_without_aliases() {
        let ContextStatement::SelectCurrent(cols) =
            parse("select current_database(), CURRENT_ROLE() as r, current_user() \"Who\"")
                .unwrap()
        else {
            panic!("not a select");
        };
        let got: Vec<_> = cols
            .iter()
            .map(|c| (c.name.as_str(), c.value.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "CURRENT_DATABASE()",
                    SelectValue::Function(ContextFunction::Database)
                ),
                ("R", SelectValue::Function(ContextFunction::Role)),
                ("Who", SelectValue::Function(ContextFunction::User))
            ]
        );
    }

    /// Shapes whose trees grow with the token count, not with bracket nesting: parsed, printed and
    /// dropped on a test thread's 2 MiB stack, each answers within the limits.
    #[test]
    fn long_chains_within_the_token_limit_neither_overflow_nor_pass() {
        let n = limits::MAX_TOKENS / 2 - 8;
        for sql in [
            format!("SELECT CURRENT_ROLE() WHERE 1{}", "+1".repeat(n)),
            format!("SELECT 1{}", "::INT".repeat(n / 2)),
            format!("SELECT 1{}", " IS NULL".repeat(n / 2)),
            format!("SELECT {}1", "NOT ".repeat(n)),
            format!("SELECT {}1", "(SELECT ".repeat(limits::MAX_NESTING)),
            format!("SELECT {}1", "NOT (".repeat(limits::MAX_NESTING)),
            format!("SELECT {}1", "- (".repeat(limits::MAX_NESTING)),
            format!("SELECT {}1", "CAST(".repeat(limits::MAX_NESTING)),
            format!("SELECT {}1", "f(".repeat(limits::MAX_NESTING)),
            format!("SELECT {}1", "CASE WHEN (".repeat(limits::MAX_NESTING)),
            format!("SELECT {}1", "- ".repeat(n)),
            format!("SELECT a{}", "[1]".repeat(n / 3)),
            format!("SELECT {}", "a.".repeat(n) + "b"),
            format!("SELECT 1 {}", "UNION SELECT 1 ".repeat(n / 4)),
            format!("SELECT CASE {} END", "WHEN 1 THEN 1 ".repeat(n / 4)),
        ] {
            assert!(parse(&sql).is_err(), "{}", &sql[..40]);
        }
    }

    #[test]
    fn everything_else_is_refused() {
        for sql in [
            "select 1 + 1",
            "select 1 from t",
            "select 1e5",
            "select x'00'",
            "select current_database() from t",
            "select current_database() where 1 = 1",
            "select current_database() limit 1",
            "select current_database(1)",
            "select upper('x')",
            "create table t (a int)",
            "use secondary roles all",
            "select current_role(); select current_user()",
            "with x as (select 1) select current_role()",
        ] {
            assert!(parse(sql).is_err(), "{sql} was accepted");
        }
        assert!(matches!(parse("selec 1"), Err(SqlRejection::Syntax(_))));
        assert!(matches!(parse("  "), Err(SqlRejection::Syntax(_))));
        assert!(matches!(
            parse("drop table t"),
            Err(SqlRejection::Unsupported(_))
        ));
    }
}
