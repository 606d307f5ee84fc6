//! nginx-fpm-lint: lint and fix nginx + PHP-FPM configurations together.

pub mod cli;
pub mod diagnostic;
pub mod discover;
pub mod fix;
pub mod lint;
pub mod source;
pub mod syntax;
pub mod model;
pub mod parse_json;
pub mod project;
pub mod rules;
pub mod settings;
