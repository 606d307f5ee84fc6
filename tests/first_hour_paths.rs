//! What a new user meets first on a real config repository (discovery and paths): patches `git apply` takes from
//! wherever the linter ran, files reached twice counted once, ignore files and excludes,
//! shell completions installed where the shell reads them.

mod workflow_support;

use std::path::Path;
use std::process::{Command as StdCommand, Stdio};

use workflow_support::*;

/// `git` in `dir` with no user configuration, stopping repository discovery above `ceiling`.
fn git(dir: &Path, ceiling: &Path, args: &[&str], stdin: Option<&str>) -> Option<(bool, String)> {
    use std::io::Write as _;
    let mut child = StdCommand::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CEILING_DIRECTORIES", ceiling)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    Some((
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    ))
}

/// The NFL101 tree inside a git repository at `<tmp>/repo`; `None` when git is missing.
fn repo() -> Option<tempfile::TempDir> {
    let dir = stack(SITE_BROKEN);
    let parent = tempfile::tempdir().unwrap();
    let repo = parent.path().join("repo");
    std::fs::rename(dir.path(), &repo).unwrap();
    match git(&repo, parent.path(), &["init", "-q"], None) {
        Some((true, _)) => Some(parent),
        _ => {
            skip_or_fail("git is not installed");
            None
        }
    }
}

#[test]
fn diff_from_a_deeper_directory_applies_at_the_repository_root() {
    let Some(tmp) = repo() else { return };
    let repo = tmp.path().join("repo");
    let deep = repo.join("etc/nginx/sites-enabled");
    let r = run({
        let mut c = lint_cmd(&deep);
        c.args(["--select=NFL101", "--diff", "../../.."]);
        c
    });
    // Relative to the repository's root, as `git diff` writes them; never `a/../`.
    assert!(
        r.stdout.contains(&format!("--- a/{SITE}\n+++ b/{SITE}\n")),
        "{}{}",
        r.stdout,
        r.stderr
    );
    assert!(!r.stdout.contains("/.."), "{}", r.stdout);
    let (ok, out) = git(
        &repo,
        tmp.path(),
        &["apply", "--verbose", "-"],
        Some(&r.stdout),
    )
    .unwrap();
    assert!(ok, "git apply at the root: {out}\n{}", r.stdout);
    assert_eq!(read(&repo, SITE), SITE_FIXED);
}

#[test]
fn diff_from_a_subdirectory_applies_in_that_subdirectory() {
    let Some(tmp) = repo() else { return };
    let repo = tmp.path().join("repo");
    let sub = repo.join("etc");
    let r = run({
        let mut c = lint_cmd(&sub);
        c.args(["--select=NFL101", "--diff", "."]);
        c
    });
    assert!(
        r.stdout.contains(&format!("--- a/{SITE}\n")),
        "{}{}",
        r.stdout,
        r.stderr
    );
    // git apply in a subdirectory reads the paths from the root, as `git diff` wrote them.
    let (ok, out) = git(
        &sub,
        tmp.path(),
        &["apply", "--verbose", "-"],
        Some(&r.stdout),
    )
    .unwrap();
    assert!(ok, "git apply in etc/: {out}\n{}", r.stdout);
    assert!(
        out.contains(&format!("Applied patch {SITE} cleanly")),
        "{out}"
    );
    assert_eq!(read(&repo, SITE), SITE_FIXED);
}

