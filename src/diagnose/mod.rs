//! `diagnose`: from the logs of a live 502 to the line of config that causes it.
//!
//! nginx's log says what failed, not why: `connect() ... failed (2: No such file or directory)`
//! is a wrong socket path when no pool listens there and a stopped php-fpm when one does. The
//! logs are read in one streaming pass ([`engine`]), each cause is joined with the config that
//! `lint` reads ([`join`]), and reported in lint's formats ([`output`]).

pub mod engine;
pub mod join;
pub mod live;
pub mod logline;
pub mod output;
pub mod read;
pub mod time;

use std::path::{Path, PathBuf};

use crate::lint::{self, LintOutput};
use crate::model::{fpm, nginx};
use crate::project::{Options, Project};
use crate::settings::Settings;

pub use engine::CauseId;
pub use join::Cause;

/// What `diagnose` read and concluded.
pub struct Diagnosis {
    /// The config as `lint` read it (labels and fixes point into its sources).
    pub lint: LintOutput,
    pub causes: Vec<Cause>,
    pub lines_read: u64,
    pub lines_unknown: u64,
    pub lines_outside: u64,
    /// Logs that could not be read, with why.
    pub log_errors: Vec<(PathBuf, String)>,
}

/// Where to look, and what to look at.
pub struct Inputs<'a> {
    pub config_paths: &'a [PathBuf],
    pub options: Options,
    pub settings: &'a Settings,
    pub logs: &'a [PathBuf],
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Boot time in wall-clock microseconds, to place raw dmesg lines.
    pub boot: Option<i64>,
    /// The server's live state (`--host`).
    pub live: Option<live::LiveState>,
}

pub fn diagnose(inputs: Inputs<'_>) -> Diagnosis {
    let mut engine = engine::Engine::new(inputs.since, inputs.until, inputs.boot);
    let log_errors = engine.read_all(inputs.logs);
    let findings = std::mem::take(&mut engine.out);

    let has_config = !inputs.config_paths.is_empty();
    let project = if has_config {
        Project::load(inputs.config_paths, inputs.options)
    } else {
        Project::from_memory(&[], inputs.options)
    };
    // With the live server's figures, the memory rule runs with the real budget and the real
    // memory per worker.
    let mut settings = inputs.settings.clone();
    if let Some(live) = &inputs.live {
        if settings.memory_budget.is_none() {
            settings.memory_budget = live.memory_budget();
        }
        let rss: Vec<u64> = live
            .processes
            .iter()
            .filter(|p| p.title.starts_with("php-fpm: pool "))
            .map(|p| p.rss)
            .collect();
        if !rss.is_empty() {
            settings.worker_memory = rss.iter().sum::<u64>() / rss.len() as u64;
        }
    }
    let mut lint_out = lint::lint_project(project, &settings, &lint::all_rules);
    let (lines_read, lines_unknown, lines_outside) = (
        findings.lines_read,
        findings.lines_unknown,
        findings.lines_outside,
    );
    // The models again, over the same project, for the join (lint keeps only its findings).
    let nginx_includes = nginx::resolve_includes(&mut lint_out.project);
    let fpm_includes = fpm::resolve_includes(&mut lint_out.project);
    let causes = {
        let nginx_model = nginx::build(&lint_out.project, &nginx_includes);
        let fpm_model = fpm::build(&lint_out.project, &fpm_includes);
        let cx = join::Config {
            project: &lint_out.project,
            nginx: &nginx_model,
            fpm: &fpm_model,
            lint: &lint_out.diagnostics,
            has_config,
            live: inputs.live.as_ref(),
            settings_worker_memory: settings.worker_memory,
        };
        join::causes(findings, &cx)
    };
    Diagnosis {
        lint: lint_out,
        causes,
        lines_read,
        lines_unknown,
        lines_outside,
        log_errors,
    }
}

/// The live server's default places, under `root` (`/` on the server itself).
pub struct HostPaths {
    pub config: Vec<PathBuf>,
    pub logs: Vec<PathBuf>,
    pub boot: Option<i64>,
    /// The kernel's log as `journalctl -k` or `dmesg` printed it (on `/` only), kept until
    /// it has been read.
    pub kernel_log: Option<tempfile::NamedTempFile>,
}

