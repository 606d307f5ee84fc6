//! The checks of data blocks (`map`, `geo`, `charset_map`, `split_clients`, `types`) and of
//! nested locations, `access_log` parameters and the `use` method against the real `nginx -t`.
//! Each case is an `http { }` body (or a whole configuration); nginx
//! decides: where it refuses, lint must report nginx's own `[emerg]` message (the text up to
//! ` in /path:line`) as an NFL4xx error on the line nginx names; where it accepts, lint must
//! report no NFL4xx error. Each case also says what its author meant, so a case nginx judges
//! otherwise is caught as a broken case.
//!
//! Needs nginx; without it the test prints `SKIPPED:` and passes, except under CI=true.

mod support;

use std::fs;
use std::path::Path;
use std::process::Command;

use nginx_fpm_lint::diagnostic::Severity;
use nginx_fpm_lint::lint::{all_rules, lint_paths};
use nginx_fpm_lint::project::Options;
use nginx_fpm_lint::settings::Settings;

/// (name, http body, meant to be refused).
const CASES: &[(&str, &str, bool)] = &[
    // charset_map (ngx_http_charset_map)
    ("charset ok", "charset_map koi8-r windows-1251 {\n 80 88;\n A0 a0;\n}", false),
    ("charset utf-8 ok", "charset_map koi8-r utf-8 {\n 80 E29480;\n 9A C2A0;\n}", false),
    ("charset one code", "charset_map koi8-r windows-1251 {\n 80;\n}", true),
    ("charset three codes", "charset_map koi8-r utf-8 {\n 80 E29480 81;\n}", true),
    ("charset bad src", "charset_map koi8-r windows-1251 {\n 8x 88;\n}", true),
    ("charset src over 255", "charset_map koi8-r windows-1251 {\n 100 88;\n}", true),
    ("charset bad dst", "charset_map koi8-r windows-1251 {\n 80 zC1;\n}", true),
    ("charset utf-8 odd", "charset_map koi8-r utf-8 {\n 80 E2948;\n}", true),
    ("charset utf-8 ascii", "charset_map koi8-r utf-8 {\n 80 41;\n}", true),
    ("charset utf-8 four bytes", "charset_map koi8-r utf-8 {\n 80 F09F9880;\n}", true),
    ("charset utf-8 short", "charset_map koi8-r utf-8 {\n 80 E294;\n}", true),
    ("charset utf-8 overlong", "charset_map koi8-r utf-8 {\n 80 E08080;\n}", true),
    ("charset utf-8 empty", "charset_map koi8-r utf-8 {\n 80 \"\";\n}", true),
    (
        "charset leading zeros",
        "charset_map koi8-r windows-1251 {\n 00000000000000000000ff 80;\n}",
        false,
    ),
    ("geo all-ones with mask", "geo $g {\n 255.255.255.255/32 1;\n}", true),
    ("geo empty mask", "geo $g {\n 10.0.0.0/ 1;\n}", true),
    ("charset block", "charset_map koi8-r utf-8 {\n 80 E29480;\n x {\n }\n}", true),
    // map (ngx_http_map)
    (
        "map ok",
        "map $uri $m {\n default 0;\n hostnames;\n volatile;\n ~^/a 1;\n \\~b 2;\n}",
        false,
    ),
    ("map one word", "map $uri $m {\n default 0;\n /a;\n}", true),
    ("map three words", "map $uri $m {\n /a 1 2;\n}", true),
    ("map duplicate key", "map $uri $m {\n /a 1;\n /A 2;\n}", true),
    ("map escaped duplicate", "map $uri $m {\n \\/a 1;\n /a 2;\n}", true),
    ("map duplicate default", "map $uri $m {\n default 0;\n default 1;\n}", true),
    ("map same regex twice", "map $uri $m {\n ~^/a 1;\n ~^/a 2;\n}", false),
    ("map bad regex", "map $uri $m {\n ~^/(a 1;\n}", true),
    ("map block", "map $uri $m {\n default 0;\n location / {\n }\n}", true),
    // geo (ngx_http_geo)
    (
        "geo ok",
        "geo $g {\n default 0;\n proxy 10.0.0.1;\n 10.0.0.0/8 1;\n ::1 2;\n 1.2.3.4 3;\n delete 10.1.0.0/16;\n}",
        false,
    ),
    ("geo one word", "geo $g {\n 10.0.0.0/8;\n}", true),
    ("geo bad network", "geo $g {\n defaulr 1;\n}", true),
    ("geo short address", "geo $g {\n 10.0.00/8 1;\n}", true),
    ("geo mask over 32", "geo $g {\n 10.0.0.0/33 1;\n}", true),
    ("geo ranges ok", "geo $g {\n ranges;\n default 0;\n 10.0.0.0-10.0.0.255 1;\n}", false),
    ("geo bad range", "geo $g {\n ranges;\n 10.0.0.9-10.0.0.1 1;\n}", true),
    ("geo range no dash", "geo $g {\n ranges;\n 10.0.0.9 1;\n}", true),
    // blocks in other data blocks
    ("split_clients block", "split_clients $uri $s {\n 50% a;\n * b;\n x {\n }\n}", true),
    ("types block", "types {\n text/html html;\n x {\n }\n}", true),
    // nested locations (ngx_http_core_location)
    (
        "nested ok",
        "server {\n listen 80;\n location /a/ {\n  location /a/b { }\n  location ~ \\.php$ { }\n  location = /a/c { }\n }\n}",
        false,
    ),
    (
        "nested outside",
        "server {\n listen 80;\n location /a/ {\n  location / { }\n }\n}",
        true,
    ),
    (
        "nested named",
        "server {\n listen 80;\n location /a/ {\n  location @x { }\n }\n}",
        true,
    ),
    (
        "inside exact",
        "server {\n listen 80;\n location = /a {\n  location /a { }\n }\n}",
        true,
    ),
    (
        "inside named",
        "server {\n listen 80;\n location @a {\n  location /a { }\n }\n}",
        true,
    ),
    (
        "inside regex",
        "server {\n listen 80;\n location ~ ^/a {\n  location /a { }\n }\n}",
        true,
    ),
    // single directives: access_log's parameters, the events method
    (
        "access_log ok",
        "access_log /tmp/a.log combined buffer=32k gzip=5 flush=5m if=$uri;\naccess_log off;",
        false,
    ),
    ("access_log off and more", "access_log off combined;", true),
    ("access_log unknown parameter", "access_log /tmp/a.log combined off;", true),
    ("use epoll", "events {\n use epoll;\n}\nhttp {\n}", false),
    ("use unknown method", "events {\n use nfl_nonmember;\n}\nhttp {\n}", true),
];

