#!/usr/bin/env python3
"""Generate a realistic Debian-layout nginx + PHP-FPM tree with N PHP sites.

Each site is one nginx server file (~4 KB: HTTP->HTTPS redirect, TLS server with several
locations, FastCGI params, includes, comments) plus one php-fpm pool (~1 KB): about 5 KB a
site, so 10,000 sites are about 50 MB. Deterministic: the same N gives the same bytes.

usage: gen_tree.py N OUT_DIR
"""
import os
import sys

NGINX_CONF = """user www-data;
worker_processes auto;
pid logs/nginx.pid;
error_log logs/error.log;

events {
    worker_connections 1024;
}

http {
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    server_tokens off;

    include mime.types;
    default_type application/octet-stream;

    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;

    access_log logs/access.log;
    gzip on;
    gzip_types text/plain text/css application/json application/javascript;

    include conf.d/*.conf;
    include sites-enabled/*;
}
"""

MIME_TYPES = """types {
    text/html                             html htm shtml;
    text/css                              css;
    text/xml                              xml;
    image/gif                             gif;
    image/jpeg                            jpeg jpg;
    application/javascript                js;
    application/json                      json;
    image/png                             png;
    image/svg+xml                         svg svgz;
    image/webp                            webp;
    font/woff2                            woff2;
    application/pdf                       pdf;
    application/zip                       zip;
}
"""

FASTCGI_PHP = """# regex to split $uri to $fastcgi_script_name and $fastcgi_path
fastcgi_split_path_info ^(.+?\\.php)(/.*)$;

# Check that the PHP script exists before passing it
try_files $fastcgi_script_name =404;

# Bypass the fact that try_files resets $fastcgi_path_info
set $path_info $fastcgi_path_info;
fastcgi_param PATH_INFO $path_info;

fastcgi_index index.php;
include fastcgi.conf;
"""

FASTCGI_CONF = "".join(
    f"fastcgi_param  {k:<18} {v};\n"
    for k, v in [
        ("SCRIPT_FILENAME", "$document_root$fastcgi_script_name"),
        ("QUERY_STRING", "$query_string"),
        ("REQUEST_METHOD", "$request_method"),
        ("CONTENT_TYPE", "$content_type"),
        ("CONTENT_LENGTH", "$content_length"),
        ("SCRIPT_NAME", "$fastcgi_script_name"),
        ("REQUEST_URI", "$request_uri"),
        ("DOCUMENT_URI", "$document_uri"),
        ("DOCUMENT_ROOT", "$document_root"),
        ("SERVER_PROTOCOL", "$server_protocol"),
        ("REQUEST_SCHEME", "$scheme"),
        ("HTTPS", "$https if_not_empty"),
        ("GATEWAY_INTERFACE", "CGI/1.1"),
        ("SERVER_SOFTWARE", "nginx/$nginx_version"),
        ("REMOTE_ADDR", "$remote_addr"),
        ("REMOTE_PORT", "$remote_port"),
        ("SERVER_ADDR", "$server_addr"),
        ("SERVER_PORT", "$server_port"),
        ("SERVER_NAME", "$server_name"),
        ("REDIRECT_STATUS", "200"),
    ]
)

PHP_FPM_CONF = """;;;;;;;;;;;;;;;;;;;;;
; FPM Configuration ;
;;;;;;;;;;;;;;;;;;;;;

[global]
pid = /run/php/php8.2-fpm.pid
error_log = /var/log/php8.2-fpm.log
; emergency_restart_threshold = 0
; emergency_restart_interval = 0
; process_control_timeout = 0

include=/etc/php/8.2/fpm/pool.d/*.conf
"""

