//! The two front doors of the one router.

pub mod lambda;
pub mod local;