#[test]
fn data_blocks_and_nested_locations_agree_with_real_nginx() {
    let Some(bins) = support::require_stack() else {
        return;
    };
    let mut problems = Vec::new();
    for (name, http, meant_bad) in CASES {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("nginx.conf");
        let text = if http.starts_with("events") {
            format!("{http}\n")
        } else {
            format!("events {{}}\nhttp {{\n{http}\n}}\n")
        };
        fs::write(&conf, text).unwrap();
        let (ok, emerg) = nginx_t(&bins.nginx, &conf);
        if ok == *meant_bad {
            problems.push(format!("{name}: broken case, nginx accepts it: {ok}"));
            continue;
        }
        let out = lint_paths(
            &[dir.path().to_path_buf()],
            Options::default(),
            &Settings::default(),
            &all_rules,
        );
        let errors: Vec<(String, u32)> = out
            .diagnostics
            .iter()
            .filter(|d| d.code.starts_with("NFL4") && d.severity == Severity::Error)
            .map(|d| {
                let l = d.primary_label();
                let line = out
                    .project
                    .sources
                    .get(l.file)
                    .line_col(l.span.start as usize)
                    .line;
                (d.message.clone(), line)
            })
            .collect();
        match emerg {
            Some(want) if !errors.contains(&want) => {
                problems.push(format!("{name}: nginx says {want:?}, lint {errors:?}"));
            }
            None if !errors.is_empty() => {
                problems.push(format!("{name}: nginx accepts it, lint says {errors:?}"));
            }
            _ => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `nginx -t`: accepted or not, and its `[emerg]` message and line.
fn nginx_t(nginx: &Path, conf: &Path) -> (bool, Option<(String, u32)>) {
    let scratch = tempfile::tempdir().unwrap();
    let out = Command::new(nginx)
        .arg("-t")
        .arg("-c")
        .arg(conf)
        .arg("-e")
        .arg(scratch.path().join("error.log"))
        .arg("-g")
        .arg(format!(
            "pid {};",
            scratch.path().join("nginx.pid").display()
        ))
        .output()
        .unwrap();
    let raw = String::from_utf8_lossy(&out.stderr);
    let emerg = raw.lines().find_map(|l| {
        let rest = l.split("[emerg] ").nth(1)?;
        let (message, at) = rest.rsplit_once(" in ")?;
        let line = at.rsplit_once(':')?.1.trim().parse().ok()?;
        Some((message.to_owned(), line))
    });
    (out.status.success(), emerg)
}
