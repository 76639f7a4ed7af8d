//! CREATE and ALTER of users, roles, network policies, policies and security integrations, and the
//! kind of object that follows a verb.

use super::*;

impl Parser {
    pub(super) fn create(
        &mut self,
        or_replace: bool,
        kind: Kind,
    ) -> Result<AdminCommand, SqlRejection> {
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

    pub(super) fn alter_object(&mut self, kind: Kind) -> Result<AdminCommand, SqlRejection> {
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

    pub(super) fn object_kind(&mut self) -> Result<Kind, SqlRejection> {
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
