//! docs/rules.md is generated from the rules (`nginx-fpm-lint docs`); it must not go stale.
//! With UPDATE_DOCS=1 this test rewrites it instead of failing.

use std::path::Path;

#[test]
fn rules_page_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(nginx_fpm_lint::docs::RULES_PAGE);
    let expected = nginx_fpm_lint::docs::rules_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &expected).unwrap();
        return;
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{} is stale; regenerate it with\n\n    cargo run -- docs > docs/rules.md\n\nor\n\n    \
         UPDATE_DOCS=1 cargo test --test docs\n",
        path.display()
    );
}

#[test]
fn every_rule_has_a_section_and_a_table_row() {
    let page = nginx_fpm_lint::docs::rules_markdown();
    for (code, rule) in nginx_fpm_lint::rules::RULES {
        let name = rule.meta().name;
        assert!(page.contains(&format!("\n## {name}\n")), "{name}");
        assert!(
            page.contains(&format!("| {code} | [{name}](#{name}) |")),
            "{code}"
        );
    }
}

#[test]
fn cli_docs_command_prints_the_page() {
    let out = assert_cmd::Command::cargo_bin("nginx-fpm-lint")
        .unwrap()
        .arg("docs")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        nginx_fpm_lint::docs::rules_markdown()
    );
}
