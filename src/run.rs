//! Run a parsed command line: lint, fix, report, and the exit code.
//!
//! Exit codes: 0 nothing at or above `--fail-on`; 1 findings at or above it (or, with
//! `--diff`, a non-empty diff); 2 usage, I/O or syntax errors.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::cli::{
    Cli, Command, ConfigCommand, DiagnoseArgs, FailOn, Format, LintArgs, ParseArgs, RulesFormat,
    TreeArgs,
};
use crate::config::{self, Config};
use crate::diagnostic::Severity;
use crate::discover::WalkOptions;
use crate::fix::diff::{patch_path, unified_diff_bytes};
use crate::fix::write::write_atomic;
use crate::fix::Applicability;
use crate::lint::{fix_all_with, lint_project_with, Fixed, LintOutput, Policy};
use crate::model::platform::PlatformBasis;
use crate::project::{Options, Project};
use crate::report::{self, HumanOptions, Report};
use crate::rules::{self, RULES};
use crate::settings::Settings;

pub const EXIT_OK: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

pub fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Lint(args) => lint(args),
        Command::Diagnose(args) => diagnose(args),
        Command::Parse(args) => parse(args),
        Command::Rules { format } => {
            match format {
                RulesFormat::Table => print_stdout(&rules_table()),
                RulesFormat::Json => print_stdout(&rules_json()),
            }
            EXIT_OK
        }
        Command::Explain { rule } => match rules::lookup(&rule) {
            Some((code, r)) => {
                let m = r.meta();
                print_stdout(&format!(
                    "{code} {}\nseverity: {}  fix: {:?}\n\n{}\n",
                    m.name,
                    m.severity,
                    m.fix,
                    rules::docs_text(m).trim_end()
                ));
                EXIT_OK
            }
            None => {
                match rules::suggest(&rule) {
                    Some(m) => eprintln!("error: no rule named {rule:?}; did you mean `{m}`?"),
                    None => {
                        eprintln!(
                            "error: no rule named {rule:?}; `nginx-fpm-lint rules` lists them"
                        )
                    }
                }
                EXIT_ERROR
            }
        },
        Command::Config(ConfigCommand::Init { path }) => config_init(&path),
        Command::Config(ConfigCommand::Check { path }) => config_check(path),
        Command::Docs => {
            print_stdout(&crate::docs::rules_markdown());
            EXIT_OK
        }
        Command::Completions {
            shell,
            install,
            force,
        } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "nginx-fpm-lint", &mut out);
            if install {
                return install_completions(shell, &out, force);
            }
            print_stdout(&String::from_utf8_lossy(&out));
            EXIT_OK
        }
    }
}

/// Where `shell` reads a user's completion scripts from, and what else the user must do for
/// it to be read.
fn completion_path(shell: clap_complete::Shell) -> Result<(PathBuf, Option<&'static str>), String> {
    use clap_complete::Shell;
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or("HOME is not set; redirect `completions SHELL` to a file instead")?;
    let xdg = |var: &str, default: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .unwrap_or_else(|| home.join(default))
    };
    match shell {
        // bash-completion 2 loads completions/NAME on demand when NAME is first completed.
        Shell::Bash => Ok((
            xdg("XDG_DATA_HOME", ".local/share")
                .join("bash-completion/completions/nginx-fpm-lint"),
            Some("bash-completion (apt-get install bash-completion) loads it in new shells"),
        )),
        Shell::Zsh => Ok((
            home.join(".zfunc/_nginx-fpm-lint"),
            Some("add `fpath+=~/.zfunc` before `compinit` in ~/.zshrc, then open a new shell"),
        )),
        Shell::Fish => Ok((
            xdg("XDG_CONFIG_HOME", ".config").join("fish/completions/nginx-fpm-lint.fish"),
            None,
        )),
        other => Err(format!(
            "{other} has no per-user completion folder to install into; redirect `completions {other}` to a file your profile sources"
        )),
    }
}

fn install_completions(shell: clap_complete::Shell, script: &[u8], force: bool) -> u8 {
    let (path, note) = match completion_path(shell) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    match std::fs::read(&path) {
        Ok(old) if old == script => {
            eprintln!("{} is already up to date", path.display());
            return EXIT_OK;
        }
        Ok(_) if !force => {
            eprintln!(
                "error: {} exists and differs; --force replaces it",
                path.display()
            );
            return EXIT_ERROR;
        }
        _ => {}
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    // Written beside its final name and renamed: never a half-written script.
    let written = std::fs::create_dir_all(dir)
        .and_then(|()| tempfile::NamedTempFile::new_in(dir))
        .and_then(|mut tmp| {
            tmp.write_all(script)?;
            tmp.persist(&path).map_err(|e| e.error)?;
            Ok(())
        });
    if let Err(e) = written {
        eprintln!("error: {}: {e}", path.display());
        return EXIT_ERROR;
    }
    eprintln!("wrote {}", path.display());
    if let Some(note) = note {
        eprintln!("note: {note}");
    }
    EXIT_OK
}

fn config_init(path: &Path) -> u8 {
    // create_new: never overwrite an existing file, even one created since we looked.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path);
    match file.and_then(|mut f| f.write_all(config::TEMPLATE.as_bytes())) {
        Ok(()) => {
            eprintln!("Wrote {}", path.display());
            EXIT_OK
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            eprintln!(
                "error: {} already exists; not overwriting it",
                path.display()
            );
            EXIT_ERROR
        }
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            EXIT_ERROR
        }
    }
}