SITE = """# {name}: managed by deploy tooling; local changes are overwritten.
# Owner: team-{team}  Ticket: OPS-{ticket}

upstream php_{ident} {{
    server unix:/run/php/php8.2-fpm-{ident}.sock;
    keepalive 8;
}}

server {{
    listen 80;
    listen [::]:80;
    server_name {name} www.{name};

    # Let's Encrypt challenges stay on plain HTTP
    location ^~ /.well-known/acme-challenge/ {{
        root /var/www/letsencrypt;
        default_type "text/plain";
    }}

    location / {{
        return 301 https://$host$request_uri;
    }}
}}

server {{
    listen 443 ssl http2;
    listen [::]:443 ssl http2;
    server_name {name} www.{name};

    # One wildcard certificate for the fleet (see ssl/README)
    ssl_certificate ssl/fleet.pem;
    ssl_certificate_key ssl/fleet.key;
    ssl_session_timeout 1d;
    ssl_session_cache shared:SSL_{ident}:10m;

    root /var/www/{name}/public;
    index index.php index.html;
    charset utf-8;
    client_max_body_size {upload}m;

    # Relative to nginx's prefix (the directory of nginx.conf), so `nginx -t` on this tree
    # opens its logs inside the tree, not in /var/log.
    # (errors go to the shared log: one file a site keeps `nginx -t` under the usual
    # 20,000 open-files limit on a 10,000-site host)
    access_log logs/{name}.access.log;

    add_header X-Frame-Options "SAMEORIGIN" always;
    add_header X-Content-Type-Options "nosniff" always;
    add_header Referrer-Policy "strict-origin-when-cross-origin" always;

    # Front controller: everything that is not a file goes to index.php
    location / {{
        try_files $uri $uri/ /index.php?$query_string;
    }}

    location = /favicon.ico {{ access_log off; log_not_found off; }}
    location = /robots.txt  {{ access_log off; log_not_found off; }}

    # Static assets: long cache, no logs
    location ~* \\.(?:css|js|jpg|jpeg|gif|png|svg|webp|woff2?)$ {{
        expires 30d;
        add_header Cache-Control "public, immutable";
        access_log off;
    }}

    location ~ \\.php$ {{
        include snippets/fastcgi-php.conf;
        fastcgi_pass php_{ident};
        fastcgi_param APP_ENV production;
        fastcgi_param HTTP_PROXY "";
        fastcgi_read_timeout {timeout}s;
        fastcgi_buffers 16 16k;
        fastcgi_buffer_size 32k;
    }}

    location /api/ {{
        limit_except GET POST {{ deny all; }}
        try_files $uri /index.php$is_args$args;
    }}

    location ^~ /admin/ {{
        allow 10.0.0.0/8;
        deny all;
        try_files $uri /index.php$is_args$args;
    }}

    # Never serve dotfiles or backups
    location ~ /\\.(?!well-known) {{
        deny all;
    }}

    location ~ ~$ {{
        deny all;
    }}

    # User uploads are data, never code: refuse to run PHP from them
    location ^~ /uploads/ {{
        location ~ \.php$ {{ return 403; }}
        expires 7d;
        try_files $uri =404;
    }}

    location /storage/ {{
        internal;
        alias /var/www/{name}/storage/app/public/;
    }}

    # Old URLs from the previous CMS
    location /blog/ {{
        rewrite ^/blog/(\d+)/(.*)$ /posts/$2?legacy_id=$1 permanent;
    }}

    location = /healthz {{
        access_log off;
        default_type application/json;
        return 200 '{{"status":"ok","site":"{ident}"}}';
    }}

    location /status {{
        allow 127.0.0.1;
        deny all;
        include snippets/fastcgi-php.conf;
        fastcgi_pass php_{ident};
        fastcgi_param SCRIPT_FILENAME /usr/share/php/status.php;
    }}

    # Websocket endpoint served by a sidecar
    location /ws/ {{
        proxy_pass http://127.0.0.1:{wsport};
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
        proxy_set_header Host $host;
        proxy_read_timeout 3600s;
    }}

    error_page 404 /index.php;
    error_page 500 502 503 504 /50x.html;
    location = /50x.html {{
        root /usr/share/nginx/html;
    }}
}}
"""

POOL = """; Pool for {name}
[{ident}]
user = {user}
group = {user}

listen = /run/php/php8.2-fpm-{ident}.sock
listen.owner = www-data
listen.group = www-data
listen.mode = 0660

pm = dynamic
pm.max_children = {children}
pm.start_servers = 2
pm.min_spare_servers = 1
pm.max_spare_servers = 3
pm.max_requests = 500

request_terminate_timeout = {timeout}s
slowlog = /var/log/php-fpm/{ident}.slow.log
request_slowlog_timeout = 10s

php_admin_value[error_log] = /var/log/php-fpm/{ident}.error.log
php_admin_flag[log_errors] = on
php_admin_value[memory_limit] = 256M
php_admin_value[upload_max_filesize] = {upload}M
php_admin_value[post_max_size] = {upload}M
php_value[session.save_path] = /var/lib/php/sessions/{ident}
env[APP_ENV] = production
env[TMPDIR] = /tmp
env[APP_URL] = "https://{name}"
; Tuning notes: max_children is sized from the container memory limit divided by
; the measured RSS of one worker (about 60 MB for this application).
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    ng = os.path.join(out, "etc/nginx")
    fpm = os.path.join(out, "etc/php/8.2/fpm")
    write(f"{ng}/nginx.conf", NGINX_CONF)
    write(f"{ng}/mime.types", MIME_TYPES)
    write(f"{ng}/snippets/fastcgi-php.conf", FASTCGI_PHP)
    write(f"{ng}/fastcgi.conf", FASTCGI_CONF)
    write(f"{ng}/conf.d/gzip.conf", "gzip_vary on;\ngzip_min_length 1024;\n")
    write(f"{fpm}/php-fpm.conf", PHP_FPM_CONF)
    os.makedirs(f"{ng}/logs", exist_ok=True)
    for i in range(n):
        ident = f"site{i:05d}"
        v = dict(
            name=f"{ident}.example.com",
            ident=ident,
            team=i % 17,
            ticket=1000 + i,
            upload=8 << (i % 4),
            timeout=30 + i % 5 * 30,
            user=f"web{i:05d}",
            children=5 + i % 20,
            wsport=20000 + i % 40000,
        )
        write(f"{ng}/sites-enabled/{ident}.conf", SITE.format(**v))
        write(f"{fpm}/pool.d/{ident}.conf", POOL.format(**v))


if __name__ == "__main__":
    main()
