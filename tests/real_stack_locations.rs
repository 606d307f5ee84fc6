//! Proof against the real nginx and php-fpm for the location shapes: NFL204's fixes for a
//! location mapped with `alias` and for a `fastcgi_pass` inside an `if` (the scripts answer
//! as before, the upload stops running), NFL201's single http-level fix for several servers,
//! and NFL203's silence (no fix) on a snippet whose levels above are not in the tree, where
//! the one-line fix it used to offer changes what the site serves.
//!
//! Needs /usr/sbin/nginx and php-fpm8.2 (Debian: nginx-light, php8.2-fpm); without them
//! these tests print `SKIPPED:` and pass, except under CI=true.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nginx_fpm_lint::diagnostic::{Diagnostic, Severity};
use nginx_fpm_lint::fix::apply::apply_edits;
use nginx_fpm_lint::fix::{Applicability, Edit};
use nginx_fpm_lint::lint::lint_paths;
use nginx_fpm_lint::project::Options;
use nginx_fpm_lint::rules::RuleMeta;
use nginx_fpm_lint::settings::Settings;
use support::{require_stack, Bins, Stack, Tree, TreeConfig};

/// The http-level lines every tree here needs: everything nginx writes stays under @ROOT@.
const PROLOGUE: &str = "worker_processes 1;
pid @ROOT@/run/nginx.pid;
error_log @ROOT@/log/nginx-error.log;
events { worker_connections 64; }
";
const TEMP_PATHS: &str = "    access_log @ROOT@/log/nginx-access.log;
    client_body_temp_path @ROOT@/tmp/client_body;
    proxy_temp_path @ROOT@/tmp/proxy;
    fastcgi_temp_path @ROOT@/tmp/fastcgi;
    uwsgi_temp_path @ROOT@/tmp/uwsgi;
    scgi_temp_path @ROOT@/tmp/scgi;
";

const UPLOAD: &str = "<?php echo \"EXECUTED \", 6 * 7, \"\\n\";\n";

fn nginx_conf(servers: &str) -> String {
    format!("{PROLOGUE}http {{\n{TEMP_PATHS}{servers}}}\n")
}

