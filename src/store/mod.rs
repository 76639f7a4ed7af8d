//! The storage backends: in memory, SQLite (a local server's default) and DynamoDB. They implement
//! the traits of [`crate::domain::ports::storage`] (re-exported here), so dependencies point from the
//! backends to the domain, never back. Every backend passes the contract in `tests/contract/`.

pub mod dynamo;
pub mod memory;
pub mod sqlite;

pub use crate::domain::ports::storage::*;
