//! Every rule's documentation is tested: the code blocks under "## Example" must fire the rule,
//! those under "## Use instead" must not. A section's ```nginx blocks become `site.conf`
//! (or `nginx.conf` when they hold `http`) and its ```ini blocks become PHP-FPM pool files,
//! so join rules can show both halves. A block whose first line is `# file: NAME` (nginx) or
//! `; file: NAME` (ini) is written under that name, for examples about includes.

use nginx_fpm_lint::lint::{all_rules, lint_project};
use nginx_fpm_lint::project::{Options, Project};
use nginx_fpm_lint::rules::{docs_text, RULES};
use nginx_fpm_lint::settings::Settings;

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

fn fires(code: &str, blocks: &[(String, String)], settings: &Settings) -> (bool, String) {
    let mut files: Vec<(String, String)> = Vec::new();
    for (i, (lang, text)) in blocks.iter().enumerate() {
        // A first line `# file: NAME` (nginx) or `; file: NAME` (ini) names the file.
        let named = text.lines().next().and_then(|l| {
            l.strip_prefix("# file: ")
                .or_else(|| l.strip_prefix("; file: "))
                .map(str::trim)
        });
        let name = match (named, lang.as_str()) {
            (Some(n), _) => n.to_owned(),
            (None, lang) => match lang {
                "nginx" if text.contains("http {") => format!("nginx{i}/nginx.conf"),
                "nginx" => format!("sites/site{i}.conf"),
                "ini" => format!("php-fpm.d/pool{i}.conf"),
                other => panic!("{code}: unknown code block language {other:?} (use nginx or ini)"),
            },
        };
        files.push((name, text.clone()));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let out = lint_project(
        Project::from_memory(&refs, Options::default()),
        settings,
        &all_rules,
    );
    assert!(
        out.project.problems.is_empty(),
        "{code}: docs example does not parse: {:?}",
        out.project.problems
    );
    let fired = out.diagnostics.iter().any(|d| d.code == code);
    let all: Vec<String> = out
        .diagnostics
        .iter()
        .map(|d| format!("{} {}", d.code, d.message))
        .collect();
    (fired, all.join("\n"))
}

#[test]
fn example_fires_and_use_instead_does_not() {
    // Enable the opt-in checks so their examples can fire.
    let settings = Settings {
        memory_budget: Some(2 * 1024 * 1024 * 1024),
        ..Settings::default()
    };
    let mut failures = Vec::new();
    for (code, rule) in RULES {
        let docs = docs_text(rule.meta());
        let example = blocks(&docs, "Example");
        if example.is_empty() {
            failures.push(format!("{code}: no code block under ## Example"));
            continue;
        }
        let (fired, all) = fires(code, &example, &settings);
        if !fired {
            failures.push(format!("{code}: the Example does not fire it; got:\n{all}"));
        }
        let instead = blocks(&docs, "Use instead");
        if !instead.is_empty() {
            let (fired, all) = fires(code, &instead, &settings);
            if fired {
                failures.push(format!("{code}: the Use instead fires it:\n{all}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