#[test]
fn diff_outside_a_repository_is_relative_to_the_working_directory() {
    let dir = stack(SITE_BROKEN);
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.env("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap())
            .args(["--select=NFL101", "--diff", "./etc/../etc"]);
        c
    });
    assert!(
        r.stdout.contains(&format!("--- a/{SITE}\n")),
        "{}{}",
        r.stdout,
        r.stderr
    );
    let patched = StdCommand::new("patch")
        .args(["-p1", "--dry-run", "-i", "-"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn();
    let Ok(mut child) = patched else {
        skip_or_fail("patch is not installed");
        return;
    };
    {
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(r.stdout.as_bytes())
            .unwrap();
    }
    assert!(child.wait().unwrap().success(), "{}", r.stdout);
}

/// How many lines of `out` contain `needle`.
fn count(out: &str, needle: &str) -> usize {
    out.lines().filter(|l| l.contains(needle)).count()
}

/// The site at `sites-available/app.conf`, reached again as `sites-enabled/app.conf` by `link`.
fn site_reached_twice(site: &str, link: fn(&Path, &Path)) -> tempfile::TempDir {
    let available = "etc/nginx/sites-available/app.conf";
    let dir = tree(&[
        ("etc/nginx/nginx.conf", NGINX_CONF),
        (available, site),
        ("etc/php/8.2/fpm/php-fpm.conf", FPM_CONF),
        (POOL_PATH, POOL),
    ]);
    std::fs::create_dir_all(dir.path().join("etc/nginx/sites-enabled")).unwrap();
    link(&dir.path().join(available), &dir.path().join(SITE));
    dir
}

fn symlink(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(
        Path::new("../sites-available").join(target.file_name().unwrap()),
        link,
    )
    .unwrap();
}

fn hard_link(target: &Path, link: &Path) {
    std::fs::hard_link(target, link).unwrap();
}

#[test]
fn a_rule_finding_in_a_file_reached_twice_is_one_finding() {
    for (how, link) in [
        ("symlink", symlink as fn(&Path, &Path)),
        ("hard link", hard_link),
    ] {
        let dir = site_reached_twice(SITE_BROKEN, link);
        let r = run({
            let mut c = lint_cmd(dir.path());
            c.args([SELECT, "--format=concise", "."]);
            c
        });
        assert_eq!(
            count(&r.stdout, "NFL101"),
            1,
            "{how}: {}{}",
            r.stdout,
            r.stderr
        );
        assert!(
            r.stdout.contains("1 finding (1 error)"),
            "{how}: {}",
            r.stdout
        );
        // The fix edits the one file once: the patch has one hunk.
        let r = run({
            let mut c = lint_cmd(dir.path());
            c.args([SELECT, "--diff", "."]);
            c
        });
        assert_eq!(
            count(&r.stdout, "+        fastcgi_pass"),
            1,
            "{how}: {}",
            r.stdout
        );
    }
}

#[test]
fn a_syntax_error_in_a_file_reached_twice_is_one_error() {
    let broken = "server {\n    listen 80\n    root /var/www/app;\n";
    for (how, link) in [
        ("symlink", symlink as fn(&Path, &Path)),
        ("hard link", hard_link),
    ] {
        let dir = site_reached_twice(broken, link);
        let r = run({
            let mut c = lint_cmd(dir.path());
            c.args([SELECT, "--format=concise", "."]);
            c
        });
        assert_eq!(r.code, 2, "{how}: {}{}", r.stdout, r.stderr);
        assert_eq!(
            count(&r.stdout, "unexpected end of file"),
            1,
            "{how}: {}",
            r.stdout
        );
        assert!(
            r.stdout.contains(" 1 file could not be read or parsed"),
            "{how}: {}",
            r.stdout
        );
    }
}

#[test]
fn an_unreadable_file_reached_by_the_walk_and_an_include_is_one_error() {
    // Binary bytes: read by the walk (its name says nginx), then again through the include.
    let dir = site_reached_twice("server {\0}\n", symlink);
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, "--format=concise", "."]);
        c
    });
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert_eq!(count(&r.stdout, "NUL byte"), 1, "{}", r.stdout);
    assert!(
        r.stdout.contains(" 1 file could not be read or parsed"),
        "{}",
        r.stdout
    );
}

/// A config repository as users have them: the deployed tree, a build folder and a hidden
/// cache the repository ignores or hides, an old copy to exclude.
fn config_repository(with_git: bool) -> tempfile::TempDir {
    let dir = stack(SITE_FIXED);
    let root = dir.path();
    // Copies of the broken site where no deployment reads them.
    for copy in [
        "build/etc/nginx/sites-enabled/app.conf",
        ".cache/etc/nginx/sites-enabled/app.conf",
        "old/etc/nginx/sites-enabled/app.conf",
        "scratch/etc/nginx/sites-enabled/app.conf",
    ] {
        write(root, copy, SITE_BROKEN);
    }
    write(root, ".gitignore", "build/\n");
    write(root, ".ignore", "scratch/\n");
    if with_git {
        let init = StdCommand::new("git")
            .args(["init", "-q"])
            .current_dir(root)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .status();
        if !init.is_ok_and(|s| s.success()) {
            skip_or_fail("git is not installed");
        }
        write(root, "attic/etc/nginx/sites-enabled/app.conf", SITE_BROKEN);
        write(root, ".git/info/exclude", "attic/\n");
    }
    dir
}

