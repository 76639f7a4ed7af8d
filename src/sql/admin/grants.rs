//! `GRANT ROLE … TO USER …` and `REVOKE ROLE … FROM USER …`.

use super::*;

impl Parser {
    pub(super) fn grant_head(&mut self, grant: bool) -> Result<Head, SqlRejection> {
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

    /// After `GRANT ROLE` / `REVOKE ROLE`.
    pub(super) fn grant(&mut self, grant: bool) -> Result<AdminCommand, SqlRejection> {
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
}
