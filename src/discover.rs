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
    /// Found by walking under a name that does not say it is a config file, and taken because
    /// its first bytes look like nginx or PHP-FPM ([`sniff`]).
    pub by_content: bool,
    /// The path is a symlink: its target may need mapping onto the tree.
    pub is_symlink: bool,
    /// Canonical paths of other names of the same file (hard links) the walk met: an include
    /// reaching the file by one of them reads no second copy.
    pub aliases: Vec<PathBuf>,
}

/// A file the walk saw and did not take, with why.
#[derive(Clone, Debug)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
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

/// How directories are walked: which ignore files count, and what is excluded.
#[derive(Clone, Debug, Default)]
pub struct WalkOptions {
    /// `--no-ignore`: read files that `.gitignore`, `.ignore` or `.git/info/exclude` ignore,
    /// and walk hidden folders.
    pub no_ignore: bool,
    /// Globs replacing the folders skipped by default ([`SKIP_DIRS`]), each with the directory
    /// it is relative to (the config file's `exclude`).
    pub exclude: Option<Vec<(PathBuf, String)>>,
    /// Globs excluded as well (`extend-exclude`, `--exclude`).
    pub extend_exclude: Vec<(PathBuf, String)>,
    /// List the files ignore files and hidden folders kept from the walk, with why
    /// (`--show-files`; costs a second walk).
    pub list_ignored: bool,
}

/// Exclude globs, compiled. A glob without `/` matches a file or folder by its name anywhere
/// under the linted paths (`build`, `*.bak`); one with `/` matches the path relative to the
/// directory it was given in (`docker/old/**`), as ruff reads `exclude`.
struct Excludes {
    by_name: globset::GlobSet,
    by_path: globset::GlobSet,
    /// The patterns as given, by name then by path, in the sets' order.
    names: Vec<String>,
    paths: Vec<String>,
}

impl Excludes {
    fn new(options: &WalkOptions, cwd: &Path) -> Excludes {
        let defaults: Vec<(PathBuf, String)> = SKIP_DIRS
            .iter()
            .map(|d| (PathBuf::new(), (*d).to_owned()))
            .collect();
        let (mut by_name, mut by_path) = (
            globset::GlobSetBuilder::new(),
            globset::GlobSetBuilder::new(),
        );
        let (mut names, mut paths) = (Vec::new(), Vec::new());
        let all = options
            .exclude
            .as_ref()
            .unwrap_or(&defaults)
            .iter()
            .chain(&options.extend_exclude);
        for (base, pattern) in all {
            let trimmed = pattern.trim_end_matches('/');
            let anchored = trimmed.contains('/');
            let glob = if anchored {
                let base = normalize(&cwd.join(base));
                base.join(trimmed.trim_start_matches("./"))
                    .to_string_lossy()
                    .into_owned()
            } else {
                trimmed.to_owned()
            };
            // Patterns are checked where they are read (config, flags); one that still
            // fails is left out rather than excluding everything.
            let Ok(g) = globset::GlobBuilder::new(&glob)
                .literal_separator(true)
                .build()
            else {
                continue;
            };
            if anchored {
                by_path.add(g);
                paths.push(pattern.clone());
            } else {
                by_name.add(g);
                names.push(pattern.clone());
            }
        }
        Excludes {
            by_name: by_name
                .build()
                .unwrap_or_else(|_| globset::GlobSet::empty()),
            by_path: by_path
                .build()
                .unwrap_or_else(|_| globset::GlobSet::empty()),
            names,
            paths,
        }
    }

    /// The pattern excluding the entry at `path` (walked from `root`, which is `abs_root`
    /// absolute and normalized), if any.
    fn matching(&self, path: &Path, root: &Path, abs_root: &Path) -> Option<&str> {
        let name = path.file_name()?;
        if let Some(&i) = self.by_name.matches(name).first() {
            return Some(&self.names[i]);
        }
        if self.by_path.is_empty() {
            return None;
        }
        let abs = abs_root.join(path.strip_prefix(root).unwrap_or(path));
        let i = *self.by_path.matches(abs).first()?;
        Some(&self.paths[i])
    }
}

