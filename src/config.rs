//! `.nginx-fpm-lint.toml`: rule selection, severities, per-path ignores and the settings knobs.
//!
//! Found like ruff finds its config: the first `.nginx-fpm-lint.toml` walking up from the first
//! linted path (or the working directory), or the file given with `--config`. Command-line
//! flags override it. Relative paths in it are relative to the file's directory. Unknown keys
//! and bad values are errors that name their line and column.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher};
use serde::Deserialize;
use toml::Spanned;

use crate::diagnostic::Severity;
use crate::model::builtin::Platform;
use crate::model::directives::{self, ExtraDirective, ModuleSelection, Version};
use crate::rules::{self, RULES};
use crate::source::LineIndex;

pub const FILE_NAME: &str = ".nginx-fpm-lint.toml";

/// What `config init` writes: every key, commented out, with its default.
pub const TEMPLATE: &str = r#"# nginx-fpm-lint configuration. Every key is optional; the values shown are the defaults.
# Command-line flags override what is set here. Paths are relative to this file.

# Rules to run: codes (NFL101), names (fastcgi-pass-no-listener), code prefixes (NFL1), name
# prefixes ending in "-" (nginx-) or "ALL".
# select = ["ALL"]
# Rules to add to `select` (e.g. when select comes from a shared default).
# extend-select = []
# Rules never to run.
# ignore = []

# Lowest severity that makes the exit code 1: "error", "warning" or "info".
# fail-on = "warning"

# Platform whose packaged defaults apply: "debian", "rhel", "alpine", "freebsd", "docker" or
# "upstream". Unset: detected from the layout where it is evident, else assumed (findings that
# rest on an assumed platform are warnings and say so).
# platform = "debian"
# nginx worker user when nginx.conf has no `user` directive (default: the platform's).
# nginx-user = "www-data"
# Groups the nginx worker user was added to (usermod -aG) beyond the platform's stock accounts.
# nginx-groups = []
# nginx prefix for relative includes (default: the directory holding each nginx.conf).
# nginx-prefix = "etc/nginx"

# Which modules the linted nginx has: "all" (every module nginx-fpm-lint knows, so nothing
# they define is "unknown"), a build ("debian": Debian's nginx and its libnginx-mod-*
# packages; "nginx.org": nginx.org's packages and their dynamic modules; "openresty"), or a
# list of builds and module names as nginx spells them, e.g. a list of "nginx.org" and
# "ngx_http_headers_more_filter_module" (a list without a build starts from the modules
# every build has). `load_module` lines in the configs add their module.
# nginx-modules = "all"
# The nginx version the configs must run on: directives added later (`http2 on` needs
# 1.25.1) or removed by then (`ssl on`, gone in 1.25.1) are flagged. Unset: any version.
# nginx-version = "1.24.0"

# Memory the PHP-FPM pools may use in all. No default: without it fpm-memory-overcommit
# (NFL303) is off and prints nothing.
# memory = "2G"
# Memory per PHP worker when a pool sets no php_admin_value[memory_limit].
# worker-memory = "128M"
# Smallest fastcgi_buffer_size / proxy_buffer_size not flagged.
# min-header-buffer = "32k"
# pm.max_children below this is flagged; 6 flags the packaged default of 5, 5 accepts it.
# min-max-children = 6
# listen.backlog below this is flagged.
# min-listen-backlog = 64

# Files and folders not walked (globs: a name anywhere, or a path relative to this file).
# Files ignored by .gitignore, .ignore or .git/info/exclude and hidden folders are skipped too
# (--no-ignore reads them); a file an include reaches is read either way.
# exclude = [".git", ".hg", ".svn", "node_modules", "target", ".venv", "vendor"]
# Globs excluded as well as `exclude` (keeps the defaults).
# extend-exclude = []

# php-fpm's environment, for ${VAR} in pool files (a pm, listen or [pool] name from it).
# A value built from a variable not given here (or by --env / --env-file) is not checked.
# [env]
# FPM_PM = "dynamic"

