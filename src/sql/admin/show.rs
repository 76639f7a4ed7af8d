//! The head of a SHOW statement: which objects it lists.

use super::*;

impl Parser {
    pub(super) fn show_head(&mut self) -> Result<Head, SqlRejection> {
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
}
