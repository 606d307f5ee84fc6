//! php-fpm 8.2 itself decides: for pool values built from `${VAR}` (with the environment
//! given to both php-fpm and the linter), empty or unusable `listen` values, and pool-level
//! `include=`, the linter reports an error (`fpm-pm-invalid`, `fpm-listen-invalid`) exactly
//! when the real php-fpm refuses to start; and when it starts, nginx serves the page.
//!
//! php-fpm gets its environment through a wrapper script (`env K=V php-fpm "$@"`), so no test
//! changes this process's environment.
//!
//! Needs /usr/sbin/nginx and php-fpm8.2; without them these tests print `SKIPPED:` and pass,
//! except under CI=true.

mod support;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;

use nginx_fpm_lint::diagnostic::{Diagnostic, Severity};
use nginx_fpm_lint::lint::{all_rules, lint_paths};
use nginx_fpm_lint::project::Options;
use nginx_fpm_lint::settings::Settings;
use support::{require_stack, Bins, Stack, Tree, TreeConfig};

struct Case {
    name: &'static str,
    pool: &'static str,
    /// Extra files (relative path, text).
    files: &'static [(&'static str, &'static str)],
    /// php-fpm's environment; `@FPM_PORT@` is replaced with the tree's port.
    env: &'static [(&'static str, &'static str)],
}

const BASE: &str = "user = @USER@\ngroup = @GROUP@\npm.max_children = 2\n";

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "pm from the environment, refused",
            pool: "[www]\nlisten = 127.0.0.1:@FPM_PORT@\npm = ${FPM_PM}\n",
            files: &[],
            env: &[("FPM_PM", "dynamik")],
        },
        Case {
            name: "pm from the environment, accepted",
            pool: "[www]\nlisten = 127.0.0.1:@FPM_PORT@\npm = ${FPM_PM}\n",
            files: &[],
            env: &[("FPM_PM", "static")],
        },
        Case {
            name: "pool name and listen port from the environment",
            pool: "[${POOL_NAME}]\nlisten = 127.0.0.1:${FPM_PORT}\npm = static\n",
            files: &[],
            env: &[("POOL_NAME", "app"), ("FPM_PORT", "@FPM_PORT@")],
        },
        Case {
            name: "empty listen",
            pool: "[www]\nlisten =\npm = static\n",
            files: &[],
            env: &[],
        },
        Case {
            name: "listen from an empty variable",
            pool: "[www]\nlisten = ${FPM_LISTEN}\npm = static\n",
            files: &[],
            env: &[("FPM_LISTEN", "")],
        },
        Case {
            name: "listen with no port after the last colon",
            pool: "[www]\nlisten = ::zz::\npm = static\n",
            files: &[],
            env: &[],
        },
        Case {
            name: "listen port out of range",
            pool: "[www]\nlisten = 127.0.0.1:99999\npm = static\n",
            files: &[],
            env: &[],
        },
        Case {
            name: "pool-level include sets a refused pm",
            pool: "[www]\nlisten = 127.0.0.1:@FPM_PORT@\ninclude = @ROOT@/php-fpm/common/pm.conf\n",
            files: &[("php-fpm/common/pm.conf", "pm = dynamik\n")],
            env: &[],
        },
        Case {
            name: "pool-level include sets a refused pm, overridden after it (php-fpm reads each line: still refused)",
            pool: "[www]\nlisten = 127.0.0.1:@FPM_PORT@\ninclude = @ROOT@/php-fpm/common/pm.conf\npm = static\n",
            files: &[("php-fpm/common/pm.conf", "pm = dynamik\n")],
            env: &[],
        },
    ]
}

/// A php-fpm that starts with `env` in its environment.
fn fpm_with_env(bins: &Bins, tree: &Tree, env: &BTreeMap<String, String>) -> Bins {
    let wrapper = tree.root().join("php-fpm-with-env");
    let quoted: Vec<String> = env
        .iter()
        .map(|(k, v)| format!("'{k}={}'", v.replace('\'', r"'\''")))
        .collect();
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec env {} '{}' \"$@\"\n",
            quoted.join(" "),
            bins.php_fpm.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    Bins {
        php_fpm: wrapper,
        ..bins.clone()
    }
}

