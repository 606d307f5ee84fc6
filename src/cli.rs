//! Command-line flags (clap derive). The only place that knows them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::model::builtin::Platform;
use crate::model::directives::{ModuleSelection, Version};

/// The program's name, shown by `--version` of every subcommand too (clap would say
/// `nginx-fpm-lint-lint`).
const NAME: &str = "nginx-fpm-lint";

#[derive(Debug, Parser)]
#[command(
    name = "nginx-fpm-lint",
    version,
    about = "Lint and fix nginx + PHP-FPM configurations together: catch the 502s before deploy",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lint nginx and PHP-FPM configuration files together
    #[command(display_name = NAME)]
    Lint(LintArgs),
    /// Explain a live 502 from nginx's, php-fpm's and the kernel's logs, with the config behind it
    #[command(display_name = NAME)]
    Diagnose(DiagnoseArgs),
    /// Print the parsed tree of configuration files as JSON (directives, args, lines, spans, includes)
    #[command(display_name = NAME)]
    Parse(ParseArgs),
    /// List every rule: code, name, default severity, fix availability
    #[command(display_name = NAME)]
    Rules {
        /// `table` for people, `json` for programs
        #[arg(long, value_enum, default_value = "table")]
        format: RulesFormat,
    },
    /// Print a rule's documentation
    #[command(display_name = NAME)]
    Explain {
        /// Rule code (NFL101) or name (fastcgi-pass-no-listener)
        rule: String,
    },
    /// Create or validate a `.nginx-fpm-lint.toml`
    #[command(subcommand, display_name = NAME)]
    Config(ConfigCommand),
    /// Print docs/rules.md: every rule's documentation, generated from the rules themselves
    #[command(display_name = NAME)]
    Docs,
    /// Print a shell completion script, or install it where the shell reads it (--install)
    #[command(display_name = NAME)]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
        /// Write the script to the shell's per-user completion folder (created when missing):
        /// bash ~/.local/share/bash-completion/completions, zsh ~/.zfunc, fish
        /// ~/.config/fish/completions (XDG_DATA_HOME / XDG_CONFIG_HOME respected)
        #[arg(long)]
        install: bool,
        /// With --install: replace a different script already there
        #[arg(long, requires = "install")]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Write a commented default `.nginx-fpm-lint.toml` (refuses to overwrite one)
    #[command(display_name = NAME)]
    Init {
        /// Where to write it
        #[arg(default_value = ".nginx-fpm-lint.toml")]
        path: PathBuf,
    },
    /// Validate a config file: unknown keys, unknown rules and bad values are errors
    #[command(display_name = NAME)]
    Check {
        /// The config file to check [default: the one `lint` would use here]
        #[arg(value_name = "FILE")]
        path: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    Table,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Source snippets with labels in every file involved (default on a terminal)
    Human,
    /// One line per finding: path:line:col: severity[CODE name] message (default otherwise)
    Concise,
    /// Machine-readable; schema in the README
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers
    Sarif,
    /// GitHub Actions annotations (::error file=...::message)
    Github,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Color on a terminal, unless NO_COLOR is set (FORCE_COLOR or CLICOLOR_FORCE: always)
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to color, given whether the output is a terminal and the environment
    /// (`NO_COLOR`, `FORCE_COLOR`, `CLICOLOR_FORCE`, as ruff and most CLIs read them).
    pub fn resolve(self, no_color_flag: bool, is_terminal: bool) -> bool {
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto if no_color_flag || set("NO_COLOR") => false,
            ColorChoice::Auto => {
                set("FORCE_COLOR")
                    || std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0")
                    || is_terminal
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Files or directories to lint; directories are searched for nginx and PHP-FPM files;
    /// `-` reads standard input (named by --stdin-filename, else `-`)
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Print the fixes as a unified diff (for `git apply` / `patch -p1`) instead of writing them
    #[arg(long, conflicts_with = "fix")]
    pub diff: bool,

    /// Apply safe fixes to the files
    #[arg(long)]
    pub fix: bool,

    /// Also apply (or show in --diff) fixes that change behaviour or guess
    #[arg(long)]
    pub unsafe_fixes: bool,

    /// Output format [default: human on a terminal, concise otherwise]
    #[arg(long, visible_alias = "output-format", value_enum)]
    pub format: Option<Format>,

    /// Write the report to FILE instead of standard output (the exit code is unchanged)
    #[arg(short, long, value_name = "FILE")]
    pub output_file: Option<PathBuf>,

    /// Lowest severity that makes the exit code 1 [default: warning]
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,

    /// Exit 0 even when there are findings (usage, read and syntax errors still exit 2)
    #[arg(long)]
    pub exit_zero: bool,

    /// When to color the output: auto colors on a terminal unless NO_COLOR is set;
    /// FORCE_COLOR or CLICOLOR_FORCE color it anywhere
    #[arg(long, value_enum, value_name = "WHEN", default_value = "auto")]
    pub color: ColorChoice,

    /// Disable colors (the same as --color never; also: NO_COLOR environment variable)
    #[arg(long)]
    pub no_color: bool,

    /// Use this config file instead of the nearest `.nginx-fpm-lint.toml`
    #[arg(long, value_name = "FILE", conflicts_with = "isolated")]
    pub config: Option<PathBuf>,

    /// Ignore every config file
    #[arg(long)]
    pub isolated: bool,

    /// Rules to run (codes, names, code prefixes such as NFL1, name prefixes such as nginx-,
    /// or ALL); replaces the config's
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub select: Vec<String>,

    /// Rules to run in addition to the selected ones
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub extend_select: Vec<String>,

    /// Rules not to run
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub ignore: Vec<String>,

    /// Read the file to lint from standard input, as if it were at PATH (joined with the tree
    /// around PATH); with --fix the fixed text is printed
    #[arg(long, value_name = "PATH")]
    pub stdin_filename: Option<PathBuf>,

    /// Print only findings: no summary or progress lines
    #[arg(short, long)]
    pub quiet: bool,

    /// Print how many findings each rule produced instead of the findings
    #[arg(long)]
    pub statistics: bool,

    /// List the fixes that --fix would apply (or, with --fix, that remain)
    #[arg(long)]
    pub show_fixes: bool,

    /// List every file looked at, with its language and role (entry point, included by,
    /// standalone site or snippet, pool) or why it was skipped; lint nothing
    #[arg(long, conflicts_with_all = ["fix", "diff"])]
    pub show_files: bool,

    #[command(flatten)]
    pub tree: TreeArgs,
}

#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    /// Config files or directories, as `lint` takes them (the nginx and PHP-FPM configuration
    /// the logs were written under)
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// A log to read: nginx's error.log, php-fpm's log, the kernel's (dmesg, journalctl -k,
    /// kern.log, syslog); rotated and .gz files too; `-` for standard input (repeatable)
    #[arg(long = "log", value_name = "FILE")]
    pub logs: Vec<PathBuf>,

    /// Only lines at or after this time: `2026-12-03 09:00` or an age such as 2h, 30m
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only lines at or before this time (same forms as --since)
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// On the server itself: read the packaged config directories (/etc/nginx, /etc/php, ...)
    /// and logs (/var/log/nginx/error.log*, /var/log/php*-fpm.log*, kern.log)
    #[arg(long)]
    pub host: bool,

    /// With --host: read every path under DIR instead of / (a mounted image, a test stack)
    #[arg(long, value_name = "DIR", requires = "host")]
    pub root: Option<PathBuf>,

    /// List every cause: the log lines that show it, what it means, the rule that predicts it
    #[arg(long)]
    pub list: bool,

    /// Print the fixes of the causes found as one unified diff
    #[arg(long)]
    pub diff: bool,

    /// Output format [default: human on a terminal, concise otherwise]
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// Print only the causes: no summary line
    #[arg(short, long)]
    pub quiet: bool,

    /// Disable colors (also: NO_COLOR environment variable)
    #[arg(long)]
    pub no_color: bool,

    /// Use this config file instead of the nearest `.nginx-fpm-lint.toml`
    #[arg(long, value_name = "FILE", conflicts_with = "isolated")]
    pub config: Option<PathBuf>,

    /// Ignore every config file
    #[arg(long)]
    pub isolated: bool,

    #[command(flatten)]
    pub tree: TreeArgs,
}

#[derive(Debug, Args)]
pub struct ParseArgs {
    /// Files (or directories) to parse; includes they name are resolved and listed too
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// Include comments as `"directive": "#"` entries
    #[arg(long)]
    pub comments: bool,

    #[command(flatten)]
    pub includes: IncludeArgs,
}

/// Where includes lead: all `parse` reads of the tree flags (memory and users do not apply).
#[derive(Debug, Default, Args)]
pub struct IncludeArgs {
    /// nginx prefix for relative includes [default: the directory holding each nginx.conf]
    #[arg(long, value_name = "DIR")]
    pub nginx_prefix: Option<PathBuf>,

    /// Map an absolute path used in the configs onto a directory of the tree, e.g.
    /// --map /opt/docker/etc/php/fpm=docker/php-fpm (repeatable)
    #[arg(long = "map", value_name = "FROM=DIR", value_parser = parse_map)]
    pub maps: Vec<(String, PathBuf)>,

    /// Platform whose packaged include files are known [default: detected from the layout,
    /// else debian]
    #[arg(long, value_name = "PLATFORM", ignore_case = true, value_parser = platform_parser())]
    pub platform: Option<Platform>,
}

impl IncludeArgs {
    /// As [`TreeArgs`], with everything `parse` does not read left at its default.
    pub fn to_tree(&self) -> TreeArgs {
        TreeArgs {
            nginx_prefix: self.nginx_prefix.clone(),
            maps: self.maps.clone(),
            platform: self.platform,
            ..TreeArgs::default()
        }
    }
}

/// How include paths map onto the linted tree, and which platform's defaults apply.
#[derive(Debug, Default, Args)]
pub struct TreeArgs {
    /// Also read files that .gitignore, .ignore or .git/info/exclude ignore, and walk hidden
    /// folders (files reached by an include are read either way)
    #[arg(long)]
    pub no_ignore: bool,

    /// Skip files and folders matching GLOB when walking directories, as well as the config's
    /// `exclude`: a name (`build`, `*.bak`) anywhere, or a path from the working directory
    /// (`docker/old/**`) (repeatable)
    #[arg(long = "exclude", value_name = "GLOB", value_parser = parse_exclude)]
    pub exclude: Vec<String>,

    /// nginx prefix for relative includes [default: the directory holding each nginx.conf]
    #[arg(long, value_name = "DIR")]
    pub nginx_prefix: Option<PathBuf>,

    /// Map an absolute path used in the configs onto a directory of the tree, e.g.
    /// --map /opt/docker/etc/php/fpm=docker/php-fpm (repeatable)
    #[arg(long = "map", value_name = "FROM=DIR", value_parser = parse_map)]
    pub maps: Vec<(String, PathBuf)>,

    /// Platform whose packaged defaults apply (worker user and groups, packaged include
    /// files) [default: detected from the layout, else debian as an assumption]
    #[arg(long, value_name = "PLATFORM", ignore_case = true, value_parser = platform_parser())]
    pub platform: Option<Platform>,

    /// The nginx worker user, when nginx.conf has no `user` directive [default: the platform's]
    #[arg(long, value_name = "USER")]
    pub nginx_user: Option<String>,

    /// Memory the PHP-FPM pools may use in all (e.g. 2G, 2GB, 2048M, 512MiB); turns on
    /// fpm-memory-overcommit (NFL303), which is off and silent without it
    #[arg(long, value_name = "SIZE", value_parser = parse_bytes)]
    pub memory: Option<u64>,

    /// Memory per PHP worker when a pool sets no php_admin_value[memory_limit] [default: 128M]
    #[arg(long, value_name = "SIZE", value_parser = parse_bytes)]
    pub worker_memory: Option<u64>,

    /// Which modules the linted nginx has: all, debian, nginx.org, openresty, or a
    /// comma-separated list of builds and module names (ngx_http_lua_module); load_module
    /// lines add theirs [default: all]
    #[arg(long, value_name = "MODULES", value_parser = parse_nginx_modules)]
    pub nginx_modules: Option<ModuleSelection>,

    /// The nginx version the configs must run on, e.g. 1.24.0: flags directives added later
    /// or removed by then [default: any version]
    #[arg(long, value_name = "VERSION", value_parser = parse_nginx_version)]
    pub nginx_version: Option<Version>,

    /// Smallest fastcgi_buffer_size / proxy_buffer_size not flagged [default: 32k]
    #[arg(long, value_name = "SIZE", value_parser = parse_bytes)]
    pub min_header_buffer: Option<u64>,

    /// A variable of php-fpm's environment, for `${VAR}` in pool files, e.g.
    /// --env FPM_PM=dynamic (repeatable; overrides --env-file and the config's [env])
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_env)]
    pub env: Vec<(String, String)>,

    /// Read php-fpm's environment from a docker-style .env file: KEY=VALUE lines, `#`
    /// comments, optional quotes (repeatable)
    #[arg(long = "env-file", value_name = "FILE", value_parser = parse_env_file)]
    pub env_files: Vec<Vec<(String, String)>>,
}

