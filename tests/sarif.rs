//! `--format sarif` is valid SARIF 2.1.0 (checked against the OASIS schema, vendored in
//! tests/data) and carries what GitHub code scanning needs.

mod workflow_support;

use serde_json::Value;
use workflow_support::*;

fn schema() -> jsonschema::Validator {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sarif-schema-2.1.0.json"
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("the SARIF schema compiles")
}

fn assert_valid(doc: &Value) {
    let validator = schema();
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF:\n{}", errors.join("\n"));
}

fn sarif(dir: &std::path::Path, extra: &[&str]) -> (i32, Value) {
    let mut c = lint_cmd(dir);
    c.args(["--format", "sarif"]).args(extra).arg(".");
    let r = run(c);
    (r.code, serde_json::from_str(&r.stdout).expect(&r.stdout))
}

#[test]
fn schema_rejects_an_invalid_document() {
    // The validator is really checking: a result without a message is not SARIF.
    let bad = serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
        "results": [{"ruleId": "X"}]}]});
    assert!(!schema().is_valid(&bad));
}

#[test]
fn findings_with_related_locations_and_fixes_are_valid_sarif() {
    let dir = stack(SITE_BROKEN);
    let (code, doc) = sarif(dir.path(), &[SELECT]);
    assert_eq!(code, 1);
    assert_valid(&doc);

    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), nginx_fpm_lint::rules::RULES.len());
    let rule = rules.iter().find(|r| r["id"] == "NFL101").unwrap();
    assert_eq!(rule["name"], "fastcgi-pass-no-listener");
    assert!(rule["help"]["text"]
        .as_str()
        .unwrap()
        .contains("## Why it matters"));
    assert!(rule["helpUri"]
        .as_str()
        .unwrap()
        .ends_with("docs/rules.md#fastcgi-pass-no-listener"));
    assert_eq!(rule["defaultConfiguration"]["level"], "error");

    let result = &run["results"][0];
    assert_eq!(result["ruleId"], "NFL101");
    assert_eq!(result["level"], "error");
    assert_eq!(
        rules[result["ruleIndex"].as_u64().unwrap() as usize]["id"],
        "NFL101"
    );
    let loc = &result["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], SITE);
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(loc["region"]["startLine"], 6);
    assert_eq!(loc["region"]["startColumn"], 22);
    // The pool that was probably meant, in the other file.
    let related = result["relatedLocations"].as_array().unwrap();
    assert!(related
        .iter()
        .any(|r| r["physicalLocation"]["artifactLocation"]["uri"] == POOL_PATH));
    // The fix as a replacement.
    let change = &result["fixes"][0]["artifactChanges"][0];
    assert_eq!(change["artifactLocation"]["uri"], SITE);
    let rep = &change["replacements"][0];
    assert_eq!(rep["deletedRegion"]["startLine"], 6);
    assert!(rep["insertedContent"]["text"]
        .as_str()
        .unwrap()
        .contains("php8.2-fpm.sock"));
    assert!(run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap()
        .starts_with("file:///"));
}

#[test]
fn clean_runs_and_unreadable_files_are_valid_sarif() {
    let ok = stack(SITE_FIXED);
    let (code, doc) = sarif(ok.path(), &[SELECT]);
    assert_eq!(code, 0);
    assert_valid(&doc);
    assert_eq!(doc["runs"][0]["results"].as_array().unwrap().len(), 0);

    write(
        ok.path(),
        "etc/nginx/sites-enabled/broken.conf",
        "server {\n",
    );
    let (code, doc) = sarif(ok.path(), &[SELECT]);
    assert_eq!(code, 2);
    assert_valid(&doc);
    let inv = &doc["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    assert!(inv["toolExecutionNotifications"][0]["message"]["text"]
        .as_str()
        .is_some());
}

#[test]
fn odd_file_names_are_valid_uris() {
    let dir = tree(&[
        ("etc/nginx/nginx.conf", NGINX_CONF),
        ("etc/nginx/sites-enabled/my site#1.conf", SITE_BROKEN),
        ("etc/php/8.2/fpm/php-fpm.conf", FPM_CONF),
        (POOL_PATH, POOL),
    ]);
    let (_, doc) = sarif(dir.path(), &[SELECT]);
    assert_valid(&doc);
    assert_eq!(
        doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "etc/nginx/sites-enabled/my%20site%231.conf"
    );
}
