//! Authentication, password and session policies: `ALTER … POLICY`, `SET|UNSET … POLICY` on the
//! account or a user, and the qualified names they are known by.

use super::*;

impl Parser {
    /// After `ALTER {AUTHENTICATION|PASSWORD|SESSION} POLICY [IF EXISTS]`.
    pub(super) fn alter_policy(
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
    pub(super) fn attach(
        &mut self,
        target: PolicyTarget,
    ) -> Result<Option<AdminCommand>, SqlRejection> {
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
    pub(super) fn policy_kind(&mut self) -> Option<PolicyKind> {
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
    pub(super) fn object_name(&mut self) -> Result<ObjectName, SqlRejection> {
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
}

pub(super) fn policy(kind: PolicyKind, action: KindPolicyAction) -> AdminCommand {
    AdminCommand::Policy(KindPolicyCommand { kind, action })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::admin::tests::{assert_invalid, id};

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
