//! `SELECT … FROM TABLE([<db>.]INFORMATION_SCHEMA.LOGIN_HISTORY[_BY_USER](name => value, …))`, with
//! a column list or `*`, `WHERE col = literal [AND …]`, `ORDER BY EVENT_TIMESTAMP [ASC|DESC]` and
//! `LIMIT n`: the forms people type to read their logins. Any other shape around these functions is
//! refused as unsupported; statements that do not name them are left to the other parsers.

use sqlparser::ast::{
    BinaryOperator, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgOperator,
    FunctionArguments, LimitClause, ObjectName, OrderByKind, OrderBySort, Query, SelectItem,
    SetExpr, Statement as Ast, TableFactor, Value, WildcardAdditionalOptions,
};

use super::{limits, signed};
use crate::domain::ident::Identifier;
use crate::domain::query::login_history::MAX_RESULT_LIMIT;
use crate::domain::query::statement::{
    HistoryColumn, HistoryFilter, HistoryOrder, LoginHistoryStatement, SqlRejection, TimePoint,
};

/// Most `AND`ed equalities in one `WHERE`, and most nested `DATEADD`s in one time argument.
const MAX_FILTERS: usize = 16;
const MAX_TIME_DEPTH: usize = 3;
/// Longest timestamp string read.
const MAX_TIMESTAMP_CHARS: usize = 64;

fn unsupported(what: &str) -> SqlRejection {
    SqlRejection::Unsupported(format!(
        "{what} in a login history query (snowgate answers SELECT * or a column list FROM TABLE(INFORMATION_SCHEMA.LOGIN_HISTORY[_BY_USER](…)) with optional WHERE column = literal [AND …], ORDER BY EVENT_TIMESTAMP [ASC|DESC] and LIMIT n)"
    ))
}

fn invalid(message: String) -> SqlRejection {
    SqlRejection::InvalidValue(message)
}

fn syntax(message: impl Into<String>) -> SqlRejection {
    SqlRejection::Syntax(message.into())
}

/// The login history read `statement` is, `None` when it does not read the login history.
pub fn parse(statement: &Ast) -> Result<Option<LoginHistoryStatement>, SqlRejection> {
    let Ast::Query(query) = statement else {
        return Ok(None);
    };
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Ok(None);
    };
    let Some(call) = select.from.first().and_then(|t| history_call(&t.relation)) else {
        return Ok(None);
    };
    let (by_user, call) = call;
    if select.from.len() != 1 || !select.from[0].joins.is_empty() {
        return Err(unsupported("another table or a join"));
    }
    check_bare(query, &select.from[0].relation)?;
    let mut read = arguments(call, by_user)?;
    read.columns = projection(&select.projection)?;
    if let Some(selection) = &select.selection {
        filters(selection, &mut read.filters, 0)?;
    }
    read.order = order(query)?;
    read.limit = limit(query)?;
    Ok(Some(read))
}

/// `Some((by_user, call))` when `relation` is `TABLE([db.]INFORMATION_SCHEMA.LOGIN_HISTORY…(…))`.
fn history_call(relation: &TableFactor) -> Option<(bool, &Function)> {
    let TableFactor::TableFunction {
        expr: Expr::Function(call),
        ..
    } = relation
    else {
        return None;
    };
    let parts = name_parts(&call.name);
    let (schema, function) = match parts.as_slice() {
        [schema, function] | [_, schema, function] => (schema, function),
        _ => return None,
    };
    if !schema.eq_ignore_ascii_case("INFORMATION_SCHEMA") {
        return None;
    }
    match function.to_ascii_uppercase().as_str() {
        "LOGIN_HISTORY" => Some((false, call)),
        "LOGIN_HISTORY_BY_USER" => Some((true, call)),
        _ => None,
    }
}

fn name_parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|p| {
            p.as_ident()
                .map(|i| i.value.clone())
                .unwrap_or_else(|| p.to_string())
        })
        .collect()
}

/// Nothing but a projection, the one table function, WHERE, ORDER BY and LIMIT: the statement with
/// those taken out must print as `SELECT * FROM <the function>`, an exact test whatever clause
/// sqlparser grows next.
fn check_bare(query: &Query, relation: &TableFactor) -> Result<(), SqlRejection> {
    let mut bare = query.clone();
    bare.order_by = None;
    bare.limit_clause = None;
    if let SetExpr::Select(select) = bare.body.as_mut() {
        select.selection = None;
        select.projection = vec![SelectItem::Wildcard(WildcardAdditionalOptions::default())];
    }
    if bare.to_string() != format!("SELECT * FROM {relation}") {
        return Err(unsupported("a clause other than WHERE, ORDER BY and LIMIT"));
    }
    Ok(())
}

