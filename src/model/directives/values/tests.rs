//! Unit tests with specs written by hand from nginx 1.22's `ngx_command_t` arrays; the
//! messages are those `nginx -t` prints (tests/real_values.rs checks them all against the
//! real binary).

use super::*;
use crate::model::directives::{args, ctx, Version};
use crate::syntax::nginx::parse;

fn spec(name: &'static str, module: &'static str, shape: u32, value: ValueKind) -> DirectiveSpec {
    DirectiveSpec {
        name,
        module,
        contexts: ctx::HTTP | ctx::HTTP_SRV | ctx::HTTP_LOC,
        args: shape,
        value,
        refuses_duplicate: false,
        since: Version(0, 0, 0),
        until: None,
    }
}

/// The message `check` gives for the first directive of `text`, and the text it points at.
fn run(spec: &DirectiveSpec, text: &str) -> Option<(String, String)> {
    let config = parse(text).expect("parses");
    let d = config.all_directives().next().expect("a directive");
    check(spec, d).map(|p| (p.message, text[p.span.range()].to_string()))
}

fn msg(spec: &DirectiveSpec, text: &str) -> Option<String> {
    run(spec, text).map(|(m, _)| m)
}

const T1: u32 = args::TAKE1;

#[test]
fn flags() {
    let s = spec(
        "sendfile",
        "ngx_http_core_module",
        args::FLAG,
        ValueKind::Flag,
    );
    assert_eq!(msg(&s, "sendfile on;"), None);
    assert_eq!(msg(&s, "sendfile OFF;"), None);
    assert_eq!(
        run(&s, "sendfile yes;"),
        Some((
            "invalid value \"yes\" in \"sendfile\" directive, it must be \"on\" or \"off\"".into(),
            "yes".into()
        ))
    );
    // Two arguments is the argument-count rule's finding, not this one.
    assert_eq!(msg(&s, "sendfile on off;"), None);
}

