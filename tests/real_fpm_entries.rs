//! The php-fpm entry table (src/model/fpm_entries) against the real `php-fpm8.2 -t`: every
//! entry the table gives PHP 8.2 is accepted with a valid value, and for every entry with a
//! checked value type, many good and bad values get the same verdict from the linter as from
//! php-fpm, with php-fpm's own words in the linter's message.
//!
//! Needs php-fpm8.2 (and, through tests/support, nginx); without them the test prints
//! `SKIPPED:` and passes, except under CI=true. Runs as root with `-R`.

mod fpm_support;
mod support;

use std::fs;
use std::path::Path;

use fpm_support::{lint_fpm, php_fpm_t};
use nginx_fpm_lint::model::fpm_entries::{Build, FpmEntry, Parser, Section, ENTRIES};
use nginx_fpm_lint::settings::Settings;

/// A valid value for every entry, host-dependent ones pointing at things this machine has.
fn valid_value(e: &FpmEntry, dir: &Path) -> String {
    let d = dir.display();
    match (e.name, e.parser) {
        ("user" | "listen.owner" | "listen.acl_users", _) => "nobody".into(),
        ("group" | "listen.group" | "listen.acl_groups", _) => "nogroup".into(),
        ("listen", _) => format!("{d}/www.sock"),
        ("pm.status_listen", _) => format!("{d}/status.sock"),
        ("prefix" | "chdir", _) => d.to_string(),
        ("chroot", _) => "/".into(),
        ("pid", _) => format!("{d}/fpm.pid"),
        ("error_log", _) => format!("{d}/error.log"),
        ("slowlog", _) => format!("{d}/slow.log"),
        ("access.log", _) => format!("{d}/access.log"),
        ("pm.status_path", _) => "/status".into(),
        ("ping.path", _) => "/ping".into(),
        ("events.mechanism", _) => "epoll".into(),
        ("listen.mode", _) => "0660".into(),
        ("process.priority", _) => "5".into(),
        ("log_limit", _) => "4096".into(),
        ("pm", _) => "static".into(),
        ("pm.max_children", _) => "2".into(),
        (_, Parser::Integer) => "3".into(),
        (_, Parser::Time) => "10s".into(),
        (_, Parser::Boolean) => "yes".into(),
        (_, Parser::LogLevel) => "notice".into(),
        (_, Parser::SyslogFacility) => "daemon".into(),
        (_, Parser::RlimitCore) => "unlimited".into(),
        (_, Parser::ArrayBoolean) => "on".into(),
        (_, Parser::ArraySuppressPath) => "/ping".into(),
        _ => "value".into(),
    }
}

/// A line for an entry: `name = value`, or `name[key] = value` for arrays.
fn line(e: &FpmEntry, value: &str) -> String {
    match e.parser {
        Parser::ArraySuppressPath => format!("{}[] = {value}", e.name),
        _ if e.section == Section::PoolArray => format!("{}[memory_limit] = {value}", e.name),
        _ => format!("{} = {value}", e.name),
    }
}

/// Values to try per type: good and bad ones, written as in a file.
fn cases(p: Parser) -> &'static [&'static str] {
    match p {
        Parser::Integer => &[
            "0",
            "17",
            "-3",
            "007",
            "5x",
            "+5",
            "1e3",
            "0x10",
            "1.5",
            "\"12\"",
            "\"1 2\"",
            "yes",
            "no",
            "abc",
            "99999999999",
            "-",
            "\"\"",
        ],
        Parser::Time => &[
            "0", "30", "30s", "5m", "2h", "1d", "30x", "10S", "5M", "1.5h", "-5m", "s", "\"\"",
            "no", "yes", "30 s", "\"30ms\"", "abc",
        ],
        Parser::Boolean | Parser::ArrayBoolean => &[
            "yes", "no", "on", "off", "true", "false", "none", "1", "0", "\"1\"", "\"\"", "2",
            "maybe", "\"yes\"", "\"on\"", "\"no\"", "\"0\"", "enabled", "\"YES\"",
        ],
        Parser::LogLevel => &[
            "debug", "notice", "warning", "warn", "error", "alert", "NOTICE", "info", "verbose",
            "\"\"", "critical",
        ],
        Parser::SyslogFacility => &[
            "daemon", "LOCAL0", "local7", "user", "authpriv", "local8", "syslog", "foo", "\"\"",
        ],
        Parser::RlimitCore => &[
            "unlimited",
            "UNLIMITED",
            "0",
            "1024",
            "-1",
            "\"-5\"",
            "5x",
            "infinity",
            "\"\"",
        ],
        Parser::Pm => &[
            "static", "dynamic", "ondemand", "Static", "dynamik", "\"\"", "auto",
        ],
        Parser::ArrayEnv => &["/usr/bin", "\"\"", "x y"],
        Parser::ArraySuppressPath => &["/ping", "ping", "\"\""],
        Parser::String | Parser::ArrayString => &[],
    }
}

