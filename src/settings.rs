//! Settings that change what the rules conclude. Filled from flags and (later) the config file;
//! rules read them, never the command line.

use crate::model::builtin::Platform;
use crate::model::directives::{ExtraDirective, ModuleSelection, Version};
use crate::model::fpm_defaults::PACKAGED_MAX_CHILDREN;
use crate::model::platform::{Cited, PlatformBasis};

#[derive(Clone, Debug)]
pub struct Settings {
    /// Which distribution's packaged defaults apply (nginx user, packaged include files).
    pub platform: Platform,
    /// Whether `platform` was declared, detected from the layout, or assumed.
    pub platform_basis: PlatformBasis,
    /// Groups the nginx worker user was added to beyond the platform's stock accounts
    /// (`nginx-groups = ["www-data"]`).
    pub nginx_groups: Vec<String>,
    /// The nginx worker user when the configs have no `user` directive; default: the platform's.
    pub nginx_user: Option<String>,
    /// Memory the PHP-FPM pools may use in all, in bytes (`--memory 2G`); None skips the check.
    pub memory_budget: Option<u64>,
    /// Memory one PHP worker is assumed to take when its pool sets no
    /// `php_admin_value[memory_limit]` (php.ini's default, 128M).
    pub worker_memory: u64,
    /// Smallest `fastcgi_buffer_size` / `proxy_buffer_size` not flagged, in bytes (32k).
    pub min_header_buffer: u64,
    /// `pm.max_children` below this is flagged as easy to exhaust. The default, 6, flags the
    /// packaged 5; `min-max-children = 5` accepts it, 3 accepts 3 and up.
    pub min_max_children: u32,
    /// `listen.backlog` below this is flagged (unix sockets overflow with EAGAIN -> 502).
    pub min_listen_backlog: u32,
    /// php-fpm's environment, for expanding `${VAR}` in pool files (`--env`, `--env-file`,
    /// `[env]`). A reference to a variable not given here is unknown at lint time.
    pub env: std::collections::BTreeMap<String, String>,
    /// Which modules the linted nginx has (`nginx-modules`): every module of the table by
    /// default, or a build (`debian`, `nginx.org`, `openresty`) and/or module names.
    pub nginx_modules: ModuleSelection,
    /// The nginx version the configs must run on (`nginx-version`); None: any version.
    pub nginx_version: Option<Version>,
    /// Home-grown directives (`[[extra-directives]]`), known beside the table's.
    pub extra_directives: Vec<ExtraDirective>,
}

impl Settings {
    pub fn nginx_user_or_default(&self) -> &str {
        self.nginx_user
            .as_deref()
            .unwrap_or(self.platform.default_nginx_user())
    }

    /// The platform as findings cite it: which one, and whether declared, detected or assumed.
    pub fn cited_platform(&self) -> Cited<'_> {
        Cited(self.platform, &self.platform_basis)
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            platform: Platform::Debian,
            platform_basis: PlatformBasis::default(),
            nginx_groups: Vec::new(),
            nginx_user: None,
            memory_budget: None,
            worker_memory: 128 * 1024 * 1024,
            min_header_buffer: 32 * 1024,
            min_max_children: PACKAGED_MAX_CHILDREN as u32 + 1,
            min_listen_backlog: 64,
            env: std::collections::BTreeMap::new(),
            nginx_modules: ModuleSelection::All,
            nginx_version: None,
            extra_directives: Vec::new(),
        }
    }
}
