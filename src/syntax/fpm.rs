//! PHP-FPM configuration (placeholder until the FPM grammar lands).
#[derive(Debug)]
pub struct Config;
pub fn parse(_t: &str) -> Result<Config, super::SyntaxError> { Ok(Config) }
