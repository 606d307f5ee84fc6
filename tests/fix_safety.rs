//! `--fix` never loses a byte: it writes through a temporary file and a rename in the same
//! directory, keeps mode and owner, writes a symlinked config through to its target, does
//! not overwrite a file that changed since it was read, refuses fixes that break parsing,
//! and stops within a bounded number of rounds.
//!
//! The CLI cases run the binary; the race (a file edited between read and write) and the
//! unparsable-fix case cannot be staged from outside a single process, so they drive the same
//! library calls `run.rs` makes.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use nginx_fpm_lint::fix::apply::{fix_until_stable, Stop};
use nginx_fpm_lint::fix::write::{write_atomic, WriteError};
use nginx_fpm_lint::fix::{Applicability, Edit, Fix};
use nginx_fpm_lint::lint::{all_rules, fix_all, lint_paths};
use nginx_fpm_lint::project::Options;
use nginx_fpm_lint::settings::Settings;
use nginx_fpm_lint::source::{FileId, Span};
use nginx_fpm_lint::syntax::nginx;

const NGINX: &str = "user www-data;\nevents {}\nhttp {\n    server {\n        listen 80;\n        root /var/www/html;\n\n        location ~ \\.php$ {\n            include fastcgi.conf;\n            fastcgi_pass unix:/run/php/php8.1-fpm.sock;\n        }\n    }\n}\n";
const POOL: &str = "[www]\nuser = www-data\ngroup = www-data\nlisten = /run/php/php8.2-fpm.sock\npm = static\npm.max_children = 4\n";

/// A tree whose nginx.conf has one safe fix (8.1 -> 8.2 socket); returns (dir, nginx.conf).
fn tree() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir_all(d.path().join("nginx")).unwrap();
    fs::create_dir_all(d.path().join("php/8.2/fpm/pool.d")).unwrap();
    let conf = d.path().join("nginx/nginx.conf");
    fs::write(&conf, NGINX).unwrap();
    fs::write(d.path().join("php/8.2/fpm/pool.d/www.conf"), POOL).unwrap();
    (d, conf)
}

fn fix(dir: &Path) -> (i32, String) {
    let out = Command::cargo_bin("nginx-fpm-lint")
        .unwrap()
        .current_dir(dir)
        // One rule keeps the expected edits exact; the safety properties are whole-file.
        .args(["lint", "--fix", "--select", "NFL101", "."])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    (
        out.status.code().expect("finished"),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn fixed_text() -> String {
    NGINX.replace("php8.1-fpm", "php8.2-fpm")
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn fix_writes_keeps_mode_and_owner_and_leaves_no_temp_files() {
    let (d, conf) = tree();
    fs::set_permissions(&conf, fs::Permissions::from_mode(0o640)).unwrap();
    // Only root can give a file away; elsewhere the owner is ours and must stay ours.
    let given = std::os::unix::fs::chown(&conf, Some(4321), Some(4322)).is_ok();
    let before = fs::metadata(&conf).unwrap();
    let (code, out) = fix(d.path());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Fixed 1 finding"), "{out}");
    assert_eq!(fs::read_to_string(&conf).unwrap(), fixed_text());
    let after = fs::metadata(&conf).unwrap();
    assert_eq!(after.mode() & 0o7777, 0o640);
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
    if given {
        assert_eq!((after.uid(), after.gid()), (4321, 4322));
    }
    assert_eq!(names(&d.path().join("nginx")), ["nginx.conf"]);
    // The pool file was not touched at all (same inode: not even rewritten).
    let pool = d.path().join("php/8.2/fpm/pool.d/www.conf");
    assert_eq!(fs::read_to_string(&pool).unwrap(), POOL);
}

#[test]
fn second_fix_changes_nothing() {
    let (d, conf) = tree();
    assert_eq!(fix(d.path()).0, 0);
    let once = fs::read(&conf).unwrap();
    let ino = fs::metadata(&conf).unwrap().ino();
    let (code, out) = fix(d.path());
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("Fixed"), "{out}");
    assert_eq!(fs::read(&conf).unwrap(), once);
    // Nothing to fix: the file is not rewritten.
    assert_eq!(fs::metadata(&conf).unwrap().ino(), ino);
}

#[test]
fn symlinked_config_is_written_through_to_its_target() {
    let (d, conf) = tree();
    // sites-enabled/x -> ../sites-available/x, the Debian way.
    let avail = d.path().join("nginx/sites-available");
    let enabled = d.path().join("nginx/sites-enabled");
    fs::create_dir_all(&avail).unwrap();
    fs::create_dir_all(&enabled).unwrap();
    fs::rename(&conf, avail.join("nginx.conf")).unwrap();
    std::os::unix::fs::symlink("../sites-available/nginx.conf", enabled.join("nginx.conf"))
        .unwrap();
    let (code, out) = fix(d.path());
    assert_eq!(code, 0, "{out}");
    let link = enabled.join("nginx.conf");
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        fs::read_link(&link).unwrap(),
        Path::new("../sites-available/nginx.conf")
    );
    assert_eq!(
        fs::read_to_string(avail.join("nginx.conf")).unwrap(),
        fixed_text()
    );
    assert_eq!(names(&avail), ["nginx.conf"]);
    assert_eq!(names(&enabled), ["nginx.conf"]);
}

#[test]
fn diff_never_writes() {
    let (d, conf) = tree();
    let out = Command::cargo_bin("nginx-fpm-lint")
        .unwrap()
        .current_dir(d.path())
        .args(["lint", "--diff", "."])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("+++ b/nginx/nginx.conf"));
    assert_eq!(fs::read_to_string(&conf).unwrap(), NGINX);
}