fn start(bins: &Bins, config: TreeConfig) -> Stack {
    Stack::try_start_on(bins.clone(), Tree::materialise(&config), "HTTP_PORT")
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Lint `paths` with only rule `code` on.
fn findings(paths: &[PathBuf], code: &str) -> (Vec<Diagnostic>, nginx_fpm_lint::lint::LintOutput) {
    let select =
        |c: &str, meta: &RuleMeta| -> Option<Severity> { (c == code).then_some(meta.severity) };
    let out = lint_paths(paths, Options::default(), &Settings::default(), &select);
    assert!(
        out.project.problems.is_empty(),
        "load problems: {:?}",
        out.project.problems
    );
    (out.diagnostics.clone(), out)
}

/// Lint the stack's tree with rule `code` alone, check every finding offers a safe fix, write
/// the fixes to disk, and return the number of edits.
fn apply_safe_fixes(root: &Path, code: &str) -> usize {
    let (diagnostics, out) = findings(&[root.to_path_buf()], code);
    assert!(!diagnostics.is_empty(), "{code} found nothing");
    let mut by_file: BTreeMap<PathBuf, Vec<Edit>> = BTreeMap::new();
    let mut ids = BTreeMap::new();
    for d in &diagnostics {
        let fix = d
            .fix
            .as_ref()
            .unwrap_or_else(|| panic!("{code} offered no fix: {}", d.message));
        assert_eq!(fix.applicability, Applicability::Safe, "{}", fix.message);
        for e in &fix.edits {
            let path = out.project.canonical_path(e.file).unwrap().to_path_buf();
            ids.insert(path.clone(), e.file);
            by_file.entry(path).or_default().push(e.clone());
        }
    }
    let mut edits = 0;
    for (path, file_edits) in by_file {
        edits += file_edits.len();
        let applied = apply_edits(&out.project.sources.get(ids[&path]).text, &file_edits);
        assert!(applied.skipped.is_empty(), "edits skipped in {path:?}");
        std::fs::write(&path, applied.text).unwrap();
    }
    edits
}

fn reload(stack: &mut Stack) {
    let n = stack.nginx_t();
    assert!(n.ok, "fixed config fails nginx -t:\n{}", n.output);
    stack.restart_nginx();
}

/// `location ~ ^/pma/(.+\.php)$ { alias .../$1; }`: `try_files $uri =404` (the old fix)
/// answers 404 to the real script; the `if (!-f $request_filename)` fix keeps it and stops
/// the upload.
#[test]
fn alias_location_keeps_its_scripts_and_stops_the_upload() {
    let Some(bins) = require_stack() else { return };
    let location = |check: &str| {
        nginx_conf(&format!(
            "    server {{
        listen 127.0.0.1:@HTTP_PORT@;
        root @ROOT@/www;
        location ~ ^/pma/(.+\\.php)$ {{
{check}            alias @ROOT@/pma/$1;
            include fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $request_filename;
            fastcgi_pass unix:@ROOT@/run/php8.2-fpm.sock;
        }}
    }}
"
        ))
    };
    let config = |check: &str| {
        TreeConfig::fixture("join-executes-uploads")
            .file("nginx/nginx.conf", location(check))
            .file(
                "pma/index.php",
                "<?php echo \"pma \", basename(__FILE__), \"\\n\";\n",
            )
            .file("pma/uploads/avatar.phar", UPLOAD)
    };

    // The old fix, by hand: the real script answers 404.
    let stack = start(&bins, config("            try_files $uri =404;\n"));
    let (status, _) = stack.get("/pma/index.php");
    assert_eq!(status, 404, "{}", stack.logs());
    drop(stack);

    let mut stack = start(&bins, config(""));
    let before = stack.get("/pma/index.php");
    assert_eq!(
        before,
        (200, "pma index.php\n".to_owned()),
        "{}",
        stack.logs()
    );
    let exploit = stack.get("/pma/uploads/avatar.phar/x.php");
    assert_eq!(
        exploit,
        (200, "EXECUTED 42\n".to_owned()),
        "{}",
        stack.logs()
    );

    assert_eq!(apply_safe_fixes(stack.root(), "NFL204"), 1);
    let fixed = std::fs::read_to_string(stack.root().join("nginx/nginx.conf")).unwrap();
    assert!(
        fixed.contains("if (!-f $request_filename) { return 404; }"),
        "{fixed}"
    );
    reload(&mut stack);
    assert_eq!(stack.get("/pma/index.php"), before, "{}", stack.logs());
    let (status, body) = stack.get("/pma/uploads/avatar.phar/x.php");
    assert_eq!(status, 404, "{body}\n{}", stack.logs());
    assert!(!body.contains("EXECUTED"), "{body}");
    // Linted again: clean.
    assert!(findings(&[stack.root().to_path_buf()], "NFL204")
        .0
        .is_empty());
}

/// `fastcgi_pass` inside an `if`: the location's `try_files` leaves the hole open (the
/// request runs with the `if`'s configuration); the `if (!-f ...)` fix closes it.
#[test]
fn pass_inside_if_location_try_files_leaves_the_hole_and_the_fix_closes_it() {
    let Some(bins) = require_stack() else { return };
    let conf = nginx_conf(
        "    server {
        listen 127.0.0.1:@HTTP_PORT@;
        root @ROOT@/www;
        location ~ \\.php$ {
            try_files $uri =404;
            include fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            if ($request_method != OPTIONS) {
                fastcgi_pass unix:@ROOT@/run/php8.2-fpm.sock;
            }
        }
    }
",
    );
    let config = TreeConfig::fixture("join-executes-uploads").file("nginx/nginx.conf", conf);
    let mut stack = start(&bins, config);
    let before = stack.get("/index.php");
    assert_eq!(before.0, 200, "{}", stack.logs());
    let exploit = stack.get("/uploads/avatar.phar/x.php");
    assert_eq!(
        exploit,
        (200, "EXECUTED 42\n".to_owned()),
        "{}",
        stack.logs()
    );

    assert_eq!(apply_safe_fixes(stack.root(), "NFL204"), 1);
    reload(&mut stack);
    assert_eq!(stack.get("/index.php"), before, "{}", stack.logs());
    let (status, body) = stack.get("/uploads/avatar.phar/x.php");
    assert_eq!(status, 404, "{body}\n{}", stack.logs());
    assert!(!body.contains("EXECUTED"), "{body}");
    assert!(findings(&[stack.root().to_path_buf()], "NFL204")
        .0
        .is_empty());
}

