//! Which files to lint, and in which language each is written.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::source::Language;

/// A file found under the linted paths.
#[derive(Clone, Debug)]
pub struct Found {
    /// As the user would write it (relative to the working directory where possible).
    pub path: PathBuf,
    /// Canonical path: one file reached through several symlinks is linted once.
    pub canonical: PathBuf,
    /// Named on the command line (always linted) rather than found by walking.
    pub explicit: bool,
}

#[derive(Debug)]
pub struct WalkProblem {
    pub path: PathBuf,
    pub message: String,
}

/// Directories never worth walking into.
const SKIP_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "target",
    ".venv",
    "vendor",
];

/// Extension-less nginx files that packages ship under these names.
const NGINX_BARE_NAMES: &[&str] = &[
    "fastcgi_params",
    "scgi_params",
    "uwsgi_params",
    "proxy_params",
    "mime.types",
    "nginx.conf",
];

/// Folders whose extension-less files are nginx site files (`sites-available/default`).
const NGINX_SITE_DIRS: &[&str] = &[
    "sites-available",
    "sites-enabled",
    "conf.d",
    "snippets",
    "vhosts.d",
];

/// `fs::canonicalize` for many files in few directories: a file that is not itself a symlink
/// is its directory's canonical path plus its name, so only directories are resolved in full
/// (one `lstat` a file instead of one a path component).
#[derive(Default)]
pub struct Canonicalizer {
    dirs: HashMap<PathBuf, Option<PathBuf>>,
}

impl Canonicalizer {
    pub fn canonicalize(&mut self, path: &Path) -> std::io::Result<PathBuf> {
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return std::fs::canonicalize(path);
        };
        if dir.as_os_str().is_empty() || std::fs::symlink_metadata(path)?.is_symlink() {
            return std::fs::canonicalize(path);
        }
        let dir = self
            .dirs
            .entry(dir.to_path_buf())
            .or_insert_with(|| std::fs::canonicalize(dir).ok());
        match dir {
            Some(d) => Ok(d.join(name)),
            None => std::fs::canonicalize(path),
        }
    }
}

/// Walk `paths` and return the candidate config files, sorted, each once.
pub fn discover(paths: &[PathBuf]) -> (Vec<Found>, Vec<WalkProblem>) {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    let mut canon = Canonicalizer::default();
    for root in paths {
        let meta = match std::fs::metadata(root) {
            Ok(m) => m,
            // A link whose target is not on this machine: the project maps it onto the tree.
            Err(_) if is_symlink(root) => {
                push(&mut found, &mut seen, &mut canon, root.clone(), true);
                continue;
            }
            Err(e) => {
                problems.push(WalkProblem {
                    path: root.clone(),
                    message: e.to_string(),
                });
                continue;
            }
        };
        if !meta.is_dir() {
            push(&mut found, &mut seen, &mut canon, root.clone(), true);
            continue;
        }
        let walker = walkdir::WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                e.depth() == 0
                    || !(e.file_type().is_dir()
                        && (SKIP_DIRS.contains(&&*e.file_name().to_string_lossy())
                            || (e.path_is_symlink() && links_outside(e.path()))))
            });
        for entry in walker {
            match entry {
                Ok(e) if e.file_type().is_file() => {
                    if is_candidate(e.path()) {
                        push(
                            &mut found,
                            &mut seen,
                            &mut canon,
                            e.path().to_path_buf(),
                            false,
                        );
                    }
                }
                Ok(_) => {}
                // A link whose target is missing here (an absolute link of an /etc dump): the
                // project maps it onto the tree, as it does absolute includes.
                Err(e)
                    if e.loop_ancestor().is_none()
                        && e.path().is_some_and(|p| is_symlink(p) && is_candidate(p)) =>
                {
                    let path = e.path().map(Path::to_path_buf).unwrap_or_default();
                    push(&mut found, &mut seen, &mut canon, path, false);
                }
                Err(e) => {
                    let path = e.path().map_or_else(|| root.clone(), Path::to_path_buf);
                    let message = if e.loop_ancestor().is_some() {
                        "symlink loop: this directory links back to one of its parents".to_owned()
                    } else {
                        e.io_error()
                            .map_or_else(|| e.to_string(), ToString::to_string)
                    };
                    problems.push(WalkProblem { path, message });
                }
            }
        }
    }
    (found, problems)
}

pub fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// A directory symlink with an absolute target: that directory is on the machine running the
/// linter, not in the tree (an /etc dump's `sites-enabled -> /etc/nginx/sites-available`), so
/// it is not walked.
fn links_outside(path: &Path) -> bool {
    std::fs::read_link(path).is_ok_and(|t| t.is_absolute())
}

