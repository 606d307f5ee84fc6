//! What the rules know about the platform a tree is deployed on, and how sure they are of it.
//!
//! A fact that comes from the platform (the worker user nginx falls back to, the stock
//! accounts and their groups, the packaged files a tree includes without carrying, the
//! `/run/php/php-fpm.sock` alternative Debian maintains) is only as sure as the platform
//! itself: declared (config `platform =`, `--platform`), detected from a layout that shows
//! it, or assumed. Findings that rest on an assumed platform say so and are not errors.

use std::fmt;

use crate::model::builtin::Platform;
use crate::project::Project;
use crate::source::Language;

/// How the platform of a run was settled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlatformBasis {
    /// `platform = "..."` in the config file or `--platform`.
    Declared,
    /// The layout shows it: the tree path that did (`etc/php/8.2/fpm/pool.d/www.conf`).
    Detected { evidence: String },
    /// Neither: the default (Debian) is used where a fact is needed, as an assumption.
    /// `conflict` names the platforms the layout pointed at when it pointed at several.
    Assumed { conflict: Vec<(Platform, String)> },
}

impl Default for PlatformBasis {
    fn default() -> Self {
        PlatformBasis::Assumed {
            conflict: Vec::new(),
        }
    }
}

impl PlatformBasis {
    /// Declared or detected: facts of the platform are facts of this deployment.
    pub fn is_known(&self) -> bool {
        !matches!(self, PlatformBasis::Assumed { .. })
    }

    pub fn is_declared(&self) -> bool {
        matches!(self, PlatformBasis::Declared)
    }
}

/// A platform with its basis, as findings cite it: "debian (declared)",
/// "rhel (detected from etc/php-fpm.d/www.conf)", "debian (assumed: not declared ...)".
pub struct Cited<'a>(pub Platform, pub &'a PlatformBasis);

impl fmt::Display for Cited<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Cited(p, basis) = self;
        match basis {
            PlatformBasis::Declared => write!(f, "platform {} (declared)", p.as_str()),
            PlatformBasis::Detected { evidence } => {
                write!(f, "platform {} (detected from {evidence})", p.as_str())
            }
            PlatformBasis::Assumed { conflict } if conflict.is_empty() => write!(
                f,
                "platform {} (assumed: not declared, and the layout does not show it)",
                p.as_str()
            ),
            PlatformBasis::Assumed { conflict } => {
                let seen: Vec<String> = conflict
                    .iter()
                    .map(|(q, e)| format!("{} from {e}", q.as_str()))
                    .collect();
                write!(
                    f,
                    "platform {} (assumed: the layout points at several: {})",
                    p.as_str(),
                    seen.join(", ")
                )
            }
        }
    }
}

/// How to settle an assumed platform.
pub const SETTLE_HINT: &str = "set `platform = \"debian\"` (or rhel, alpine, freebsd, docker, upstream) in .nginx-fpm-lint.toml, or pass --platform";

/// The platforms a tree's layout shows, each with the first path that shows it.
pub fn evidence(project: &Project) -> Vec<(Platform, String)> {
    let mut found: Vec<(Platform, String)> = Vec::new();
    let mut note = |p: Platform, path: &str| {
        if !found.iter().any(|(q, _)| *q == p) {
            found.push((p, path.to_owned()));
        }
    };
    let files = project
        .files_of(Language::Nginx)
        .chain(project.files_of(Language::PhpFpm));
    for id in files {
        let Some(path) = project.tree_path(id) else {
            continue;
        };
        // Matched on the full path, cited by the name the report shows.
        let source = project.sources.get(id);
        if let Some(p) = platform_of_path(&path) {
            note(p, &source.name);
        }
        // RHEL's packaged pool listens on /run/php-fpm/www.sock.
        if source.language == Language::PhpFpm && source.text.contains("/run/php-fpm/") {
            note(Platform::Rhel, &source.name);
        }
    }
    found
}

/// Settle an undeclared platform from the layout: exactly one platform shown.
pub fn detect(project: &Project) -> Option<(Platform, PlatformBasis)> {
    let found = evidence(project);
    match found.as_slice() {
        [] => None,
        [(p, e)] => Some((
            *p,
            PlatformBasis::Detected {
                evidence: e.clone(),
            },
        )),
        _ => Some((
            Platform::Debian,
            PlatformBasis::Assumed {
                conflict: found.clone(),
            },
        )),
    }
}

