//! The rules' arithmetic on user values: pools and sites whose numbers, sizes and times are 0,
//! 1, small, or at and past the limits of `int`, `u32`, `i64` and `u64`, under settings at their
//! extremes too. Every rule and the whole fix loop (unsafe fixes included) must run without a
//! panic in a debug build (overflow checks on), keep every fixed file parseable and converge.

use std::collections::BTreeMap;

use nginx_fpm_lint::fix::apply::{fix_until_stable, Stop};
use nginx_fpm_lint::fix::{Applicability, Fix};
use nginx_fpm_lint::lint::{all_rules, lint_project};
use nginx_fpm_lint::project::{Options, Project};
use nginx_fpm_lint::settings::Settings;
use nginx_fpm_lint::source::FileId;
use nginx_fpm_lint::syntax::{fpm, nginx};
use proptest::prelude::*;

const NAMES: [&str; 4] = [
    "etc/nginx/nginx.conf",
    "etc/php/8.2/fpm/php-fpm.conf",
    "etc/php/8.2/fpm/pool.d/www.conf",
    "etc/php/8.2/fpm/pool.d/api.conf",
];

/// Numbers at the edges: zero, one, small, and the bounds of C `int` (php-fpm's integers),
/// `u32`, `i64` (nginx's sizes and times) and `u64`, past them, and with units.
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "7",
    "64",
    "-1",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "4294967301",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "99999999999999999999",
];
const SIZES: &[&str] = &[
    "0",
    "1",
    "4k",
    "32k",
    "1m",
    "1g",
    "128M",
    "4294967296G",
    "9007199254740991k",
    "9007199254740992k",
    "8796093022207m",
    "9223372036854775807",
    "18446744073709551615",
    "99999999999999999999",
];
const TIMES: &[&str] = &[
    "0",
    "1",
    "30s",
    "1m30s",
    "500ms",
    "2147483647",
    "4294967296s",
    "4294967297s",
    "35791395m",
    "106751991167d",
    "9223372036854775807ms",
    "9223372036854775s",
    "99999999999999999999",
];

fn pick(set: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
    prop::sample::select(set)
}

/// A value for a size or a count: sizes and numbers mixed, as users mix them up.
fn size_or_number() -> impl Strategy<Value = &'static str> {
    prop_oneof![pick(SIZES), pick(NUMBERS)]
}

prop_compose! {
    fn site()(
        buffer_size in prop::option::of(size_or_number()),
        buffers in prop::option::of((pick(NUMBERS), size_or_number())),
        busy in prop::option::of(size_or_number()),
        temp_write in prop::option::of(size_or_number()),
        max_temp in prop::option::of(size_or_number()),
        read_timeout in prop::option::of(pick(TIMES)),
        at_http in any::<bool>(),
        proxy in any::<bool>(),
    ) -> String {
        let family = if proxy { "proxy" } else { "fastcgi" };
        let mut settings = String::new();
        let mut set = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                settings.push_str(&format!("        {family}_{name} {v};\n"));
            }
        };
        set("buffer_size", buffer_size.map(str::to_owned));
        set("buffers", buffers.map(|(n, s)| format!("{n} {s}")));
        set("busy_buffers_size", busy.map(str::to_owned));
        set("temp_file_write_size", temp_write.map(str::to_owned));
        set("max_temp_file_size", max_temp.map(str::to_owned));
        set("read_timeout", read_timeout.map(str::to_owned));
        let (http, location) = if at_http {
            (settings.replace("        ", "    "), String::new())
        } else {
            (String::new(), settings)
        };
        let pass = if proxy {
            "proxy_pass http://127.0.0.1:8080;".to_owned()
        } else {
            "include fastcgi_params;\n            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n            fastcgi_pass unix:/run/php/php8.2-fpm.sock;".to_owned()
        };
        format!(
            "user www-data;\nevents {{}}\nhttp {{\n{http}    server {{\n        listen 80;\n        root /var/www;\n        location ~ \\.php$ {{\n{location}            {pass}\n        }}\n    }}\n}}\n"
        )
    }
}

prop_compose! {
    fn pool(name: &'static str, listen: &'static str)(
        pm in pick(&["static", "dynamic", "ondemand"]),
        max_children in prop::option::of(pick(NUMBERS)),
        start in prop::option::of(pick(NUMBERS)),
        min_spare in prop::option::of(pick(NUMBERS)),
        max_spare in prop::option::of(pick(NUMBERS)),
        backlog in prop::option::of(pick(NUMBERS)),
        memory_limit in prop::option::of(pick(SIZES)),
        terminate in prop::option::of(pick(TIMES)),
        max_exec in prop::option::of(pick(NUMBERS)),
    ) -> String {
        let mut p = format!("[{name}]\nuser = www-data\ngroup = www-data\nlisten = {listen}\nlisten.owner = www-data\nlisten.group = www-data\npm = {pm}\n");
        let mut set = |key: &str, value: Option<&str>| {
            if let Some(v) = value {
                p.push_str(&format!("{key} = {v}\n"));
            }
        };
        set("pm.max_children", max_children);
        set("pm.start_servers", start);
        set("pm.min_spare_servers", min_spare);
        set("pm.max_spare_servers", max_spare);
        set("listen.backlog", backlog);
        set("php_admin_value[memory_limit]", memory_limit);
        set("request_terminate_timeout", terminate);
        set("php_admin_value[max_execution_time]", max_exec);
        p
    }
}

