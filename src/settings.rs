//! Settings that change what the rules conclude (from flags now, from the config file later).

use crate::model::builtin::Platform;

#[derive(Clone, Debug)]
pub struct Settings {
    /// Which distribution's packaged defaults apply (nginx user, packaged include files).
    pub platform: Platform,
    /// The nginx worker user, when the configs don't say (`user` directive).
    pub nginx_user: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            platform: Platform::Debian,
            nginx_user: None,
        }
    }
}