#[test]
fn file_changed_between_read_and_write_is_not_overwritten() {
    let (d, conf) = tree();
    let paths = vec![d.path().to_path_buf()];
    let settings = Settings::default();
    let first = lint_paths(&paths, Options::default(), &settings, &all_rules);
    let fixed = fix_all(
        &first,
        &paths,
        &Options::default(),
        &settings,
        Applicability::Safe,
    );
    // Other rules may fix other files too; the one that matters is the file edited meanwhile.
    assert!(fixed.changed.keys().any(|id| first
        .project
        .sources
        .get(*id)
        .disk_path()
        .is_some_and(|p| p.ends_with("nginx/nginx.conf"))));
    // Someone edits the file while the fixer is busy.
    let edited = NGINX.replace("listen 80;", "listen 8080;");
    fs::write(&conf, &edited).unwrap();
    // What run.rs does for each changed file.
    for (id, new) in &fixed.changed {
        let file = first.project.sources.get(*id);
        if !file
            .disk_path()
            .is_some_and(|p| p.ends_with("nginx/nginx.conf"))
        {
            continue;
        }
        let err = write_atomic(
            file.disk_path().unwrap(),
            new.as_bytes(),
            file.text.as_bytes(),
        )
        .unwrap_err();
        assert!(matches!(err, WriteError::ChangedOnDisk { .. }), "{err}");
        assert!(err.to_string().contains("nginx.conf"), "{err}");
    }
    assert_eq!(fs::read_to_string(&conf).unwrap(), edited);
    assert_eq!(names(&d.path().join("nginx")), ["nginx.conf"]);
}

/// A fix loop round over nginx texts: `Err` if one does not parse, else `propose(text)`.
fn round_with(
    propose: impl Fn(&str) -> Vec<Fix>,
) -> impl FnMut(&BTreeMap<FileId, String>) -> Result<Vec<Fix>, (FileId, String)> {
    move |texts| {
        let mut fixes = Vec::new();
        for (id, t) in texts {
            nginx::parse(t).map_err(|e| (*id, e.to_string()))?;
            fixes.extend(propose(t));
        }
        Ok(fixes)
    }
}

#[test]
fn a_fix_that_breaks_parsing_is_refused_and_the_last_good_text_kept() {
    let f = FileId(0);
    let texts = BTreeMap::from([(f, NGINX.to_owned())]);
    // Round one: a good fix. Round two: a fix deleting the last "}".
    let result = fix_until_stable(
        texts,
        10,
        round_with(|t| {
            if t.contains("php8.1") {
                let at = t.find("php8.1").unwrap();
                vec![Fix::new(
                    "bump",
                    Applicability::Safe,
                    vec![Edit::replace(f, Span::new(at, at + 6), "php8.2")],
                )]
            } else {
                let end = t.rfind('}').unwrap();
                vec![Fix::new(
                    "break",
                    Applicability::Safe,
                    vec![Edit::delete(f, Span::new(end, end + 1))],
                )]
            }
        }),
    );
    let err = result.unwrap_err();
    assert_eq!(err.reverted.len(), 1);
    assert_eq!(err.reverted[0].message, "break");
    assert_eq!(err.kept.texts[&f], fixed_text());
    assert!(nginx::parse(&err.kept.texts[&f]).is_ok());
}

#[test]
fn a_fix_that_never_converges_stops_after_bounded_rounds() {
    let f = FileId(0);
    let texts = BTreeMap::from([(f, NGINX.to_owned())]);
    let outcome = fix_until_stable(
        texts,
        10,
        round_with(|t| {
            vec![Fix::new(
                "grow",
                Applicability::Safe,
                vec![Edit::insert(f, t.len(), "# again\n")],
            )]
        }),
    )
    .unwrap();
    assert_eq!(outcome.stop, Stop::RoundLimit);
    assert_eq!(outcome.rounds, 10);
    assert_eq!(outcome.texts[&f].matches("# again").count(), 10);
}

/// Found by the lint_fix fuzzer: NFL101 copies a pool's `listen` into `fastcgi_pass`, and a
/// socket path holding "{" made that edit unparsable (the loop refused the round). The fix now
/// quotes such an address, so the file is fixed and still parses. (The loop's refusal of an
/// unparsable round is tested below through the library, where a bad fix can be staged.)
#[test]
fn cli_quotes_an_address_that_is_not_one_token() {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir_all(d.path().join("nginx")).unwrap();
    fs::create_dir_all(d.path().join("php/8.2/fpm/pool.d")).unwrap();
    let conf = d.path().join("nginx/nginx.conf");
    let text = "events {}\nhttp {\n    server {\n        location ~ \\.php$ {\n            fastcgi_pass 127.0.0.1:9001;\n        }\n    }\n}\n";
    fs::write(&conf, text).unwrap();
    fs::write(
        d.path().join("php/8.2/fpm/pool.d/www.conf"),
        "[app]\nuser = app\nlisten = /run/php/a{b.sock\npm = static\npm.max_children = 2\n",
    )
    .unwrap();
    let out = Command::cargo_bin("nginx-fpm-lint")
        .unwrap()
        .current_dir(d.path())
        .args(["lint", "--fix", "--unsafe-fixes", "--select", "NFL101", "."])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let fixed = fs::read_to_string(&conf).unwrap();
    assert_eq!(
        fixed,
        text.replace("127.0.0.1:9001", "\"unix:/run/php/a{b.sock\"")
    );
    nginx_fpm_lint::syntax::nginx::parse(&fixed).expect("the fixed file parses");
    assert_eq!(names(&d.path().join("nginx")), ["nginx.conf"]);
}
