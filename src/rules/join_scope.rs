//! How much of the PHP-FPM half the tree holds, for the join rules: a `fastcgi_pass` that
//! reaches no pool is only "no listener" where the configuration that would hold such a pool
//! is in the tree.

use std::collections::HashSet;
use std::path::Path;

use crate::model::address::{normalize_socket_path, Listen, Target};
use crate::model::platform::{path_php_version, socket_php_version};
use crate::rules::LintContext;

pub(crate) struct JoinScope {
    /// PHP versions whose FPM configuration the tree holds (by path or by socket name).
    versions: HashSet<String>,
    /// The tree holds Debian's `/etc/php/` itself (not just one version's directory below
    /// it): a version missing there is not installed.
    php_dir_held: bool,
    /// A php-fpm.conf is in the tree: its `include=` says where every pool is.
    has_main: bool,
    /// A php-fpm.conf whose path names no PHP version (not Debian's per-version layout).
    has_unversioned_main: bool,
    /// Versions whose php-fpm.conf or packaged `pool.d/www.conf` is in the tree: Debian's
    /// `phpX.Y-fpm.sock` is the listen of that `www.conf`, so without either file the tree
    /// cannot say that nothing listens there.
    complete_versions: HashSet<String>,
    /// Directories the pools' unix sockets are in.
    socket_dirs: HashSet<String>,
    has_tcp: bool,
}

impl JoinScope {
    pub fn of(cx: &LintContext<'_, '_>) -> JoinScope {
        let mut versions = HashSet::new();
        let mut complete_versions = HashSet::new();
        let mut has_unversioned_main = false;
        let mut php_dir_held = false;
        let roots = cx.project.lint_roots();
        for instance in &cx.fpm.instances {
            for &file in &instance.files {
                let Some(path) = cx.project.tree_path(file) else {
                    continue;
                };
                let version = path_php_version(&path);
                if let Some(v) = &version {
                    if path.ends_with("/fpm/php-fpm.conf") || path.ends_with("/pool.d/www.conf") {
                        complete_versions.insert(v.clone());
                    }
                }
                if instance.main == Some(file) && version.is_none() {
                    has_unversioned_main = true;
                }
                if let Some(v) = version {
                    versions.insert(v);
                }
                if let Some(at) = path.find("/php/") {
                    let php_dir = Path::new(&path[..at + 4]);
                    let debian = path_php_version(&path[at..]).is_some();
                    php_dir_held |= debian
                        && (roots.is_empty() || roots.iter().any(|r| php_dir.starts_with(r)));
                }
            }
        }
        let mut socket_dirs = HashSet::new();
        let mut has_tcp = false;
        for (_, listen, _) in cx.fpm.listeners() {
            match listen {
                Listen::Unix(p) => {
                    if let Some(v) = socket_php_version(&p) {
                        versions.insert(v.to_owned());
                    }
                    socket_dirs.insert(dir_of(normalize_socket_path(&p)).to_owned());
                }
                Listen::Tcp { .. } => has_tcp = true,
            }
        }
        JoinScope {
            versions,
            php_dir_held,
            has_main: cx.fpm.instances.iter().any(|i| i.main.is_some()),
            has_unversioned_main,
            complete_versions,
            socket_dirs,
            has_tcp,
        }
    }

    /// The PHP version a Debian-style versioned socket names, when the tree holds no
    /// configuration of that version and not the directory that would: unverifiable.
    pub fn missing_version<'t>(&self, target: &'t Target) -> Option<&'t str> {
        let Target::Unix(path) = target else {
            return None;
        };
        let v = socket_php_version(path)?;
        (!self.versions.contains(v) && !self.php_dir_held).then_some(v)
    }

    /// Whether the tree holds the FPM half a pool listening on `target` would be in: a
    /// php-fpm.conf (its includes say where every pool is), or pools of that PHP version or
    /// listening in that place (the socket's directory; TCP for a TCP address).
    pub fn holds_half(&self, target: &Target) -> bool {
        if let Target::Unix(path) = target {
            if let Some(v) = socket_php_version(path) {
                // Known: that version's www.conf (or php-fpm.conf) is here, or the tree holds
                // all of /etc/php and the version is absent from it (not installed).
                return self.complete_versions.contains(v)
                    || self.has_unversioned_main
                    || (self.php_dir_held && !self.versions.contains(v));
            }
        }
        if self.has_main {
            return true;
        }
        match target {
            Target::Unix(path) => {
                socket_php_version(path).is_some_and(|v| self.versions.contains(v))
                    || self
                        .socket_dirs
                        .contains(dir_of(normalize_socket_path(path)))
            }
            Target::Tcp { .. } => self.has_tcp,
            _ => true,
        }
    }
}

fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}
