//! The nginx examples in the rules' documentation, checked by real nginx: every block under
//! "## Example" and "## Use instead" passes `nginx -t` (wrapped in the smallest config that
//! gives it a context), and every `location ~ ...php...` regex there that is not anchored to
//! a path matches `/index.php` when nginx itself matches it (a `map` in a running nginx), so
//! an example copied into a site routes PHP as it says. The examples write a regex as people
//! do: `\.php$`, never `\\.php$`.

mod support;

use std::path::Path;

use nginx_fpm_lint::rules::{docs_text, RULES};
use support::Stack;
use support::{Tree, TreeConfig};

/// Code blocks (language, text) of one `## Section` of a rule's docs.
fn blocks(docs: &str, section: &str) -> Vec<(String, String)> {
    let heading = format!("## {section}");
    let Some(start) = docs.find(&heading) else {
        return Vec::new();
    };
    let body = &docs[start + heading.len()..];
    let body = &body[..body.find("\n## ").unwrap_or(body.len())];
    let mut out = Vec::new();
    let mut lines = body.lines();
    while let Some(line) = lines.next() {
        if let Some(lang) = line.trim().strip_prefix("```").filter(|l| !l.is_empty()) {
            let code: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            out.push((lang.to_owned(), code.join("\n") + "\n"));
        }
    }
    out
}

/// The nginx blocks of every rule's Example and Use instead, by (rule, section).
fn nginx_examples() -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for (code, rule) in RULES {
        let docs = docs_text(rule.meta());
        for section in ["Example", "Use instead"] {
            let nginx: Vec<String> = blocks(&docs, section)
                .into_iter()
                .filter(|(lang, _)| lang == "nginx")
                .map(|(_, text)| text)
                .collect();
            if !nginx.is_empty() {
                out.push((format!("{code} {section}"), nginx));
            }
        }
    }
    out
}

/// Packaged files the examples include, copied from this machine's nginx when present.
const PACKAGED: &[&str] = &[
    "fastcgi_params",
    "fastcgi.conf",
    "mime.types",
    "snippets/fastcgi-php.conf",
];

/// `nginx -t` on one section's blocks in a temp dir: a block with `http {` is the main file,
/// a `# file: NAME` block is written as NAME, a block with `server {` is a site, anything
/// else goes inside a server.
fn nginx_t(nginx: &Path, blocks: &[String]) -> Result<(), String> {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    for rel in PACKAGED {
        let from = Path::new("/etc/nginx").join(rel);
        if from.is_file() {
            std::fs::create_dir_all(root.join(rel).parent().unwrap()).unwrap();
            std::fs::copy(&from, root.join(rel)).unwrap();
        }
    }
    let mut main: Option<String> = None;
    let mut sites = Vec::new();
    for (i, text) in blocks.iter().enumerate() {
        let named = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# file: "))
            .map(str::trim);
        if text.contains("http {") {
            main = Some(text.clone());
        } else if let Some(name) = named {
            let path = root.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        } else if text.contains("server {") {
            sites.push(format!("include site{i}.conf;"));
            std::fs::write(root.join(format!("site{i}.conf")), text).unwrap();
        } else if text.contains("location ") {
            sites.push(format!("server {{\n{text}}}"));
        } else {
            // Bare directives such as `fastcgi_pass`: the context they are shown in.
            sites.push(format!("server {{\nlocation ~ \\.php$ {{\n{text}}}\n}}"));
        }
    }
    let temps = format!(
        "client_body_temp_path {r}/t1; proxy_temp_path {r}/t2; fastcgi_temp_path {r}/t3; \
         uwsgi_temp_path {r}/t4; scgi_temp_path {r}/t5; access_log off;",
        r = root.display()
    );
    let main = match main {
        // A full nginx.conf: its own http block, with the temp paths of this directory.
        Some(m) => m.replacen("http {", &format!("http {{\n{temps}\n"), 1),
        None => format!("events {{}}\nhttp {{\n{temps}\n{}\n}}\n", sites.join("\n")),
    };
    let main = if main.contains("events") {
        main
    } else {
        format!("events {{}}\n{main}")
    };
    let mut main = main;
    // A host name nginx would resolve (`proxy_pass http://app`, a compose service) stands for
    // a server elsewhere: given as an upstream, as the deployment's DNS would give it.
    for _ in 0..4 {
        match run_nginx_t(nginx, root, &main) {
            Ok(()) => return Ok(()),
            Err(e) => match (
                quoted_after(&e, "host not found in upstream \""),
                quoted_after(&e, "unknown \""),
            ) {
                // `app:9000`, `http://app`: a compose service's name, standing for an
                // address; given as 127.0.0.1 with the same port.
                (Some(host), _) if main.contains(&host) || sites_mention(root, &host) => {
                    main = localize(&main, &host);
                    for entry in std::fs::read_dir(root).unwrap().flatten() {
                        let path = entry.path();
                        if path.extension().is_some_and(|x| x == "conf") {
                            let text = std::fs::read_to_string(&path).unwrap();
                            std::fs::write(&path, localize(&text, &host)).unwrap();
                        }
                    }
                }
                // A variable the example takes from elsewhere (a map in http).
                (None, Some(var)) if !main.contains(&format!(" ${var} ")) => {
                    main = main.replacen(
                        "http {",
                        &format!("http {{\nmap $host ${var} {{ default 127.0.0.1:9000; }}"),
                        1,
                    );
                }
                _ => return Err(e),
            },
        }
    }
    run_nginx_t(nginx, root, &main)
}