# Severity per rule, by code or name: "error", "warning" or "info".
# [severity]
# fastcgi-pass-unverifiable = "warning"

# Rules ignored in files matching a glob (relative to this file).
# [per-file-ignores]
# "sites/legacy/*" = ["NFL105"]

# Absolute paths used in the configs, mapped onto directories of the tree.
# [path-maps]
# "/opt/docker/etc/php/fpm" = "docker/php-fpm"

# Home-grown directives, known beside nginx's (one table each): where they may stand (main,
# events, http, server, location, upstream, if, if-in-server, if-in-location, limit_except,
# mail, mail-server, stream, stream-server, stream-upstream, other) and how many arguments
# they take (counts 0 to 7 joined by |, "1+", "2+", "any" or "flag"; "|block" for a block).
# [[extra-directives]]
# name = "my_auth"
# contexts = ["server", "location"]
# args = "1|2"
"#;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Raw {
    select: Option<Vec<Spanned<String>>>,
    extend_select: Option<Vec<Spanned<String>>>,
    ignore: Option<Vec<Spanned<String>>>,
    fail_on: Option<SeverityName>,
    platform: Option<Spanned<String>>,
    nginx_user: Option<String>,
    nginx_groups: Option<Vec<String>>,
    nginx_prefix: Option<PathBuf>,
    memory: Option<Spanned<Size>>,
    worker_memory: Option<Spanned<Size>>,
    min_header_buffer: Option<Spanned<Size>>,
    min_max_children: Option<u32>,
    min_listen_backlog: Option<u32>,
    severity: Option<BTreeMap<Spanned<String>, SeverityName>>,
    per_file_ignores: Option<BTreeMap<Spanned<String>, Vec<Spanned<String>>>>,
    path_maps: Option<BTreeMap<Spanned<String>, PathBuf>>,
    env: Option<BTreeMap<String, String>>,
    exclude: Option<Vec<Spanned<String>>>,
    extend_exclude: Option<Vec<Spanned<String>>>,
    nginx_modules: Option<Spanned<StringOrList>>,
    nginx_version: Option<Spanned<String>>,
    extra_directives: Option<Vec<RawExtraDirective>>,
}

/// `"debian"` or `["debian", "ngx_http_lua_module"]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum StringOrList {
    One(String),
    List(Vec<String>),
}

/// One `[[extra-directives]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExtraDirective {
    name: Spanned<String>,
    contexts: Spanned<Vec<String>>,
    args: Spanned<String>,
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum SeverityName {
    Error,
    Warning,
    Info,
}

impl From<SeverityName> for Severity {
    fn from(s: SeverityName) -> Severity {
        match s {
            SeverityName::Error => Severity::Error,
            SeverityName::Warning => Severity::Warning,
            SeverityName::Info => Severity::Info,
        }
    }
}

/// `"2G"` or a number of bytes.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Size {
    Bytes(u64),
    Text(String),
}

