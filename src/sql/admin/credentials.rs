//! A user's credentials, administered with `ALTER USER [name] …`: programmatic access tokens,
//! workload identities and MFA methods, and their `SHOW USER …` / `SHOW MFA METHODS` forms.

use super::*;

impl Parser {
    /// At `ADD|MODIFY|ROTATE|REMOVE PAT|PROGRAMMATIC`.
    pub(super) fn at_pat_verb(&self) -> bool {
        ["ADD", "MODIFY", "ROTATE", "REMOVE"]
            .iter()
            .any(|v| self.peek_kw(v))
            && (self.peek_kw_at(1, "PAT") || self.peek_kw_at(1, "PROGRAMMATIC"))
    }

    /// At the verb of a statement about one user's credentials: PATs, workload identities, MFA.
    pub(super) fn at_user_scoped_verb(&self) -> bool {
        self.at_pat_verb() || self.at_wif_verb() || self.at_mfa_verb()
    }

    /// After `ALTER USER [IF EXISTS] [name]`, at a PAT, workload identity or MFA verb.
    pub(super) fn user_scoped(
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
    pub(super) fn at_mfa_verb(&self) -> bool {
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
    pub(super) fn pat_object(&mut self, plural: bool) -> Result<(), SqlRejection> {
        if self.eat_kw(if plural { "PATS" } else { "PAT" }) {
            return Ok(());
        }
        self.expect_kw("PROGRAMMATIC")?;
        self.expect_kw("ACCESS")?;
        self.expect_kw(if plural { "TOKENS" } else { "TOKEN" })
    }

    /// `[FOR USER <u>]` ending a SHOW USER … statement, which shows `action`.
    pub(super) fn show_for_user<A: UserScopedAction>(
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::admin::command::PatCommand;
    use crate::sql::admin::tests::{assert_invalid, id};

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
}