/// Which platform a path in the tree (with a leading `/`) belongs to, if it says.
fn platform_of_path(path: &str) -> Option<Platform> {
    let dirs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let name = dirs.last().copied().unwrap_or("");
    let parent = |i: usize| dirs.len().checked_sub(i + 1).map(|k| dirs[k]);
    let has = |seq: &[&str]| dirs.windows(seq.len()).any(|w| w == seq);
    // The official php image adds zz-docker.conf (and docker.conf) to its pool directory.
    if parent(1) == Some("php-fpm.d") && matches!(name, "zz-docker.conf" | "docker.conf") {
        return Some(Platform::Docker);
    }
    if has(&["usr", "local", "etc", "nginx"]) {
        return Some(Platform::Freebsd);
    }
    // Debian and Ubuntu: /etc/php/8.2/fpm/..., sites-enabled/, snippets/fastcgi-php.conf.
    if dirs
        .windows(3)
        .any(|w| w[0] == "php" && is_version(w[1]) && w[2] == "fpm")
        || dirs[..dirs.len().saturating_sub(1)]
            .iter()
            .any(|d| matches!(*d, "sites-enabled" | "sites-available"))
        || (parent(1) == Some("snippets") && name == "fastcgi-php.conf")
    {
        return Some(Platform::Debian);
    }
    // Alpine: /etc/php82/php-fpm.d, /etc/php82/php-fpm.conf.
    if dirs.windows(2).any(|w| {
        w[0].strip_prefix("php")
            .is_some_and(|v| v.len() >= 2 && v.bytes().all(|b| b.is_ascii_digit()))
            && (w[1] == "php-fpm.d" || w[1] == "php-fpm.conf")
    }) {
        return Some(Platform::Alpine);
    }
    // The official php image, without its docker files: /usr/local/etc/php-fpm.d.
    if has(&["usr", "local", "etc", "php-fpm.d"]) {
        return Some(Platform::Docker);
    }
    // RHEL, Fedora, Amazon Linux: /etc/php-fpm.d next to /etc/php-fpm.conf.
    if has(&["etc", "php-fpm.d"]) {
        return Some(Platform::Rhel);
    }
    None
}