fn config_check(path: Option<PathBuf>) -> u8 {
    let Some(path) = path.or_else(|| config::find(Path::new("."))) else {
        eprintln!(
            "error: no {} here or in any parent directory",
            config::FILE_NAME
        );
        return EXIT_ERROR;
    };
    match config::load(&path) {
        Ok(_) => {
            eprintln!("{}: ok", path.display());
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_ERROR
        }
    }
}

/// Rules as JSON: `[{"code", "name", "category", "severity", "fix", "summary", "url"}]`.
pub fn rules_json() -> String {
    let list: Vec<serde_json::Value> = RULES
        .iter()
        .map(|(code, rule)| {
            let m = rule.meta();
            serde_json::json!({
                "code": code,
                "name": m.name,
                "category": m.category,
                "severity": m.severity,
                "fix": m.fix,
                "summary": crate::docs::summary(m.docs),
                "url": crate::docs::rule_url(m.name),
            })
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&list).expect("JSON values always serialize");
    out.push('\n');
    out
}

/// Rules as a table: code, name, default severity, fixable.
pub fn rules_table() -> String {
    let mut out = format!("{:<8} {:<34} {:<8} {}\n", "CODE", "NAME", "SEVERITY", "FIX");
    for (code, rule) in RULES {
        let m = rule.meta();
        let fix = match m.fix {
            rules::FixAvailability::Always => "always",
            rules::FixAvailability::Sometimes => "sometimes",
            rules::FixAvailability::Never => "-",
        };
        out.push_str(&format!(
            "{code:<8} {:<34} {:<8} {fix}\n",
            m.name,
            m.severity.as_str()
        ));
    }
    out
}

/// Flags over the config file over the defaults.
/// What a configuration file alone sets: the options and settings a run with no flags uses.
pub fn options_and_settings_from(config: &Config) -> (Options, Settings) {
    options_and_settings(&TreeArgs::default(), config)
}

fn options_and_settings(tree: &TreeArgs, config: &Config) -> (Options, Settings) {
    let canonical = |p: &PathBuf| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
    let declared = tree.platform.or(config.platform);
    let platform = declared.unwrap_or(Options::default().platform);
    let platform_basis = match declared {
        Some(_) => PlatformBasis::Declared,
        None => PlatformBasis::default(),
    };
    let mut path_maps: Vec<(String, PathBuf)> = tree
        .maps
        .iter()
        .map(|(from, to)| (from.clone(), canonical(to)))
        .collect();
    path_maps.extend(
        config
            .path_maps
            .iter()
            .map(|(f, t)| (f.clone(), canonical(t))),
    );
    let options = Options {
        nginx_prefix: tree
            .nginx_prefix
            .as_ref()
            .or(config.nginx_prefix.as_ref())
            .map(canonical),
        path_maps,
        platform,
        overrides: Default::default(),
        unsaved: Vec::new(),
        walk: WalkOptions {
            no_ignore: tree.no_ignore,
            exclude: config.exclude.clone(),
            extend_exclude: {
                // --exclude globs are relative to the working directory.
                let mut globs = config.extend_exclude.clone();
                globs.extend(tree.exclude.iter().map(|g| (PathBuf::new(), g.clone())));
                globs
            },
            list_ignored: false,
        },
    };
    let defaults = Settings::default();
    // `..defaults` keeps this compiling when a rule adds a knob to Settings.
    #[allow(clippy::needless_update)]
    let settings = Settings {
        platform,
        platform_basis,
        nginx_groups: config.nginx_groups.clone().unwrap_or_default(),
        nginx_user: tree.nginx_user.clone().or(config.nginx_user.clone()),
        memory_budget: tree.memory.or(config.memory),
        worker_memory: tree
            .worker_memory
            .or(config.worker_memory)
            .unwrap_or(defaults.worker_memory),
        min_header_buffer: tree
            .min_header_buffer
            .or(config.min_header_buffer)
            .unwrap_or(defaults.min_header_buffer),
        min_max_children: config.min_max_children.unwrap_or(defaults.min_max_children),
        min_listen_backlog: config
            .min_listen_backlog
            .unwrap_or(defaults.min_listen_backlog),
        env: {
            // The config file's table, then --env-file, then --env: the later one wins.
            let mut env = config.env.clone();
            env.extend(tree.env_files.iter().flatten().cloned());
            env.extend(tree.env.iter().cloned());
            env
        },
        nginx_modules: tree
            .nginx_modules
            .clone()
            .or(config.nginx_modules.clone())
            .unwrap_or_default(),
        nginx_version: tree.nginx_version.or(config.nginx_version),
        extra_directives: config.extra_directives.clone(),
        ..defaults
    };
    (options, settings)
}

fn diagnose(args: DiagnoseArgs) -> u8 {
    use crate::diagnose::{self, output};
    if args.list {
        print_stdout(&output::list());
        return EXIT_OK;
    }
    let mut paths = args.paths.clone();
    let mut logs = args.logs.clone();
    let mut boot = None;
    let mut live = None;
    let mut _kernel_log = None;
    if args.host {
        let root = args.root.clone().unwrap_or_else(|| PathBuf::from("/"));
        let host = diagnose::host_paths(&root);
        if paths.is_empty() {
            paths = host.config;
        }
        if logs.is_empty() {
            logs = host.logs;
        }
        boot = host.boot;
        _kernel_log = host.kernel_log;
        live = Some(diagnose::live::LiveState::read(&root));
    }
    if logs.is_empty() {
        eprintln!("error: no log to read: give --log FILE (nginx's error.log, php-fpm's log, the kernel's), or --host on the server");
        return EXIT_ERROR;
    }
    for p in &paths {
        if !p.exists() {
            eprintln!("error: {}: no such file or directory", p.display());
            return EXIT_ERROR;
        }
    }
    let now = now_wall_clock_us();
    let bound = |v: &Option<String>, flag: &str| -> Result<Option<i64>, String> {
        v.as_deref()
            .map(|s| crate::diagnose::time::parse_bound(s, now))
            .transpose()
            .map_err(|e| format!("--{flag}: {e}"))
    };
    let (since, until) = match (bound(&args.since, "since"), bound(&args.until, "until")) {
        (Ok(s), Ok(u)) => (s, u),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let config = if args.isolated {
        Config::default()
    } else if let Some(path) = &args.config {
        match config::load(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_ERROR;
            }
        }
    } else {
        let start = paths.first().cloned().unwrap_or_else(|| PathBuf::from("."));
        match config::find(&start).map(|p| config::load(&p)) {
            Some(Ok(c)) => c,
            Some(Err(e)) => {
                eprintln!("error: {e}");
                return EXIT_ERROR;
            }
            None => Config::default(),
        }
    };
    let (options, settings) = options_and_settings(&args.tree, &config);
    let d = diagnose::diagnose(diagnose::Inputs {
        config_paths: &paths,
        options,
        settings: &settings,
        logs: &logs,
        since,
        until,
        boot,
        live,
    });
    for (path, e) in &d.log_errors {
        eprintln!("error: {}: {e}", path.display());
    }
    for p in &d.lint.project.problems {
        eprintln!("error: {}: {}", p.location(), p.message);
    }
    if args.diff {
        let fixes = diagnose::fixes(&d);
        let mut texts = std::collections::BTreeMap::new();
        for f in &fixes {
            for e in &f.edits {
                texts
                    .entry(e.file)
                    .or_insert_with(|| d.lint.project.sources.get(e.file).text.to_string());
            }
        }
        let applied = crate::fix::apply::apply_fixes_multi(&texts, &fixes);
        let mut patch = Vec::new();
        let cwd = std::env::current_dir().unwrap_or_default();
        for (id, edits) in &applied.edits {
            let file = d.lint.project.sources.get(*id);
            // The edits go onto the file's own bytes (a file that is not UTF-8 keeps them);
            // one that would copy a byte it cannot know is left out, as lint --diff does.
            match crate::fix::apply::apply_edits_bytes(file.bytes(), edits) {
                Some(new) => patch.extend(unified_diff_bytes(
                    file.bytes(),
                    &new,
                    &patch_path(Path::new(&file.name), &cwd),
                )),
                None => eprintln!(
                    "error: {}: the fix would copy bytes that are not UTF-8; not shown",
                    file.name
                ),
            }
        }
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(&patch).and_then(|()| stdout.flush());
    } else {
        let stdout_tty = std::io::stdout().is_terminal();
        let format = args.format.unwrap_or(if stdout_tty {
            Format::Human
        } else {
            Format::Concise
        });
        let color = stdout_tty
            && !args.no_color
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let diags = output::diagnostics(&d);
        let report = Report::new(&diags, &d.lint.project.sources, &[], 0);
        let text = match format {
            Format::Human => output::human(
                &d,
                &HumanOptions {
                    color,
                    width: terminal_width(),
                },
            ),
            Format::Concise => output::concise(&d, args.quiet),
            Format::Json => output::json(&d),
            Format::Sarif => report::sarif::render(&report),
            Format::Github => report::github::render(&report),
        };
        print_stdout(&text);
    }
    if !d.log_errors.is_empty() {
        EXIT_ERROR
    } else if d.causes.is_empty() {
        EXIT_OK
    } else {
        EXIT_FINDINGS
    }
}

/// Now, as wall-clock microseconds in UTC (logs print local time; servers mostly run in UTC).
fn now_wall_clock_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

fn parse(args: ParseArgs) -> u8 {
    let (options, _) = options_and_settings(&args.includes.to_tree(), &Config::default());
    let mut project = Project::load(&args.paths, options);
    let includes = crate::model::nginx::resolve_includes(&mut project);
    let value = crate::parse_json::render(&project, &includes, args.comments);
    let text = serde_json::to_string_pretty(&value).expect("JSON values always serialize");
    print_stdout(&format!("{text}\n"));
    if project.problems.is_empty() {
        EXIT_OK
    } else {
        EXIT_ERROR
    }
}

/// The config of the first path (or of `--stdin-filename`): it sets the run's output settings,
/// and lints every path unless [`deployments`] finds paths under other config files.
fn load_config(args: &LintArgs) -> Result<Config, String> {
    let start = args
        .stdin_filename
        .as_ref()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .filter(|p| !p.as_os_str().is_empty())
        .or_else(|| args.paths.first().cloned())
        .unwrap_or_else(|| PathBuf::from("."));
    load_config_at(args, &start)
}

/// The configuration for paths at `start`: `--isolated`, `--config`, or the nearest
/// `.nginx-fpm-lint.toml` above it; then the command line's selections on top.
fn load_config_at(args: &LintArgs, start: &Path) -> Result<Config, String> {
    let mut config = if args.isolated {
        Config::default()
    } else if let Some(path) = &args.config {
        config::load(path).map_err(|e| e.to_string())?
    } else {
        // A path that does not exist yet (stdin) still finds the config of its directories.
        let start = start
            .ancestors()
            .find(|p| p.exists() || p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let start = if start.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            start
        };
        match config::find(&start) {
            Some(path) => config::load(&path).map_err(|e| e.to_string())?,
            None => Config::default(),
        }
    };
    let resolve = |list: &[String]| -> Result<Vec<&'static str>, String> {
        let mut out = Vec::new();
        for s in list {
            out.extend(
                config::resolve_selector(s).ok_or_else(|| match rules::suggest(s) {
                    Some(m) => format!("unknown rule {s:?}; did you mean `{m}`?"),
                    None => format!("unknown rule {s:?}; `nginx-fpm-lint rules` lists them"),
                })?,
            );
        }
        Ok(out)
    };
    if !args.select.is_empty() {
        config.select = Some(resolve(&args.select)?);
    }
    config.extend_select.extend(resolve(&args.extend_select)?);
    config.ignore.extend(resolve(&args.ignore)?);
    Ok(config)
}

