//! Network policies (the record and the reading of its address lists), the reads and writes of
//! policy records, and which policy governs a user: its own, else the account's.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::login_reads::PolicySource;
use super::users::User;
use super::{Directory, PolicyRecord, Record, decode_versioned};
use crate::domain::ident::Ident;
use crate::domain::ports::storage::{NamedKind, ObjectKey};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NetworkPolicy {
    pub name: String,
    pub allowed_ip_list: Vec<String>,
    pub blocked_ip_list: Vec<String>,
    pub comment: Option<String>,
    pub created_on: u64,
    /// The role that created it; `None` in records written before ownership was kept.
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(skip)]
    pub version: u64,
}

impl NetworkPolicy {
    /// Parses one list entry: an address (a /32 or /128) or a CIDR. An IPv4-mapped IPv6 entry
    /// (`::ffff:10.0.0.1`, `::ffff:10.0.0.0/104`) becomes the IPv4 one, as client addresses do.
    pub fn parse_entry(entry: &str) -> std::result::Result<IpNet, String> {
        let entry = entry.trim();
        entry
            .parse::<IpNet>()
            .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
            .map(canonical_net)
            .map_err(|_| format!("'{entry}' is not an IP address or CIDR range"))
    }

    /// An address is admitted when an allowed range holds it and no blocked range does. An empty
    /// allowed list admits nothing; an unknown client address is never admitted.
    pub fn admits(&self, ip: Option<IpAddr>) -> bool {
        let Some(ip) = ip.map(canonical_ip) else {
            return false;
        };
        let contains = |list: &[String]| {
            list.iter()
                .filter_map(|e| Self::parse_entry(e).ok())
                .any(|net| net.contains(&ip))
        };
        contains(&self.allowed_ip_list) && !contains(&self.blocked_ip_list)
    }
}

/// `::ffff:1.2.3.4` is the IPv4 address it maps, so IPv4 rules apply to it.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// A range inside `::ffff:0:0/96` is the IPv4 range it maps; wider ranges stay IPv6.
fn canonical_net(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => v6
            .addr()
            .to_ipv4_mapped()
            .and_then(|v4| ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96).ok())
            .map(|v4| IpNet::V4(v4.trunc()))
            .unwrap_or(net),
        other => other,
    }
}

impl Directory {
    pub async fn policy(&self, name: Ident<'_>) -> Result<Option<NetworkPolicy>> {
        self.get(ObjectKey::named(NamedKind::NetworkPolicy, name))
            .await
    }

    pub async fn policies(&self) -> Result<Vec<NetworkPolicy>> {
        self.list(NamedKind::NetworkPolicy).await
    }

    pub async fn put_policy(&self, policy: &NetworkPolicy, replace: bool) -> Result<bool> {
        let key = ObjectKey::named(NamedKind::NetworkPolicy, Ident::stored(&policy.name));
        self.put(key, policy, replace).await
    }

    pub async fn delete_policy(&self, name: Ident<'_>) -> Result<bool> {
        let key = ObjectKey::named(NamedKind::NetworkPolicy, name);
        Ok(self.store.delete_object(key).await?)
    }

    pub async fn policy_record<T: PolicyRecord>(&self, name: Ident<'_>) -> Result<Option<T>> {
        self.get(ObjectKey::named(T::OBJECT, name)).await
    }

    pub async fn policy_records<T: PolicyRecord>(&self) -> Result<Vec<T>> {
        self.list(T::OBJECT).await
    }

    /// Writes a policy record over the version it was read at, else as new (or over anything with
    /// `replace`); `false` when a create found one there.
    pub async fn put_policy_record<T: PolicyRecord>(
        &self,
        policy: &T,
        replace: bool,
    ) -> Result<bool> {
        let key = ObjectKey::named(T::OBJECT, Ident::stored(policy.name()));
        self.put(key, policy, replace).await
    }

    pub async fn delete_policy_record<T: PolicyRecord>(&self, name: Ident<'_>) -> Result<bool> {
        let key = ObjectKey::named(T::OBJECT, name);
        Ok(self.store.delete_object(key).await?)
    }

    /// The record under `key`: from what `source` read ahead, else from the store.
    async fn get_via<T: Record>(
        &self,
        key: ObjectKey<'_>,
        source: &impl PolicySource,
    ) -> Result<Option<T>> {
        match source.read_ahead(key) {
            Some(record) => record.map(decode_versioned).transpose(),
            None => self.get(key).await,
        }
    }

    /// The policy of kind `T` that governs `user`: the user's own, else the account's (as read by
    /// the caller, so a login reads the account once), else Snowflake's defaults. A name whose
    /// record is gone counts as none.
    pub async fn effective_policy<T: PolicyRecord>(
        &self,
        user: Option<&User>,
        source: &impl PolicySource,
    ) -> Result<T> {
        Ok(self
            .attached_policy(user, source)
            .await?
            .unwrap_or_default())
    }

    /// The policy of kind `T` set on `user`, else on the account (as read by the caller), else `None`
    /// (also when its record is gone): for rules that apply only under a policy.
    pub async fn attached_policy<T: PolicyRecord>(
        &self,
        user: Option<&User>,
        source: &impl PolicySource,
    ) -> Result<Option<T>> {
        let name = user
            .and_then(|u| u.policies.get(T::KIND))
            .or_else(|| source.account().policies.get(T::KIND));
        match name {
            Some(name) => {
                let key = ObjectKey::named(T::OBJECT, Ident::stored(name));
                self.get_via(key, source).await
            }
            None => Ok(None),
        }
    }

    /// The network policy that governs `user`'s logins: the user's own, else the account's (as
    /// read by the caller, so a login reads the account once), else none.
    pub async fn network_policy_for(
        &self,
        user: Option<&User>,
        source: &impl PolicySource,
    ) -> Result<Option<NetworkPolicy>> {
        let name = user
            .and_then(|u| u.network_policy.as_deref())
            .or(source.account().network_policy.as_deref());
        match name {
            Some(n) => {
                let key = ObjectKey::named(NamedKind::NetworkPolicy, Ident::stored(n));
                self.get_via(key, source).await
            }
            None => Ok(None),
        }
    }
}
