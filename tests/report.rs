//! Renderers: human (miette), concise and JSON output for a run with a cross-file finding.

use nginx_fpm_lint::diagnostic::{Diagnostic, Label, Severity};
use nginx_fpm_lint::fix::{Applicability, Edit, Fix};
use nginx_fpm_lint::report::{self, concise, human, json, HumanOptions, Problem, Report};
use nginx_fpm_lint::source::{FileId, Language, LineCol, Origin, SourceFile, SourceMap, Span};

const NGINX: &str = "\
server {
    listen 80;
    root /var/www/app/public;

    location ~ \\.php$ {
        include fastcgi_params;
        fastcgi_pass 127.0.0.1:9000;
    }
}
";

const FPM: &str = "\
[www]
user = www-data
listen = /run/php/php8.2-fpm.sock
pm = dynamic
pm.max_children = 10
";

const NO_COLOR: HumanOptions = HumanOptions {
    color: false,
    width: 100,
};

/// The span of the `nth` (0-based) occurrence of `needle` in `text`.
fn find(text: &str, needle: &str, nth: usize) -> Span {
    let start = text
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("{needle:?} not in text"))
        .0;
    Span::new(start, start + needle.len())
}

struct Run {
    map: SourceMap,
    nginx: FileId,
    diagnostics: Vec<Diagnostic>,
}

fn run() -> Run {
    let mut map = SourceMap::default();
    let nginx = map.add(SourceFile::new(
        "sites/app.conf",
        Origin::Memory,
        Language::Nginx,
        NGINX.to_string(),
    ));
    let fpm = map.add(SourceFile::new(
        "pool.d/www.conf",
        Origin::Memory,
        Language::PhpFpm,
        FPM.to_string(),
    ));

    let pass_target = find(NGINX, "127.0.0.1:9000", 0);
    let listen_value = find(FPM, "/run/php/php8.2-fpm.sock", 0);
    // Sorted as the caller would: by file, then position.
    let diagnostics = vec![
        Diagnostic {
            code: "NFL204",
            name: "php-location-without-try-files",
            severity: Severity::Warning,
            message: "location `~ \\.php$` passes requests for missing scripts to PHP-FPM"
                .to_string(),
            labels: vec![Label::primary(
                nginx,
                find(NGINX, "\\.php$", 0),
                "no `try_files $uri =404;` in this location",
            )],
            help: Some(
                "add `try_files $uri =404;` so nginx answers 404 itself instead of letting PHP \
                 guess a script from the path"
                    .into(),
            ),
            fix: None,
        },
        Diagnostic {
            code: "NFL101",
            name: "fastcgi-pass-no-listener",
            severity: Severity::Error,
            message: "fastcgi_pass points at 127.0.0.1:9000, but no PHP-FPM pool listens there"
                .to_string(),
            labels: vec![
                Label::primary(nginx, pass_target, "nothing listens on 127.0.0.1:9000"),
                Label::secondary(fpm, listen_value, "pool `www` listens on this socket"),
            ],
            help: Some("point fastcgi_pass at the socket pool `www` listens on".into()),
            fix: Some(Fix::new(
                "point fastcgi_pass at unix:/run/php/php8.2-fpm.sock",
                Applicability::Safe,
                vec![Edit::replace(
                    nginx,
                    pass_target,
                    "unix:/run/php/php8.2-fpm.sock",
                )],
            )),
        },
    ];
    Run {
        map,
        nginx,
        diagnostics,
    }
}

fn report(run: &Run) -> Report<'_> {
    Report::new(&run.diagnostics, &run.map, &[], 2)
}

#[test]
fn human_shows_both_files_and_snippets() {
    let run = run();
    let out = human::render(&report(&run), &NO_COLOR);
    insta::assert_snapshot!("human", out);

    // Each file's snippet header, and the labelled line of each file.
    assert!(out.contains("[sites/app.conf:7:22]"), "{out}");
    assert!(out.contains("[pool.d/www.conf:3:10]"), "{out}");
    assert!(out.contains("fastcgi_pass 127.0.0.1:9000;"), "{out}");
    assert!(out.contains("listen = /run/php/php8.2-fpm.sock"), "{out}");
    assert!(out.contains("nothing listens on 127.0.0.1:9000"), "{out}");
    assert!(out.contains("pool `www` listens on this socket"), "{out}");
    assert!(
        out.contains("error[NFL101 fastcgi-pass-no-listener]"),
        "{out}"
    );
    assert!(
        out.contains("warning[NFL204 php-location-without-try-files]"),
        "{out}"
    );
    assert!(
        out.contains("fix available: point fastcgi_pass at unix:/run/php/php8.2-fpm.sock (safe)"),
        "{out}"
    );
    assert!(
        !out.contains('\u{1b}'),
        "no ANSI escapes without color: {out}"
    );
}