/// `--host`: the packaged config directories and logs that exist under `root`.
pub fn host_paths(root: &Path) -> HostPaths {
    let under = |p: &str| root.join(p.trim_start_matches('/'));
    let mut config = Vec::new();
    for dir in [
        "/etc/nginx",
        "/etc/php",
        "/usr/local/etc/php-fpm.d",
        "/usr/local/etc/php-fpm.conf",
        "/etc/php-fpm.d",
        "/etc/php-fpm.conf",
    ] {
        let p = under(dir);
        if p.exists() {
            config.push(p);
        }
    }
    let mut logs = Vec::new();
    let mut add_glob = |dir: &str, prefix: &str| {
        let Ok(entries) = std::fs::read_dir(under(dir)) else {
            return;
        };
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        found.sort();
        logs.extend(found);
    };
    add_glob("/var/log/nginx", "error.log");
    add_glob("/var/log", "php");
    add_glob("/var/log/php-fpm", "");
    add_glob("/var/log", "kern.log");
    // The kernel's ring buffer is not a file: on the server itself, ask journald (clock
    // times) or dmesg. Under another root there is no such command to ask.
    let kernel_log = if root == Path::new("/") && !logs.iter().any(|l| l.ends_with("kern.log")) {
        kernel_log_now()
    } else {
        None
    };
    if let Some(f) = &kernel_log {
        logs.push(f.path().to_owned());
    }
    HostPaths {
        config,
        logs,
        boot: boot_time(&under("/proc/stat")),
        kernel_log,
    }
}

/// `journalctl -k -o short-iso` or else `dmesg`, into a temporary file; None when neither
/// answers (no permission, not installed).
fn kernel_log_now() -> Option<tempfile::NamedTempFile> {
    use std::io::Write;
    let tries: [&[&str]; 2] = [
        &["journalctl", "-k", "-o", "short-iso", "--no-pager", "-q"],
        &["dmesg"],
    ];
    for argv in tries {
        let Ok(out) = std::process::Command::new(argv[0])
            .args(&argv[1..])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
        else {
            continue;
        };
        if out.status.success() && !out.stdout.is_empty() {
            let mut f = tempfile::NamedTempFile::new().ok()?;
            f.write_all(&out.stdout).ok()?;
            return Some(f);
        }
    }
    None
}

/// `btime` of /proc/stat: boot time in seconds since the epoch (UTC). Log clock times are
/// local: the offset is the local zone's, which this does not know, so it is only used when
/// the logs are in UTC (the usual case on servers and containers).
fn boot_time(stat: &Path) -> Option<i64> {
    let text = std::fs::read_to_string(stat).ok()?;
    let secs: i64 = text
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    Some(secs * 1_000_000)
}

/// The lint findings of the rules that predict a cause, for `--list`.
pub fn predicted_by(id: CauseId) -> &'static [&'static str] {
    match id {
        CauseId::ListenMismatch => &["NFL101", "NFL105"],
        CauseId::BackendDown => &[],
        CauseId::SocketPermission => &["NFL102"],
        CauseId::HeaderTooBig => &["NFL201", "NFL202"],
        CauseId::ScriptNotFound => &["NFL203"],
        CauseId::NoLiveUpstreams => &["NFL101"],
        CauseId::PoolExhausted => &["NFL302"],
        CauseId::UpstreamTimeout | CauseId::RequestTerminated => &["NFL106"],
        CauseId::WorkerCrashed => &[],
        CauseId::OomKilled => &["NFL303"],
        CauseId::ClientNotAllowed => &["NFL104"],
        CauseId::FpmStartFailed => &["NFL103", "NFL301"],
        CauseId::UpstreamReset => &[],
        CauseId::PhpFatal => &[],
    }
}

/// Keep the lint findings a diagnosis refers to (for `--diff`).
pub fn fixes(d: &Diagnosis) -> Vec<&crate::fix::Fix> {
    d.causes.iter().filter_map(|c| c.fix.as_ref()).collect()
}