#[test]
fn standard_slots() {
    let t = spec(
        "fastcgi_read_timeout",
        "ngx_http_fastcgi_module",
        T1,
        ValueKind::Msec,
    );
    assert_eq!(
        msg(&t, "fastcgi_read_timeout 30x;"),
        Some("\"fastcgi_read_timeout\" directive invalid value".into())
    );
    assert_eq!(msg(&t, "fastcgi_read_timeout \"1m 30s\";"), None);
    let size = spec(
        "client_max_body_size",
        "ngx_http_core_module",
        T1,
        ValueKind::Offset,
    );
    assert_eq!(msg(&size, "client_max_body_size 2g;"), None);
    assert_eq!(
        msg(&size, "client_max_body_size 20mb;"),
        Some("\"client_max_body_size\" directive invalid value".into())
    );
    let level = spec(
        "gzip_comp_level",
        "ngx_http_gzip_filter_module",
        T1,
        ValueKind::Number,
    );
    assert_eq!(
        msg(&level, "gzip_comp_level 10;"),
        Some("value must be between 1 and 9".into())
    );
    assert_eq!(
        msg(&level, "gzip_comp_level x;"),
        Some("\"gzip_comp_level\" directive invalid number".into())
    );
    let protocols = spec(
        "ssl_protocols",
        "ngx_http_ssl_module",
        args::ONE_MORE,
        ValueKind::Bitmask(&["SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]),
    );
    assert_eq!(msg(&protocols, "ssl_protocols TLSv1.2 tlsv1.3;"), None);
    assert_eq!(
        run(&protocols, "ssl_protocols TLSv1.2 TLSv1.4;"),
        Some(("invalid value \"TLSv1.4\"".into(), "TLSv1.4".into()))
    );
    let bufs = spec(
        "fastcgi_buffers",
        "ngx_http_fastcgi_module",
        args::TAKE2,
        ValueKind::Custom,
    );
    assert_eq!(
        run(&bufs, "fastcgi_buffers 8 4x;"),
        Some((
            "\"fastcgi_buffers\" directive invalid value".into(),
            "4x".into()
        ))
    );
    assert_eq!(
        run(&bufs, "fastcgi_buffers 0 4k;"),
        Some((
            "\"fastcgi_buffers\" directive invalid value".into(),
            "0".into()
        ))
    );
    assert_eq!(msg(&bufs, "fastcgi_buffers 16 16k;"), None);
}

#[test]
fn addresses() {
    let pass = spec(
        "fastcgi_pass",
        "ngx_http_fastcgi_module",
        T1,
        ValueKind::Custom,
    );
    assert_eq!(
        msg(&pass, "fastcgi_pass /run/php.sock;"),
        Some("invalid host in upstream \"/run/php.sock\"".into())
    );
    assert_eq!(msg(&pass, "fastcgi_pass unix:/run/php.sock;"), None);
    assert_eq!(msg(&pass, "fastcgi_pass $backend;"), None);
    assert_eq!(msg(&pass, "fastcgi_pass php-fpm;"), None);
    let proxy = spec("proxy_pass", "ngx_http_proxy_module", T1, ValueKind::Custom);
    assert_eq!(
        msg(&proxy, "proxy_pass 127.0.0.1:8080;"),
        Some("invalid URL prefix".into())
    );
    assert_eq!(
        msg(&proxy, "proxy_pass http://127.0.0.1:80800/x;"),
        Some("invalid port in upstream \"127.0.0.1:80800/x\"".into())
    );
    let listen = spec(
        "listen",
        "ngx_http_core_module",
        args::ONE_MORE,
        ValueKind::Custom,
    );
    assert_eq!(msg(&listen, "listen 443 ssl http2 default_server;"), None);
    assert_eq!(
        run(&listen, "listen 80 defualt_server;"),
        Some((
            "invalid parameter \"defualt_server\"".into(),
            "defualt_server".into()
        ))
    );
    assert_eq!(
        msg(&listen, "listen 99999;"),
        Some("invalid port in \"99999\" of the \"listen\" directive".into())
    );
    // A host name is resolved by nginx: not judged.
    assert_eq!(msg(&listen, "listen example.invalid:80 bogus;"), None);
    let server = spec(
        "server",
        "ngx_http_upstream_module",
        args::ONE_MORE,
        ValueKind::Custom,
    );
    assert_eq!(
        msg(&server, "server 127.0.0.1:9000 weight=0;"),
        Some("invalid parameter \"weight=0\"".into())
    );
    assert_eq!(
        msg(
            &server,
            "server 127.0.0.1:9000 max_fails=3 fail_timeout=30s backup;"
        ),
        None
    );
}

#[test]
fn rewrite_module() {
    let ret = spec(
        "return",
        "ngx_http_rewrite_module",
        args::TAKE1 | args::TAKE2,
        ValueKind::Custom,
    );
    assert_eq!(msg(&ret, "return 301 https://$host$request_uri;"), None);
    assert_eq!(msg(&ret, "return https://example.com;"), None);
    assert_eq!(
        msg(&ret, "return 1000;"),
        Some("invalid return code \"1000\"".into())
    );
    assert_eq!(
        msg(&ret, "return /x;"),
        Some("invalid return code \"/x\"".into())
    );
    let cond = spec(
        "if",
        "ngx_http_rewrite_module",
        args::ONE_MORE | args::BLOCK,
        ValueKind::Custom,
    );
    assert_eq!(msg(&cond, "if ($request_method = POST) { }"), None);
    assert_eq!(msg(&cond, "if (!-f $request_filename) { }"), None);
    assert_eq!(msg(&cond, "if ($http_x) { }"), None);
    assert_eq!(
        run(&cond, "if ($uri ~ \"(a\") { }"),
        Some((
            "pcre2_compile() failed: missing closing parenthesis in \"(a\"".into(),
            "\"(a\"".into()
        ))
    );
    let rw = spec(
        "rewrite",
        "ngx_http_rewrite_module",
        args::TAKE2 | args::TAKE3,
        ValueKind::Custom,
    );
    assert_eq!(msg(&rw, "rewrite ^/(.*)$ /index.php?q=$1 last;"), None);
    assert_eq!(
        msg(&rw, "rewrite ^/(.*)$ /x lst;"),
        Some("invalid parameter \"lst\"".into())
    );
}

#[test]
fn later_parameters_need_the_version() {
    let listen = spec(
        "listen",
        "ngx_http_core_module",
        args::ONE_MORE,
        ValueKind::Custom,
    );
    let config = parse("listen 443 quic reuseport;").unwrap();
    let d = config.all_directives().next().unwrap();
    assert_eq!(check(&listen, d), None);
    assert_eq!(check_for_version(&listen, d, Some(Version(1, 25, 0))), None);
    assert_eq!(
        check_for_version(&listen, d, Some(Version(1, 24, 0))).map(|p| p.message),
        Some("invalid parameter \"quic\"".into())
    );
    let server = spec(
        "server",
        "ngx_http_upstream_module",
        args::ONE_MORE,
        ValueKind::Custom,
    );
    let config = parse("server app:9000 resolve;").unwrap();
    let d = config.all_directives().next().unwrap();
    assert_eq!(check(&server, d), None);
    assert_eq!(check_for_version(&server, d, Some(Version(1, 27, 3))), None);
    assert_eq!(
        check_for_version(&server, d, Some(Version(1, 22, 1))).map(|p| p.message),
        Some("invalid parameter \"resolve\"".into())
    );
}

/// Every reader, on arbitrary words: an answer, never a panic, and a span inside the
/// directive.
mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn specs() -> Vec<DirectiveSpec> {
        let any = args::ANY;
        let mut out: Vec<DirectiveSpec> = [
            ("sendfile", "ngx_http_core_module", ValueKind::Flag),
            (
                "keepalive_requests",
                "ngx_http_core_module",
                ValueKind::Number,
            ),
            (
                "gzip_comp_level",
                "ngx_http_gzip_filter_module",
                ValueKind::Number,
            ),
            (
                "client_body_buffer_size",
                "ngx_http_core_module",
                ValueKind::Size,
            ),
            (
                "client_max_body_size",
                "ngx_http_core_module",
                ValueKind::Offset,
            ),
            ("send_timeout", "ngx_http_core_module", ValueKind::Msec),
            ("ssl_session_timeout", "ngx_http_ssl_module", ValueKind::Sec),
            (
                "server_tokens",
                "ngx_http_core_module",
                ValueKind::Enum(&["on", "off"]),
            ),
            (
                "ssl_protocols",
                "ngx_http_ssl_module",
                ValueKind::Bitmask(&["TLSv1.2", "TLSv1.3"]),
            ),
        ]
        .into_iter()
        .map(|(n, m, v)| spec(n, m, any, v))
        .collect();
        for (name, module) in [
            ("fastcgi_buffers", "ngx_http_fastcgi_module"),
            ("listen", "ngx_http_core_module"),
            ("server", "ngx_http_upstream_module"),
            ("fastcgi_pass", "ngx_http_fastcgi_module"),
            ("proxy_pass", "ngx_http_proxy_module"),
            ("grpc_pass", "ngx_http_grpc_module"),
            ("uwsgi_pass", "ngx_http_uwsgi_module"),
            ("return", "ngx_http_rewrite_module"),
            ("if", "ngx_http_rewrite_module"),
            ("rewrite", "ngx_http_rewrite_module"),
            ("set", "ngx_http_rewrite_module"),
            ("error_page", "ngx_http_core_module"),
            ("location", "ngx_http_core_module"),
            ("server_name", "ngx_http_core_module"),
            ("keepalive_timeout", "ngx_http_core_module"),
            ("expires", "ngx_http_headers_filter_module"),
            ("add_header", "ngx_http_headers_filter_module"),
            ("limit_req", "ngx_http_limit_req_module"),
            ("limit_req_zone", "ngx_http_limit_req_module"),
            ("log_format", "ngx_http_log_module"),
            ("fastcgi_split_path_info", "ngx_http_fastcgi_module"),
            ("worker_processes", "ngx_core_module"),
            ("worker_connections", "ngx_event_core_module"),
            ("allow", "ngx_http_access_module"),
            ("error_log", "ngx_errlog_module"),
            ("open_file_cache", "ngx_http_core_module"),
            ("directio", "ngx_http_core_module"),
            ("ssl_session_cache", "ngx_http_ssl_module"),
            ("fastcgi_param", "ngx_http_fastcgi_module"),
        ] {
            out.push(spec(name, module, any, ValueKind::Custom));
        }
        out
    }

    fn word() -> impl Strategy<Value = String> {
        // The characters the readers look at, and some that they must not trip on.
        proptest::string::string_regex(r#"[-a-z0-9:/.\[\]()?*+{},=!~$@^|\\#'é ]{0,12}"#).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn any_words(words in proptest::collection::vec(word(), 1..5)) {
            let args: Vec<String> = words
                .iter()
                .map(|w| format!("\"{}\"", w.replace('\\', "\\\\").replace('"', "\\\"")))
                .collect();
            for s in specs() {
                for line in [
                    format!("{} {};", s.name, args.join(" ")),
                    format!("{} {} {{ }}", s.name, args.join(" ")),
                ] {
                    let Ok(config) = parse(&line) else { continue };
                    let d = config.all_directives().next().unwrap();
                    if let Some(p) = check(&s, d) {
                        prop_assert!(d.span().start <= p.span.start && p.span.end <= d.span().end);
                        prop_assert!(!p.message.is_empty());
                    }
                    let _ = check_for_version(&s, d, Some(Version(1, 22, 1)));
                }
            }
        }

        #[test]
        fn any_pattern(p in proptest::string::string_regex(r"[-a-z0-9()\[\]{},:?*+|\\^$.<>'#=!PQE]{0,16}").unwrap()) {
            if let regex::Verdict::Err { offset, .. } = regex::check(&p) {
                prop_assert!(offset <= p.len());
            }
        }
    }
}

/// Every reader is reached through the generated table's own entries (module names and
/// argument shapes as the table has them), so a renamed module cannot silently switch a check
/// off. The messages themselves are proven against the real nginx in tests/real_values.rs.
#[test]
fn every_reader_is_reached_through_the_table() {
    use crate::model::directives::lookup;
    for line in [
        "sendfile yes;",
        "fastcgi_read_timeout 30x;",
        "client_max_body_size 1t;",
        "gzip_comp_level 10;",
        "fastcgi_buffers 8 4x;",
        "listen 80 defualt_server;",
        "fastcgi_pass /run/php.sock;",
        "proxy_pass backend;",
        "grpc_pass 127.0.0.1:0;",
        "uwsgi_pass /x;",
        "scgi_pass /x;",
        "return 1000;",
        "if ($uri ~ \"(a\") { }",
        "rewrite ^ /x lst;",
        "set x 1;",
        "error_page 299 /x;",
        "location == /x { }",
        "server_name ~;",
        "keepalive_timeout 1x;",
        "expires 1x;",
        "add_header X y allways;",
        "limit_req burst=1;",
        "limit_req_zone $a zone=x rate=1r/s;",
        "log_format x escape=xml y;",
        "fastcgi_split_path_info ^(a)$;",
        "worker_processes x;",
        "worker_connections x;",
        "allow localhost;",
        "deny localhost;",
        "error_log stderr warning;",
        "open_file_cache max=0;",
        "directio on;",
        "ssl_session_cache on;",
        "fastcgi_param A b c;",
        "ssl_protocols TLSv9;",
        "proxy_http_version 3;",
        "try_files $uri =4x;",
        "fastcgi_cache_path /c levels=3;",
        "proxy_cache_valid 200 1x;",
    ] {
        let config = parse(line).expect("parses");
        let d = config.all_directives().next().unwrap();
        let specs = lookup(d.name());
        assert!(!specs.is_empty(), "{line}: not in the table");
        assert!(
            specs.iter().any(|s| check(s, d).is_some()),
            "{line}: no entry of the table reaches a reader that refuses it"
        );
    }
    // The `server` of `upstream`, not the `server` block of `http`.
    let config = parse("server 127.0.0.1:9000 weight=0;").unwrap();
    let d = config.all_directives().next().unwrap();
    let ups = lookup("server")
        .iter()
        .find(|s| s.contexts & ctx::HTTP_UPS != 0)
        .expect("server in upstream");
    assert!(check(ups, d).is_some());
}
