//! The value checks (`model::directives::values::check`) against the real `nginx -t`: every
//! case below is one directive line in a minimal configuration. nginx decides; the test
//! asserts that `check` refuses exactly the lines nginx refuses, with nginx's own message
//! (the text after `[emerg]`, up to ` in /path:line`). Each case also says whether its author
//! meant it to be refused, so a case that nginx refuses for another reason (a missing zone,
//! a wrong context) is caught as a broken case rather than counted.
//!
//! Needs /usr/sbin/nginx; without it the test prints `SKIPPED:` and passes, except under
//! CI=true. The specs come from the generated table (`directives::lookup`), so the table's value
//! kinds are checked here too.

mod support;

use std::path::Path;
use std::process::Command;

use nginx_fpm_lint::model::directives::{self, ctx, DirectiveSpec, Version};
use nginx_fpm_lint::syntax::nginx::parse;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ctx {
    Main,
    Events,
    Http,
    /// `server { listen ...; <line> }`
    Server,
    /// `server { <line> }`, for `listen` lines.
    ServerBare,
    Location,
    /// `if` in a location.
    LocationIf,
    Upstream,
}

impl Ctx {
    fn bit(self) -> u32 {
        match self {
            Ctx::Main => ctx::MAIN,
            Ctx::Events => ctx::EVENTS,
            Ctx::Http => ctx::HTTP,
            Ctx::Server | Ctx::ServerBare => ctx::HTTP_SRV,
            Ctx::Location => ctx::HTTP_LOC,
            Ctx::LocationIf => ctx::HTTP_LIF,
            Ctx::Upstream => ctx::HTTP_UPS,
        }
    }
}

/// Whether the case's author expects nginx to refuse it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Meant {
    Good,
    Bad,
    /// nginx refuses it, and `check` leaves it alone on purpose: it depends on the host or
    /// on other directives, on the nginx version, or is beyond the conservative regex reader.
    /// Listed so the limits are measured, not guessed.
    Missed,
    /// A parameter a later nginx added: refused by the installed nginx; `check` (version
    /// unknown) leaves it alone, `check_for_version` with the installed version refuses it
    /// with nginx's message.
    Later,
}
use Ctx::*;
use Meant::*;