fn config(dir: &Path, globals: &[String], pool: &[String]) -> String {
    let d = dir.display();
    format!(
        "[global]\npid = {d}/fpm.pid\nerror_log = {d}/error.log\ninclude = {d}/none/*.conf\n{}\n[www]\nuser = nobody\ngroup = nogroup\nlisten = {d}/www.sock\npm = static\npm.max_children = 2\nslowlog = {d}/slow.log\n{}\n",
        globals.join("\n"),
        pool.join("\n")
    )
}

#[test]
fn every_entry_and_value_type_agrees_with_php_fpm() {
    let Some(bins) = support::require_stack() else {
        return;
    };
    if !support::require_root("php-fpm -t -R reads user/group as root") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // The include makes the configuration whole for the linter; nothing matches it.
    fs::create_dir(root.join("none")).unwrap();
    let settings = Settings::default();
    let version = settings.php_version;
    let mut failures = Vec::new();

    // 1. Every entry of 8.2 with a valid value, all in one configuration.
    let known: Vec<&FpmEntry> = ENTRIES
        .iter()
        .filter(|e| e.exists_in(version) && e.build != Build::FreeBsd)
        .collect();
    let (globals, pool): (Vec<&FpmEntry>, Vec<&FpmEntry>) =
        known.iter().partition(|e| e.section == Section::Global);
    let g: Vec<String> = globals
        .iter()
        .map(|e| line(e, &valid_value(e, root)))
        .collect();
    let p: Vec<String> = pool
        .iter()
        .map(|e| line(e, &valid_value(e, root)))
        .collect();
    let text = config(root, &g, &p);
    let conf = root.join("all.conf");
    fs::write(&conf, &text).unwrap();
    let v = php_fpm_t(&bins.php_fpm, &conf);
    assert!(
        v.ok,
        "php-fpm refuses the table's entries:\n{text}\n{}",
        v.output
    );
    let (refuses, errors, problems) = lint_fpm(&[("php-fpm.conf", &text)], &settings);
    assert!(
        !refuses,
        "lint refuses the table's entries: {errors:#?} {problems}"
    );

    // 2. FreeBSD's entry is unknown to this (Linux) php-fpm.
    for e in ENTRIES.iter().filter(|e| e.build == Build::FreeBsd) {
        let text = config(root, &[], &[line(e, "1")]);
        fs::write(&conf, &text).unwrap();
        let v = php_fpm_t(&bins.php_fpm, &conf);
        assert!(
            !v.ok && v.first_error == format!("unknown entry '{}'", e.name),
            "{}: {}",
            e.name,
            v.output
        );
    }

    // 3. Good and bad values for every entry of a checked type, one run each (php-fpm
    //    reports the first error only).
    let mut runs = Vec::new();
    for e in &known {
        for value in cases(e.parser) {
            let l = line(e, value);
            let text = match e.section {
                Section::Global => config(root, std::slice::from_ref(&l), &[]),
                _ if e.name == "pm" => {
                    config(root, &[], std::slice::from_ref(&l)).replacen("pm = static\n", "", 1)
                }
                _ => config(root, &[], std::slice::from_ref(&l)),
            };
            runs.push((e.name, l, text));
        }
    }
    // Two threads: the machine has two cores.
    let outcomes: Vec<(bool, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|t| {
                let runs = &runs;
                let bins = &bins;
                let settings = &settings;
                s.spawn(move || {
                    runs.iter()
                        .enumerate()
                        .filter(|(i, _)| i % 2 == t)
                        .map(|(i, (name, l, text))| {
                            let conf = root.join(format!("case-{i}.conf"));
                            fs::write(&conf, text).unwrap();
                            let v = php_fpm_t(&bins.php_fpm, &conf);
                            (v.ok, compare(name, l, text, &v, settings))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let accepted = outcomes.iter().filter(|(ok, _)| *ok).count();
    let refused = outcomes.len() - accepted;
    failures.extend(outcomes.into_iter().flat_map(|(_, f)| f));
    eprintln!(
        "php-fpm entries: {} known in {version}, {} value cases ({accepted} accepted, {refused} refused by php-fpm), {} disagreements",
        known.len(),
        runs.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The linter's verdict and words against php-fpm's on one case; what differs.
fn compare(
    name: &str,
    l: &str,
    text: &str,
    v: &fpm_support::FpmVerdict,
    settings: &Settings,
) -> Vec<String> {
    let (refuses, errors, problems) = lint_fpm(&[("php-fpm.conf", text)], settings);
    if v.ok == refuses {
        return vec![format!(
            "{name}: `{l}`: php-fpm {}, lint {}: {} {errors:?} {problems}",
            if v.ok { "accepts" } else { "refuses" },
            if refuses { "refuses" } else { "accepts" },
            v.first_error
        )];
    }
    // Our words are php-fpm's.
    match errors.iter().find(|d| d.code.starts_with("NFL5")) {
        Some(d) if !d.message.contains(&v.first_error) => vec![format!(
            "{name}: `{l}`: php-fpm says `{}`, lint says `{}`",
            v.first_error, d.message
        )],
        _ => Vec::new(),
    }
}

/// Misspelt, misplaced and array entries: php-fpm's words, and the lint's.
#[test]
fn unknown_entries_in_php_fpms_words() {
    let Some(bins) = support::require_stack() else {
        return;
    };
    if !support::require_root("php-fpm -t -R reads user/group as root") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // The include makes the configuration whole for the linter; nothing matches it.
    fs::create_dir(root.join("none")).unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (&[], &["pm.max_chidren = 5"]),
        (&[], &["php_admin_valu[memory_limit] = 1"]),
        (&[], &["Php_Value[memory_limit] = 1"]),
        (&["php_value[memory_limit] = 1"], &[]),
        (&["pm = static"], &[]),
        (&[], &["pid = /tmp/x.pid"]),
        (&[], &["log_level = notice"]),
        (&[], &["request_terminate_timout = 5"]),
        (&[], &["include[x] = 1"]),
        (&["emergency_restart_treshold = 5"], &[]),
        // Case does not matter for plain entries.
        (
            &[],
            &["PM.MAX_CHILDREN = 5", "Request_Terminate_Timeout = 5s"],
        ),
    ];
    let mut failures = Vec::new();
    for (i, (g, p)) in cases.iter().enumerate() {
        let g: Vec<String> = g.iter().map(|s| s.to_string()).collect();
        let p: Vec<String> = p.iter().map(|s| s.to_string()).collect();
        let text = config(root, &g, &p);
        let conf = root.join(format!("u-{i}.conf"));
        fs::write(&conf, &text).unwrap();
        let v = php_fpm_t(&bins.php_fpm, &conf);
        let (refuses, errors, _) = lint_fpm(&[("php-fpm.conf", &text)], &Settings::default());
        let ours = errors.iter().find(|d| d.code == "NFL501");
        let agrees =
            v.ok != refuses && (v.ok || ours.is_some_and(|d| d.message.contains(&v.first_error)));
        if !agrees {
            failures.push(format!(
                "{g:?} {p:?}: php-fpm `{}` ({}), lint {errors:?}",
                v.first_error, v.ok
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
