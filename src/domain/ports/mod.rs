//! The traits the domain needs from outside and adapters implement: storage and secrets.

pub mod secrets;
pub mod storage;