/// (context, line, intent).
const CASES: &[(Ctx, &str, Meant)] = &[
    // Flags (ngx_conf_set_flag_slot): case-insensitive on/off.
    (Http, "sendfile on;", Good),
    (Http, "sendfile Off;", Good),
    (Http, "sendfile yes;", Bad),
    (Http, "sendfile 1;", Bad),
    (Server, "tcp_nopush enabled;", Bad),
    (Location, "gzip ON;", Good),
    (Location, "gzip true;", Bad),
    (Http, "server_tokens off;", Good),
    (Http, "server_tokens build;", Good),
    (Http, "server_tokens hidden;", Bad),
    (Location, "autoindex on;", Good),
    (Location, "autoindex 0;", Bad),
    (Location, "fastcgi_intercept_errors no;", Bad),
    (Location, "fastcgi_keep_conn on;", Good),
    (Http, "reset_timedout_connection of;", Bad),
    // Numbers (ngx_conf_set_num_slot), with bounds where nginx has them.
    (Http, "keepalive_requests 1000;", Good),
    (Http, "keepalive_requests 1k;", Bad),
    (Http, "keepalive_requests -1;", Bad),
    (Http, "types_hash_max_size 2048;", Good),
    (Http, "server_names_hash_bucket_size 64x;", Bad),
    (Http, "gzip_comp_level 6;", Good),
    (Http, "gzip_comp_level 0;", Bad),
    (Http, "gzip_comp_level 10;", Bad),
    (Http, "gzip_comp_level high;", Bad),
    (Http, "limit_req_status 429;", Good),
    (Http, "limit_req_status 200;", Bad),
    (Http, "limit_conn_status 600;", Bad),
    (Main, "worker_rlimit_nofile 65535;", Good),
    (Main, "worker_rlimit_nofile lots;", Bad),
    // Sizes (ngx_parse_size): k and m, either case, nothing else.
    (Http, "client_body_buffer_size 128k;", Good),
    (Http, "client_body_buffer_size 128K;", Good),
    (Http, "client_body_buffer_size 1M;", Good),
    (Http, "client_body_buffer_size 128kb;", Bad),
    (Http, "client_body_buffer_size 1g;", Bad),
    (Http, "client_body_buffer_size 1.5m;", Bad),
    (Location, "fastcgi_buffer_size 8k;", Good),
    (Location, "fastcgi_buffer_size 32kB;", Bad),
    (Location, "proxy_buffer_size \"4 k\";", Bad),
    (Http, "gzip_min_length 1000;", Good),
    (Http, "gzip_min_length 1_000;", Bad),
    (Http, "sendfile_max_chunk 512k;", Good),
    (Http, "client_header_buffer_size 9007199254740992k;", Bad),
    // Offsets (ngx_parse_offset): g as well.
    (Http, "client_max_body_size 20m;", Good),
    (Http, "client_max_body_size 2G;", Good),
    (Http, "client_max_body_size 0;", Good),
    (Server, "client_max_body_size 20mb;", Bad),
    (Location, "client_max_body_size 1T;", Bad),
    (Location, "client_max_body_size -1;", Bad),
    (Http, "client_max_body_size 8589934592g;", Bad),
    (Location, "fastcgi_max_temp_file_size 1024m;", Good),
    // A size slot, not an offset: no `g`.
    (Location, "fastcgi_max_temp_file_size 2g;", Bad),
    (Location, "proxy_max_temp_file_size 1gb;", Bad),
    // Times in milliseconds (ngx_parse_time, msec).
    (Http, "fastcgi_read_timeout 300;", Good),
    (Http, "fastcgi_read_timeout 300s;", Good),
    (Http, "fastcgi_read_timeout 5m;", Good),
    (Http, "fastcgi_read_timeout \"1m 30s\";", Good),
    (Http, "fastcgi_read_timeout 1m30s;", Good),
    (Http, "fastcgi_read_timeout 500ms;", Good),
    (Http, "fastcgi_read_timeout 1d;", Good),
    (Http, "fastcgi_read_timeout 30x;", Bad),
    (Http, "fastcgi_read_timeout 1M;", Bad),
    (Http, "fastcgi_read_timeout 1y;", Bad),
    (Http, "fastcgi_read_timeout 30S;", Bad),
    (Http, "fastcgi_read_timeout 1s1m;", Bad),
    (Http, "fastcgi_read_timeout 1m1m;", Bad),
    (Http, "fastcgi_read_timeout 1.5s;", Bad),
    (Location, "proxy_read_timeout 60s;", Good),
    (Location, "proxy_read_timeout \"60 s\";", Bad),
    (Location, "proxy_connect_timeout \"1s 500ms\";", Good),
    (Server, "send_timeout 10sec;", Bad),
    (Server, "client_body_timeout 12;", Good),
    (Http, "resolver_timeout 30ss;", Bad),
    (Http, "client_header_timeout \"1 2\";", Good),
    (Http, "client_header_timeout \"1s 2m\";", Bad),
    // Times in seconds (sec slot): no ms.
    (Http, "ssl_session_timeout 10m;", Good),
    (Http, "ssl_session_timeout 1d;", Good),
    (Http, "ssl_session_timeout 1M;", Good),
    (Http, "ssl_session_timeout 1y;", Good),
    (Http, "ssl_session_timeout 500ms;", Bad),
    (Http, "ssl_session_timeout \"10 minutes\";", Bad),
    (Http, "open_file_cache_valid 60s;", Good),
    (Http, "open_file_cache_valid 60sec;", Bad),
    // keepalive_timeout: msec, then an optional header time in seconds.
    (Http, "keepalive_timeout 65;", Good),
    (Http, "keepalive_timeout 75s 60s;", Good),
    (Http, "keepalive_timeout 65x;", Bad),
    (Http, "keepalive_timeout 65 1ms;", Bad),
    (Http, "keepalive_timeout 0;", Good),
    // Enums and bitmasks.
    (Location, "proxy_http_version 1.1;", Good),
    (Location, "proxy_http_version 2.0;", Bad),
    (
        Http,
        "gzip_proxied expired no-cache no-store private auth;",
        Good,
    ),
    (Http, "gzip_proxied any;", Good),
    (Http, "gzip_proxied all;", Bad),
    (Http, "ssl_protocols TLSv1.2 TLSv1.3;", Good),
    (Http, "ssl_protocols tlsv1.2;", Good),
    (Http, "ssl_protocols TLSv1.2 TLSv1.4;", Bad),
    (Http, "ssl_protocols TLSv1.2,TLSv1.3;", Bad),
    (
        Location,
        "fastcgi_next_upstream error timeout invalid_header http_500;",
        Good,
    ),
    (Location, "fastcgi_next_upstream error http_502;", Bad),
    (Location, "autoindex_format json;", Good),
    (Location, "autoindex_format yaml;", Bad),
    // Buffers (ngx_conf_set_bufs_slot).
    (Location, "fastcgi_buffers 16 16k;", Good),
    (Location, "fastcgi_buffers 8 4x;", Bad),
    (Location, "fastcgi_buffers 0 4k;", Bad),
    (Location, "fastcgi_buffers x 4k;", Bad),
    (Location, "fastcgi_buffers 8 0;", Bad),
    (Location, "proxy_buffers 4 256k;", Good),
    (Http, "gzip_buffers 16 8k;", Good),
    (Http, "gzip_buffers 16 8kb;", Bad),
    (Http, "large_client_header_buffers 4 16k;", Good),
    (Http, "large_client_header_buffers four 16k;", Bad),
    (Http, "output_buffers 2 32k;", Good),
    // Main and events.
    (Main, "worker_processes auto;", Good),
    (Main, "worker_processes 4;", Good),
    (Main, "worker_processes max;", Bad),
    (Main, "worker_processes Auto;", Bad),
    (Events, "worker_connections 1024;", Good),
    (Events, "worker_connections 1k;", Bad),
    // listen.
    (ServerBare, "listen 8080;", Good),
    (ServerBare, "listen 127.0.0.1:8080 default_server;", Good),
    (ServerBare, "listen 127.0.0.1:8443 http2;", Good),
    (ServerBare, "listen [::1]:8080 ipv6only=on;", Good),
    (ServerBare, "listen 8080 default;", Good),
    (
        ServerBare,
        "listen 8080 backlog=511 rcvbuf=64k sndbuf=1m;",
        Good,
    ),
    (ServerBare, "listen 8080 reuseport deferred bind;", Good),
    (ServerBare, "listen 8080 proxy_protocol;", Good),
    (ServerBare, "listen 8080 so_keepalive=on;", Good),
    (ServerBare, "listen 8080 so_keepalive=30m::10;", Good),
    (ServerBare, "listen 8080 fastopen=256;", Good),
    (ServerBare, "listen unix:/tmp/nfl-values-test.sock;", Good),
    (
        ServerBare,
        "listen 8080 default_server default_server;",
        Good,
    ),
    (ServerBare, "listen 8000-8010;", Good),
    (ServerBare, "listen 127.0.0.1:8000-8010;", Good),
    (ServerBare, "listen 8010-8000;", Bad),
    (ServerBare, "listen 127.0.0.1:8010-8000;", Bad),
    (ServerBare, "listen 8000-99999;", Bad),
    (ServerBare, "listen *:8080;", Good),
    (ServerBare, "listen 127.0.0.1;", Good),
    (ServerBare, "listen 99999;", Bad),
    (ServerBare, "listen 0;", Bad),
    (ServerBare, "listen 127.0.0.1:0;", Bad),
    (ServerBare, "listen 127.0.0.1:80x;", Bad),
    (ServerBare, "listen 127.0.0.1:;", Bad),
    (ServerBare, "listen :8080;", Bad),
    (ServerBare, "listen 127.0.0.1:8080/x;", Bad),
    (ServerBare, "listen [::1:8080;", Bad),
    (ServerBare, "listen []:8080;", Bad),
    (ServerBare, "listen [::1]8080;", Bad),
    (ServerBare, "listen unix:;", Bad),
    (ServerBare, "listen 8080 defualt_server;", Bad),
    (ServerBare, "listen 8080 spdy;", Bad),
    (ServerBare, "listen 8080 backlog=0;", Bad),
    (ServerBare, "listen 8080 backlog=-1;", Bad),
    (ServerBare, "listen 8080 rcvbuf=1x;", Bad),
    (ServerBare, "listen 8080 sndbuf=;", Bad),
    (ServerBare, "listen [::]:8080 ipv6only=yes;", Bad),
    (ServerBare, "listen [::]:8080 ipv6only=of;", Bad),
    (ServerBare, "listen 8080 so_keepalive=yes;", Bad),
    (ServerBare, "listen 8080 so_keepalive=::;", Bad),
    (ServerBare, "listen 8080 fastopen=x;", Bad),
    (ServerBare, "listen 8080 SSL;", Bad),
    // The *_pass addresses.
    (
        Location,
        "fastcgi_pass unix:/run/php/php8.2-fpm.sock;",
        Good,
    ),
    (Location, "fastcgi_pass 127.0.0.1:9000;", Good),
    (Location, "fastcgi_pass backend;", Good),
    (Location, "fastcgi_pass $arg_fpm;", Good),
    (Location, "fastcgi_pass [::1]:9000;", Good),
    (Location, "fastcgi_pass /run/php/php8.2-fpm.sock;", Bad),
    (Location, "fastcgi_pass 127.0.0.1:99999;", Bad),
    (Location, "fastcgi_pass 127.0.0.1:;", Bad),
    (Location, "fastcgi_pass 127.0.0.1:9000/x;", Bad),
    (Location, "fastcgi_pass http://127.0.0.1:9000;", Bad),
    (Location, "fastcgi_pass unix:;", Bad),
    (Location, "fastcgi_pass :9000;", Bad),
    (Location, "fastcgi_pass [::1:9000;", Bad),
    (Location, "proxy_pass http://127.0.0.1:8080;", Good),
    (Location, "proxy_pass http://backend/api/;", Good),
    (Location, "proxy_pass HTTPS://127.0.0.1;", Good),
    (Location, "proxy_pass http://unix:/run/app.sock:/;", Good),
    (Location, "proxy_pass $scheme://backend;", Good),
    (Location, "proxy_pass 127.0.0.1:8080;", Bad),
    (Location, "proxy_pass backend;", Bad),
    (Location, "proxy_pass ftp://backend;", Bad),
    (Location, "proxy_pass http://127.0.0.1:65536;", Bad),
    (Location, "proxy_pass http://:8080;", Bad),
    (Location, "proxy_pass http://;", Bad),
    (Location, "uwsgi_pass uwsgi://127.0.0.1:3031;", Good),
    (Location, "uwsgi_pass 127.0.0.1:3031;", Good),
    (Location, "uwsgi_pass http://127.0.0.1:3031;", Bad),
    (Location, "grpc_pass grpc://127.0.0.1:50051;", Good),
    (Location, "grpc_pass grpcs://127.0.0.1:50051;", Good),
    (Location, "grpc_pass 127.0.0.1:0;", Bad),
    (Location, "scgi_pass 127.0.0.1:4000;", Good),
    (Location, "scgi_pass /tmp/scgi.sock;", Bad),
    // server in upstream.
    (
        Upstream,
        "server 127.0.0.1:9000 weight=5 max_fails=3 fail_timeout=30s;",
        Good,
    ),
    (
        Upstream,
        "server unix:/run/php/php8.2-fpm.sock backup;",
        Good,
    ),
    (Upstream, "server 127.0.0.1:9001 down max_conns=10;", Good),
    (Upstream, "server 127.0.0.1:9000 weight=0;", Bad),
    (Upstream, "server 127.0.0.1:9000 weight=x;", Bad),
    (Upstream, "server 127.0.0.1:9000 max_fails=-1;", Bad),
    (Upstream, "server 127.0.0.1:9000 fail_timeout=30x;", Bad),
    (Upstream, "server 127.0.0.1:9000 max_conns=;", Bad),
    (Upstream, "server 127.0.0.1:9000 slow;", Bad),
    (Upstream, "server 127.0.0.1:9000 Backup;", Bad),
    (Upstream, "server 127.0.0.1:99999;", Bad),
    (Upstream, "server /run/php.sock;", Bad),
    (Upstream, "server unix:;", Bad),
    (Upstream, "server 127.0.0.1:9000/x;", Bad),
    // return.
    (Location, "return 404;", Good),
    (Location, "return 301 https://$host$request_uri;", Good),
    (Location, "return 200 \"ok\";", Good),
    (Location, "return https://example.com/;", Good),
    (Location, "return $scheme://example.com/;", Good),
    (Location, "return 999;", Good),
    (Location, "return 0;", Good),
    (Location, "return 1000;", Bad),
    (Location, "return /elsewhere;", Bad),
    (Location, "return https://example.com/ 301;", Bad),
    (Location, "return 30x;", Bad),
    (Location, "return -1;", Bad),
    // rewrite.
    (Location, "rewrite ^/(.*)$ /index.php?q=$1 last;", Good),
    (Location, "rewrite ^ /x break;", Good),
    (Location, "rewrite ^/old /new permanent;", Good),
    (Location, "rewrite ^/old /new redirect;", Good),
    (Location, "rewrite ^/old /new lst;", Bad),
    (Location, "rewrite ^/old /new Last;", Bad),
    (Location, "rewrite ^/old \"\";", Bad),
    (Location, "rewrite ^/(old /new;", Bad),
    (Location, "rewrite ^/old) /new;", Bad),
    (Location, "rewrite *old /new;", Bad),
    (Location, "rewrite ^/[old /new;", Bad),
    // set.
    (Location, "set $page 1;", Good),
    (Location, "set page 1;", Bad),
    // if conditions the parser takes, with nginx's regex compile.
    (Location, "if ($request_method = POST) { }", Good),
    (Location, "if ($http_x != \"\") { }", Good),
    (Location, "if (!-f $request_filename) { }", Good),
    (Location, "if (-d $request_filename) { }", Good),
    (
        Location,
        "if ($http_user_agent ~* \"(bot|spider)\") { }",
        Good,
    ),
    (Location, "if ($args) { }", Good),
    (Location, "if ( $args ) { }", Good),
    (
        Location,
        "if ($http_user_agent ~* \"(bot|spider\") { }",
        Bad,
    ),
    (Location, "if ($uri !~ \"a)\") { }", Bad),
    (Location, "if ($uri ~ \"[a\") { }", Bad),
    (Location, "if ($uri ~ \"+x\") { }", Bad),
    // error_page.
    (Server, "error_page 404 /404.html;", Good),
    (Server, "error_page 500 502 503 504 /50x.html;", Good),
    (Server, "error_page 404 =200 /empty.gif;", Good),
    (Server, "error_page 404 = @fallback;", Good),
    (Server, "error_page 299 /x.html;", Bad),
    (Server, "error_page 600 /x.html;", Bad),
    (Server, "error_page 499 /x.html;", Bad),
    (Server, "error_page 50x /x.html;", Bad),
    (Server, "error_page 404 =2x /x.html;", Bad),
    (Server, "error_page =404 /x.html;", Bad),
    // location.
    (Server, "location ~ \\.php$ { }", Good),
    (Server, "location ~* \\.(jpg|png)$ { }", Good),
    (Server, "location = /x { }", Good),
    (Server, "location ^~ /static/ { }", Good),
    (Server, "location ~\\.php$ { }", Good),
    (Server, "location ~ ^/(?<app>[a-z]+)/ { }", Good),
    (Server, "location ~ ^/(?:a|b)/ { }", Good),
    (Server, "location ~ [[:alpha:]]+ { }", Good),
    (Server, "location ~ \"a{2,3}\" { }", Good),
    (Server, "location ~ \"a{,3}\" { }", Good),
    (Server, "location ~ \\Q(\\E { }", Good),
    (Server, "location ~ ^/(wp-admin { }", Bad),
    (Server, "location ~ ^/wp-admin) { }", Bad),
    (Server, "location ~ \"*.php$\" { }", Bad),
    (Server, "location ~ [a-z { }", Bad),
    (Server, "location ~ \"a{3,2}\" { }", Bad),
    (Server, "location ~ \"a{99999}\" { }", Bad),
    (Server, "location ~ \"(?z)\" { }", Bad),
    (Server, "location ~ \"(?\" { }", Bad),
    (Server, "location ~ \"a(?#x\" { }", Bad),
    (Server, "location ~ \"a**\" { }", Bad),
    (Server, "location ~ \"a|?\" { }", Bad),
    (Server, "location ~ \"(+a)\" { }", Bad),
    (Server, "location ~ \"a{2}*\" { }", Bad),
    (Server, "location ~* \"(a\" { }", Bad),
    (Server, "location ~\"(a\" { }", Bad),
    (Server, "location ~ \"\\\\\" { }", Bad),
    (Server, "location == /x { }", Bad),
    (Server, "location ^ /x { }", Bad),
    // server_name.
    (
        Server,
        "server_name example.com *.example.com .example.org;",
        Good,
    ),
    (Server, "server_name ~^(www\\.)?(?<domain>.+)$;", Good),
    (Server, "server_name \"\";", Good),
    (Server, "server_name *example.com;", Bad),
    (Server, "server_name .;", Bad),
    (Server, "server_name ~;", Bad),
    (Server, "server_name ~^(www\\.example\\.com$;", Bad),
    // fastcgi_split_path_info.
    (Location, "fastcgi_split_path_info ^(.+\\.php)(/.+)$;", Good),
    (Location, "fastcgi_split_path_info ^(.+\\.php)(.*)$;", Good),
    (Location, "fastcgi_split_path_info ^(.+\\.php)$;", Bad),
    (Location, "fastcgi_split_path_info ^(.+\\.php)(/.+$;", Bad),
    (
        Location,
        "fastcgi_split_path_info ^(?:.+\\.php)(/.+)(x)(y)$;",
        Bad,
    ),
    // expires.
    (Location, "expires 30d;", Good),
    (Location, "expires max;", Good),
    (Location, "expires epoch;", Good),
    (Location, "expires off;", Good),
    (Location, "expires -1;", Good),
    (Location, "expires @15h30m;", Good),
    (Location, "expires modified +24h;", Good),
    (Location, "expires $arg_expires;", Good),
    (Location, "expires 30days;", Bad),
    (Location, "expires @25h;", Bad),
    (Location, "expires modified @1h;", Bad),
    (Location, "expires access 1h;", Bad),
    (Location, "expires never;", Bad),
    // add_header.
    (Location, "add_header X-Frame-Options SAMEORIGIN;", Good),
    (
        Location,
        "add_header X-Frame-Options SAMEORIGIN always;",
        Good,
    ),
    (
        Location,
        "add_header X-Frame-Options SAMEORIGIN allways;",
        Bad,
    ),
    (
        Location,
        "add_header Cache-Control \"no-store\" Always;",
        Bad,
    ),
    // limit_req_zone and limit_req.
    (
        Http,
        "limit_req_zone $binary_remote_addr zone=two:10m rate=10r/s;",
        Good,
    ),
    (
        Http,
        "limit_req_zone $binary_remote_addr zone=two:10m rate=30r/m;",
        Good,
    ),
    (
        Http,
        "limit_req_zone $binary_remote_addr zone=two:10m rate=5;",
        Good,
    ),
    (
        Http,
        "limit_req_zone $binary_remote_addr zone=two:10m rate=10r/h;",
        Bad,
    ),
    (
        Http,
        "limit_req_zone $binary_remote_addr zone=two:10m rate=0r/s;",
        Bad,
    ),
    (
        Http,
        "limit_req_zone $binary_remote_addr zone=two rate=1r/s;",
        Bad,
    ),
    (
        Http,
        "limit_req_zone $binary_remote_addr zone=two:10x rate=1r/s;",
        Bad,
    ),
    (
        Http,
        "limit_req_zone $binary_remote_addr zone=two:1k rate=1r/s;",
        Bad,
    ),
    (
        Http,
        "limit_req_zone $binary_remote_addr zone=two:10m speed=1r/s;",
        Bad,
    ),
    (
        Http,
        "limit_req_zone $binary_remote_addr rate=1r/s burst=5;",
        Bad,
    ),
    (Location, "limit_req zone=one burst=5 nodelay;", Good),
    (Location, "limit_req zone=one burst=10 delay=5;", Good),
    (Location, "limit_req zone=one burst=0;", Bad),
    (Location, "limit_req zone=one burst=x;", Bad),
    (Location, "limit_req zone=one delay=0;", Bad),
    (Location, "limit_req zone=one no_delay;", Bad),
    (Location, "limit_req burst=5;", Bad),
    // log_format escaping.
    (Http, "log_format j escape=json '{\"u\":\"$uri\"}';", Good),
    (Http, "log_format n escape=none '$uri';", Good),
    (Http, "log_format x escape=xml '$uri';", Bad),
    // Caches.
    (Http, "fastcgi_cache_path @DIR@/cache levels=1:2 keys_zone=php:10m inactive=60m max_size=1g use_temp_path=off;", Good),
    (Http, "proxy_cache_path @DIR@/pcache keys_zone=p:1m levels=2:2:2 loader_files=100 loader_sleep=50ms manager_threshold=200;", Good),
    (Http, "fastcgi_cache_path @DIR@/cache levels= keys_zone=php:10m;", Good),
    (Http, "fastcgi_cache_path @DIR@/cache levels=1:3 keys_zone=php:10m;", Bad),
    (Http, "fastcgi_cache_path @DIR@/cache levels=1:2:2:2 keys_zone=php:10m;", Bad),
    (Http, "fastcgi_cache_path @DIR@/cache levels=1: keys_zone=php:10m;", Bad),
    (Http, "fastcgi_cache_path @DIR@/cache keys_zone=php;", Bad),
    (Http, "fastcgi_cache_path @DIR@/cache keys_zone=php:10x;", Bad),
    (Http, "fastcgi_cache_path @DIR@/cache keys_zone=php:4k;", Bad),
    (Http, "fastcgi_cache_path @DIR@/cache levels=1:2;", Bad),
    (Http, "fastcgi_cache_path @DIR@/cache keys_zone=:10m;", Bad),
    (Http, "fastcgi_cache_path @DIR@/cache keys_zone=php:10m inactive=1x;", Bad),
    (Http, "fastcgi_cache_path @DIR@/cache keys_zone=php:10m max_size=1t;", Bad),
    (Http, "fastcgi_cache_path @DIR@/cache keys_zone=php:10m use_temp_path=no;", Bad),
    (Http, "fastcgi_cache_path @DIR@/cache keys_zone=php:10m loader_sleep=1y;", Bad),
    (Http, "fastcgi_cache_path @DIR@/cache keys_zone=php:10m manager_files=x;", Bad),
    (Http, "fastcgi_cache_path @DIR@/cache keys_zone=php:10m max-size=1g;", Bad),
    (Location, "fastcgi_cache_valid 200 301 60m;", Good),
    (Location, "fastcgi_cache_valid any 1m;", Good),
    (Location, "fastcgi_cache_valid 10m;", Good),
    (Location, "fastcgi_cache_valid 200 60x;", Bad),
    (Location, "fastcgi_cache_valid 600 1m;", Bad),
    (Location, "fastcgi_cache_valid ok 1m;", Bad),
    (Location, "proxy_cache_valid 404 1m;", Good),
    (Location, "proxy_cache_valid 99 1m;", Bad),
    // try_files: a last `=code`.
    (Location, "try_files $uri $uri/ /index.php?$args;", Good),
    (Location, "try_files $uri =404;", Good),
    (Location, "try_files $uri =999;", Good),
    (Location, "try_files $uri =1000;", Bad),
    (Location, "try_files $uri =40x;", Bad),
    (Location, "try_files $uri =;", Bad),
    (Location, "try_files $uri = 404;", Good),
    // allow / deny (ngx_ptocidr).
    (Location, "allow 10.0.0.0/8;", Good),
    (Location, "allow 192.168.1.10;", Good),
    (Location, "deny all;", Good),
    (Location, "allow unix:;", Good),
    (Location, "allow 2001:db8::/32;", Good),
    (Location, "allow ::1;", Good),
    (Location, "allow ::ffff:10.0.0.1;", Good),
    (Location, "allow 10.0.0.1/24;", Good),
    (Location, "deny localhost;", Bad),
    (Location, "allow 10.0.0.0/33;", Bad),
    (Location, "allow 10.0.0/8;", Bad),
    (Location, "allow 256.0.0.1;", Bad),
    (Location, "allow 10.0.0.0/x;", Bad),
    (Location, "allow 2001:db8::/129;", Bad),
    (Location, "allow 1:2:3:4:5:6:7::;", Bad),
    (Location, "deny 1::2::3;", Bad),
    (Location, "deny ALL;", Bad),
    // error_log levels.
    (Main, "error_log stderr warn;", Good),
    (Main, "error_log stderr;", Good),
    (Main, "error_log stderr debug_http debug_core;", Good),
    (Main, "error_log stderr warning;", Bad),
    (Main, "error_log stderr warn error;", Bad),
    (Main, "error_log stderr debug debug_http;", Bad),
    (Http, "error_log stderr crit;", Good),
    (Location, "error_log stderr Error;", Bad),
    // open_file_cache, directio.
    (Http, "open_file_cache max=1000 inactive=20s;", Good),
    (Http, "open_file_cache off;", Good),
    (Http, "open_file_cache max=0;", Bad),
    (Http, "open_file_cache inactive=20s;", Bad),
    (Http, "open_file_cache max=1000 inactive=20x;", Bad),
    (Http, "open_file_cache max=1000 valid=20s;", Bad),
    (Location, "directio 4m;", Good),
    (Location, "directio off;", Good),
    (Location, "directio on;", Bad),
    // ssl_session_cache.
    (Http, "ssl_session_cache shared:SSL:10m;", Good),
    (
        Http,
        "ssl_session_cache builtin:1000 shared:SSL2:10m;",
        Good,
    ),
    (Http, "ssl_session_cache none;", Good),
    (Http, "ssl_session_cache shared:SSL:10x;", Bad),
    (Http, "ssl_session_cache shared::10m;", Bad),
    (Http, "ssl_session_cache shared:SSL:16k;", Bad),
    (Http, "ssl_session_cache builtin:x;", Bad),
    (Http, "ssl_session_cache on;", Bad),
    // fastcgi_param's third argument.
    (Location, "fastcgi_param HTTPS $https if_not_empty;", Good),
    (Location, "fastcgi_param HTTPS $https if_empty;", Bad),
    (Location, "uwsgi_param X $uri if_not_empty;", Good),
    (Location, "scgi_param X $uri always;", Bad),
    // Inside `if` in a location.
    (LocationIf, "return 403;", Good),
    (LocationIf, "return 4033;", Bad),
    (LocationIf, "fastcgi_pass unix:/run/php.sock;", Good),
    (LocationIf, "fastcgi_pass /run/php.sock;", Bad),
    (LocationIf, "rewrite ^ /x lst;", Bad),
    (LocationIf, "set $x 1;", Good),
    (LocationIf, "expires 1x;", Bad),
    // What `check` leaves to nginx.
    (Location, "fastcgi_pass backend:9000;", Missed),
    (ServerBare, "listen 8080 quic;", Later),
    (ServerBare, "listen 8080 multipath;", Later),
    (Upstream, "server 127.0.0.1:9000 resolve;", Later),
    (Upstream, "server 127.0.0.1:9000 service=_http._tcp;", Later),
    (Upstream, "server 127.0.0.1:9000 drain;", Later),
    (Server, "location ~ \"(?<1a>x)\" { }", Missed),
    (Server, "location ~ \"(?<=a+)b\" { }", Missed),
    (Server, "location ~ \\8 { }", Missed),
    (Server, "location ~ \"^*\" { }", Missed),
    (Location, "return 301 \"${x\";", Missed),
];

