//! `diagnose`: from the logs of a live 502 to the line of config that causes it.

pub mod engine;
pub mod logline;
pub mod read;
pub mod time;
