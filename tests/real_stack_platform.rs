//! Proof against the real nginx and php-fpm for the findings that rest on platform facts:
//! NFL102 (`fpm-socket-permission`) when the nginx worker is a stock account known not to be
//! in the socket's group (Debian's `nobody`, in `nogroup` only, against the packaged pool's
//! `www-data:www-data 0660` socket).
//!
//! Needs /usr/sbin/nginx and php-fpm8.2 and root (workers drop to nobody, php-fpm chowns the
//! socket to www-data); without them these tests print `SKIPPED:` and pass, except under
//! CI=true.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nginx_fpm_lint::diagnostic::{Diagnostic, Severity};
use nginx_fpm_lint::fix::apply::apply_edits;
use nginx_fpm_lint::fix::Edit;
use nginx_fpm_lint::lint::{lint_paths, LintOutput};
use nginx_fpm_lint::model::builtin::Platform;
use nginx_fpm_lint::model::platform::PlatformBasis;
use nginx_fpm_lint::project::Options;
use nginx_fpm_lint::rules::RuleMeta;
use nginx_fpm_lint::settings::Settings;
use support::{is_root, require_stack, Stack, Tree, TreeConfig};

fn lint_rule(root: &Path, code: &str, settings: &Settings) -> LintOutput {
    let select =
        |c: &str, meta: &RuleMeta| -> Option<Severity> { (c == code).then_some(meta.severity) };
    let options = Options {
        platform: settings.platform,
        ..Options::default()
    };
    let out = lint_paths(&[root.to_path_buf()], options, settings, &select);
    assert!(
        out.project.problems.is_empty(),
        "load problems: {:?}",
        out.project.problems
    );
    out
}

/// Apply every fix (safe and unsafe) of `diagnostics` to the files on disk.
fn apply_fixes(out: &LintOutput, diagnostics: &[&Diagnostic]) {
    let mut by_file: BTreeMap<PathBuf, (Vec<Edit>, u32)> = BTreeMap::new();
    for d in diagnostics {
        let fix = d
            .fix
            .as_ref()
            .unwrap_or_else(|| panic!("no fix: {}", d.message));
        for e in &fix.edits {
            let path = out.project.canonical_path(e.file).unwrap().to_path_buf();
            let entry = by_file.entry(path).or_insert((Vec::new(), e.file.0));
            entry.0.push(e.clone());
        }
    }
    for (path, (edits, id)) in by_file {
        let text = &out
            .project
            .sources
            .get(nginx_fpm_lint::source::FileId(id))
            .text;
        let applied = apply_edits(text, &edits);
        assert!(applied.skipped.is_empty(), "edits skipped in {path:?}");
        std::fs::write(&path, applied.text).unwrap();
    }
}

fn debian(basis: PlatformBasis, groups: &[&str]) -> Settings {
    Settings {
        platform: Platform::Debian,
        platform_basis: basis,
        nginx_groups: groups.iter().map(|g| g.to_string()).collect(),
        ..Settings::default()
    }
}

#[test]
fn nobody_against_packaged_www_data_socket_502_13_then_fixed_200() {
    let Some(bins) = require_stack() else { return };
    if !is_root() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("under CI=true this test must run as root (workers drop to nobody)");
        }
        eprintln!("SKIPPED: needs root to run nginx workers as nobody and chown the socket");
        return;
    }
    let tree = Tree::materialise(&TreeConfig::fixture("join-socket-group"));
    // The temp dir is 0700; workers running as nobody and www-data must enter it.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(tree.root(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut stack = Stack::try_start_on(bins, tree, "HTTP_PORT").unwrap_or_else(|e| panic!("{e}"));
    let sock = stack.root().join("run/php8.2-fpm.sock");

    // What php-fpm really made, and what nginx really gets.
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(&sock).unwrap();
    assert_eq!(meta.mode() & 0o777, 0o660, "socket mode");
    assert_eq!(meta.uid(), 33, "socket owner is www-data");
    assert_eq!(meta.gid(), 33, "socket group is www-data");
    let (status, body) = stack.get("/index.php");
    assert_eq!(status, 502, "body: {body}\n{}", stack.logs());
    let line = format!(
        "connect() to unix:{} failed (13: Permission denied) while connecting to upstream",
        sock.display()
    );
    let (found, log) = stack.wait_nginx_log(&line, Duration::from_secs(2));
    assert!(found, "nginx error log lacks {line:?}:\n{log}");

    // Declared Debian: nobody is known to be in nogroup only, so it is an error.
    let out = lint_rule(
        stack.root(),
        "NFL102",
        &debian(PlatformBasis::Declared, &[]),
    );
    let found: Vec<&Diagnostic> = out.diagnostics.iter().collect();
    assert_eq!(found.len(), 1, "{:?}", out.diagnostics);
    assert_eq!(found[0].severity, Severity::Error, "{}", found[0].message);
    assert!(
        found[0].message.contains("in group nogroup only"),
        "{}",
        found[0].message
    );

    // Platform not known: the same socket is a warning (nobody might have been added).
    let assumed = lint_rule(
        stack.root(),
        "NFL102",
        &debian(PlatformBasis::default(), &[]),
    );
    assert_eq!(assumed.diagnostics.len(), 1);
    assert_eq!(assumed.diagnostics[0].severity, Severity::Warning);

    // A declared membership the files cannot show silences it (here it would be wrong:
    // the 502 above is what such a claim hides).
    let claimed = lint_rule(
        stack.root(),
        "NFL102",
        &debian(PlatformBasis::Declared, &["www-data"]),
    );
    assert!(claimed.diagnostics.is_empty(), "{:?}", claimed.diagnostics);

    apply_fixes(&out, &found);
    let n = stack.nginx_t();
    assert!(n.ok, "fixed config fails nginx -t:\n{}", n.output);
    let f = stack.fpm_t();
    assert!(f.ok, "fixed config fails php-fpm -t:\n{}", f.output);
    stack.restart_fpm();
    let (status, body) = stack.get("/index.php");
    assert_eq!(status, 200, "body: {body}\n{}", stack.logs());
    assert_eq!(body, "hello from php-fpm 8.2\n");
    let after = lint_rule(
        stack.root(),
        "NFL102",
        &debian(PlatformBasis::Declared, &[]),
    );
    assert!(after.diagnostics.is_empty(), "{:?}", after.diagnostics);
}