/// `.` and `..` taken away by reading the path alone.
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// A glob given by a user, checked as [`WalkOptions`] will read it.
pub fn check_exclude_glob(pattern: &str) -> Result<(), String> {
    globset::GlobBuilder::new(pattern.trim_end_matches('/'))
        .literal_separator(true)
        .build()
        .map(drop)
        .map_err(|e| format!("bad glob {pattern:?}: {e}"))
}

/// The path an `ignore` error is about, if it names one.
fn error_path(e: &ignore::Error) -> Option<&Path> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child),
        _ => None,
    }
}

fn is_loop(e: &ignore::Error) -> bool {
    match e {
        ignore::Error::Loop { .. } => true,
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => is_loop(err),
        _ => false,
    }
}

fn error_message(e: &ignore::Error) -> String {
    match e {
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => error_message(err),
        ignore::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

/// The directory walker for `root`: ignore files and hidden folders as `options` say, the
/// excluded globs pruned (and, with `excluded`, recorded), absolute directory links not
/// followed.
fn walker(
    root: &Path,
    options: &WalkOptions,
    filters: bool,
    excludes: &std::sync::Arc<Excludes>,
    abs_root: &Path,
    excluded: Option<std::sync::Arc<std::sync::Mutex<Vec<Skipped>>>>,
) -> ignore::Walk {
    let excludes = std::sync::Arc::clone(excludes);
    let root_owned = root.to_path_buf();
    let abs_root = abs_root.to_path_buf();
    let mut b = ignore::WalkBuilder::new(root);
    b.follow_links(true)
        .sort_by_file_name(|a, b| a.cmp(b))
        .standard_filters(filters && !options.no_ignore)
        // A .gitignore counts inside a git repository, as git and ripgrep read it; `.ignore`
        // counts everywhere.
        .require_git(true)
        .filter_entry(move |e| {
            if e.depth() == 0 {
                return true;
            }
            let is_dir = e.file_type().is_some_and(|t| t.is_dir());
            if is_dir && e.path_is_symlink() && links_outside(e.path()) {
                return false;
            }
            match excludes.matching(e.path(), &root_owned, &abs_root) {
                Some(pattern) => {
                    if let Some(list) = &excluded {
                        let shown = if is_dir {
                            format!("{}/", e.path().display())
                        } else {
                            e.path().display().to_string()
                        };
                        if let Ok(mut list) = list.lock() {
                            list.push(Skipped {
                                path: PathBuf::from(shown),
                                reason: format!("excluded by `{pattern}`"),
                            });
                        }
                    }
                    false
                }
                None => true,
            }
        });
    b.build()
}

/// Walk `paths` and return the candidate config files, sorted, each once; the problems met;
/// and the files looked at and not taken.
pub fn discover(paths: &[PathBuf]) -> (Vec<Found>, Vec<WalkProblem>, Vec<Skipped>) {
    discover_with(paths, &WalkOptions::default())
}

/// [`discover`] with ignore files and excludes as `options` say.
pub fn discover_with(
    paths: &[PathBuf],
    options: &WalkOptions,
) -> (Vec<Found>, Vec<WalkProblem>, Vec<Skipped>) {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let mut skipped = Vec::new();
    let mut seen = Seen::default();
    let mut canon = Canonicalizer::default();
    let cwd = std::env::current_dir().unwrap_or_default();
    let excludes = std::sync::Arc::new(Excludes::new(options, &cwd));
    for root in paths {
        let is_dir = match std::fs::metadata(root) {
            Ok(m) => m.is_dir(),
            // A link whose target is not on this machine: the project maps it onto the tree.
            Err(_) if is_symlink(root) => false,
            Err(e) => {
                problems.push(WalkProblem {
                    path: root.clone(),
                    message: e.to_string(),
                });
                continue;
            }
        };
        if !is_dir {
            push(
                &mut found,
                &mut seen,
                &mut canon,
                root.clone(),
                true,
                is_symlink(root),
            );
            continue;
        }
        let abs_root = normalize(&cwd.join(root));
        let excluded = options
            .list_ignored
            .then(|| std::sync::Arc::new(std::sync::Mutex::new(Vec::new())));
        let mut looked_at = HashSet::new();
        for entry in walker(root, options, true, &excludes, &abs_root, excluded.clone()) {
            match entry {
                Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => {
                    if options.list_ignored {
                        looked_at.insert(e.path().to_path_buf());
                    }
                    let link = e.path_is_symlink();
                    if is_candidate(e.path()) {
                        push(
                            &mut found,
                            &mut seen,
                            &mut canon,
                            e.path().to_path_buf(),
                            false,
                            link,
                        );
                    } else if worth_sniffing(e.path()) {
                        match sniff_file(e.path(), true) {
                            Sniff::Nginx | Sniff::Fpm => {
                                let n = found.len();
                                push(
                                    &mut found,
                                    &mut seen,
                                    &mut canon,
                                    e.path().to_path_buf(),
                                    false,
                                    link,
                                );
                                if let Some(f) = found.get_mut(n) {
                                    f.by_content = true;
                                }
                            }
                            other => skipped.push(Skipped {
                                path: e.path().to_path_buf(),
                                reason: other.reason(false),
                            }),
                        }
                    }
                }
                Ok(_) => {}
                // A link whose target is missing here (an absolute link of an /etc dump): the
                // project maps it onto the tree, as it does absolute includes.
                Err(e)
                    if !is_loop(&e)
                        && error_path(&e).is_some_and(|p| is_symlink(p) && is_candidate(p)) =>
                {
                    let path = error_path(&e).map(Path::to_path_buf).unwrap_or_default();
                    if options.list_ignored {
                        looked_at.insert(path.clone());
                    }
                    push(&mut found, &mut seen, &mut canon, path, false, true);
                }
                Err(e) => {
                    let path = error_path(&e).map_or_else(|| root.clone(), Path::to_path_buf);
                    let message = if is_loop(&e) {
                        "symlink loop: this directory links back to one of its parents".to_owned()
                    } else {
                        error_message(&e)
                    };
                    problems.push(WalkProblem { path, message });
                }
            }
        }
        if let Some(list) = excluded {
            if let Ok(mut list) = list.lock() {
                skipped.append(&mut list);
            }
            if !options.no_ignore {
                list_ignored(
                    root,
                    options,
                    &excludes,
                    &abs_root,
                    &looked_at,
                    &mut skipped,
                );
            }
        }
    }
    (found, problems, skipped)
}

/// The files under `root` that ignore files or hidden folders kept from the walk and that
/// would have been looked at, each with why (a second walk without those filters).
fn list_ignored(
    root: &Path,
    options: &WalkOptions,
    excludes: &std::sync::Arc<Excludes>,
    abs_root: &Path,
    looked_at: &HashSet<PathBuf>,
    skipped: &mut Vec<Skipped>,
) {
    for e in walker(root, options, false, excludes, abs_root, None).flatten() {
        let path = e.path();
        if !e.file_type().is_some_and(|t| t.is_file())
            || looked_at.contains(path)
            || !(is_candidate(path) || worth_sniffing(path))
        {
            continue;
        }
        let rel = path.strip_prefix(root).unwrap_or(path);
        let hidden = rel
            .parent()
            .into_iter()
            .flat_map(Path::components)
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
        let reason = if hidden {
            "in a hidden folder (--no-ignore walks it)"
        } else if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            "a hidden file (--no-ignore reads it)"
        } else {
            "ignored by .gitignore, .ignore or .git/info/exclude (--no-ignore reads it)"
        };
        skipped.push(Skipped {
            path: path.to_path_buf(),
            reason: reason.to_owned(),
        });
    }
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

/// The files already found, by canonical path and (for hard links, which have no one
/// canonical path) by device and inode.
#[derive(Default)]
struct Seen {
    canonical: HashSet<PathBuf>,
    inodes: HashMap<(u64, u64), usize>,
}

fn push(
    found: &mut Vec<Found>,
    seen: &mut Seen,
    canon: &mut Canonicalizer,
    path: PathBuf,
    explicit: bool,
    link: bool,
) {
    let canonical = canon.canonicalize(&path).unwrap_or_else(|_| path.clone());
    if !seen.canonical.insert(canonical.clone()) {
        return;
    }
    if let Some(inode) = inode(&path) {
        if let Some(&first) = seen.inodes.get(&inode) {
            found[first].aliases.push(canonical);
            return;
        }
        seen.inodes.insert(inode, found.len());
    }
    found.push(Found {
        path,
        canonical,
        explicit,
        by_content: false,
        is_symlink: link,
        aliases: Vec::new(),
    });
}

/// Device and inode of the file a path reaches (following links); `None` where unknown.
#[cfg(unix)]
fn inode(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    let m = std::fs::metadata(path).ok()?;
    // A file with one link has no other name: no need to remember it.
    (m.nlink() > 1).then(|| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn inode(_: &Path) -> Option<(u64, u64)> {
    None
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

/// What the first bytes of a file say it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniff {
    /// nginx directives: a line ending in `;`, or a block nginx has (`server {`, `http {`).
    Nginx,
    /// php-fpm INI: keys only php-fpm has (`pm`, `listen`, `php_admin_value[...]`), or
    /// `[global]` with php-fpm's global keys.
    Fpm,
    /// Blank lines and comments only: nothing to go by.
    Empty,
    /// Text with neither: another tool's configuration (redis, supervisord, my.cnf, haproxy,
    /// php.ini, systemd, Apache, Caddy, logrotate, sshd, postgres, ...).
    Neither,
    /// A NUL byte.
    Binary,
}

impl Sniff {
    /// Why a file was not taken, for `--show-files` and errors. `by_name`: its name said it
    /// was a config file.
    pub fn reason(self, by_name: bool) -> String {
        match self {
            Sniff::Binary => "binary (a NUL byte in its first bytes)".to_owned(),
            Sniff::Empty if !by_name => {
                "not a configuration file name, and only blanks and comments".to_owned()
            }
            _ => "neither nginx (no directive ending in \";\", no server/http/location block) nor PHP-FPM (no [pool] with php-fpm keys)".to_owned(),
        }
    }
}

/// How much of a file [`sniff`] looks at.
pub const SNIFF_BYTES: usize = 8192;

/// Extensions of files that are never configuration: not even opened when found by walking.
const NOT_CONFIG_EXTENSIONS: &[&str] = &[
    "php", "phtml", "inc", "js", "mjs", "ts", "tsx", "jsx", "css", "scss", "sass", "less", "html",
    "htm", "twig", "tpl", "md", "rst", "txt", "json", "yml", "yaml", "toml", "xml", "svg", "png",
    "jpg", "jpeg", "gif", "webp", "ico", "bmp", "pdf", "woff", "woff2", "ttf", "eot", "otf", "map",
    "lock", "sql", "csv", "log", "gz", "tgz", "zip", "bz2", "xz", "zst", "tar", "7z", "rar", "jar",
    "war", "so", "a", "o", "dll", "exe", "bin", "py", "pyc", "rb", "go", "rs", "c", "h", "cc",
    "cpp", "hpp", "java", "kt", "swift", "pl", "pm", "lua", "sh", "bash", "zsh", "fish", "ps1",
    "bat", "pem", "key", "crt", "csr", "der", "p12", "pfx", "pub", "asc", "gpg", "sig", "mp3",
    "mp4", "webm", "ogg", "wav", "avi", "mov", "dist", "example", "sample", "bak", "orig", "rej",
    "swp", "tmp", "patch", "diff", "mo", "po", "pot", "db", "sqlite", "sqlite3", "env",
];

/// Extension-less files (`vhosts/42`), or files whose last dotted part is not a known kind
/// (`vhosts/shop.example.com`), are looked into when found by walking.
fn worth_sniffing(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    if name.starts_with('.') || name.ends_with('~') {
        return false;
    }
    match name.rsplit_once('.') {
        None => true,
        Some((_, ext)) => !NOT_CONFIG_EXTENSIONS.contains(&&*ext.to_ascii_lowercase()),
    }
}

/// [`sniff`] the first [`SNIFF_BYTES`] of a file; unreadable files are `Neither`.
fn sniff_file(path: &Path, strict: bool) -> Sniff {
    use std::io::Read as _;
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    match std::fs::File::open(path) {
        Ok(f) => {
            if f.take(SNIFF_BYTES as u64).read_to_end(&mut head).is_err() {
                return Sniff::Neither;
            }
        }
        Err(_) => return Sniff::Neither,
    }
    let complete = head.len() < SNIFF_BYTES;
    sniff(&head, complete, strict)
}

/// Blocks that only nginx opens with `NAME ... {` on a line.
const NGINX_BLOCKS: &[&str] = &[
    "server",
    "location",
    "http",
    "events",
    "upstream",
    "map",
    "geo",
    "stream",
    "types",
    "mail",
    "split_clients",
    "limit_except",
];

/// Directive names no other common configuration starts a line with: a file by a config
/// name whose line starts with one is nginx's even when the `;` is missing (a syntax error
/// to report, not a file to skip).
const NGINX_ONLY_DIRECTIVES: &[&str] = &[
    "server_tokens",
    "server_name",
    "fastcgi_pass",
    "fastcgi_param",
    "fastcgi_index",
    "proxy_pass",
    "proxy_set_header",
    "try_files",
    "add_header",
    "client_max_body_size",
    "worker_processes",
    "worker_connections",
    "ssl_certificate",
    "ssl_certificate_key",
    "sendfile",
    "keepalive_timeout",
    "gzip",
];

/// Keys only php-fpm has (pool and global), as written before `=`.
const FPM_KEYS: &[&str] = &[
    "pm",
    "listen",
    "listen.owner",
    "listen.group",
    "listen.mode",
    "listen.backlog",
    "listen.allowed_clients",
    "listen.acl_users",
    "listen.acl_groups",
    "request_terminate_timeout",
    "request_slowlog_timeout",
    "request_slowlog_trace_depth",
    "security.limit_extensions",
    "catch_workers_output",
    "decorate_workers_output",
    "clear_env",
    "slowlog",
    "ping.path",
    "ping.response",
    "access.log",
    "access.format",
    "rlimit_files",
    "rlimit_core",
    "process.max",
    "process.priority",
    "process.dumpable",
    "emergency_restart_threshold",
    "emergency_restart_interval",
    "process_control_timeout",
    "events.mechanism",
    "systemd_interval",
    "log_limit",
    "log_buffering",
];

/// Keys php-fpm's `[global]` section has that other INI files also use.
const FPM_GLOBAL_KEYS: &[&str] = &[
    "pid",
    "error_log",
    "log_level",
    "daemonize",
    "include",
    "syslog.facility",
    "syslog.ident",
];

/// Whether `head` (a file's first bytes; `complete` when it is the whole file) looks like
/// nginx or PHP-FPM. `strict` (files whose name says nothing) asks nginx for a block nginx
/// has (`server {`, `location / {`), not just a line ending in `;`.
pub fn sniff(head: &[u8], complete: bool, strict: bool) -> Sniff {
    if head.contains(&0) {
        return Sniff::Binary;
    }
    let text = String::from_utf8_lossy(head);
    let mut lines: Vec<&str> = text.lines().collect();
    if !complete {
        // The last line may be cut in the middle.
        lines.pop();
    }
    let mut content = false;
    let (mut nginx_lines, mut nginx_blocks) = (0, 0);
    // Lines shaped `name ... {` whatever the name, and lines ending in none of `;` `{` `}`:
    // a file of nothing but nginx-shaped lines is nginx's even with unknown directives.
    let (mut generic_blocks, mut unterminated) = (0, 0);
    let (mut fpm_keys, mut global_section, mut global_keys) = (0, false, 0);
    for line in lines {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        content = true;
        if t.starts_with('[') {
            let name = t.trim_start_matches('[').split(']').next().unwrap_or("");
            global_section |= name.trim() == "global";
            continue;
        }
        if let Some((key, _)) = t.split_once('=') {
            let key = key.trim();
            let base = key.split('[').next().unwrap_or(key).trim();
            if FPM_KEYS.contains(&key)
                || key.starts_with("pm.")
                || (key.contains('[')
                    && matches!(
                        base,
                        "php_value" | "php_flag" | "php_admin_value" | "php_admin_flag" | "env"
                    ))
            {
                fpm_keys += 1;
                if !strict {
                    // Ours whatever else follows (the language is classify's to decide).
                    return Sniff::Fpm;
                }
                continue;
            }
            if FPM_GLOBAL_KEYS.contains(&key) {
                global_keys += 1;
                continue;
            }
        }
        // nginx: drop a trailing comment, then look at the first word and the last character.
        let code = match t.find(" #") {
            Some(i) => t[..i].trim_end(),
            None => t,
        };
        let first = code
            .split(|c: char| c.is_whitespace() || c == ';' || c == '{')
            .next()
            .unwrap_or("")
            .trim_matches(['"', '\'']);
        let ident = first
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && first.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let terminated = code.ends_with(';') || code.ends_with('{') || code.ends_with('}');
        if !terminated {
            unterminated += 1;
        }
        if !ident {
            continue;
        }
        if code.ends_with('{') {
            generic_blocks += 1;
        }
        let second_is_eq = code.split_whitespace().nth(1) == Some("=");
        if code.contains('{')
            && (NGINX_BLOCKS.contains(&first)
                || first.ends_with("_by_lua_block")
                || (!strict && first == "if" && code.contains('(')))
        {
            nginx_blocks += 1;
            if !strict || nginx_lines + nginx_blocks > 1 {
                return Sniff::Nginx;
            }
        } else if ((code.ends_with(';') || (code.ends_with('}') && code.contains(';')))
            && !second_is_eq)
            || (!strict && NGINX_ONLY_DIRECTIVES.contains(&first))
        {
            nginx_lines += 1;
            if !strict || (nginx_blocks > 0 && nginx_lines + nginx_blocks > 1) {
                return Sniff::Nginx;
            }
        }
    }
    // PHP 5.2's XML php-fpm.conf: php-fpm 5.3+ refuses it, which the parser reports.
    let xml_fpm =
        text.trim_start().starts_with("<?xml") && text.contains("name=\"global_options\"");
    let fpm = fpm_keys > 0 || (global_section && global_keys > 0) || xml_fpm;
    let nginx = if strict {
        nginx_blocks > 0 && nginx_lines + nginx_blocks > 1
    } else {
        nginx_blocks > 0 || nginx_lines > 0 || (generic_blocks > 0 && unterminated == 0)
    };
    match (nginx, fpm) {
        (true, false) => Sniff::Nginx,
        (_, true) if !nginx || fpm_keys > nginx_lines => Sniff::Fpm,
        (true, true) => Sniff::Nginx,
        (false, false) if !content => Sniff::Empty,
        _ => Sniff::Neither,
    }
}

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