/// Rules ignored for files matching globs, relative to a base directory.
#[derive(Clone, Debug, Default)]
pub struct PathIgnores {
    base: PathBuf,
    entries: Vec<(GlobMatcher, Vec<&'static str>)>,
}

impl PathIgnores {
    /// Whether `code` is ignored in the file at canonical `path`.
    pub fn ignores(&self, path: &Path, code: &str) -> bool {
        let Ok(rel) = path.strip_prefix(&self.base) else {
            return false;
        };
        self.entries
            .iter()
            .any(|(glob, codes)| codes.contains(&code) && glob.is_match(rel))
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A loaded, validated configuration file.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The file, or None for "no file found" (all defaults).
    pub path: Option<PathBuf>,
    pub select: Option<Vec<&'static str>>,
    pub extend_select: Vec<&'static str>,
    pub ignore: Vec<&'static str>,
    pub severity: BTreeMap<&'static str, Severity>,
    pub per_file_ignores: PathIgnores,
    pub fail_on: Option<Severity>,
    pub platform: Option<Platform>,
    pub nginx_user: Option<String>,
    pub nginx_groups: Option<Vec<String>>,
    pub nginx_prefix: Option<PathBuf>,
    pub path_maps: Vec<(String, PathBuf)>,
    pub memory: Option<u64>,
    pub worker_memory: Option<u64>,
    pub min_header_buffer: Option<u64>,
    pub min_max_children: Option<u32>,
    pub min_listen_backlog: Option<u32>,
    /// `[env]`: php-fpm's environment.
    pub env: BTreeMap<String, String>,
    /// `exclude`: globs replacing the folders the walk skips by default, each with the
    /// directory it is relative to (this file's).
    pub exclude: Option<Vec<(PathBuf, String)>>,
    /// `extend-exclude`: globs skipped as well.
    pub extend_exclude: Vec<(PathBuf, String)>,
    pub nginx_modules: Option<ModuleSelection>,
    pub nginx_version: Option<Version>,
    pub extra_directives: Vec<ExtraDirective>,
}

/// A config file that could not be used, with the position of the offending text.
#[derive(Debug)]
pub struct ConfigError {
    pub path: PathBuf,
    pub message: String,
    /// `(line, column, source line, width to underline)`, 1-based, when the error has a
    /// position.
    pub at: Option<(u32, u32, String, usize)>,
}

impl ConfigError {
    fn new(path: &Path, text: &str, span: Option<Range<usize>>, message: String) -> Self {
        let at = span.map(|r| {
            let lc = LineIndex::new(text).line_col(text, r.start);
            let line_text = text.lines().nth(lc.line as usize - 1).unwrap_or("");
            let width = text
                .get(r.clone())
                .map_or(1, |s| s.lines().next().unwrap_or("").chars().count().max(1));
            (lc.line, lc.column, line_text.to_owned(), width)
        });
        // Shown relative to the working directory, like the linted files.
        let shown = std::env::current_dir()
            .ok()
            .and_then(|cwd| {
                let cwd = std::fs::canonicalize(cwd).ok()?;
                path.strip_prefix(&cwd).ok().map(Path::to_path_buf)
            })
            .unwrap_or_else(|| path.to_path_buf());
        ConfigError {
            path: shown,
            message,
            at,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.at {
            Some((line, col, text, width)) => {
                writeln!(f, "{}:{line}:{col}: {}", self.path.display(), self.message)?;
                writeln!(f, "{line:>4} | {text}")?;
                write!(
                    f,
                    "     | {}{}",
                    " ".repeat(*col as usize - 1),
                    "^".repeat(*width)
                )
            }
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

/// The first config file walking up from `start` (a file or directory).
pub fn find(start: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(start).ok()?;
    let dir = if start.is_dir() {
        start.as_path()
    } else {
        start.parent()?
    };
    dir.ancestors()
        .map(|d| d.join(FILE_NAME))
        .find(|p| p.is_file())
}

/// The codes a selector names: a code, a name, a code prefix (`NFL1`), a name prefix ending
/// in `-` (`nginx-`) or `ALL`.
pub fn resolve_selector(sel: &str) -> Option<Vec<&'static str>> {
    if sel.eq_ignore_ascii_case("ALL") {
        return Some(RULES.iter().map(|(c, _)| *c).collect());
    }
    if let Some((code, _)) = rules::lookup(sel) {
        return Some(vec![code]);
    }
    // A name prefix ending in `-` (`nginx-`, `fpm-`) picks a family of rules by name.
    if sel.len() > 1 && sel.ends_with('-') {
        let codes: Vec<&'static str> = RULES
            .iter()
            .filter(|(_, r)| r.meta().name.starts_with(&sel.to_ascii_lowercase()))
            .map(|(c, _)| *c)
            .collect();
        return (!codes.is_empty()).then_some(codes);
    }
    let prefix = sel.to_ascii_uppercase();
    let codes: Vec<&'static str> = RULES
        .iter()
        .map(|(c, _)| *c)
        .filter(|c| prefix.starts_with("NFL") && c.starts_with(&prefix))
        .collect();
    (!codes.is_empty()).then_some(codes)
}

/// Read and validate a config file.
/// Variables from a docker-style `.env` file (`docker run --env-file`, compose's `env_file`):
/// `KEY=VALUE` lines; blank lines and `#` comments; a value in double quotes (with `\n`,
/// `\"` and `\\` escapes) or single quotes (literal); an unquoted value ends before a ` #`
/// comment and is trimmed. A bare `KEY` (docker takes it from the host's environment) gives
/// no value here, so `${KEY}` stays unknown. Errors carry the 1-based line.
pub fn parse_env_file(text: &str) -> Result<Vec<(String, String)>, (usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err((i + 1, format!("{key:?} is not a variable name")));
        }
        let value = value.trim_start();
        let value = if let Some(rest) = value.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = rest.chars();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\\' => match chars.next() {
                        Some('n') => v.push('\n'),
                        Some(c) => v.push(c),
                        None => v.push('\\'),
                    },
                    c => v.push(c),
                }
            }
            if !closed {
                return Err((i + 1, "unterminated double quote".to_owned()));
            }
            v
        } else if let Some(rest) = value.strip_prefix('\'') {
            match rest.split_once('\'') {
                Some((v, _)) => v.to_owned(),
                None => return Err((i + 1, "unterminated single quote".to_owned())),
            }
        } else {
            let end = value.find(" #").unwrap_or(value.len());
            value[..end].trim_end().to_owned()
        };
        out.push((key.to_owned(), value));
    }
    Ok(out)
}

pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new(path, "", None, format!("cannot read: {e}")))?;
    parse(path, &text)
}

/// Validate config text; `path` locates relative paths and names the file in errors.
pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let err =
        |span: Range<usize>, message: String| ConfigError::new(path, text, Some(span), message);
    let raw: Raw = toml::from_str(text)
        .map_err(|e| ConfigError::new(path, text, e.span(), e.message().trim_end().to_owned()))?;
    let dir = std::fs::canonicalize(path)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| path.parent().unwrap_or(Path::new(".")).to_path_buf());

    let rules_of =
        |list: Option<Vec<Spanned<String>>>| -> Result<Option<Vec<&'static str>>, ConfigError> {
            let Some(list) = list else { return Ok(None) };
            let mut out = Vec::new();
            for s in list {
                match resolve_selector(s.get_ref()) {
                    Some(codes) => out.extend(codes),
                    None => return Err(err(s.span(), unknown_rule(s.get_ref()))),
                }
            }
            Ok(Some(out))
        };
    let size = |s: Option<Spanned<Size>>| -> Result<Option<u64>, ConfigError> {
        let Some(s) = s else { return Ok(None) };
        let span = s.span();
        match s.into_inner() {
            Size::Bytes(n) => Ok(Some(n)),
            Size::Text(t) => crate::model::units::parse_user_size(&t)
                .map(Some)
                .ok_or_else(|| {
                    err(
                        span,
                        format!("expected a size like 512M, 2G, 2GB or 32k, got {t:?}"),
                    )
                }),
        }
    };

    let mut config = Config {
        path: Some(path.to_path_buf()),
        select: rules_of(raw.select)?,
        extend_select: rules_of(raw.extend_select)?.unwrap_or_default(),
        ignore: rules_of(raw.ignore)?.unwrap_or_default(),
        fail_on: raw.fail_on.map(Severity::from),
        nginx_user: raw.nginx_user,
        nginx_groups: raw.nginx_groups,
        nginx_prefix: raw.nginx_prefix.map(|p| dir.join(p)),
        memory: size(raw.memory)?,
        worker_memory: size(raw.worker_memory)?,
        min_header_buffer: size(raw.min_header_buffer)?,
        min_max_children: raw.min_max_children,
        min_listen_backlog: raw.min_listen_backlog,
        env: raw.env.unwrap_or_default(),
        ..Config::default()
    };
    if let Some(p) = raw.platform {
        config.platform = Some(p.get_ref().parse().map_err(|e| err(p.span(), e))?);
    }
    if let Some(m) = raw.nginx_modules {
        let selection = match m.get_ref() {
            StringOrList::One(s) => s.parse(),
            StringOrList::List(items) => ModuleSelection::from_items(items),
        };
        config.nginx_modules = Some(selection.map_err(|e| err(m.span(), e))?);
    }
    if let Some(v) = raw.nginx_version {
        config.nginx_version = Some(v.get_ref().parse().map_err(|e| err(v.span(), e))?);
    }
    for d in raw.extra_directives.unwrap_or_default() {
        let name = d.name.get_ref();
        if name.is_empty() || name.contains(|c: char| c.is_whitespace() || "{};\"'".contains(c)) {
            return Err(err(
                d.name.span(),
                format!("{name:?} is not a directive name"),
            ));
        }
        config.extra_directives.push(ExtraDirective {
            name: name.clone(),
            contexts: directives::parse_contexts(d.contexts.get_ref())
                .map_err(|e| err(d.contexts.span(), e))?,
            args: directives::parse_args(d.args.get_ref()).map_err(|e| err(d.args.span(), e))?,
        });
    }
    for (rule, sev) in raw.severity.unwrap_or_default() {
        let Some((code, _)) = rules::lookup(rule.get_ref()) else {
            return Err(err(rule.span(), unknown_rule(rule.get_ref())));
        };
        config.severity.insert(code, sev.into());
    }
    let mut ignores = PathIgnores {
        base: dir.clone(),
        entries: Vec::new(),
    };
    for (pattern, list) in raw.per_file_ignores.unwrap_or_default() {
        let glob = Glob::new(pattern.get_ref())
            .map_err(|e| err(pattern.span(), format!("bad glob: {e}")))?
            .compile_matcher();
        let codes = rules_of(Some(list))?.unwrap_or_default();
        ignores.entries.push((glob, codes));
    }
    config.per_file_ignores = ignores;
    let globs = |list: Option<Vec<Spanned<String>>>| -> Result<Option<Vec<(PathBuf, String)>>, ConfigError> {
        let Some(list) = list else { return Ok(None) };
        let mut out = Vec::new();
        for g in list {
            crate::discover::check_exclude_glob(g.get_ref()).map_err(|e| err(g.span(), e))?;
            out.push((dir.clone(), g.into_inner()));
        }
        Ok(Some(out))
    };
    config.exclude = globs(raw.exclude)?;
    config.extend_exclude = globs(raw.extend_exclude)?.unwrap_or_default();
    for (from, to) in raw.path_maps.unwrap_or_default() {
        if !from.get_ref().starts_with('/') {
            return Err(err(
                from.span(),
                format!(
                    "path-maps keys must be absolute paths, got {:?}",
                    from.get_ref()
                ),
            ));
        }
        config.path_maps.push((
            from.get_ref().trim_end_matches('/').to_owned(),
            dir.join(to),
        ));
    }
    Ok(config)
}