fn arguments(call: &Function, by_user: bool) -> Result<LoginHistoryStatement, SqlRejection> {
    let mut read = LoginHistoryStatement {
        by_user,
        user_name: None,
        range_start: None,
        range_end: None,
        result_limit: None,
        columns: None,
        filters: Vec::new(),
        order: HistoryOrder::Descending,
        limit: None,
    };
    let args = match &call.args {
        FunctionArguments::None => return Ok(read),
        FunctionArguments::List(list)
            if list.clauses.is_empty()
                && list.duplicate_treatment.is_none()
                && call.filter.is_none()
                && call.over.is_none()
                && call.within_group.is_empty() =>
        {
            &list.args
        }
        _ => return Err(unsupported("this form of arguments")),
    };
    let function = if by_user {
        "LOGIN_HISTORY_BY_USER"
    } else {
        "LOGIN_HISTORY"
    };
    let mut seen = Vec::new();
    for arg in args {
        let FunctionArg::Named {
            name,
            arg: FunctionArgExpr::Expr(value),
            operator: FunctionArgOperator::RightArrow,
        } = arg
        else {
            return Err(syntax(format!(
                "SQL compilation error:\n{function} takes named arguments only (NAME => value)."
            )));
        };
        let arg_name = name.value.to_ascii_uppercase();
        if seen.contains(&arg_name) {
            return Err(syntax(format!(
                "SQL compilation error:\nargument {arg_name} given twice."
            )));
        }
        match arg_name.as_str() {
            "USER_NAME" if by_user => read.user_name = Some(user_name(value)?),
            "RESULT_LIMIT" => read.result_limit = Some(result_limit(value)?),
            "TIME_RANGE_START" => read.range_start = Some(time_point(value, 0)?),
            "TIME_RANGE_END" => read.range_end = Some(time_point(value, 0)?),
            _ => {
                return Err(syntax(format!(
                    "SQL compilation error:\ninvalid argument name for function {function}: {}. It takes {}TIME_RANGE_START, TIME_RANGE_END and RESULT_LIMIT.",
                    bounded(&name.value),
                    if by_user { "USER_NAME, " } else { "" }
                )));
            }
        }
        seen.push(arg_name);
    }
    Ok(read)
}

/// Text for a message, cut short: names are at most 255 characters anyway.
fn bounded(text: &str) -> String {
    text.chars().take(255).collect()
}

fn string_literal(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// `USER_NAME => 'alice'` names ALICE, `'"Mixed"'` names Mixed: as a user is named at login.
fn user_name(value: &Expr) -> Result<String, SqlRejection> {
    string_literal(value)
        .and_then(Identifier::from_user_input)
        .map(Identifier::into_string)
        .filter(|name| name.chars().count() <= limits::MAX_IDENTIFIER_CHARS)
        .ok_or_else(|| {
            invalid(format!(
                "USER_NAME must be a user name of at most {} characters in a string, e.g. 'ALICE'.",
                limits::MAX_IDENTIFIER_CHARS
            ))
        })
}

/// An integer literal, possibly negative.
fn integer(expr: &Expr) -> Option<i64> {
    let (negative, expr) = signed(expr);
    let Expr::Value(v) = expr else { return None };
    let Value::Number(text, false) = &v.value else {
        return None;
    };
    let n: i64 = text.parse().ok()?;
    Some(if negative { -n } else { n })
}

fn result_limit(value: &Expr) -> Result<u64, SqlRejection> {
    integer(value)
        .and_then(|n| u64::try_from(n).ok())
        .filter(|n| (1..=MAX_RESULT_LIMIT).contains(n))
        .ok_or_else(|| {
            invalid(format!(
                "RESULT_LIMIT must be an integer between 1 and {MAX_RESULT_LIMIT}."
            ))
        })
}

fn bad_time() -> SqlRejection {
    invalid("TIME_RANGE_START and TIME_RANGE_END take a timestamp: CURRENT_TIMESTAMP(), DATEADD('hours'|'minutes'|'days', n, CURRENT_TIMESTAMP()), TO_TIMESTAMP_LTZ('YYYY-MM-DD HH:MI:SS') or a timestamp string.".into())
}

/// The positional arguments of a plain call, `None` for another shape.
fn plain_args(call: &Function) -> Option<Vec<&Expr>> {
    match &call.args {
        FunctionArguments::None => Some(Vec::new()),
        FunctionArguments::List(list)
            if list.clauses.is_empty()
                && list.duplicate_treatment.is_none()
                && call.filter.is_none()
                && call.over.is_none() =>
        {
            list.args
                .iter()
                .map(|a| match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                    _ => None,
                })
                .collect()
        }
        _ => None,
    }
}