fn push(
    found: &mut Vec<Found>,
    seen: &mut HashSet<PathBuf>,
    canon: &mut Canonicalizer,
    path: PathBuf,
    explicit: bool,
) {
    let canonical = canon.canonicalize(&path).unwrap_or_else(|_| path.clone());
    if seen.insert(canonical.clone()) {
        found.push(Found {
            path,
            canonical,
            explicit,
        });
    }
}

/// Worth reading when found by walking a directory.
pub fn is_candidate(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    if name.ends_with(".conf") || name.ends_with(".nginx") || name.ends_with(".vhost") {
        return true;
    }
    if NGINX_BARE_NAMES.contains(&&*name) {
        return true;
    }
    let parent = path
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    NGINX_SITE_DIRS.contains(&&*parent) && !NOT_CONFIG_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// Site directories hold files named for their domain (`shop.example.com`), so any name counts
/// there except these leftovers.
const NOT_CONFIG_SUFFIXES: &[&str] = &[
    ".md",
    ".txt",
    ".bak",
    ".orig",
    ".rej",
    ".swp",
    "~",
    ".dpkg-old",
    ".dpkg-dist",
    ".example",
    ".sample",
];

/// Decide the language of a file from its path and text.
///
/// php-fpm files are INI: `[section]` headers, `key = value`, `;` comments. nginx files are
/// directives ended by `;` or blocks. Path hints break ties.
pub fn classify(path: &Path, text: &str) -> Language {
    let lower = path.to_string_lossy().to_ascii_lowercase();
    let mut fpm = 0i32;
    let mut nginx = 0i32;
    for line in text.lines().take(400) {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if t.starts_with(';') {
            fpm += 1;
        } else if t.starts_with('#') {
            // Both use '#' in the wild (php-fpm refuses it, but people write it).
        } else if t.starts_with('[') && t.ends_with(']') {
            fpm += 3;
        } else if t.ends_with(';')
            || t.ends_with('{')
            || t == "}"
            // One-line blocks: `location = /robots.txt { deny all; }`. An ini value cannot
            // hold an unquoted ";" (it starts a comment), so `env[X] = ${Y}` stays ini.
            || (t.ends_with('}') && t.contains(';'))
        {
            nginx += 2;
        } else if is_ini_assignment(t) {
            fpm += 2;
        }
    }
    let path_says_fpm = [
        "php-fpm", "fpm/", "fpm.d/", "pool.d/", "-fpm", "fpm-pool", "fpm_pool",
    ]
    .iter()
    .any(|h| lower.contains(h))
        && !lower.contains("nginx");
    if fpm > nginx || (fpm == nginx && path_says_fpm) {
        Language::PhpFpm
    } else {
        Language::Nginx
    }
}

fn is_ini_assignment(line: &str) -> bool {
    let Some((key, _)) = line.split_once('=') else {
        return false;
    };
    let key = key.trim_end();
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-[]$/".contains(c))
        && key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_content() {
        let p = Path::new("x.conf");
        assert_eq!(
            classify(p, "[www]\nlisten = /run/php.sock\npm = dynamic\n"),
            Language::PhpFpm
        );
        assert_eq!(
            classify(p, "; comment\npm.max_children = 5\n"),
            Language::PhpFpm
        );
        assert_eq!(classify(p, "server {\n listen 80;\n}\n"), Language::Nginx);
        assert_eq!(classify(p, "fastcgi_param A b;\n"), Language::Nginx);
        assert_eq!(
            classify(Path::new("php-fpm.d/x.conf"), ""),
            Language::PhpFpm
        );
        assert_eq!(classify(Path::new("nginx/x.conf"), ""), Language::Nginx);
        // One-line blocks read as `key = value` to a naive ini test (seen in the corpus).
        assert_eq!(
            classify(
                p,
                "# dev sites
location = /robots.txt { access_log off; deny all; }
location ~ /sitemap { deny all; }
"
            ),
            Language::Nginx
        );
        assert_eq!(
            classify(
                p,
                "[www]
env[HOME] = ${HOME}
"
            ),
            Language::PhpFpm
        );
    }

    #[test]
    fn candidates_by_name() {
        assert!(is_candidate(Path::new("a/b.conf")));
        assert!(is_candidate(Path::new("etc/nginx/fastcgi_params")));
        assert!(is_candidate(Path::new("etc/nginx/sites-available/default")));
        assert!(is_candidate(Path::new(
            "etc/nginx/sites-available/shop.example.com"
        )));
        assert!(!is_candidate(Path::new(
            "etc/nginx/sites-available/shop.bak"
        )));
        assert!(!is_candidate(Path::new("README.md")));
        assert!(!is_candidate(Path::new("www/index.php")));
    }
}