prop_compose! {
    fn fpm_conf()(process_max in prop::option::of(pick(NUMBERS))) -> String {
        let mut c = String::from("[global]\npid = /run/php/php8.2-fpm.pid\n");
        if let Some(n) = process_max {
            c.push_str(&format!("process.max = {n}\n"));
        }
        c.push_str("include=/etc/php/8.2/fpm/pool.d/*.conf\n");
        c
    }
}

/// Settings at their extremes as well: a budget of one byte or of u64::MAX, a worker of 0.
fn settings() -> impl Strategy<Value = Settings> {
    let bytes = || prop::sample::select(vec![0u64, 1, 4096, 32 * 1024, 2 << 30, u64::MAX]);
    let count = || prop::sample::select(vec![0u32, 1, 5, 64, u32::MAX]);
    (
        prop::option::of(bytes()),
        bytes(),
        bytes(),
        count(),
        count(),
    )
        .prop_map(
            |(memory_budget, worker_memory, min_header_buffer, min_children, min_backlog)| {
                Settings {
                    memory_budget,
                    worker_memory,
                    min_header_buffer,
                    min_max_children: min_children,
                    min_listen_backlog: min_backlog,
                    ..Settings::default()
                }
            },
        )
}

fn round(
    texts: &BTreeMap<FileId, String>,
    settings: &Settings,
) -> Result<Vec<Fix>, (FileId, String)> {
    let files: Vec<(&str, &str)> = texts
        .iter()
        .map(|(id, t)| (NAMES[id.0 as usize], t.as_str()))
        .collect();
    let out = lint_project(
        Project::from_memory(&files, Options::default()),
        settings,
        &all_rules,
    );
    if let Some(p) = out.project.problems.first() {
        return Err((p.span.map_or(FileId(0), |(f, _)| f), p.message.clone()));
    }
    Ok(out
        .diagnostics
        .iter()
        .filter_map(|d| d.fix.clone())
        .filter(|f| f.applicability >= Applicability::Unsafe)
        .filter(|f| f.edits.iter().all(|e| texts.contains_key(&e.file)))
        .collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn huge_and_zero_values_never_panic(
        site in site(),
        global in fpm_conf(),
        www in pool("www", "/run/php/php8.2-fpm.sock"),
        api in pool("api", "127.0.0.1:9000"),
        settings in settings(),
    ) {
        let texts: BTreeMap<FileId, String> = [site, global, www, api]
            .into_iter()
            .enumerate()
            .map(|(i, t)| (FileId(i as u32), t))
            .collect();
        let round = |t: &BTreeMap<FileId, String>| round(t, &settings);
        prop_assert!(round(&texts).is_ok(), "the generated tree parses");
        let once = fix_until_stable(texts, 10, round)
            .unwrap_or_else(|e| panic!("a fix broke a file: {}", e.error));
        prop_assert_eq!(once.stop, Stop::Converged);
        for (id, text) in &once.texts {
            if id.0 == 0 {
                prop_assert!(nginx::parse(text).is_ok());
            } else {
                prop_assert!(fpm::parse(text).is_ok());
            }
        }
        let twice = fix_until_stable(once.texts.clone(), 10, round)
            .unwrap_or_else(|e| panic!("second pass failed: {}", e.error));
        prop_assert_eq!(&once.texts, &twice.texts);
    }
}

/// The memory check with a `memory_limit` whose product overflowed `u64` (and, in a release
/// build, wrapped to a small number that passed): 20 workers of 2^62 bytes exceed a 2G budget.
#[test]
fn a_huge_memory_limit_exceeds_the_budget() {
    let pool = "[www]\nuser = www-data\nlisten = /run/php/php8.2-fpm.sock\npm = static\npm.max_children = 20\nphp_admin_value[memory_limit] = 4294967296G\n";
    let settings = Settings {
        memory_budget: Some(2 << 30),
        ..Settings::default()
    };
    let out = lint_project(
        Project::from_memory(&[(NAMES[2], pool)], Options::default()),
        &settings,
        &all_rules,
    );
    let found: Vec<&str> = out
        .diagnostics
        .iter()
        .filter(|d| d.code == "NFL303")
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("20 x 4294967296G"), "{}", found[0]);
}

/// php-fpm stores `pm.max_children` in a C `int` through `atoi`: php-fpm 8.2 -t refuses
/// `2147483648` ("pm.max_children must be a positive value"), so the linter does too.
#[test]
fn a_max_children_past_int_is_refused_as_php_fpm_does() {
    let pool = |n: &str| {
        format!("[www]\nuser = www-data\nlisten = /run/php/php8.2-fpm.sock\npm = static\npm.max_children = {n}\n")
    };
    let nfl301 = |n: &str| {
        let text = pool(n);
        let out = lint_project(
            Project::from_memory(&[(NAMES[2], text.as_str())], Options::default()),
            &Settings::default(),
            &all_rules,
        );
        out.diagnostics.iter().any(|d| d.code == "NFL301")
    };
    assert!(!nfl301("2147483647"));
    assert!(nfl301("2147483648"));
    assert!(nfl301("99999999999999999999"));
    // Read as 5 by php-fpm, which accepts it.
    assert!(!nfl301("4294967301"));
}
