//! `nginx-fpm-lint parse`: the parser alone, as JSON.

use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

fn parse(args: &[&str]) -> (i32, Value) {
    let out = Command::cargo_bin("nginx-fpm-lint")
        .unwrap()
        .arg("parse")
        .args(args)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).expect("parse prints JSON");
    (out.status.code().unwrap(), json)
}

#[test]
fn nginx_tree_with_resolved_includes() {
    let (code, json) = parse(&["examples/broken-php-site/etc/nginx/nginx.conf"]);
    assert_eq!(code, 0);
    assert_eq!(json["status"], "ok");
    let config = json["config"].as_array().unwrap();
    let files: Vec<&str> = config.iter().map(|c| c["file"].as_str().unwrap()).collect();
    assert_eq!(files[0], "examples/broken-php-site/etc/nginx/nginx.conf");

    let top = config[0]["parsed"].as_array().unwrap();
    let user = &top[0];
    assert_eq!(user["directive"], "user");
    assert_eq!(user["args"], serde_json::json!(["www-data"]));
    assert_eq!(
        (user["line"].as_u64(), user["column"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(user["span"], serde_json::json!({"start": 0, "end": 14}));

    let http = top.iter().find(|d| d["directive"] == "http").unwrap();
    let includes: Vec<&Value> = http["block"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["directive"] == "include")
        .collect();
    // mime.types is not in the example: it resolves to the packaged file.
    let mime = includes
        .iter()
        .find(|d| d["args"][0] == "/etc/nginx/mime.types")
        .unwrap();
    let idx = mime["includes"][0].as_u64().unwrap() as usize;
    assert_eq!(config[idx]["builtin"], true);
    assert!(config[idx]["file"]
        .as_str()
        .unwrap()
        .ends_with("/etc/nginx/mime.types"));
    // sites-enabled/* resolves to the site file, which includes the Debian snippet.
    let sites = includes
        .iter()
        .find(|d| d["args"][0] == "/etc/nginx/sites-enabled/*")
        .unwrap();
    let site = &config[sites["includes"][0].as_u64().unwrap() as usize];
    assert!(site["file"].as_str().unwrap().ends_with("shop.example.com"));
    assert_eq!(site["parsed"][0]["directive"], "server");
}

#[test]
fn fpm_sections_and_entries() {
    let (code, json) = parse(&["examples/broken-php-site/etc/php/8.2/fpm/pool.d/www.conf"]);
    assert_eq!(code, 0);
    let sections = json["config"][0]["parsed"].as_array().unwrap();
    assert_eq!(sections[0]["section"], "www");
    let listen = sections[0]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == "listen")
        .unwrap();
    assert_eq!(listen["value"], "/run/php/php8.2-fpm.sock");
    assert_eq!(listen["line"], 5);
}

#[test]
fn syntax_errors_are_reported_with_position_and_exit_2() {
    let (code, json) = parse(&["fixtures/syntax-errors/unbalanced-close.conf"]);
    assert_eq!(code, 2);
    assert_eq!(json["status"], "failed");
    let err = &json["errors"][0];
    assert_eq!(err["line"], 5);
    assert!(err["error"].as_str().unwrap().contains("unexpected \"}\""));
}

#[test]
fn comments_on_request() {
    let (_, json) = parse(&["--comments", "fixtures/include-cycle/bad-two-files/a.conf"]);
    let parsed = json["config"][0]["parsed"].as_array().unwrap();
    assert_eq!(parsed[0]["directive"], "#");
    assert_eq!(parsed[0]["comment"], " a includes b, b includes a");
}