/// Three servers of one http block, each with the default buffer: every one answers 502 to a
/// 5 KB header; one edit at http level makes all three answer 200.
#[test]
fn one_http_level_buffer_fix_cures_every_server() {
    let Some(bins) = require_stack() else { return };
    let mut servers = String::new();
    for port in ["HTTP_PORT", "HTTP2_PORT", "HTTP3_PORT"] {
        servers.push_str(&format!(
            "    server {{
        listen 127.0.0.1:@{port}@;
        root @ROOT@/www;
        location ~ \\.php$ {{
            include fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_pass unix:@ROOT@/run/php-fpm.sock;
        }}
    }}
"
        ));
    }
    let config = TreeConfig::fixture("big-header").file("nginx/nginx.conf", nginx_conf(&servers));
    let mut stack = start(&bins, config);
    let ports = ["HTTP_PORT", "HTTP2_PORT", "HTTP3_PORT"];
    for p in ports {
        assert_eq!(stack.get_on(p, "/big.php?n=100"), (200, "ok\n".to_owned()));
        assert_eq!(
            stack.get_on(p, "/big.php?n=5000").0,
            502,
            "{}",
            stack.logs()
        );
    }
    assert_eq!(apply_safe_fixes(stack.root(), "NFL201"), 1, "one edit");
    let fixed = std::fs::read_to_string(stack.root().join("nginx/nginx.conf")).unwrap();
    let http = fixed.find("http {").unwrap();
    let first_server = fixed.find("server {").unwrap();
    let buffer = fixed
        .find("fastcgi_buffer_size")
        .expect("the fix sets the buffer");
    assert!(http < buffer && buffer < first_server, "{fixed}");
    reload(&mut stack);
    for p in ports {
        assert_eq!(stack.get_on(p, "/big.php?n=100"), (200, "ok\n".to_owned()));
        assert_eq!(
            stack.get_on(p, "/big.php?n=5000"),
            (200, "ok\n".to_owned()),
            "{}",
            stack.logs()
        );
    }
}

