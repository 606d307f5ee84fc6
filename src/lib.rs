//! nginx-fpm-lint: lint and fix nginx + PHP-FPM configurations together.
//!
//! Data flows one way: discover -> parse (pest grammars, lossless trees) -> model (nginx
//! inheritance, FPM pools, the join) -> rules -> diagnostics -> report or fix.

pub mod cli;
pub mod config;
pub mod diagnose;
pub mod diagnostic;
pub mod discover;
pub mod docs;
pub mod fix;
pub mod lint;
pub mod model;
pub mod parallel;
pub mod parse_json;
pub mod project;
pub mod report;
pub mod rules;
pub mod run;
pub mod settings;
pub mod source;
pub mod suppress;
pub mod syntax;
pub mod timings;