fn errors(tree: &Tree, env: &BTreeMap<String, String>) -> Vec<Diagnostic> {
    let settings = Settings {
        env: env.clone(),
        ..Settings::default()
    };
    let out = lint_paths(
        &[tree.root().to_path_buf()],
        Options::default(),
        &settings,
        &all_rules,
    );
    assert!(
        out.project.problems.is_empty(),
        "{:?}",
        out.project.problems
    );
    out.diagnostics
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect()
}

#[test]
fn lint_errors_exactly_when_php_fpm_refuses() {
    let Some(bins) = require_stack() else { return };
    let mut failures = Vec::new();
    for case in cases() {
        let mut config = TreeConfig::fixture("join-allowed-clients")
            .file("php-fpm/pool.d/www.conf", format!("{}{BASE}", case.pool));
        for (path, text) in case.files {
            config = config.file(*path, *text);
        }
        let tree = Tree::materialise(&config);
        let port = tree.port("FPM_PORT").to_string();
        let env: BTreeMap<String, String> = case
            .env
            .iter()
            .map(|(k, v)| (k.to_string(), v.replace("@FPM_PORT@", &port)))
            .collect();
        let found = errors(&tree, &env);
        let bins = fpm_with_env(&bins, &tree, &env);
        match Stack::try_start_on(bins, tree, "HTTP_PORT") {
            Ok(stack) => {
                let (status, body) = stack.get("/index.php");
                if status != 200 || body != "hello from php-fpm 8.2\n" {
                    failures.push(format!(
                        "{}: php-fpm started but GET answered {status} {body:?}\n{}",
                        case.name,
                        stack.logs()
                    ));
                }
                if !found.is_empty() {
                    let messages: Vec<&str> = found.iter().map(|d| d.message.as_str()).collect();
                    failures.push(format!(
                        "{}: php-fpm accepts it, the linter reports {messages:?}",
                        case.name
                    ));
                }
            }
            Err(logs) => {
                let fpm_rules = ["NFL301", "NFL304"];
                if !found.iter().any(|d| fpm_rules.contains(&d.code)) {
                    failures.push(format!(
                        "{}: php-fpm refuses it, the linter reports no NFL301/NFL304 error\n{logs}",
                        case.name
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Without the environment the same `${VAR}` values are not judged: no error, whatever
/// php-fpm would be given.
#[test]
fn unknown_environment_values_are_not_errors() {
    let Some(_bins) = require_stack() else { return };
    for case in cases().into_iter().filter(|c| !c.env.is_empty()) {
        let tree = Tree::materialise(
            &TreeConfig::fixture("join-allowed-clients")
                .file("php-fpm/pool.d/www.conf", format!("{}{BASE}", case.pool)),
        );
        let found = errors(&tree, &BTreeMap::new());
        assert!(
            found.is_empty(),
            "{}: {:?}",
            case.name,
            found.iter().map(|d| &d.message).collect::<Vec<_>>()
        );
    }
}

/// php-fpm names the pool as the environment makes it, and so does the linter.
#[test]
fn pool_names_from_the_environment() {
    let Some(bins) = require_stack() else { return };
    let tree = Tree::materialise(&TreeConfig::fixture("join-allowed-clients").file(
        "php-fpm/pool.d/www.conf",
        "[${POOL_NAME}]\nuser = @USER@\ngroup = @GROUP@\nlisten = 127.0.0.1:@FPM_PORT@\npm = static\npm.max_children = 0\n",
    ));
    let env = BTreeMap::from([("POOL_NAME".to_owned(), "app".to_owned())]);
    let found = errors(&tree, &env);
    let bins = fpm_with_env(&bins, &tree, &env);
    let logs = match Stack::try_start_on(bins, tree, "HTTP_PORT") {
        Ok(stack) => panic!("php-fpm started:\n{}", stack.logs()),
        Err(logs) => logs,
    };
    assert!(
        logs.contains("[pool app] pm.max_children must be a positive value"),
        "{logs}"
    );
    assert!(
        found
            .iter()
            .any(|d| d.code == "NFL301" && d.message.starts_with("pool [app]:")),
        "{:?}",
        found.iter().map(|d| &d.message).collect::<Vec<_>>()
    );
}