fn lint_files(dir: &Path, args: &[&str]) -> Run {
    run({
        let mut c = lint_cmd(dir);
        c.args([SELECT, "--format=concise"]).args(args);
        c
    })
}

#[test]
fn ignore_files_hidden_folders_and_excludes_keep_files_from_the_walk() {
    let dir = config_repository(true);
    let r = lint_files(dir.path(), &["--exclude", "old", "."]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(!r.stdout.contains("NFL101"), "{}", r.stdout);

    // --show-files says why each copy was left out.
    let r = lint_files(dir.path(), &["--exclude", "old", "--show-files", "."]);
    for (path, why) in [
        (
            "build/etc/nginx/sites-enabled/app.conf",
            "ignored by .gitignore",
        ),
        (
            "scratch/etc/nginx/sites-enabled/app.conf",
            "ignored by .gitignore, .ignore",
        ),
        (
            ".cache/etc/nginx/sites-enabled/app.conf",
            "in a hidden folder",
        ),
        (
            "attic/etc/nginx/sites-enabled/app.conf",
            ".git/info/exclude",
        ),
        ("old/", "excluded by `old`"),
    ] {
        assert!(
            r.stdout
                .lines()
                .any(|l| l.starts_with(path) && l.contains(why)),
            "{path}: {why}\n{}",
            r.stdout
        );
    }

    // --no-ignore reads them all; the exclude still holds.
    let r = lint_files(dir.path(), &["--no-ignore", "--exclude", "old/**", "."]);
    for path in ["build/", ".cache/", "scratch/", "attic/"] {
        assert!(
            r.stdout
                .lines()
                .any(|l| l.starts_with(path) && l.contains("NFL101")),
            "{path}\n{}",
            r.stdout
        );
    }
    assert!(!r.stdout.contains("old/"), "{}", r.stdout);
}

#[test]
fn a_gitignore_outside_a_git_repository_does_not_count_but_ignore_does() {
    let dir = config_repository(false);
    let r = lint_files(dir.path(), &["--exclude", "old", "."]);
    assert!(r.stdout.contains("build/etc/nginx"), "{}", r.stdout);
    assert!(!r.stdout.contains("scratch/"), "{}", r.stdout);
    assert!(!r.stdout.contains(".cache/"), "{}", r.stdout);
}

#[test]
fn config_exclude_is_relative_to_the_config_file() {
    let dir = config_repository(true);
    write(
        dir.path(),
        ".nginx-fpm-lint.toml",
        "extend-exclude = [\"old/etc/**\"]\n",
    );
    // Linted from a subdirectory: the glob is still read from the config file's folder.
    std::fs::create_dir_all(dir.path().join("docs")).unwrap();
    let r = lint_files(&dir.path().join("docs"), &[".."]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(!r.stdout.contains("old/"), "{}", r.stdout);

    // `exclude` replaces the defaults; a bad glob is an error naming the key's line.
    write(
        dir.path(),
        ".nginx-fpm-lint.toml",
        "exclude = [\"old/[\"]\n",
    );
    let r = lint_files(dir.path(), &["."]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("bad glob"), "{}", r.stderr);
    let r = lint_files(dir.path(), &["--exclude", "a[", "."]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn an_ignored_file_an_include_reaches_is_read() {
    let dir = config_repository(true);
    // nginx.conf includes the ignored build copy: it is part of the deployment.
    write(
        dir.path(),
        "etc/nginx/nginx.conf",
        &NGINX_CONF.replace(
            "include /etc/nginx/sites-enabled/*;",
            "include /etc/nginx/sites-enabled/*;\n    include ../../build/etc/nginx/sites-enabled/app.conf;",
        ),
    );
    let r = lint_files(dir.path(), &["--exclude", "old", "."]);
    assert!(
        r.stdout.lines().any(
            |l| l.starts_with("build/etc/nginx/sites-enabled/app.conf") && l.contains("NFL101")
        ),
        "{}{}",
        r.stdout,
        r.stderr
    );
}

fn completions(home: &Path, args: &[&str]) -> Run {
    let mut c = assert_cmd::Command::cargo_bin("nginx-fpm-lint").unwrap();
    c.env("HOME", home)
        .env_remove("XDG_DATA_HOME")
        .env_remove("XDG_CONFIG_HOME")
        .arg("completions")
        .args(args);
    run(c)
}

#[test]
fn completions_install_creates_the_folder_and_never_overwrites_silently() {
    let home = tempfile::tempdir().unwrap();
    let printed = completions(home.path(), &["bash"]).stdout;
    assert!(printed.contains("complete -F"), "{printed}");

    // The folder bash-completion reads does not exist yet.
    let path = home
        .path()
        .join(".local/share/bash-completion/completions/nginx-fpm-lint");
    let r = completions(home.path(), &["bash", "--install"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(&path.display().to_string()),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), printed);

    // Again: nothing to do.
    let r = completions(home.path(), &["bash", "--install"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("already up to date"), "{}", r.stderr);

    // A script edited by hand is not replaced without --force.
    std::fs::write(&path, "# mine\n").unwrap();
    let r = completions(home.path(), &["bash", "--install"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine\n");
    let r = completions(home.path(), &["bash", "--install", "--force"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), printed);

    // fish and zsh have their own folders; a shell without one says what to do instead.
    let r = completions(home.path(), &["fish", "--install"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(home
        .path()
        .join(".config/fish/completions/nginx-fpm-lint.fish")
        .is_file());
    let r = completions(home.path(), &["zsh", "--install"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(home.path().join(".zfunc/_nginx-fpm-lint").is_file());
    assert!(r.stderr.contains("fpath"), "{}", r.stderr);
    let r = completions(home.path(), &["powershell", "--install"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("redirect"), "{}", r.stderr);
}

/// The bash script loads in a real bash and completes the subcommands.
#[test]
fn installed_bash_completion_completes_subcommands() {
    let home = tempfile::tempdir().unwrap();
    assert_eq!(completions(home.path(), &["bash", "--install"]).code, 0);
    let script = home
        .path()
        .join(".local/share/bash-completion/completions/nginx-fpm-lint");
    let probe = format!(
        "source {}; COMP_WORDS=(nginx-fpm-lint comp); COMP_CWORD=1; COMP_LINE='nginx-fpm-lint comp'; COMP_POINT=${{#COMP_LINE}}; f=$(complete -p nginx-fpm-lint | grep -o -- '-F [^ ]*' | cut -c4-); $f nginx-fpm-lint comp nginx-fpm-lint; echo \"${{COMPREPLY[@]}}\"",
        script.display()
    );
    let Ok(out) = StdCommand::new("bash")
        .args(["--norc", "-c", &probe])
        .output()
    else {
        skip_or_fail("bash is not installed");
        return;
    };
    let reply = String::from_utf8_lossy(&out.stdout);
    assert!(
        reply.contains("completions"),
        "{reply}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The README and the files users copy from name no release tag that does not exist and no
/// made-up project URL, and the Action example has the permissions its upload needs.
#[test]
fn readme_pins_only_what_exists_and_the_action_example_has_its_permissions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tags: Vec<String> = StdCommand::new("git")
        .args(["tag", "--list"])
        .current_dir(root)
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    for file in ["README.md", "action.yml", ".pre-commit-hooks.yaml"] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        for line in text.lines() {
            let pinned = line
                .split_once("nginx-fpm-lint@")
                .map(|(_, r)| r)
                .or_else(|| line.trim_start_matches(['#', ' ']).strip_prefix("rev: "));
            let Some(pin) = pinned else { continue };
            let pin = pin.split_whitespace().next().unwrap_or("");
            assert!(
                pin == "SHA" || tags.iter().any(|t| t == pin),
                "{file}: `{line}` pins {pin:?}, which is not a tag of this repository"
            );
        }
        assert!(
            !text.contains("github.com/nginx-fpm-lint/"),
            "{file} names a project URL that does not exist"
        );
    }
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let workflow = readme
        .split("# .github/workflows/nginx-fpm-lint.yml")
        .nth(1)
        .and_then(|w| w.split("```").next())
        .expect("the README has the workflow example");
    for needed in [
        "security-events: write",
        "actions: read",
        "head.repo.full_name",
        "annotate:",
    ] {
        assert!(workflow.contains(needed), "{needed}\n{workflow}");
    }
    for needed in [
        "cargo install --locked --path .",
        "cargo install --locked --git",
        "NGINX_FPM_LINT_CORPUS=",
        "mkdir -p ~/.local/share/bash-completion/completions",
    ] {
        assert!(readme.contains(needed), "README: {needed}");
    }
}
