//! nginx-fpm-lint: lint and fix nginx + PHP-FPM configurations together.

pub mod diagnostic;
pub mod fix;
pub mod report;
pub mod source;
pub mod syntax;