fn time_point(expr: &Expr, depth: usize) -> Result<TimePoint, SqlRejection> {
    if depth > MAX_TIME_DEPTH {
        return Err(bad_time());
    }
    match expr {
        Expr::Value(_) => string_literal(expr).map(absolute).ok_or_else(bad_time)?,
        Expr::Cast {
            expr: inner,
            data_type,
            format: None,
            ..
        } if is_timestamp_type(&data_type.to_string()) => {
            string_literal(inner).map(absolute).ok_or_else(bad_time)?
        }
        Expr::TypedString(typed) if is_timestamp_type(&typed.data_type.to_string()) => {
            match &typed.value.value {
                Value::SingleQuotedString(s) => absolute(s),
                _ => Err(bad_time()),
            }
        }
        Expr::Function(call) => time_function(call, depth),
        _ => Err(bad_time()),
    }
}

fn is_timestamp_type(name: &str) -> bool {
    name.to_ascii_uppercase().starts_with("TIMESTAMP")
}

fn time_function(call: &Function, depth: usize) -> Result<TimePoint, SqlRejection> {
    let args = plain_args(call).ok_or_else(bad_time)?;
    let name = name_parts(&call.name).join(".").to_ascii_uppercase();
    match (name.as_str(), args.as_slice()) {
        ("CURRENT_TIMESTAMP" | "SYSDATE" | "GETDATE" | "LOCALTIMESTAMP", []) => Ok(TimePoint::Now),
        ("TO_TIMESTAMP_LTZ" | "TO_TIMESTAMP" | "TO_TIMESTAMP_TZ" | "TO_TIMESTAMP_NTZ", [text]) => {
            string_literal(text).map(absolute).ok_or_else(bad_time)?
        }
        ("DATEADD" | "TIMEADD" | "TIMESTAMPADD", [unit, amount, base]) => {
            let unit = unit_seconds(unit).ok_or_else(bad_time)?;
            let shift = integer(amount)
                .and_then(|n| n.checked_mul(unit))
                .ok_or_else(bad_time)?;
            match time_point(base, depth + 1)? {
                TimePoint::Now => Ok(TimePoint::Relative(shift)),
                TimePoint::Relative(r) => r
                    .checked_add(shift)
                    .map(TimePoint::Relative)
                    .ok_or_else(bad_time),
                TimePoint::Absolute(a) => a
                    .checked_add_signed(shift)
                    .map(TimePoint::Absolute)
                    .ok_or_else(bad_time),
            }
        }
        _ => Err(bad_time()),
    }
}

/// Seconds in a DATEADD unit, written bare (`hours`) or quoted (`'hours'`).
fn unit_seconds(unit: &Expr) -> Option<i64> {
    let name = match unit {
        Expr::Identifier(ident) => ident.value.as_str(),
        other => string_literal(other)?,
    };
    Some(match name.to_ascii_lowercase().as_str() {
        "second" | "seconds" | "s" | "sec" | "secs" => 1,
        "minute" | "minutes" | "m" | "mi" | "min" | "mins" => 60,
        "hour" | "hours" | "h" | "hh" | "hr" | "hrs" => 3_600,
        "day" | "days" | "d" | "dd" => 86_400,
        "week" | "weeks" | "w" | "wk" => 7 * 86_400,
        _ => return None,
    })
}