/// Paths linted together, with their own configuration (None: the one already loaded).
type Deployment = (Option<Config>, Vec<PathBuf>);

/// The paths grouped by the configuration file that governs them, in the order given. One
/// group (with `None`: the configuration already loaded) unless paths sit under different
/// `.nginx-fpm-lint.toml` files and neither `--config` nor `--isolated` is given.
fn deployments(args: &LintArgs, paths: &[PathBuf]) -> Result<Vec<Deployment>, String> {
    if args.isolated || args.config.is_some() || paths.len() < 2 {
        return Ok(vec![(None, paths.to_vec())]);
    }
    let governing = |p: &PathBuf| -> Option<PathBuf> {
        let start = if p.is_dir() {
            p.clone()
        } else {
            p.parent()
                .filter(|d| !d.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        };
        let start = start
            .ancestors()
            .find(|a| a.exists())
            .map(Path::to_path_buf)?;
        config::find(&start)
    };
    let mut groups: Vec<(Option<PathBuf>, Vec<PathBuf>)> = Vec::new();
    for p in paths {
        let key = governing(p);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, g)) => g.push(p.clone()),
            None => groups.push((key, vec![p.clone()])),
        }
    }
    if groups.len() == 1 {
        return Ok(vec![(None, paths.to_vec())]);
    }
    groups
        .into_iter()
        .map(|(_, g)| Ok((Some(load_config_at(args, &g[0])?), g)))
        .collect()
}

