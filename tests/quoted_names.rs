//! Quoted directive names: nginx's tokenizer strips the quotes of every token, the name
//! included, so `"worker_processes" 1;` is `worker_processes 1;` and a quoted
//! `"rewrite_by_lua_block" { ... }` is read raw as Lua by the Lua module.

mod support;

use std::fs;
use std::process::Command;

const QUOTED_CORE: &str = r#""worker_processes" 1;
'events' {}
"http" {
    "server" {
        'listen' 127.0.0.1:8080;
        "location" / { "return" 200 "ok"; }
    }
}
"#;

#[test]
fn real_nginx_accepts_quoted_names_and_so_does_lint() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("nginx.conf"), QUOTED_CORE).unwrap();
    let out = support::run_cli(d.path(), &["lint", "nginx.conf"]);
    assert_eq!(out.status.code(), Some(0), "{}", support::show(&out));

    let out = support::run_cli(d.path(), &["parse", "nginx.conf"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let parsed = &json["config"][0]["parsed"];
    assert_eq!(parsed[0]["directive"], "worker_processes");
    assert_eq!(parsed[2]["block"][0]["block"][1]["directive"], "location");

    let Some(bins) = support::require_stack() else {
        return;
    };
    let root = d.path();
    let nginx = Command::new(&bins.nginx)
        .arg("-p")
        .arg(root)
        .arg("-c")
        .arg(root.join("nginx.conf"))
        .arg("-e")
        .arg(root.join("error.log"))
        .arg("-t")
        .output()
        .unwrap();
    assert!(nginx.status.success(), "{}", support::show(&nginx));
}

/// The shape of the lua-nginx-module docs' examples, the name quoted: the module is not
/// installed here, so only the parse is checked (the body is Lua, not nginx syntax).
#[test]
fn quoted_lua_block_name_reads_the_body_as_lua() {
    let d = tempfile::tempdir().unwrap();
    let text = r#"server {
    listen 8080;
    location /lua {
        "rewrite_by_lua_block" {
            local t = { 1, 2, 3 }
            local s = "a;b{c}'" .. '"}{;' -- ; } {
            if #t == 3 then ngx.var.x = s end
        }
        'content_by_lua_block' { ngx.say([[}{;]]) }
    }
}
"#;
    fs::write(d.path().join("lua.conf"), text).unwrap();
    let out = support::run_cli(d.path(), &["lint", "lua.conf"]);
    assert_eq!(out.status.code(), Some(0), "{}", support::show(&out));
    let out = support::run_cli(d.path(), &["parse", "lua.conf"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let location = &json["config"][0]["parsed"][0]["block"][1]["block"];
    assert_eq!(location[0]["directive"], "rewrite_by_lua_block");
    assert!(location[0]["raw"]
        .as_str()
        .is_some_and(|raw| raw.contains("{ 1, 2, 3 }")));
    assert_eq!(location[1]["directive"], "content_by_lua_block");
}
