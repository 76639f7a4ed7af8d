//! The traits the domain needs from outside and adapters implement: storage, secrets and the query
//! engine behind snowgate.

pub mod engine;
pub mod secrets;
pub mod storage;