const PRELUDE_HTTP: &str = "    access_log off;
    client_body_temp_path @DIR@/tmp/body;
    proxy_temp_path @DIR@/tmp/proxy;
    fastcgi_temp_path @DIR@/tmp/fastcgi;
    uwsgi_temp_path @DIR@/tmp/uwsgi;
    scgi_temp_path @DIR@/tmp/scgi;
    limit_req_zone $binary_remote_addr zone=one:1m rate=1r/s;
    upstream backend { server 127.0.0.1:9; }
";

/// The configuration for one case, and the line (1-based) the case sits on.
fn config(context: Ctx, line: &str, dir: &Path) -> (String, usize) {
    let (before, after) = match context {
        Main => ("", "events {}\n"),
        Events => ("events {\n", "}\n"),
        Http => ("events {}\nhttp {\n@PRELUDE@", "}\n"),
        Server => (
            "events {}\nhttp {\n@PRELUDE@server {\nlisten 127.0.0.1:8080;\n",
            "}\n}\n",
        ),
        ServerBare => ("events {}\nhttp {\n@PRELUDE@server {\n", "}\n}\n"),
        Location => (
            "events {}\nhttp {\n@PRELUDE@server {\nlisten 127.0.0.1:8080;\nlocation / {\n",
            "}\n}\n}\n",
        ),
        LocationIf => (
            "events {}\nhttp {\n@PRELUDE@server {\nlisten 127.0.0.1:8080;\nlocation / {\nif ($arg_x) {\n",
            "}\n}\n}\n}\n",
        ),
        Upstream => (
            "events {}\nhttp {\n@PRELUDE@upstream u {\nserver 127.0.0.1:1;\n",
            "}\nserver {\nlisten 127.0.0.1:8080;\nlocation / { proxy_pass http://u; }\n}\n}\n",
        ),
    };
    let before = before.replace("@PRELUDE@", PRELUDE_HTTP);
    let line_no = before.lines().count() + 1;
    let text = format!("{before}{line}\n{after}").replace("@DIR@", &dir.display().to_string());
    (text, line_no)
}