/// A timestamp string as epoch seconds: `YYYY-MM-DD[( |T)HH:MI[:SS[.fff]]][Z|±HH:MM]`, UTC (the
/// session's time zone) unless it names an offset.
fn absolute(text: &str) -> Result<TimePoint, SqlRejection> {
    use time::macros::format_description;
    use time::{Date, PrimitiveDateTime, UtcOffset};
    if text.chars().count() > MAX_TIMESTAMP_CHARS {
        return Err(bad_time());
    }
    let text = text.trim().replacen('T', " ", 1);
    let (local, offset) = split_offset(&text);
    let offset = match offset {
        None => UtcOffset::UTC,
        Some(o) => UtcOffset::parse(
            o,
            format_description!("[offset_hour sign:mandatory][optional [:]][offset_minute]"),
        )
        .map_err(|_| bad_time())?,
    };
    let datetime = PrimitiveDateTime::parse(
        local,
        format_description!(
            "[year]-[month]-[day] [hour]:[minute][optional [:[second][optional [.[subsecond]]]]]"
        ),
    )
    .or_else(|_| {
        Date::parse(local, format_description!("[year]-[month]-[day]"))
            .map(|d| {
                d.with_hms(0, 0, 0)
                    .map(|t| PrimitiveDateTime::new(d, t.time()))
            })
            .map_err(|_| bad_time())?
            .map_err(|_| bad_time())
    })
    .map_err(|_| bad_time())?;
    let seconds = datetime.assume_offset(offset).unix_timestamp();
    u64::try_from(seconds)
        .map(TimePoint::Absolute)
        .map_err(|_| bad_time())
}

/// `2026-01-01 10:00:00+02:00` → (`2026-01-01 10:00:00`, `+02:00`); a trailing `Z` is UTC.
fn split_offset(text: &str) -> (&str, Option<&str>) {
    if let Some(local) = text.strip_suffix('Z') {
        return (local.trim_end(), None);
    }
    // An offset starts with a sign after the time (the date's dashes come before the space).
    match text
        .find(' ')
        .and_then(|space| text[space..].rfind(['+', '-']).map(|i| space + i))
    {
        Some(i) => (text[..i].trim_end(), Some(&text[i..])),
        None => (text, None),
    }
}

fn column(expr: &Expr) -> Result<HistoryColumn, SqlRejection> {
    let Expr::Identifier(ident) = expr else {
        return Err(unsupported("an expression other than a column name"));
    };
    HistoryColumn::from_name(&ident.value).ok_or_else(|| {
        syntax(format!(
            "SQL compilation error:\ninvalid identifier '{}'",
            bounded(&ident.value).to_ascii_uppercase()
        ))
    })
}