/// A location snippet whose server includes the parameters at http level: the deployment
/// serves the request with every parameter. Linted alone (its levels above are not in the
/// tree), NFL203 is an info with no fix; the one-line fix it used to offer, put in by hand,
/// stops the inheritance of every other parameter and changes what the site answers.
#[test]
fn snippet_with_unknown_parents_gets_no_fix_because_one_param_stops_inheritance() {
    let Some(bins) = require_stack() else { return };
    let conf = |snippet_include: &str| {
        nginx_conf(&format!(
            "    include fastcgi_params;
    fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
    server {{
        listen 127.0.0.1:@HTTP_PORT@;
        root @ROOT@/www;
        {snippet_include}
    }}
"
        ))
    };
    let snippet = |extra: &str| {
        format!("location = /cron.php {{\n{extra}    fastcgi_pass unix:@ROOT@/run/php8.2-fpm.sock;\n}}\n")
    };
    let cron = "<?php echo \"METHOD=\", $_SERVER['REQUEST_METHOD'] ?? '', \" QS=\", $_SERVER['QUERY_STRING'] ?? '', \"\\n\";\n";
    let config = |extra: &str| {
        TreeConfig::fixture("join-executes-uploads")
            .file("nginx/nginx.conf", conf("include apps/cron.conf;"))
            .file("nginx/apps/cron.conf", snippet(extra))
            .file("www/cron.php", cron)
    };

    let stack = start(&bins, config(""));
    let served = stack.get("/cron.php?key=abc");
    assert_eq!(
        served,
        (200, "METHOD=GET QS=key=abc\n".to_owned()),
        "{}",
        stack.logs()
    );
    // The whole tree: the snippet inherits SCRIPT_FILENAME, nothing to report.
    assert!(findings(&[stack.root().join("nginx")], "NFL203")
        .0
        .is_empty());
    // The snippet alone: an info, no fix.
    let (alone, _) = findings(&[stack.root().join("nginx/apps")], "NFL203");
    assert_eq!(alone.len(), 1, "{alone:?}");
    assert_eq!(alone[0].severity, Severity::Info);
    assert!(alone[0].fix.is_none(), "{:?}", alone[0].fix);
    drop(stack);

    // What the old fix did to the deployment.
    let stack = start(
        &bins,
        config("    fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n"),
    );
    let changed = stack.get("/cron.php?key=abc");
    assert_eq!(changed.0, 200, "{}", stack.logs());
    assert_ne!(
        changed, served,
        "one fastcgi_param cut off the inherited ones"
    );
    // Without REQUEST_METHOD (one of the parameters cut off) php-fpm runs no script and
    // answers an empty 200.
    assert_eq!(changed.1, "");
}

/// What NFL206 claims of nginx: repeated prefix and exact locations fail `nginx -t` (not the
/// rule's), repeated regex and named locations pass it, and nginx then always selects the
/// first; each `fixtures/nginx-unreachable-location` case that fires is one nginx accepts.
#[test]
fn repeated_locations_nginx_accepts_select_the_first() {
    let Some(bins) = require_stack() else { return };
    let server = |body: &str| {
        nginx_conf(&format!(
            "    server {{\n        listen 127.0.0.1:@HTTP_PORT@;\n{body}    }}\n"
        ))
    };
    for refused in [
        "location /a { return 200; }\nlocation /a { return 201; }\n",
        "location = /a { return 200; }\nlocation = /a { return 201; }\n",
        "location /a { return 200; }\nlocation ^~ /a { return 201; }\n",
    ] {
        let tree = Tree::materialise(
            &TreeConfig::fixture("join-executes-uploads").file("nginx/nginx.conf", server(refused)),
        );
        let check = tree.nginx_t(&bins);
        assert!(!check.ok, "nginx -t accepted:\n{refused}");
        assert!(
            check.output.contains("duplicate location"),
            "{}",
            check.output
        );
        // The rule leaves them to nginx -t.
        let (found, _) = findings(&[tree.root().to_path_buf()], "NFL206");
        assert!(found.is_empty(), "{found:?}");
    }
    let accepted = "        location /n { try_files /none @x; }
        location @x { return 200 \"first named\\n\"; }
        location @x { return 200 \"second named\\n\"; }
        location ~ \\.php$ { return 200 \"first regex\\n\"; }
        location ~ \\.php$ { return 200 \"second regex\\n\"; }
        location ~* \\.TXT$ { return 200 \"caseless first\\n\"; }
        location ~ \\.TXT$ { return 200 \"case-sensitive second\\n\"; }
";
    let config =
        TreeConfig::fixture("join-executes-uploads").file("nginx/nginx.conf", server(accepted));
    let stack = start(&bins, config);
    assert_eq!(stack.get("/n").1, "first named\n");
    assert_eq!(stack.get("/x.php").1, "first regex\n");
    assert_eq!(stack.get("/x.TXT").1, "caseless first\n");
    let (found, _) = findings(&[stack.root().to_path_buf()], "NFL206");
    assert_eq!(found.len(), 3, "{found:#?}");
}