/// Lint one deployment (and fix it, with `--fix` or `--diff`).
fn lint_deployment(
    args: &LintArgs,
    config: &Config,
    paths: &[PathBuf],
    options: &Options,
    settings: &Settings,
    threshold: Applicability,
) -> (LintOutput, Option<Fixed>) {
    let select = |code: &str, meta: &rules::RuleMeta| config.severity_of(code, meta.severity);
    let (load_paths, only) = widen(paths, &options.unsaved);
    let policy = Policy {
        select: &select,
        path_ignores: Some(&config.per_file_ignores),
        only_files: only.as_ref(),
    };
    let mut first = lint_project_with(
        Project::load(&load_paths, options.clone()),
        settings,
        &policy,
    );
    if let Some(only) = &only {
        retain_problems(&mut first, only);
        // A file named on the command line that is neither nginx nor PHP-FPM says so.
        let skipped: HashMap<PathBuf, &str> = first
            .project
            .skipped
            .iter()
            .filter_map(|s| Some((std::fs::canonicalize(&s.path).ok()?, s.reason.as_str())))
            .filter(|(c, _)| only.contains(c))
            .collect();
        let mut not_ours = Vec::new();
        for path in paths {
            let reason = std::fs::canonicalize(path)
                .ok()
                .and_then(|c| skipped.get(&c).copied());
            if let Some(reason) = reason {
                not_ours.push((path, reason.to_owned()));
            }
        }
        for (path, reason) in not_ours {
            first.project.problems.push(crate::report::Problem::new(
                path.to_string_lossy().trim_start_matches("./"),
                format!("not an nginx or PHP-FPM file: {reason}; not linted"),
            ));
        }
    }
    if !(args.fix || args.diff) {
        return (first, None);
    }
    // Fixing re-lints the edited tree; the first run's trees are not read again, only its
    // texts and findings, so a large tree is not held twice.
    first.project.release_trees();
    let mut f = fix_all_with(&first, &load_paths, options, settings, threshold, &policy);
    if let Some(only) = &only {
        retain_problems(&mut f.after, only);
    }
    if let Some(w) = &f.warning {
        eprintln!("warning: {w}");
    }
    (first, Some(f))
}

