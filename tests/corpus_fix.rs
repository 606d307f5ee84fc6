//! Every fix over real-world configs (../shared/corpus or $NGINX_FPM_LINT_CORPUS), applied
//! with `lint --fix --unsafe-fixes` to a copy in a temp dir, deployment by deployment (an nginx
//! source with the php-fpm source of the same name, so fastcgi_pass joins its pools):
//! - the run ends without a panic, and no file that parsed before fails to parse after;
//! - nothing fixable remains (`--diff --unsafe-fixes` afterwards prints no patch);
//! - the real `nginx -t` (and `php-fpm8.2 -t`) still accept every changed file they accepted
//!   before. Context as in nginx-t.tsv: main files as they are, http/server/location files
//!   wrapped in `events {} http { ... include FILE; }`. The same harness judges the original
//!   and the fixed file, so only "accepted before, refused after" fails; a handful of files
//!   that nginx-t.tsv marks accepted as-is in the http context check the harness itself.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

mod corpus_support;

use corpus_support::{corpus_dir, skip_or_fail as skip};

fn copy_tree(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let rel = e.path().strip_prefix(from).unwrap();
        let dest = to.join(rel);
        if e.file_type().is_dir() {
            fs::create_dir_all(&dest).unwrap();
        } else if e.file_type().is_file() {
            fs::copy(e.path(), &dest).unwrap();
        }
    }
}

fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().to_path_buf(), fs::read(e.path()).unwrap()))
        .collect()
}

fn lint(cwd: &Path, args: &[&str]) -> (i32, String) {
    let out = assert_cmd::Command::cargo_bin("nginx-fpm-lint")
        .unwrap()
        .current_dir(cwd)
        .arg("lint")
        .args(args)
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(!text.contains("panicked"), "{text}");
    (out.status.code().expect("finished"), text)
}

/// Files named in "path: error: ..." lines: read or parse problems (not findings).
fn files_with_problems(output: &str) -> BTreeSet<String> {
    output
        .lines()
        .filter_map(|l| {
            let (head, _) = l.split_once(": error: ")?;
            Some(head.split(':').next().unwrap_or(head).to_owned())
        })
        .collect()
}

/// The deployments: (name, directories relative to the corpus copy).
fn deployments(root: &Path) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let names = |kind: &str| -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(root.join(kind))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let fpm = names("php-fpm");
    let mut paired = BTreeSet::new();
    for n in names("nginx") {
        let twin = if n == "debian-nginx-common" {
            "debian-php8.2-fpm".to_owned()
        } else {
            n.clone()
        };
        let mut dirs = vec![format!("nginx/{n}")];
        if fpm.contains(&twin) {
            dirs.push(format!("php-fpm/{twin}"));
            paired.insert(twin);
        }
        out.push((n, dirs));
    }
    for f in fpm.into_iter().filter(|f| !paired.contains(f)) {
        out.push((f.clone(), vec![format!("php-fpm/{f}")]));
    }
    out
}

/// nginx-t.tsv: path -> (context, accepted by plain nginx-light as-is).
fn nginx_tsv(dir: &Path) -> BTreeMap<String, (String, bool)> {
    fs::read_to_string(dir.join("nginx-t.tsv"))
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            Some((
                c.first()?.to_string(),
                (c.get(1)?.to_string(), *c.get(2)? == "yes"),
            ))
        })
        .collect()
}

/// Whether `nginx -t` accepts `file` in `context`, with `text` as its contents.
fn nginx_accepts(nginx: &Path, file: &Path, context: &str, text: &[u8]) -> bool {
    let tmp = tempfile::tempdir().unwrap();
    // The file stays where it is (relative includes keep resolving); its text is swapped in.
    let original = fs::read(file).unwrap();
    fs::write(file, text).unwrap();
    let abs = file.display();
    let (conf, prefix) = match context {
        "main" => (file.to_path_buf(), file.parent().unwrap().to_path_buf()),
        other => {
            let body = match other {
                "server" => format!("server {{ include {abs}; }}"),
                "location" => format!("server {{ location / {{ include {abs}; }} }}"),
                "upstream" => format!("upstream u {{ include {abs}; }}"),
                _ => format!("include {abs};"),
            };
            let wrap = tmp.path().join("wrap.conf");
            fs::write(&wrap, format!("events {{}}\nhttp {{\n{body}\n}}\n")).unwrap();
            (wrap, tmp.path().to_path_buf())
        }
    };
    let pid = tmp.path().join("nginx.pid");
    let ok = Command::new(nginx)
        .arg("-t")
        .arg("-q")
        .arg("-p")
        .arg(format!("{}/", prefix.display()))
        .arg("-c")
        .arg(&conf)
        .arg("-g")
        .arg(format!("pid {};", pid.display()))
        .output()
        .is_ok_and(|o| o.status.success());
    // -g pid clashes with a main file's own pid: try once more without it.
    let ok = ok
        || (context == "main"
            && Command::new(nginx)
                .args(["-t", "-q", "-p"])
                .arg(format!("{}/", prefix.display()))
                .arg("-c")
                .arg(&conf)
                .output()
                .is_ok_and(|o| o.status.success()));
    fs::write(file, original).unwrap();
    ok
}

