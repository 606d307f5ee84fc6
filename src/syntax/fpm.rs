//! PHP-FPM configuration (placeholder until the FPM grammar lands).
pub fn parse(_t: &str) {}