/// Where a file that does not exist yet would be: its directory's canonical path and its name.
fn would_be_canonical(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let dir = std::fs::canonicalize(dir).ok()?;
    dir.is_dir().then(|| dir.join(name))
}

/// The project a single file belongs to: the nearest ancestor directory holding a config file
/// or `.git`.
pub fn project_root(file: &Path) -> Option<PathBuf> {
    let canonical = std::fs::canonicalize(file)
        .ok()
        .or_else(|| would_be_canonical(file))?;
    canonical
        .parent()?
        .ancestors()
        .find(|d| d.join(config::FILE_NAME).is_file() || d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// What to load and which files to report on. Files passed alone (pre-commit passes the
/// changed ones) are linted within their whole project, so a changed site still meets the pools
/// around it; only findings touching the passed files are reported.
fn widen(
    paths: &[PathBuf],
    unsaved: &[(PathBuf, PathBuf)],
) -> (Vec<PathBuf>, Option<HashSet<PathBuf>>) {
    let is_unsaved = |p: &PathBuf| unsaved.iter().any(|(u, _)| u == p);
    let all_files = !paths.is_empty() && paths.iter().all(|p| p.is_file() || is_unsaved(p));
    if !all_files {
        return (paths.to_vec(), None);
    }
    // Each file's project; files outside any project are linted as given.
    let mut roots: Vec<PathBuf> = Vec::new();
    for p in paths {
        if let Some(r) = project_root(p) {
            if !roots.contains(&r) {
                roots.push(r);
            }
        }
    }
    if roots.is_empty() {
        return (paths.to_vec(), None);
    }
    let only: HashSet<PathBuf> = paths
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .chain(unsaved.iter().map(|(_, c)| c.clone()))
        .collect();
    // Shown relative to the working directory when under it.
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|c| std::fs::canonicalize(c).ok());
    let relative = |root: PathBuf| -> PathBuf {
        match cwd.as_ref().and_then(|c| root.strip_prefix(c).ok()) {
            Some(r) if r.as_os_str().is_empty() => PathBuf::from("."),
            Some(r) => r.to_path_buf(),
            None => root,
        }
    };
    let mut load: Vec<PathBuf> = roots.into_iter().map(relative).collect();
    // The passed files too: discovery skips names it would not pick when walking.
    load.extend(paths.iter().cloned());
    (load, Some(only))
}

/// Why a fix to a file that is not UTF-8 cannot be written.
const UNKNOWN_BYTES: &str =
    "a fix copies bytes of this file that are not UTF-8, which the fix cannot reproduce";

fn lint(args: LintArgs) -> u8 {
    crate::timings::start();
    let config = match load_config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let (mut options, settings) = options_and_settings(&args.tree, &config);
    options.walk.list_ignored = args.show_files;
    let select = |code: &str, meta: &rules::RuleMeta| config.severity_of(code, meta.severity);

    // --stdin-filename: the text stands in for the file at PATH.
    let mut stdin_file: Option<(PathBuf, String)> = None;
    let mut paths = args.paths.clone();
    // `-` alone, as ruff and shellcheck take it: standard input, linted on its own as `-`
    // unless --stdin-filename places it in a tree.
    let dash = paths.iter().any(|p| p.as_os_str() == "-");
    if dash && paths.len() > 1 {
        eprintln!("error: `-` (standard input) cannot be linted together with other paths");
        return EXIT_ERROR;
    }
    let stdin_name = args
        .stdin_filename
        .clone()
        .or_else(|| dash.then(|| PathBuf::from("-")));
    if let Some(name) = &stdin_name {
        let mut text = String::new();
        if let Err(e) = std::io::stdin().read_to_string(&mut text) {
            eprintln!("error: reading standard input: {e}");
            return EXIT_ERROR;
        }
        let placed = if args.stdin_filename.is_some() {
            std::fs::canonicalize(name)
                .ok()
                .or_else(|| would_be_canonical(name))
        } else {
            None
        };
        match placed {
            Some(canonical) => {
                if !name.exists() {
                    // A new file an editor has not saved: linted with the tree around it.
                    options.unsaved.push((name.clone(), canonical.clone()));
                }
                options.overrides.insert(canonical, text.clone());
                paths = vec![name.clone()];
            }
            None => {
                // Not on disk, nor its directory: lint the text alone under that name.
                let project =
                    Project::from_memory(&[(&name.to_string_lossy(), &text)], options.clone());
                let out = lint_project_with(project, &settings, &Policy::new(&select));
                if args.fix {
                    // Fixes are re-checked by re-reading the tree around the file, which needs
                    // it on disk; hand the text back unchanged rather than nothing.
                    eprintln!(
                        "warning: {} does not exist; no fixes applied to standard input",
                        name.display()
                    );
                    print_stdout(&text);
                    return finish(&args, &config, out, None, true);
                }
                return finish(&args, &config, out, None, false);
            }
        }
        stdin_file = Some((name.clone(), text));
    }
    let threshold = if args.unsafe_fixes {
        Applicability::Unsafe
    } else {
        Applicability::Safe
    };
    // Paths under different configuration files are different deployments: each is linted
    // on its own (never joined with the other's pools) and the results are reported together.
    let groups = match deployments(&args, &paths) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let mut first: Option<LintOutput> = None;
    let mut fixed: Option<Fixed> = None;
    for (group_config, group_paths) in groups {
        let (group_options, group_settings) = match &group_config {
            Some(c) => {
                let (mut o, s) = options_and_settings(&args.tree, c);
                o.overrides = options.overrides.clone();
                o.unsaved = options.unsaved.clone();
                o.walk.list_ignored = options.walk.list_ignored;
                (o, s)
            }
            None => (options.clone(), settings.clone()),
        };
        let group_config = group_config.as_ref().unwrap_or(&config);
        let (out, f) = lint_deployment(
            &args,
            group_config,
            &group_paths,
            &group_options,
            &group_settings,
            threshold,
        );
        match &mut first {
            None => {
                first = Some(out);
                fixed = f;
            }
            Some(acc) => {
                let offset = acc.absorb(out);
                if let (Some(acc), Some(f)) = (&mut fixed, f) {
                    acc.absorb(f, offset);
                }
            }
        }
    }
    let first = first.expect("at least one deployment");
    if args.show_files {
        print_stdout(&show_files(&first.project));
        return if first.project.problems.is_empty() {
            EXIT_OK
        } else {
            EXIT_ERROR
        };
    }
    if first.project.discovered.is_empty()
        && first.project.dangling_links.is_empty()
        && first.project.problems.is_empty()
    {
        // As ruff says "No Python files found": an empty run is never silent.
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        let skipped = first.project.skipped.len();
        let why = if skipped > 0 {
            format!(
                " ({skipped} file{} looked at and skipped; --show-files says why)",
                if skipped == 1 { "" } else { "s" }
            )
        } else {
            String::new()
        };
        eprintln!(
            "warning: no nginx or PHP-FPM files found in {}{why}",
            shown.join(", ")
        );
    }

    if args.diff {
        let fixed = fixed.expect("computed above");
        let mut patch = Vec::new();
        let cwd = std::env::current_dir().unwrap_or_default();
        let mut unknown_bytes = false;
        for (id, new) in &fixed.changed {
            let file = first.project.sources.get(*id);
            match fixed.new_bytes(*id, new) {
                Some(new) => patch.extend(unified_diff_bytes(
                    file.bytes(),
                    new,
                    &patch_path(Path::new(&file.name), &cwd),
                )),
                None => {
                    eprintln!("error: {}: {UNKNOWN_BYTES}", file.name);
                    unknown_bytes = true;
                }
            }
        }
        // A file that is not UTF-8 keeps its bytes in the patch, so it goes out as bytes.
        {
            use std::io::Write as _;
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(&patch).and_then(|()| stdout.flush());
        }
        let remaining = fixed.after.diagnostics.len();
        if !args.quiet {
            eprintln!(
                "{} fix{} in {} file{}; {} finding{} would remain.",
                fixed.applied,
                if fixed.applied == 1 { "" } else { "es" },
                fixed.changed.len(),
                if fixed.changed.len() == 1 { "" } else { "s" },
                remaining,
                if remaining == 1 { "" } else { "s" }
            );
        }
        if !first.project.problems.is_empty() || unknown_bytes {
            return EXIT_ERROR;
        }
        return if patch.is_empty() {
            EXIT_OK
        } else {
            EXIT_FINDINGS
        };
    }

    let mut write_failed = false;
    let Some(fixed) = fixed else {
        return finish(&args, &config, first, None, false);
    };
    let mut stdin_fixed = None;
    for (id, new) in &fixed.changed {
        let file = first.project.sources.get(*id);
        let Some(path) = file.disk_path() else {
            continue;
        };
        // With stdin the fixed text is printed and nothing is written, as editors expect
        // (a fix that also edits another file, e.g. a pool, is left to a run on disk).
        if let Some((name, _)) = &stdin_file {
            let stdin_canonical = std::fs::canonicalize(name)
                .ok()
                .or_else(|| would_be_canonical(name));
            if first.project.canonical_path(*id) == stdin_canonical.as_deref() {
                stdin_fixed = Some(new.clone());
            }
            continue;
        }
        let Some(new) = fixed.new_bytes(*id, new) else {
            eprintln!("error: {}: {UNKNOWN_BYTES}; not written", file.name);
            write_failed = true;
            continue;
        };
        if let Err(e) = write_atomic(path, new, file.bytes()) {
            eprintln!("error: {e}");
            write_failed = true;
        }
    }
    if let Some((_, original)) = &stdin_file {
        print_stdout(stdin_fixed.as_deref().unwrap_or(original));
    }
    if fixed.applied > 0 && !args.quiet {
        eprintln!(
            "Fixed {} finding{} in {} file{}.",
            fixed.applied,
            if fixed.applied == 1 { "" } else { "s" },
            fixed.changed.len(),
            if fixed.changed.len() == 1 { "" } else { "s" }
        );
    }
    finish(
        &args,
        &config,
        fixed.after,
        Some(threshold),
        write_failed || stdin_file.is_some(),
    )
    .max(if write_failed { EXIT_ERROR } else { EXIT_OK })
}

/// `--show-files`: every file of the run with its language and role, then the ones skipped.
fn show_files(project: &Project) -> String {
    use crate::source::{Language, Origin};
    let mut out = String::new();
    for (id, file) in project.sources.iter() {
        let language = match file.language {
            Language::Nginx => "nginx",
            Language::PhpFpm => "php-fpm",
        };
        let role = match &file.origin {
            Origin::Builtin { distro } => format!("packaged file ({distro}), not in the tree"),
            Origin::Link => {
                let _ = writeln!(
                    out,
                    "{}: skipped, a symlink to `{}`, which is not in the linted tree",
                    file.name, file.text
                );
                continue;
            }
            _ => {
                let mut role = match project.included_by.get(&id) {
                    Some(by) => format!("included by {}", project.sources.get(*by).name),
                    None => standalone_role(project, id),
                };
                if project
                    .canonical_path(id)
                    .is_some_and(|p| project.by_content.contains(p))
                {
                    role.push_str(" (recognised by content)");
                }
                role
            }
        };
        let status = if project.problems.iter().any(|p| p.path == file.name) {
            " (has errors)"
        } else {
            ""
        };
        let _ = writeln!(out, "{}: {language}, {role}{status}", file.name);
    }
    for p in project.problems.iter().filter(|p| p.span.is_none()) {
        let _ = writeln!(out, "{}: not read, {}", p.path, p.message);
    }
    for s in &project.skipped {
        let shown = s.path.to_string_lossy();
        let _ = writeln!(
            out,
            "{}: skipped, {}",
            shown.strip_prefix("./").unwrap_or(&shown),
            s.reason
        );
    }
    out
}

/// What a file no include reaches is: an nginx.conf-like entry point, a site, a snippet, a
/// php-fpm.conf, a pool or a pool fragment.
fn standalone_role(project: &Project, id: crate::source::FileId) -> String {
    if let Some(c) = project.nginx(id) {
        let top = |name: &str| c.directives().any(|d| d.is(name));
        return if top("http") || top("events") {
            "entry point".to_owned()
        } else if top("server") {
            "standalone site".to_owned()
        } else {
            "standalone snippet".to_owned()
        };
    }
    if let Some(c) = project.fpm(id) {
        let names: Vec<String> = c.sections().map(|s| s.name().to_owned()).collect();
        return if names.iter().any(|n| n == "global") {
            "entry point".to_owned()
        } else if names.is_empty() {
            "pool fragment".to_owned()
        } else {
            format!("pool [{}]", names.join("], ["))
        };
    }
    "standalone (did not parse)".to_owned()
}

/// Drop read and parse problems of files other than the passed ones.
fn retain_problems(out: &mut LintOutput, only: &HashSet<PathBuf>) {
    let project = &out.project;
    let keep: Vec<bool> = project
        .problems
        .iter()
        .map(|p| match p.span {
            Some((id, _)) => project.canonical_path(id).is_none_or(|c| only.contains(c)),
            None => std::fs::canonicalize(&p.path).map_or(true, |c| only.contains(&c)),
        })
        .collect();
    let mut i = 0;
    out.project.problems.retain(|_| {
        i += 1;
        keep[i - 1]
    });
}

/// Render `shown` and compute the exit code. `to_stderr`: the report goes to stderr (stdout
/// holds fixed stdin text).
fn finish(
    args: &LintArgs,
    config: &Config,
    shown: LintOutput,
    threshold: Option<Applicability>,
    to_stderr: bool,
) -> u8 {
    // The process exits next: freeing every tree node one by one would take a sizeable share
    // of a large run (15% of linting 10,000 sites), so the OS reclaims it all at once instead.
    let shown = std::mem::ManuallyDrop::new(shown);
    crate::timings::mark("fixes (--fix, --diff)");
    let files_checked = shown.project.discovered.len();
    let report = Report::new(
        &shown.diagnostics,
        &shown.project.sources,
        &shown.project.problems,
        files_checked,
    );
    let stdout_tty = std::io::stdout().is_terminal();
    let format = args
        .format
        .unwrap_or(if stdout_tty && args.output_file.is_none() {
            Format::Human
        } else {
            Format::Concise
        });
    // A report written to a file is colored only when asked (--color always, FORCE_COLOR).
    let to_terminal = stdout_tty && args.output_file.is_none() && !to_stderr;
    let color = args.color.resolve(args.no_color, to_terminal);
    let mut text = if args.statistics {
        statistics(&shown.diagnostics, format == Format::Json)
    } else {
        match format {
            Format::Human => {
                let mut t = report::human::render(
                    &report,
                    &HumanOptions {
                        color,
                        width: terminal_width(),
                    },
                );
                if args.quiet {
                    // The renderer ends with the summary line; --quiet drops it.
                    let body = t.trim_end_matches('\n');
                    t.truncate(body.rfind('\n').map_or(0, |i| i + 1));
                }
                t
            }
            Format::Concise => {
                let mut t = report::concise::render_linked(&report);
                let any = !shown.diagnostics.is_empty() || !shown.project.problems.is_empty();
                if any && !args.quiet {
                    t.push_str(&report.summary().line());
                    t.push('\n');
                }
                t
            }
            Format::Json => report::json::render(&report),
            Format::Sarif => report::sarif::render(&report),
            Format::Github => report::github::render(&report),
        }
    };
    if args.show_fixes && matches!(format, Format::Human | Format::Concise) {
        text.push_str(&show_fixes(&report, threshold));
    }
    if let Some(path) = &args.output_file {
        if let Err(e) = std::fs::write(path, &text) {
            eprintln!("error: {}: {e}", path.display());
            return EXIT_ERROR;
        }
    } else if to_stderr {
        eprint!("{text}");
    } else {
        print_stdout(&text);
    }
    crate::timings::mark("report");

    if !shown.project.problems.is_empty() {
        return EXIT_ERROR;
    }
    let floor = match args.fail_on {
        Some(FailOn::Error) => Severity::Error,
        Some(FailOn::Warning) => Severity::Warning,
        Some(FailOn::Info) => Severity::Info,
        None => config.fail_on.unwrap_or(Severity::Warning),
    };
    if !args.exit_zero && shown.diagnostics.iter().any(|d| d.severity >= floor) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

/// `--statistics`: findings per rule, most frequent first.
fn statistics(diagnostics: &[crate::diagnostic::Diagnostic], json: bool) -> String {
    let mut counts: Vec<(&str, &str, usize, usize)> = Vec::new();
    for d in diagnostics {
        let fixable = usize::from(d.fix.is_some());
        match counts.iter_mut().find(|c| c.0 == d.code) {
            Some(c) => {
                c.2 += 1;
                c.3 += fixable;
            }
            None => counts.push((d.code, d.name, 1, fixable)),
        }
    }
    counts.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(b.0)));
    if json {
        let list: Vec<_> = counts
            .iter()
            .map(|(code, name, count, fixable)| {
                serde_json::json!({"code": code, "name": name, "count": count, "fixable": fixable})
            })
            .collect();
        let mut out = serde_json::to_string_pretty(&list).expect("JSON values always serialize");
        out.push('\n');
        return out;
    }
    let mut out = String::new();
    for (code, name, count, fixable) in counts {
        let mark = if fixable > 0 { "[*]" } else { "   " };
        out.push_str(&format!("{count:>5}  {code:<7} {mark} {name}\n"));
    }
    out
}