/// `8.2`, `7.4`.
fn is_version(s: &str) -> bool {
    match s.split_once('.') {
        Some((a, b)) => {
            !a.is_empty()
                && !b.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

/// Every group a stock account of the platform is in (primary first), from the distribution's
/// own account files: Debian base-passwd (`nobody` 65534 in `nogroup`, `www-data` 33 in
/// `www-data`, neither listed in any other group), RHEL's setup package and the nginx and
/// httpd packages (`nginx`, `apache`, `nobody` each in their own group), Alpine's nginx
/// package (its pre-install script: `nginx` in `nginx` only), FreeBSD (`www` in `www`), the
/// official nginx image (`nginx` in `nginx`). None for an account the platform does not ship.
pub fn stock_groups(platform: Platform, user: &str) -> Option<&'static [&'static str]> {
    Some(match (platform, user) {
        (Platform::Debian | Platform::Docker, "www-data") => &["www-data"],
        (Platform::Debian | Platform::Docker, "nobody") => &["nogroup"],
        (Platform::Docker | Platform::Rhel, "nginx") => &["nginx"],
        (Platform::Rhel, "apache") => &["apache"],
        (Platform::Rhel | Platform::Alpine | Platform::Freebsd, "nobody") => &["nobody"],
        (Platform::Alpine, "nginx") => &["nginx"],
        (Platform::Freebsd, "www") => &["www"],
        _ => return None,
    })
}

/// Debian's `php-fpm-socket-helper`: `phpX.Y-fpm.service` runs, after start,
/// `php-fpm-socket-helper install /run/php/php-fpm.sock /etc/php/X.Y/fpm/pool.d/www.conf XY`,
/// which (when www.conf's `listen` is a socket) makes this path an update-alternatives link
/// to it, the highest version winning.
pub const DEBIAN_DEFAULT_SOCKET: &str = "/run/php/php-fpm.sock";

/// The PHP version a Debian-style versioned socket names: `/run/php/php7.4-fpm.sock` -> 7.4.
/// Only Debian's own directory counts (`/run/php/`, `/var/run/php/`): a socket elsewhere
/// named like one was put there by hand.
pub fn socket_php_version(path: &str) -> Option<&str> {
    let (dir, name) = path.rsplit_once('/')?;
    if !matches!(dir, "/run/php" | "/var/run/php") {
        return None;
    }
    let v = name.strip_prefix("php")?.strip_suffix("-fpm.sock")?;
    is_version(v).then_some(v)
}

/// The PHP version whose configuration a tree path holds: `/etc/php/7.4/fpm/...` -> 7.4,
/// Alpine's `/etc/php74/...` -> 7.4.
pub fn path_php_version(path: &str) -> Option<String> {
    let dirs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if let Some(w) = dirs
        .windows(3)
        .find(|w| w[0] == "php" && is_version(w[1]) && w[2] == "fpm")
    {
        return Some(w[1].to_owned());
    }
    dirs.iter().find_map(|d| {
        let v = d.strip_prefix("php")?;
        (v.len() >= 2 && v.bytes().all(|b| b.is_ascii_digit()))
            .then(|| format!("{}.{}", &v[..1], &v[1..]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_name_their_platform() {
        let cases = [
            ("/etc/php/8.2/fpm/pool.d/www.conf", Some(Platform::Debian)),
            ("/etc/nginx/sites-enabled/default", Some(Platform::Debian)),
            (
                "/etc/nginx/snippets/fastcgi-php.conf",
                Some(Platform::Debian),
            ),
            ("/etc/php-fpm.d/www.conf", Some(Platform::Rhel)),
            ("/etc/php82/php-fpm.d/www.conf", Some(Platform::Alpine)),
            ("/usr/local/etc/nginx/nginx.conf", Some(Platform::Freebsd)),
            ("/docker/php-fpm.d/zz-docker.conf", Some(Platform::Docker)),
            ("/usr/local/etc/php-fpm.d/www.conf", Some(Platform::Docker)),
            ("/docker/php-fpm.d/www.conf", None),
            ("/nginx/conf.d/site.conf", None),
            ("/sites-enabled", None),
        ];
        for (path, want) in cases {
            assert_eq!(platform_of_path(path), want, "{path}");
        }
    }

    #[test]
    fn one_platform_is_detected_several_are_a_conflict() {
        use crate::project::{Options, Project};
        let site = "server { location ~ \\.php$ { fastcgi_pass unix:/run/php/x.sock; } }\n";
        let pool = "[www]\nlisten = /run/php/x.sock\n";
        let debian = Project::from_memory(
            &[
                ("etc/nginx/sites-enabled/app", site),
                ("etc/php/8.2/fpm/pool.d/www.conf", pool),
            ],
            Options::default(),
        );
        let (p, basis) = detect(&debian).unwrap();
        assert_eq!(p, Platform::Debian);
        assert!(basis.is_known() && !basis.is_declared());
        let mixed = Project::from_memory(
            &[
                ("etc/nginx/sites-enabled/app", site),
                ("etc/php-fpm.d/www.conf", pool),
            ],
            Options::default(),
        );
        let (_, basis) = detect(&mixed).unwrap();
        assert!(!basis.is_known());
        let cited = Cited(Platform::Debian, &basis).to_string();
        assert!(
            cited.contains("several") && cited.contains("rhel"),
            "{cited}"
        );
        let bare = Project::from_memory(&[("site.conf", site)], Options::default());
        assert!(detect(&bare).is_none());
    }

    #[test]
    fn versions_of_sockets_and_paths() {
        assert_eq!(socket_php_version("/run/php/php7.4-fpm.sock"), Some("7.4"));
        assert_eq!(socket_php_version("/run/php/php-fpm.sock"), None);
        assert_eq!(socket_php_version("/run/php-fpm/www.sock"), None);
        assert_eq!(socket_php_version("/tmp/t/run/php8.1-fpm.sock"), None);
        assert_eq!(
            socket_php_version("/var/run/php/php8.1-fpm.sock"),
            Some("8.1")
        );
        assert_eq!(
            path_php_version("/etc/php/8.2/fpm/pool.d/www.conf").as_deref(),
            Some("8.2")
        );
        assert_eq!(
            path_php_version("/etc/php82/php-fpm.d/www.conf").as_deref(),
            Some("8.2")
        );
        assert_eq!(path_php_version("/etc/php-fpm.d/www.conf"), None);
    }
}