fn projection(items: &[SelectItem]) -> Result<Option<Vec<HistoryColumn>>, SqlRejection> {
    if let [SelectItem::Wildcard(options)] = items {
        if *options != WildcardAdditionalOptions::default() {
            return Err(unsupported("a * with options"));
        }
        return Ok(None);
    }
    items
        .iter()
        .map(|item| match item {
            SelectItem::UnnamedExpr(expr) => column(expr),
            _ => Err(unsupported("an item other than * or a column name")),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// `a = 'x' AND b = 1 …`, at most [`MAX_FILTERS`] of them.
fn filters(expr: &Expr, out: &mut Vec<HistoryFilter>, depth: usize) -> Result<(), SqlRejection> {
    if depth > MAX_FILTERS || out.len() >= MAX_FILTERS {
        return Err(unsupported(&format!("more than {MAX_FILTERS} conditions")));
    }
    let Expr::BinaryOp { left, op, right } = expr else {
        return Err(unsupported("a condition other than column = literal"));
    };
    match op {
        BinaryOperator::And => {
            filters(left, out, depth + 1)?;
            filters(right, out, depth + 1)
        }
        BinaryOperator::Eq => {
            let column = column(left)?;
            if column == HistoryColumn::EventTimestamp {
                return Err(unsupported(
                    "a condition on EVENT_TIMESTAMP (TIME_RANGE_START and TIME_RANGE_END select times)",
                ));
            }
            let value = match right.as_ref() {
                Expr::Value(v) => match &v.value {
                    Value::SingleQuotedString(s) => s.clone(),
                    Value::Number(n, false) => n.clone(),
                    _ => return Err(unsupported("a literal other than a string or a number")),
                },
                _ => return Err(unsupported("a condition other than column = literal")),
            };
            out.push(HistoryFilter { column, value });
            Ok(())
        }
        _ => Err(unsupported("a condition other than column = literal")),
    }
}

fn order(query: &Query) -> Result<HistoryOrder, SqlRejection> {
    let Some(order_by) = &query.order_by else {
        return Ok(HistoryOrder::Descending);
    };
    let OrderByKind::Expressions(exprs) = &order_by.kind else {
        return Err(unsupported("ORDER BY ALL"));
    };
    let [one] = exprs.as_slice() else {
        return Err(unsupported("ORDER BY on more than EVENT_TIMESTAMP"));
    };
    let by = column(&one.expr)?;
    if !matches!(by, HistoryColumn::EventTimestamp | HistoryColumn::EventId)
        || one.options.nulls_first.is_some()
        || one.with_fill.is_some()
        || order_by.interpolate.is_some()
    {
        return Err(unsupported("ORDER BY on more than EVENT_TIMESTAMP"));
    }
    match one.options.sort {
        None | Some(OrderBySort::Asc) => Ok(HistoryOrder::Ascending),
        Some(OrderBySort::Desc) => Ok(HistoryOrder::Descending),
        _ => Err(unsupported("this ORDER BY")),
    }
}

fn limit(query: &Query) -> Result<Option<u64>, SqlRejection> {
    match &query.limit_clause {
        None => Ok(None),
        Some(LimitClause::LimitOffset {
            limit: Some(n),
            offset: None,
            limit_by,
        }) if limit_by.is_empty() => integer(n)
            .and_then(|n| u64::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| invalid("LIMIT must be a non-negative integer.".into())),
        Some(_) => Err(unsupported("this LIMIT")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::query::statement::Statement;
    use crate::sql::parse_statement;

    fn read(sql: &str) -> LoginHistoryStatement {
        match parse_statement(sql) {
            Ok(Statement::LoginHistory(read)) => read,
            other => panic!("{sql}: {other:?}"),
        }
    }

    fn refused(sql: &str) -> SqlRejection {
        match parse_statement(sql) {
            Err(rejection) => rejection,
            Ok(other) => panic!("{sql} was accepted: {other:?}"),
        }
    }

    #[test]
    fn by_user_with_arguments_columns_filters_order_and_limit() {
        let r = read(
            "select event_timestamp, User_Name, IS_SUCCESS from table(mydb.information_schema.login_history_by_user(USER_NAME => 'alice', result_limit => 5)) where is_success = 'NO' and error_code = 390100 order by event_timestamp asc limit 2",
        );
        assert!(r.by_user);
        assert_eq!(r.user_name.as_deref(), Some("ALICE"));
        assert_eq!(r.result_limit, Some(5));
        assert_eq!(
            r.columns,
            Some(vec![
                HistoryColumn::EventTimestamp,
                HistoryColumn::UserName,
                HistoryColumn::IsSuccess
            ])
        );
        assert_eq!(
            r.filters,
            vec![
                HistoryFilter {
                    column: HistoryColumn::IsSuccess,
                    value: "NO".into()
                },
                HistoryFilter {
                    column: HistoryColumn::ErrorCode,
                    value: "390100".into()
                }
            ]
        );
        assert_eq!(r.order, HistoryOrder::Ascending);
        assert_eq!(r.limit, Some(2));
        let r = read("SELECT * FROM TABLE(information_schema.login_history_by_user())");
        assert_eq!((r.by_user, r.user_name, r.columns), (true, None, None));
        let r = read(
            "SELECT * FROM TABLE(information_schema.login_history_by_user(user_name => '\"Mixed\"'))",
        );
        assert_eq!(r.user_name.as_deref(), Some("Mixed"));
    }

    #[test]
    fn time_ranges_in_the_forms_people_type() {
        let r = read(
            "select * from table(information_schema.login_history(time_range_start => dateadd('hours', -2, current_timestamp()), time_range_end => current_timestamp))",
        );
        assert!(!r.by_user);
        assert_eq!(r.range_start, Some(TimePoint::Relative(-7200)));
        assert_eq!(r.range_end, Some(TimePoint::Now));
        for (text, epoch) in [
            ("to_timestamp_ltz('2026-11-30 10:00:00')", 1_796_032_800),
            ("'2026-11-30 10:00:00'", 1_796_032_800),
            ("'2026-11-30T10:00:00.123Z'", 1_796_032_800),
            ("'2026-11-30 12:00:00 +02:00'", 1_796_032_800),
            ("'2026-11-30 10:00'", 1_796_032_800),
            ("'2026-11-30'", 1_795_996_800),
            ("'2026-11-30 10:00:00'::timestamp_ltz", 1_796_032_800),
            ("timestamp '2026-11-30 10:00:00'", 1_796_032_800),
            ("dateadd(minutes, 30, '2026-11-30 09:30:00')", 1_796_032_800),
        ] {
            let r = read(&format!(
                "select * from table(information_schema.login_history(time_range_start => {text}))"
            ));
            assert_eq!(r.range_start, Some(TimePoint::Absolute(epoch)), "{text}");
        }
    }

    #[test]
    fn hostile_arguments_are_refused_with_clear_errors() {
        let f = |args: &str| {
            refused(&format!(
                "select * from table(information_schema.login_history_by_user({args}))"
            ))
        };
        assert!(matches!(
            f("result_limit => 10001"),
            SqlRejection::InvalidValue(_)
        ));
        assert!(matches!(
            f("result_limit => 0"),
            SqlRejection::InvalidValue(_)
        ));
        assert!(matches!(
            f("result_limit => 99999999999999999999999"),
            SqlRejection::InvalidValue(_)
        ));
        assert!(matches!(
            f("result_limit => 'x'"),
            SqlRejection::InvalidValue(_)
        ));
        assert!(
            matches!(f("colour => 1"), SqlRejection::Syntax(m) if m.contains("COLOUR") || m.contains("colour"))
        );
        assert!(matches!(f("'x'"), SqlRejection::Syntax(_)));
        assert!(matches!(
            f("result_limit => 1, result_limit => 2"),
            SqlRejection::Syntax(_)
        ));
        assert!(matches!(f("user_name => 5"), SqlRejection::InvalidValue(_)));
        for bad in [
            "'yesterday'",
            "'2026-13-01'",
            "'1969-12-31 23:59:59'",
            "dateadd('fortnights', -1, current_timestamp())",
            "dateadd('hours', -9223372036854775807, current_timestamp())",
            "current_timestamp(3)",
            "upper('x')",
            "1",
        ] {
            assert!(
                matches!(
                    f(&format!("time_range_start => {bad}")),
                    SqlRejection::InvalidValue(_)
                ),
                "{bad}"
            );
        }
        let deep = format!(
            "time_range_start => {}current_timestamp(){}",
            "dateadd('hours', -1, ".repeat(8),
            ")".repeat(8)
        );
        assert!(matches!(f(&deep), SqlRejection::InvalidValue(_)));
        let long = format!("time_range_start => '{}'", "9".repeat(10_000));
        assert!(matches!(f(&long), SqlRejection::InvalidValue(_)));
    }

    #[test]
    fn other_shapes_around_the_function_are_unsupported() {
        for sql in [
            "select count(*) from table(information_schema.login_history())",
            "select user_name as u from table(information_schema.login_history())",
            "select distinct user_name from table(information_schema.login_history())",
            "select * from table(information_schema.login_history()) group by user_name",
            "select * from table(information_schema.login_history()) where is_success <> 'NO'",
            "select * from table(information_schema.login_history()) where is_success = 'NO' or 1 = 1",
            "select * from table(information_schema.login_history()) order by user_name",
            "select * from table(information_schema.login_history()) where event_timestamp = '2026-01-01'",
            "select * from table(information_schema.login_history()) limit 1 offset 2",
            "select * from table(information_schema.login_history()), t",
            "select * from table(information_schema.login_history()) join t on true",
            "with x as (select 1) select * from table(information_schema.login_history())",
        ] {
            assert!(
                matches!(refused(sql), SqlRejection::Unsupported(_)),
                "{sql}"
            );
        }
        assert!(matches!(
            refused("select nope from table(information_schema.login_history())"),
            SqlRejection::Syntax(m) if m.contains("NOPE")
        ));
        let many = format!(
            "select * from table(information_schema.login_history()) where {}",
            vec!["is_success = 'NO'"; 40].join(" and ")
        );
        assert!(matches!(refused(&many), SqlRejection::Unsupported(_)));
        // Other table functions, and the unqualified name (not on Snowflake's search path), are not
        // login history reads: the general refusal answers them.
        for sql in [
            "select * from table(information_schema.query_history())",
            "select * from table(login_history())",
        ] {
            assert!(
                matches!(refused(sql), SqlRejection::Unsupported(m) if !m.contains("login history")),
                "{sql}"
            );
        }
    }
}
