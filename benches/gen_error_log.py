#!/usr/bin/env python3
"""Write a large nginx error.log for timing `diagnose` (benches/README in BENCHMARKS.md).

Usage: benches/gen_error_log.py SIZE_MB OUT

The lines are the shapes nginx 1.22 writes on a busy PHP site having a bad day: mostly
connect() failures and resets to a few sockets and ports, timeouts, too-big headers, PHP
fatals, and lines no cause uses (client errors, SSL noise). Deterministic: the same SIZE_MB
gives the same file.
"""
import random
import sys

size = int(sys.argv[1]) * 1024 * 1024
out = sys.argv[2]
rnd = random.Random(42)
upstreams = [
    "unix:/run/php/php8.2-fpm.sock:",
    "unix:/run/php/php8.1-fpm.sock:",
    "127.0.0.1:9000",
    "172.18.0.3:9000",
]
templates = [
    (30, '{t} [crit] {pid}#{pid}: *{c} connect() to {u} failed (2: No such file or directory) while connecting to upstream, client: {ip}, server: shop.example, request: "GET {path} HTTP/1.1", upstream: "fastcgi://{u}", host: "shop.example"'),
    (15, '{t} [error] {pid}#{pid}: *{c} connect() failed (111: Connection refused) while connecting to upstream, client: {ip}, server: shop.example, request: "POST {path} HTTP/1.1", upstream: "fastcgi://{u}", host: "shop.example"'),
    (15, '{t} [error] {pid}#{pid}: *{c} recv() failed (104: Connection reset by peer) while reading response header from upstream, client: {ip}, server: shop.example, request: "GET {path} HTTP/1.1", upstream: "fastcgi://{u}", host: "shop.example"'),
    (10, '{t} [error] {pid}#{pid}: *{c} upstream timed out (110: Connection timed out) while reading response header from upstream, client: {ip}, server: shop.example, request: "GET {path} HTTP/1.1", upstream: "fastcgi://{u}", host: "shop.example"'),
    (5, '{t} [error] {pid}#{pid}: *{c} upstream sent too big header while reading response header from upstream, client: {ip}, server: shop.example, request: "GET {path} HTTP/1.1", upstream: "fastcgi://{u}", host: "shop.example"'),
    (5, '{t} [error] {pid}#{pid}: *{c} FastCGI sent in stderr: "PHP message: PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted (tried to allocate 20480 bytes) in /var/www/shop/vendor/lib.php on line 42" while reading response header from upstream, client: {ip}, server: shop.example, request: "GET {path} HTTP/1.1", upstream: "fastcgi://{u}", host: "shop.example"'),
    (20, '{t} [error] {pid}#{pid}: *{c} open() "/var/www/shop/public{path}" failed (2: No such file or directory), client: {ip}, server: shop.example, request: "GET {path} HTTP/1.1", host: "shop.example"'),
]
weights = [w for w, _ in templates]
paths = ["/index.php", "/checkout.php", "/api/cart.php?id=12", "/wp-login.php", "/favicon.ico"]
written = 0
n = 0
with open(out, "w") as f:
    while written < size:
        n += 1
        sec = n // 50
        t = "2026/12/03 %02d:%02d:%02d" % ((sec // 3600) % 24, (sec // 60) % 60, sec % 60)
        tpl = rnd.choices(templates, weights)[0][1]
        line = tpl.format(
            t=t,
            pid=1000 + n % 4,
            c=n,
            u=rnd.choice(upstreams),
            ip="203.0.113.%d" % (n % 250),
            path=rnd.choice(paths),
        ) + "\n"
        f.write(line)
        written += len(line)