/// nginx's verdict: None when it accepts the file, else its `[emerg]` message and line.
fn nginx_verdict(nginx: &Path, dir: &Path, text: &str) -> Option<(String, usize)> {
    let conf = dir.join("nginx.conf");
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    std::fs::write(&conf, text).unwrap();
    let out = Command::new(nginx)
        .arg("-t")
        .arg("-q")
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&conf)
        .arg("-e")
        .arg("stderr")
        .arg("-g")
        .arg(format!("pid {}/nginx.pid;", dir.display()))
        .output()
        .expect("run nginx -t");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        return None;
    }
    let line = stderr
        .lines()
        .find(|l| l.contains("[emerg]"))
        .unwrap_or_else(|| panic!("nginx failed without [emerg]: {stderr}"));
    let after = &line[line.find("[emerg]").unwrap()..];
    let message = &after[after.find(": ").unwrap() + 2..];
    let suffix = format!(" in {}:", conf.display());
    match message.rfind(&suffix) {
        Some(at) => Some((
            message[..at].to_string(),
            message[at + suffix.len()..].trim().parse().unwrap_or(0),
        )),
        None => Some((message.to_string(), 0)),
    }
}

/// The spec `check` is called with: the generated table's entry for the directive in that
/// context, as the rules find it.
fn spec_for(name: &str, context: Ctx) -> DirectiveSpec {
    *directives::lookup(name)
        .iter()
        .find(|s| s.contexts & context.bit() != 0)
        .unwrap_or_else(|| panic!("the table has no {name:?} for {context:?}"))
}