fn fpm_accepts(fpm: &Path, file: &Path, text: &[u8]) -> bool {
    let original = fs::read(file).unwrap();
    fs::write(file, text).unwrap();
    let ok = Command::new(fpm)
        .args(["-n", "-t", "-R", "-y"])
        .arg(file)
        .output()
        .is_ok_and(|o| o.status.success());
    fs::write(file, original).unwrap();
    ok
}

#[test]
fn every_fix_over_the_corpus_keeps_configs_valid() {
    let Some(corpus) = corpus_dir() else { return };
    let nginx = Path::new("/usr/sbin/nginx");
    let php_fpm = Path::new("/usr/sbin/php-fpm8.2");
    let have_nginx = nginx.is_file();
    let have_fpm = php_fpm.is_file();
    if !have_nginx || !have_fpm {
        skip("nginx or php-fpm8.2 not installed (apt-get install nginx-light php8.2-fpm); the nginx -t / php-fpm -t part is not checked");
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    copy_tree(&corpus.join("nginx"), &root.join("nginx"));
    copy_tree(&corpus.join("php-fpm"), &root.join("php-fpm"));
    let tsv = nginx_tsv(&corpus);
    let before = snapshot(root);

    let mut changed_files = Vec::new();
    for (name, dirs) in deployments(root) {
        let args: Vec<&str> = dirs.iter().map(String::as_str).collect();
        let (_, first) = lint(root, &args);
        let mut fix_args = vec!["--fix", "--unsafe-fixes"];
        fix_args.extend(&args);
        let (code, fixed) = lint(root, &fix_args);
        assert!(code <= 2, "{name}: {fixed}");
        let (_, after) = lint(root, &args);
        let new_problems: Vec<_> = files_with_problems(&after)
            .difference(&files_with_problems(&first))
            .cloned()
            .collect();
        assert!(
            new_problems.is_empty(),
            "{name}: files that no longer read or parse after fixing: {new_problems:?}\n{after}"
        );
        let mut diff_args = vec!["--diff", "--unsafe-fixes"];
        diff_args.extend(&args);
        let (_, remaining) = lint(root, &diff_args);
        assert!(
            !remaining.contains("+++ b/"),
            "{name}: fixable findings remain after --fix:\n{remaining}"
        );
    }
    let after = snapshot(root);
    for (path, old) in &before {
        if after.get(path) != Some(old) {
            changed_files.push((path.clone(), old.clone(), after[path].clone()));
        }
    }
    println!(
        "corpus_fix: {} file(s) changed by fixes",
        changed_files.len()
    );

    if !(have_nginx && have_fpm) {
        return;
    }
    // The harness must accept files nginx-t.tsv says plain nginx accepts in the http context.
    let samples: Vec<&String> = tsv
        .iter()
        .filter(|(_, (ctx, ok))| ctx == "http" && *ok)
        .map(|(p, _)| p)
        .take(5)
        .collect();
    let accepted = samples
        .iter()
        .filter(|p| {
            let f = root.join(p);
            nginx_accepts(nginx, &f, "http", &fs::read(&f).unwrap())
        })
        .count();
    assert!(
        samples.is_empty() || accepted > 0,
        "the nginx -t harness accepts none of {samples:?}: harness broken"
    );

    let mut checked = 0;
    // Changed files the real tools refused already before fixing (a certificate or include the
    // corpus does not carry, or a main-context fragment): nothing to compare against.
    let mut refused_before = 0;
    for (path, old, new) in &changed_files {
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if rel.starts_with("nginx/") {
            let context = tsv.get(&rel).map_or("http", |(c, _)| c.as_str());
            if context == "main-snippet" {
                refused_before += 1;
                continue;
            }
            if nginx_accepts(nginx, path, context, old) {
                checked += 1;
                assert!(
                    nginx_accepts(nginx, path, context, new),
                    "{rel}: nginx -t accepted the original but refuses the fixed file"
                );
            } else {
                // The reference run (nginx-t.tsv) must have refused it too, or this harness
                // is missing something plain nginx has.
                assert!(
                    !tsv.get(&rel).is_some_and(|(_, accepted)| *accepted),
                    "{rel}: nginx-t.tsv says plain nginx accepts it; this harness refuses the original"
                );
                refused_before += 1;
            }
        } else if fpm_accepts(php_fpm, path, old) {
            checked += 1;
            assert!(
                fpm_accepts(php_fpm, path, new),
                "{rel}: php-fpm -t accepted the original but refuses the fixed file"
            );
        } else {
            refused_before += 1;
        }
    }
    println!(
        "corpus_fix: {checked} changed file(s) that nginx/php-fpm accepted before, still accepted; {refused_before} refused standalone before fixing; harness check {accepted}/{}",
        samples.len()
    );
    assert!(
        changed_files.is_empty() || checked > 0,
        "no changed file could be checked by the real tools: harness broken"
    );
}