#[test]
fn concise() {
    let run = run();
    insta::assert_snapshot!("concise", concise::render(&report(&run)));
}

#[test]
fn json_snapshot_and_schema() {
    let run = run();
    let text = json::render(&report(&run));
    insta::assert_snapshot!("json", text);

    let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    // Round-trips, and the text is the same document `to_value` gives.
    let again: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
    assert_eq!(again, v);
    assert_eq!(v, json::to_value(&report(&run)));

    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(v["version"], 1);
    assert_eq!(keys(&v), ["diagnostics", "problems", "summary", "version"]);
    let d = &v["diagnostics"][1];
    assert_eq!(
        keys(d),
        ["code", "fix", "help", "labels", "message", "name", "severity"]
    );
    assert_eq!(d["code"], "NFL101");
    assert_eq!(d["severity"], "error");
    let label_keys = [
        "builtin",
        "column",
        "end_column",
        "end_line",
        "file",
        "line",
        "message",
        "primary",
        "span",
    ];
    for l in d["labels"].as_array().unwrap() {
        assert_eq!(keys(l), label_keys);
        assert_eq!(keys(&l["span"]), ["end", "start"]);
    }
    let (nginx, fpm) = (&d["labels"][0], &d["labels"][1]);
    assert_eq!(nginx["file"], "sites/app.conf");
    assert_eq!(nginx["primary"], true);
    assert_eq!(
        (nginx["line"].as_u64(), nginx["column"].as_u64()),
        (Some(7), Some(22))
    );
    // End is exclusive: 14 characters from column 22.
    assert_eq!(nginx["end_column"], 36);
    assert_eq!(fpm["file"], "pool.d/www.conf");
    assert_eq!(fpm["primary"], false);
    assert_eq!(
        (fpm["line"].as_u64(), fpm["column"].as_u64()),
        (Some(3), Some(10))
    );

    let fix = &d["fix"];
    assert_eq!(keys(fix), ["applicability", "edits", "message"]);
    assert_eq!(fix["applicability"], "safe");
    let edit = &fix["edits"][0];
    assert_eq!(keys(edit), ["end", "file", "replacement", "span", "start"]);
    assert_eq!(edit["start"], serde_json::json!({"line": 7, "column": 22}));
    assert_eq!(edit["end"], serde_json::json!({"line": 7, "column": 36}));
    // The span really covers the text the fix replaces.
    let span = &edit["span"];
    let (s, e) = (
        span["start"].as_u64().unwrap() as usize,
        span["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(&NGINX[s..e], "127.0.0.1:9000");

    assert!(v["diagnostics"][0]["fix"].is_null());
    assert_eq!(
        v["summary"],
        serde_json::json!({
            "errors": 1, "warnings": 1, "infos": 0,
            "fixable_safe": 1, "fixable_unsafe": 0,
            "files": 2, "problems": 0
        })
    );
}

/// Read and parse errors: with and without a span, in every format.
#[test]
fn problems() {
    let mut run = run();
    let broken_text = "server {\n    listen 8080\n}\n";
    let broken = run.map.add(SourceFile::new(
        "sites/broken.conf",
        Origin::Memory,
        Language::Nginx,
        broken_text.to_string(),
    ));
    let end_of_value = broken_text.find("8080").unwrap() + 4;
    let problems = vec![
        Problem::new("pool.d/secret.conf", "permission denied (os error 13)"),
        Problem::at(
            "sites/latin1.conf",
            LineCol { line: 2, column: 6 },
            "invalid UTF-8 (byte 0xE9); save the file as UTF-8",
        ),
        Problem::in_source(
            &run.map,
            broken,
            Span::empty(end_of_value),
            "expected `;` after `listen 8080`",
        ),
    ];
    run.diagnostics.clear();
    let report = Report::new(&run.diagnostics, &run.map, &problems, 3);

    insta::assert_snapshot!("problems_human", human::render(&report, &NO_COLOR));
    insta::assert_snapshot!("problems_concise", concise::render(&report));
    let v = json::to_value(&report);
    assert_eq!(
        v["problems"][2],
        serde_json::json!({
            "path": "sites/broken.conf", "line": 2, "column": 16,
            "span": {"start": 24, "end": 24}, "message": "expected `;` after `listen 8080`"
        })
    );
    assert!(v["problems"][0]["line"].is_null());
    assert_eq!(v["summary"]["problems"], 3);
}

/// A label in a file the tool knows by heart renders like one on disk, and JSON flags it.
#[test]
fn builtin_file_label() {
    let mut run = run();
    let params = "fastcgi_param  QUERY_STRING       $query_string;\n\
                  fastcgi_param  REQUEST_METHOD     $request_method;\n";
    let builtin = run.map.add(SourceFile::new(
        "<builtin debian>/etc/nginx/fastcgi_params",
        Origin::Builtin { distro: "debian" },
        Language::Nginx,
        params.to_string(),
    ));
    let diagnostics = vec![Diagnostic {
        code: "NFL110",
        name: "script-filename-missing",
        severity: Severity::Error,
        message: "SCRIPT_FILENAME is never set for this location".to_string(),
        labels: vec![
            Label::primary(
                run.nginx,
                find(NGINX, "include fastcgi_params;", 0),
                "this include does not set SCRIPT_FILENAME",
            ),
            Label::secondary(
                builtin,
                find(params, "fastcgi_param", 0),
                "Debian's fastcgi_params has no SCRIPT_FILENAME line",
            ),
        ],
        help: Some(
            "include snippets/fastcgi-php.conf or fastcgi.conf, which set SCRIPT_FILENAME".into(),
        ),
        fix: Some(Fix::new(
            "include fastcgi.conf instead",
            Applicability::Unsafe,
            vec![Edit::replace(
                run.nginx,
                find(NGINX, "fastcgi_params", 0),
                "fastcgi.conf",
            )],
        )),
    }];
    let report = Report::new(&diagnostics, &run.map, &[], 2);
    let out = human::render(&report, &NO_COLOR);
    insta::assert_snapshot!("builtin_human", out);
    assert!(
        out.contains("[<builtin debian>/etc/nginx/fastcgi_params:1:1]"),
        "{out}"
    );
    assert!(out.contains("fastcgi_param  QUERY_STRING"), "{out}");

    let v = json::to_value(&report);
    assert_eq!(v["diagnostics"][0]["labels"][0]["builtin"], false);
    assert_eq!(v["diagnostics"][0]["labels"][1]["builtin"], true);
    assert_eq!(v["summary"]["fixable_unsafe"], 1);
}

#[test]
fn summary_line_wording() {
    let run = run();
    let line = report(&run).summary().line();
    assert_eq!(
        line,
        "Checked 2 files: 2 findings (1 error, 1 warning); 1 fixable with --fix."
    );
    let empty = Report::new(&[], &run.map, &[], 1).summary().line();
    assert_eq!(empty, "Checked 1 file: no findings.");
    let mixed = report::Summary {
        errors: 2,
        warnings: 1,
        fixable_safe: 2,
        fixable_unsafe: 1,
        files: 4,
        problems: 1,
        ..Default::default()
    }
    .line();
    assert_eq!(
        mixed,
        "Checked 4 files: 3 findings (2 errors, 1 warning); 2 fixable with --fix, 1 more with \
         --unsafe-fixes; 1 file could not be read or parsed (errors above), so findings may be \
         incomplete."
    );
}

#[test]
fn format_dispatch() {
    let run = run();
    let r = report(&run);
    assert_eq!(
        report::Format::Concise.render(&r, &NO_COLOR),
        concise::render(&r)
    );
    assert_eq!(report::Format::Json.render(&r, &NO_COLOR), json::render(&r));
    assert_eq!(
        report::Format::Human.render(&r, &NO_COLOR),
        human::render(&r, &NO_COLOR)
    );
}

/// Drop ANSI escape sequences.
fn plain(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() || c == '\\' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn human_color_has_the_same_layout() {
    let run = run();
    let colored = human::render(
        &report(&run),
        &HumanOptions {
            color: true,
            width: 100,
        },
    );
    let plain = plain(&colored);
    // Not byte-equal (miette pads differently around escapes), but the same lines in substance:
    // in particular no stray message line before the second file's snippet.
    let squash = |s: &str| -> Vec<String> {
        s.lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    };
    assert_ne!(plain, colored, "color on adds escapes");
    assert_eq!(
        squash(&plain),
        squash(&human::render(&report(&run), &NO_COLOR)),
        "{colored}"
    );
}
