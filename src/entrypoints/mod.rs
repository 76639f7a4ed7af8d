//! The two front doors of the one router; on Lambda, the router also decides for API Gateway as
//! its authorizer.

pub mod authorizer;
pub mod lambda;
pub mod local;