fn unknown_rule(name: &str) -> String {
    match crate::rules::suggest(name) {
        Some(s) => format!("unknown rule {name:?}; did you mean `{s}`?"),
        None => format!(
            "unknown rule {name:?}: expected a code (NFL101), a name, a code prefix (NFL1), a name prefix ending in `-` (nginx-) or ALL"
        ),
    }
}

impl Config {
    /// The severity `code` runs at, or None when it is not selected. `cli` selections
    /// (`--select` etc.) replace or extend the file's.
    pub fn severity_of(&self, code: &str, default: Severity) -> Option<Severity> {
        let selected = self.select.as_ref().is_none_or(|s| s.contains(&code))
            || self.extend_select.contains(&code);
        if !selected || self.ignore.contains(&code) {
            return None;
        }
        Some(self.severity.get(code).copied().unwrap_or(default))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every knob in `Settings` can be set from the config file: a field added there needs a key
    /// in `Raw`, `TEMPLATE` and `run::options_and_settings`.
    #[test]
    fn every_setting_has_a_config_key() {
        let debug = format!("{:?}", crate::settings::Settings::default());
        let inner = debug
            .split_once('{')
            .and_then(|(_, rest)| rest.rsplit_once('}'))
            .map(|(fields, _)| fields)
            .unwrap();
        for field in inner.split(", ").filter_map(|f| f.split_once(':')) {
            let name = field.0.trim();
            let key = match name {
                "memory_budget" => "memory".to_owned(),
                // Declared when `platform` is set; otherwise detected or assumed.
                "platform_basis" => "platform".to_owned(),
                // A table: its header is the key.
                "env" => {
                    assert!(TEMPLATE.contains("# [env]"), "no [env] table in TEMPLATE");
                    continue;
                }
                "extra_directives" => {
                    assert!(TEMPLATE.contains("# [[extra-directives]]"));
                    continue;
                }
                other => other.replace('_', "-"),
            };
            assert!(
                TEMPLATE.contains(&format!("# {key} = ")),
                "Settings::{name} has no `{key}` key in .nginx-fpm-lint.toml; add it to \
                 config::Raw, config::TEMPLATE and run::options_and_settings"
            );
        }
    }

    #[test]
    fn nginx_build_keys() {
        let path = Path::new("x.toml");
        let c = parse(
            path,
            "nginx-modules = [\"nginx.org\", \"ngx_http_lua_module\"]\nnginx-version = \"1.24\"\n\
             [[extra-directives]]\nname = \"my_auth\"\ncontexts = [\"server\", \"if\"]\nargs = \"1+\"\n",
        )
        .unwrap();
        assert_eq!(
            c.nginx_modules,
            Some(ModuleSelection::Some {
                builds: directives::builds::NGINX_ORG,
                modules: vec!["ngx_http_lua_module"],
            })
        );
        assert_eq!(c.nginx_version, Some(Version(1, 24, 0)));
        let d = &c.extra_directives[0];
        assert_eq!(d.name, "my_auth");
        use directives::ctx;
        assert_eq!(d.contexts, ctx::HTTP_SRV | ctx::HTTP_SIF | ctx::HTTP_LIF);
        assert_eq!(d.args, directives::args::ONE_MORE);

        let e = parse(path, "nginx-modules = \"debain\"\n").unwrap_err();
        assert!(e.message.contains("unknown nginx module"), "{}", e.message);
        assert_eq!(e.at.as_ref().map(|a| (a.0, a.1)), Some((1, 17)));
        let e = parse(path, "nginx-version = \"1.x\"\n").unwrap_err();
        assert!(e.message.contains("nginx version"), "{}", e.message);
        let e = parse(
            path,
            "[[extra-directives]]\nname = \"x\"\ncontexts = [\"servr\"]\nargs = \"1\"\n",
        )
        .unwrap_err();
        assert!(e.message.contains("unknown context"), "{}", e.message);
        assert_eq!(e.at.as_ref().map(|a| a.0), Some(3));
    }

    #[test]
    fn env_files_read_like_docker() {
        let text = "# comment\n\nFPM_PM=static\nA = \"x y\\\"z\" \nB='$lit ${X}'\nC=plain # note\nHOST_ONLY\nE=\n";
        let env = parse_env_file(text).unwrap();
        let want = [
            ("FPM_PM", "static"),
            ("A", "x y\"z"),
            ("B", "$lit ${X}"),
            ("C", "plain"),
            ("E", ""),
        ];
        let got: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, want);
        assert_eq!(parse_env_file("A=\"open\n").unwrap_err().0, 1);
        assert_eq!(parse_env_file("ok=1\nbad key=1\n").unwrap_err().0, 2);
    }

    #[test]
    fn selectors() {
        assert_eq!(resolve_selector("NFL101"), Some(vec!["NFL101"]));
        assert_eq!(
            resolve_selector("fastcgi-pass-no-listener"),
            Some(vec!["NFL101"])
        );
        assert!(resolve_selector("NFL0").unwrap().contains(&"NFL003"));
        assert_eq!(resolve_selector("all").map(|v| v.len()), Some(RULES.len()));
        assert_eq!(resolve_selector("NFL9"), None);
        assert_eq!(resolve_selector("fastcgi"), None);
    }
}
