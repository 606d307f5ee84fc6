//! What a deployment means: nginx's server/location tree with inherited directives, PHP-FPM
//! pools with their effective settings, and the index that joins `fastcgi_pass` to `listen`.

pub mod address;
pub mod builtin;
pub mod contexts;
pub mod directives;
pub mod fpm;
pub mod fpm_defaults;
pub mod fpm_entries;
pub mod nginx;
pub mod platform;
pub mod units;