/// Debian's packaging, read from this machine: `php8.2-fpm.service` installs
/// `/run/php/php-fpm.sock` as an alternative for pool.d/www.conf's socket after start. With
/// the packaged php-fpm.conf and www.conf in a tree, a site passing to that path joins the
/// www pool; with www.conf moved to TCP, the helper installs nothing, and it is dead.
#[test]
fn debian_packaging_links_php_fpm_sock_to_the_www_pool() {
    let unit = Path::new("/lib/systemd/system/php8.2-fpm.service");
    let helper = Path::new("/usr/lib/php/php-fpm-socket-helper");
    let fpm_dir = Path::new("/etc/php/8.2/fpm");
    if !unit.exists() || !helper.exists() || !fpm_dir.join("pool.d/www.conf").exists() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("under CI=true php8.2-fpm (Debian's package) must be installed");
        }
        eprintln!("SKIPPED: Debian's php8.2-fpm package is not installed");
        return;
    }
    let unit_text = std::fs::read_to_string(unit).unwrap();
    let post = unit_text
        .lines()
        .find(|l| l.starts_with("ExecStartPost="))
        .expect("the unit runs a command after start");
    let socket = nginx_fpm_lint::model::platform::DEBIAN_DEFAULT_SOCKET;
    assert!(
        post.contains(&format!(
            "php-fpm-socket-helper install {socket} /etc/php/8.2/fpm/pool.d/www.conf 82"
        )),
        "{post}"
    );
    let helper_text = std::fs::read_to_string(helper).unwrap();
    // It reads www.conf's listen, needs it to be a socket, and installs the alternative.
    assert!(helper_text.contains("^listen"), "{helper_text}");
    assert!(
        helper_text.contains("[ -S \"${SOCKET}\" ]"),
        "{helper_text}"
    );
    assert!(
        helper_text.contains("update-alternatives --quiet --install \"${DEFAULT_SOCKET}\" php-fpm.sock \"${SOCKET}\""),
        "{helper_text}"
    );

    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path();
    let copy = |from: &Path, to: &str| {
        let dest = tree.join(to);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(from, dest).unwrap();
    };
    copy(
        &fpm_dir.join("php-fpm.conf"),
        "etc/php/8.2/fpm/php-fpm.conf",
    );
    copy(
        &fpm_dir.join("pool.d/www.conf"),
        "etc/php/8.2/fpm/pool.d/www.conf",
    );
    let site = tree.join("etc/nginx/sites-enabled/default");
    std::fs::create_dir_all(site.parent().unwrap()).unwrap();
    std::fs::write(
        &site,
        format!(
            "server {{\n    listen 80;\n    root /var/www/html;\n    location ~ \\.php$ {{\n        include fastcgi.conf;\n        fastcgi_pass unix:{socket};\n    }}\n}}\n"
        ),
    )
    .unwrap();
    let settings = Settings::default();
    let joined = lint_rule(tree, "NFL101", &settings);
    assert!(joined.diagnostics.is_empty(), "{:?}", joined.diagnostics);

    let www = tree.join("etc/php/8.2/fpm/pool.d/www.conf");
    let text = std::fs::read_to_string(&www).unwrap();
    let tcp: String = text
        .lines()
        .map(|l| {
            if l.starts_with("listen =") {
                "listen = 127.0.0.1:9000".to_owned()
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(tcp, text, "the packaged www.conf has a `listen =` line");
    std::fs::write(&www, tcp).unwrap();
    let dead = lint_rule(tree, "NFL101", &settings);
    assert_eq!(dead.diagnostics.len(), 1, "{:?}", dead.diagnostics);
    assert_eq!(dead.diagnostics[0].severity, Severity::Error);
}