/// `host` replaced by 127.0.0.1 where it is an address (after a blank or `//`, before `:`,
/// `;` or `/`).
fn localize(text: &str, host: &str) -> String {
    let mut out = text.to_owned();
    for before in [" ", "/"] {
        for after in [":", ";", "/"] {
            out = out.replace(
                &format!("{before}{host}{after}"),
                &format!("{before}127.0.0.1{after}"),
            );
        }
    }
    out
}

fn sites_mention(root: &Path, host: &str) -> bool {
    std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .any(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| localize(&t, host) != t))
}

/// The text between `prefix` (ending in a quote) and the next quote in nginx's error.
fn quoted_after(error: &str, prefix: &str) -> Option<String> {
    let rest = &error[error.find(prefix)? + prefix.len()..];
    Some(rest[..rest.find('"')?].to_owned())
}

fn run_nginx_t(nginx: &Path, root: &Path, main: &str) -> Result<(), String> {
    std::fs::write(root.join("nginx.conf"), main).unwrap();
    let out = std::process::Command::new(nginx)
        .arg("-t")
        .arg("-p")
        .arg(root)
        .arg("-c")
        .arg(root.join("nginx.conf"))
        .arg("-e")
        .arg(root.join("error.log"))
        .arg("-g")
        .arg(format!("pid {}/nginx.pid;", root.display()))
        .output()
        .expect("run nginx -t");
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}\n--- nginx.conf\n{main}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Rules whose Example is a configuration nginx refuses (what they flag is that refusal);
/// `nginx -t` must refuse it, with this in its message.
const REFUSED_EXAMPLES: &[(&str, &str)] = &[
    ("NFL001", "No such file or directory"),
    ("NFL202", "must be less than"),
    ("NFL401", "unknown directive \"fastcgi_pas\""),
    (
        "NFL402",
        "\"worker_processes\" directive is not allowed here",
    ),
    (
        "NFL403",
        "invalid number of arguments in \"listen\" directive",
    ),
    (
        "NFL404",
        "invalid value \"yes\" in \"sendfile\" directive, it must be \"on\" or \"off\"",
    ),
    ("NFL405", "\"root\" directive is duplicate"),
];

