//! The composition root: configuration read from the environment (`config.rs`), the state built
//! from it at start-up (`state.rs`), and `snowgate keygen` (`keygen.rs`). It may use every other
//! part; none uses it.

pub mod config;
pub mod keygen;
pub mod state;