/// What `check` (or `check_for_version`, given a version) says of the case's line: None for
/// accepted, else its message.
fn lint_verdict(
    context: Ctx,
    text: &str,
    line_no: usize,
    version: Option<Version>,
) -> Result<Option<String>, String> {
    let config = parse(text).map_err(|e| format!("lint's parser refuses: {}", e.message))?;
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line_no - 1)
        .map(str::len)
        .sum();
    let line_end = line_start + text[line_start..].find('\n').unwrap_or(text.len());
    let d = config
        .all_directives()
        .find(|d| (line_start..line_end).contains(&(d.span().start as usize)))
        .ok_or("no directive on the case's line")?;
    let spec = spec_for(d.name(), context);
    let problem = match version {
        None => directives::values::check(&spec, d),
        Some(v) => directives::values::check_for_version(&spec, d, Some(v)),
    };
    Ok(problem.map(|p| {
        let pointed = &text[p.span.range()];
        assert!(
            p.span.start as usize >= line_start && (p.span.end as usize) <= line_end,
            "span {pointed:?} is not on the case's line"
        );
        p.message
    }))
}

/// The installed nginx's version, from `nginx -v` (`nginx version: nginx/1.22.1`).
fn nginx_version(nginx: &Path) -> Version {
    let out = Command::new(nginx).arg("-v").output().expect("nginx -v");
    let text = String::from_utf8_lossy(&out.stderr);
    let v = text
        .split('/')
        .nth(1)
        .and_then(|v| v.split_whitespace().next())
        .unwrap_or_else(|| panic!("no version in {text:?}"));
    let mut parts = v
        .split('.')
        .map(|p| p.parse::<u16>().expect("version number"));
    Version(
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

#[test]
fn value_checks_agree_with_nginx() {
    let Some(bins) = support::require_stack() else {
        return;
    };
    let nginx = bins.nginx;
    let installed = nginx_version(&nginx);
    let threads = 2;
    let chunk = CASES.len().div_ceil(threads);
    let results: Vec<Vec<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = CASES
            .chunks(chunk)
            .map(|cases| {
                let nginx = nginx.clone();
                scope.spawn(move || {
                    let tmp = tempfile::tempdir().unwrap();
                    let mut failures = Vec::new();
                    for &(context, line, meant) in cases {
                        let (text, line_no) = config(context, line, tmp.path());
                        let real = nginx_verdict(&nginx, tmp.path(), &text);
                        if (real.is_some()) != (meant != Good) {
                            failures.push(format!(
                                "BROKEN CASE {context:?} `{line}`: meant {meant:?}, nginx says {real:?}"
                            ));
                            continue;
                        }
                        if let Some((_, at)) = &real {
                            if *at != line_no {
                                failures.push(format!(
                                    "BROKEN CASE {context:?} `{line}`: nginx refuses line {at}, not the case's line {line_no}: {real:?}"
                                ));
                                continue;
                            }
                        }
                        let version = (meant == Later).then_some(installed);
                        if meant == Later {
                            // Unknown version: left alone.
                            if let Ok(Some(m)) = lint_verdict(context, &text, line_no, None) {
                                failures.push(format!(
                                    "{context:?} `{line}`: flagged with no version given: {m}"
                                ));
                            }
                        }
                        let ours = match lint_verdict(context, &text, line_no, version) {
                            Ok(v) => v,
                            Err(e) => {
                                failures.push(format!("{context:?} `{line}`: {e}"));
                                continue;
                            }
                        };
                        let real = real.map(|(m, _)| m);
                        if meant == Missed {
                            if ours.is_some() {
                                failures.push(format!(
                                    "{context:?} `{line}` was expected to be left to nginx, check says {ours:?}"
                                ));
                            }
                            continue;
                        }
                        if ours != real {
                            failures.push(format!(
                                "{context:?} `{line}`:\n    nginx: {real:?}\n    check: {ours:?}"
                            ));
                        }
                    }
                    failures
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let failures: Vec<String> = results.into_iter().flatten().collect();
    let count = |m: Meant| CASES.iter().filter(|c| c.2 == m).count();
    eprintln!(
        "{} cases: {} refused by nginx and by check with nginx's message, {} accepted by both, \
         {} parameters of later nginx versions refused as nginx {installed:?} does when the \
         version is given, {} refused by nginx and left alone by check on purpose; \
         {} disagreements",
        CASES.len(),
        count(Bad),
        count(Good),
        count(Later),
        count(Missed),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The PCRE2 syntax reader against the PCRE2 nginx links, on generated patterns: 800 strings
/// of the characters that matter to it, each compiled by nginx as a `location ~` regex. Where
/// the reader decides, it must agree with nginx exactly (refusal and message); where it is
/// unsure it says so, and the count is printed.
#[test]
fn regex_reader_agrees_with_pcre2_on_generated_patterns() {
    use directives::values::regex::{self, Verdict};
    let Some(bins) = support::require_stack() else {
        return;
    };
    let alphabet: Vec<char> = "ab()[]{},:?*+|\\^$.<>'#=!PQE0123-".chars().collect();
    // xorshift64: the same patterns on every run.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let patterns: Vec<String> = (0..800)
        .map(|_| {
            let len = (next() % 10) as usize + 1;
            (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect()
        })
        .collect();
    let outcomes: Vec<(String, [usize; 4])> = std::thread::scope(|scope| {
        let handles: Vec<_> = patterns
            .chunks(patterns.len().div_ceil(2))
            .map(|chunk| {
                let nginx = bins.nginx.clone();
                scope.spawn(move || {
                    let tmp = tempfile::tempdir().unwrap();
                    let mut failures = String::new();
                    // accepted by both, refused by both alike, left to nginx (unsure or missed)
                    let mut counts = [0usize; 4];
                    for p in chunk {
                        // In a quoted nginx string only `\\` and `\"` change: double the `\`.
                        let line = format!("location ~ \"{}\" {{ }}", p.replace('\\', "\\\\"));
                        let (text, _) = config(Server, &line, tmp.path());
                        let real = nginx_verdict(&nginx, tmp.path(), &text).map(|(m, _)| m);
                        let ours = match regex::check(p) {
                            Verdict::Ok { .. } => None,
                            Verdict::Err { message, offset } => {
                                Some(regex::nginx_message(p, message, offset))
                            }
                            Verdict::Unsure => {
                                counts[2] += 1;
                                continue;
                            }
                        };
                        match (&real, &ours) {
                            (None, None) => counts[0] += 1,
                            (Some(a), Some(b)) if a == b => counts[1] += 1,
                            (Some(_), None) => counts[3] += 1,
                            _ => failures.push_str(&format!(
                                "{p:?}\n    nginx: {real:?}\n    ours:  {ours:?}\n"
                            )),
                        }
                    }
                    (failures, counts)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut failures = String::new();
    let mut counts = [0usize; 4];
    for (f, c) in outcomes {
        failures.push_str(&f);
        for k in 0..4 {
            counts[k] += c[k];
        }
    }
    eprintln!(
        "{} patterns: {} accepted by both, {} refused by both with the same message, \
         {} the reader is unsure of, {} refused by PCRE2 and not seen by the reader",
        patterns.len(),
        counts[0],
        counts[1],
        counts[2],
        counts[3]
    );
    assert!(failures.is_empty(), "disagreements:\n{failures}");
}

/// Every directive of the generated table that nginx reads with a standard slot (flag,
/// number, size, offset, msec, sec, enum, bitmask), in a context it may sit in, with a value
/// each slot refuses and one it takes, given to the installed nginx: its static modules, and a
/// dynamic module's directives with a `load_module` of it when its file is installed (the
/// others are unknown to it and skipped). Where nginx judges the line itself, `check` must
/// say exactly what it says. This proves the table's value kinds and the slot readers
/// together, directive by directive.
#[test]
fn every_standard_slot_of_the_table_agrees_with_nginx() {
    use directives::{args, nginx_table, ValueKind};
    let Some(bins) = support::require_stack() else {
        return;
    };
    let installed = nginx_version(&bins.nginx);
    let contexts = [
        (ctx::HTTP_LOC, Location),
        (ctx::HTTP_SRV, Server),
        (ctx::HTTP, Http),
        (ctx::MAIN, Main),
        (ctx::EVENTS, Events),
        (ctx::HTTP_UPS, Upstream),
    ];
    const MODULES_DIR: &str = "/usr/lib/nginx/modules";
    // The `load_module` lines a directive of `module` needs (NDK first: Lua and set-misc
    // build on it), or None when its file is not installed.
    let loads = |module: &str| -> Option<String> {
        let Some(file) = directives::modules()
            .iter()
            .find(|m| m.name == module)
            .and_then(|m| m.dynamic_file)
        else {
            return Some(String::new());
        };
        let path = Path::new(MODULES_DIR).join(file);
        if !path.is_file() {
            return None;
        }
        let mut lines = String::new();
        let ndk = Path::new(MODULES_DIR).join("ndk_http_module.so");
        if file != "ndk_http_module.so" && ndk.is_file() {
            lines.push_str(&format!("load_module {};\n", ndk.display()));
        }
        if module.starts_with("ngx_stream_") && file != "ngx_stream_module.so" {
            lines.push_str(&format!(
                "load_module {MODULES_DIR}/ngx_stream_module.so;\n"
            ));
        }
        lines.push_str(&format!("load_module {};\n", path.display()));
        Some(lines)
    };
    // (context, lines, the load_module lines they need)
    let mut work: Vec<(Ctx, Vec<String>, String)> = Vec::new();
    let mut taken: std::collections::BTreeMap<(Ctx, String), Vec<String>> = Default::default();
    for spec in nginx_table::DIRECTIVES {
        let (bad, good): (&str, String) = match spec.value {
            ValueKind::Flag => ("maybe", "on".into()),
            ValueKind::Number => ("12x", "1".into()),
            ValueKind::Size | ValueKind::Offset => ("12x", "8k".into()),
            ValueKind::Msec | ValueKind::Sec => ("12x", "10s".into()),
            ValueKind::Enum(words) | ValueKind::Bitmask(words) => {
                ("zzz", words.first().map_or("", |w| w).into())
            }
            ValueKind::Custom | ValueKind::Str => continue,
        };
        let live = spec.since <= installed && spec.until.is_none_or(|u| u > installed);
        if !live || spec.args & args::BLOCK != 0 || !directives::arg_count_ok(spec.args, 1) {
            continue;
        }
        let Some(&(_, context)) = contexts.iter().find(|(bit, _)| spec.contexts & bit != 0) else {
            continue;
        };
        let Some(load) = loads(spec.module) else {
            continue;
        };
        // A refused value is the first error of its file: one run each. Values taken are
        // given together, one file per context and module, and alone only if that fails.
        work.push((context, vec![format!("{} {bad};", spec.name)], load.clone()));
        taken
            .entry((context, load))
            .or_default()
            .push(format!("{} {good};", spec.name));
    }
    let lines_total = work.len() + taken.values().map(Vec::len).sum::<usize>();
    work.extend(taken.into_iter().map(|((c, load), lines)| (c, lines, load)));
    // Interleave the cheap and the slow (Lua, ModSecurity) between the two threads.
    let halves: [Vec<_>; 2] = [
        work.iter().step_by(2).cloned().collect(),
        work.iter().skip(1).step_by(2).cloned().collect(),
    ];
    let outcomes: Vec<(String, [usize; 3])> = std::thread::scope(|scope| {
        let handles: Vec<_> = halves
            .iter()
            .map(|chunk| {
                let nginx = bins.nginx.clone();
                scope.spawn(move || {
                    let tmp = tempfile::tempdir().unwrap();
                    let mut failures = String::new();
                    // agreed; refused by nginx for something else (unknown module, other line)
                    let mut counts = [0usize; 3];
                    let mut queue: Vec<(Ctx, Vec<String>, String)> = chunk.clone();
                    while let Some((context, lines, load)) = queue.pop() {
                        let (text, first) = config(context, &lines.join("\n"), tmp.path());
                        let text = format!("{load}{text}");
                        let first = first + load.lines().count();
                        let real = nginx_verdict(&nginx, tmp.path(), &text);
                        if lines.len() > 1 {
                            if real.is_some() {
                                // Some line of the batch is refused: each alone.
                                queue.extend(
                                    lines.into_iter().map(|l| (context, vec![l], load.clone())),
                                );
                                continue;
                            }
                            for (k, line) in lines.iter().enumerate() {
                                let ours = lint_verdict(context, &text, first + k, None)
                                    .unwrap_or_else(|e| Some(format!("lint failed: {e}")));
                                match ours {
                                    None => counts[0] += 1,
                                    Some(m) => failures.push_str(&format!(
                                        "{context:?} `{line}`:\n    nginx: accepts\n    check: {m}\n"
                                    )),
                                }
                            }
                            continue;
                        }
                        let line = &lines[0];
                        let real = match real {
                            Some((m, at))
                                if at != first
                                    || m.starts_with("unknown directive")
                                    || m.ends_with("directive is duplicate") =>
                            {
                                counts[1] += 1;
                                continue;
                            }
                            other => other.map(|(m, _)| m),
                        };
                        let ours = lint_verdict(context, &text, first, None)
                            .unwrap_or_else(|e| Some(format!("lint failed: {e}")));
                        if ours == real {
                            counts[0] += 1;
                        } else {
                            failures.push_str(&format!(
                                "{context:?} `{line}`:\n    nginx: {real:?}\n    check: {ours:?}\n"
                            ));
                        }
                    }
                    (failures, counts)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut failures = String::new();
    let mut counts = [0usize; 3];
    for (f, c) in outcomes {
        failures.push_str(&f);
        for k in 0..3 {
            counts[k] += c[k];
        }
    }
    eprintln!(
        "{} standard-slot lines from the table: {} judged alike by nginx and check, {} that \
         nginx refused for something else (a module it lacks, another line, a duplicate)",
        lines_total, counts[0], counts[1]
    );
    assert!(failures.is_empty(), "disagreements:\n{failures}");
}