#[test]
fn every_nginx_example_passes_nginx_t() {
    let Some(bins) = support::require_stack() else {
        return;
    };
    let examples = nginx_examples();
    assert!(examples.len() > 10, "too few examples: {}", examples.len());
    let failures: Vec<String> = examples
        .iter()
        .filter_map(|(which, blocks)| {
            let result = nginx_t(&bins.nginx, blocks);
            let refused = REFUSED_EXAMPLES
                .iter()
                .find(|(code, _)| which == &format!("{code} Example"));
            match (refused, result) {
                (None, Ok(())) => None,
                (None, Err(e)) => Some(format!("{which}: {e}")),
                (Some((_, why)), Err(e)) if e.contains(why) => None,
                (Some((_, why)), Err(e)) => {
                    Some(format!("{which}: refused, but not with {why:?}: {e}"))
                }
                (Some(_), Ok(())) => Some(format!("{which}: nginx -t accepts it")),
            }
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The regex of a `location ~ REGEX` / `~* REGEX` line.
fn location_regex(line: &str) -> Option<&str> {
    let rest = line.trim().strip_prefix("location")?.trim_start();
    let rest = rest
        .strip_prefix("~*")
        .or_else(|| rest.strip_prefix('~'))?
        .trim_start();
    rest.strip_suffix('{').map(str::trim)
}

#[test]
fn php_location_regexes_in_examples_match_a_php_uri() {
    let Some(bins) = support::require_stack() else {
        return;
    };
    // Regexes meant for any PHP script: they name `.php` and are not anchored to a path.
    let mut regexes: Vec<(String, String)> = Vec::new();
    for (which, blocks) in nginx_examples() {
        for line in blocks.iter().flat_map(|b| b.lines()) {
            if let Some(re) = location_regex(line) {
                if re.contains("php") && !re.starts_with("^/") {
                    regexes.push((which.clone(), re.to_owned()));
                }
            }
        }
    }
    assert!(
        regexes.iter().any(|(w, _)| w.starts_with("NFL102")),
        "NFL102's examples have a PHP location: {regexes:?}"
    );
    // nginx matches each regex against the request in a map; the body lists the results.
    let maps: String = regexes
        .iter()
        .enumerate()
        .map(|(i, (_, re))| {
            format!(
                "map $uri $m{i} {{ \"~{}\" 1; default 0; }}\n",
                re.replace('"', "\\\"")
            )
        })
        .collect();
    let body: Vec<String> = (0..regexes.len()).map(|i| format!("$m{i}")).collect();
    let conf = format!(
        "pid @ROOT@/run/nginx.pid;\nevents {{}}\nhttp {{\n  access_log off;\n  \
         client_body_temp_path @ROOT@/tmp/1; proxy_temp_path @ROOT@/tmp/2; \
         fastcgi_temp_path @ROOT@/tmp/3; uwsgi_temp_path @ROOT@/tmp/4; \
         scgi_temp_path @ROOT@/tmp/5;\n{maps}  server {{\n    listen 127.0.0.1:@HTTP_PORT@;\n    \
         location / {{ return 200 \"{}\"; }}\n  }}\n}}\n",
        body.join(" ")
    );
    let tree = Tree::materialise(&TreeConfig::empty().file("nginx/nginx.conf", conf));
    let stack = Stack::try_start_nginx_only(bins, tree, "HTTP_PORT").expect("nginx starts");
    let (status, text) = stack.get("/index.php");
    assert_eq!(status, 200, "{text}");
    let results: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(results.len(), regexes.len(), "{text}");
    let misses: Vec<String> = regexes
        .iter()
        .zip(&results)
        .filter(|(_, r)| **r != "1")
        .map(|((which, re), _)| format!("{which}: `location ~ {re}` does not match /index.php"))
        .collect();
    assert!(misses.is_empty(), "{}", misses.join("\n"));
}

/// nginx reads `\\` in a word as one backslash (checked with nginx 1.22: `location ~ \\.php$`
/// matches `/index.php`), so a doubled backslash passes both tests above; but nobody writes a
/// regex so, and copied into a regex tester or another tool,
/// it is a different pattern. The docs show the regex as it is written.
#[test]
fn examples_write_regexes_with_single_backslashes() {
    let doubled: Vec<String> = nginx_examples()
        .into_iter()
        .flat_map(|(which, blocks)| {
            blocks
                .into_iter()
                .flat_map(|b| b.lines().map(str::to_owned).collect::<Vec<_>>())
                .filter(|l| l.contains("\\\\"))
                .map(move |l| format!("{which}: {l}"))
        })
        .collect();
    assert!(doubled.is_empty(), "{}", doubled.join("\n"));
}