fn parse_bytes(s: &str) -> Result<u64, String> {
    crate::model::units::parse_user_size(s)
        .ok_or_else(|| format!("expected a size like 512M, 2G, 2GB or 32k, got {s:?}"))
}

fn parse_nginx_modules(s: &str) -> Result<ModuleSelection, String> {
    s.parse()
}

fn parse_nginx_version(s: &str) -> Result<Version, String> {
    s.parse()
}

fn parse_exclude(s: &str) -> Result<String, String> {
    crate::discover::check_exclude_glob(s).map(|()| s.to_owned())
}

fn parse_map(s: &str) -> Result<(String, PathBuf), String> {
    let (from, to) = s.split_once('=').ok_or("expected FROM=DIR")?;
    if !from.starts_with('/') {
        return Err(format!("FROM must be an absolute path, got {from:?}"));
    }
    Ok((from.trim_end_matches('/').to_owned(), PathBuf::from(to)))
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    let (key, value) = s.split_once('=').ok_or("expected KEY=VALUE")?;
    if key.is_empty() {
        return Err("the variable name is empty".to_owned());
    }
    Ok((key.to_owned(), value.to_owned()))
}

fn parse_env_file(s: &str) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(s).map_err(|e| format!("cannot read {s}: {e}"))?;
    crate::config::parse_env_file(&text).map_err(|(line, why)| format!("{s}:{line}: {why}"))
}

/// The platforms, listed in `--help` and completions; the other spellings (ubuntu, fedora,
/// centos, rocky, alma, nginx) are accepted as aliases.
fn platform_parser() -> impl clap::builder::TypedValueParser<Value = Platform> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new([
        PossibleValue::new("debian").alias("ubuntu"),
        PossibleValue::new("rhel").aliases(["fedora", "centos", "rocky", "alma"]),
        PossibleValue::new("alpine"),
        PossibleValue::new("freebsd"),
        PossibleValue::new("docker"),
        PossibleValue::new("upstream").alias("nginx"),
    ])
    .map(|s| s.parse::<Platform>().expect("every listed platform parses"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