/// `--show-fixes`: one line per finding whose fix `--fix` (at this threshold) would apply.
fn show_fixes(report: &Report<'_>, threshold: Option<Applicability>) -> String {
    let threshold = threshold.unwrap_or(Applicability::Safe);
    let mut lines = Vec::new();
    for d in report.diagnostics {
        let Some(fix) = &d.fix else { continue };
        if fix.applicability < threshold {
            continue;
        }
        let l = d.primary_label();
        let f = report.sources.get(l.file);
        lines.push(format!(
            "  {}:{}: {} {}: {}\n",
            f.name,
            f.line_col(l.span.start as usize),
            d.code,
            d.name,
            fix.message
        ));
    }
    if lines.is_empty() {
        return "No fixes available.\n".into();
    }
    format!("Fixes available:\n{}", lines.concat())
}

/// The width human output wraps to: `$COLUMNS` when set (bash does not export it), else the
/// terminal's own (standard output, then standard error), else 100.
fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|&c: &usize| c > 0)
        .or_else(|| {
            let (terminal_size::Width(w), _) = terminal_size::terminal_size()
                .or_else(|| terminal_size::terminal_size_of(std::io::stderr()))?;
            (w > 0).then_some(usize::from(w))
        })
        .unwrap_or(100)
}

/// Print to stdout; a closed pipe (`| head`) is not an error worth a panic.
fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}
