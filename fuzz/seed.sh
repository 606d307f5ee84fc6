#!/usr/bin/env bash
# Build the fuzz seed corpora from fixtures/ and examples/ (nothing binary is committed).
#   fuzz/corpus/nginx_parse, fuzz/corpus/fpm_parse: one seed per config file
#   fuzz/corpus/lint_fix: one seed per fixture tree, its files joined by NUL bytes
#     (nginx files first, then php-fpm files, at most six, as the target reads them)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
out="$here/corpus"
mkdir -p "$out/nginx_parse" "$out/fpm_parse" "$out/lint_fix"

# By the path inside the repository: the checkout's own path may contain "fpm/" (wt-fpm/).
is_fpm() {
  case "${1#"$repo"/}" in
    *php-fpm*|*fpm/*|*fpm.d/*|*pool.d/*|*pools.conf) return 0 ;;
    *) return 1 ;;
  esac
}

n=0
while IFS= read -r f; do
  case "$f" in *.md|*.php) continue ;; esac
  n=$((n + 1))
  if is_fpm "$f"; then dest=fpm_parse; else dest=nginx_parse; fi
  cp "$f" "$out/$dest/seed-$n"
done < <(cd "$repo" && find fixtures examples -type f | sort | sed "s|^|$repo/|")

# One lint_fix seed per tree: a directory holding an nginx.conf-ish file or a site.
t=0
while IFS= read -r dir; do
  t=$((t + 1))
  nginx_files=() fpm_files=()
  while IFS= read -r f; do
    case "$f" in *.md|*.php) continue ;; esac
    if is_fpm "$f"; then fpm_files+=("$f"); else nginx_files+=("$f"); fi
  done < <(find "$dir" -type f | sort)
  files=("${nginx_files[@]}" "${fpm_files[@]}")
  seed="$out/lint_fix/tree-$t"
  : > "$seed"
  for i in "${!files[@]}"; do
    [ "$i" -ge 6 ] && break
    [ "$i" -gt 0 ] && printf '\0' >> "$seed"
    cat "${files[$i]}" >> "$seed"
  done
done < <(cd "$repo" && find fixtures/*/* examples/* -mindepth 0 -maxdepth 0 -type d | sort | sed "s|^|$repo/|")

# A tree whose values sit at the edges of the rules' arithmetic (C int, i64, u64; zero).
printf '%s\0\0%s\0%s' \
  'events {}
http {
    fastcgi_buffers 4611686018427387905 4;
    server {
        location ~ \.php$ {
            fastcgi_buffer_size 9223372036854775807;
            fastcgi_busy_buffers_size 0;
            fastcgi_read_timeout 9223372036854775807ms;
            include fastcgi_params;
            fastcgi_pass unix:/run/php/php8.2-fpm.sock;
        }
    }
}
' '[global]
process.max = 2147483648
include=/etc/php/8.2/fpm/pool.d/*.conf
' '[www]
listen = /run/php/php8.2-fpm.sock
pm = dynamic
pm.max_children = 4294967301
pm.min_spare_servers = 0
pm.max_spare_servers = 99999999999999999999
listen.backlog = 2147483648
php_admin_value[memory_limit] = 4294967296G
request_terminate_timeout = 4294967297s
php_admin_value[max_execution_time] = 18446744073709551615
' > "$out/lint_fix/edges"

echo "seeds: $(ls "$out/nginx_parse" | wc -l) nginx, $(ls "$out/fpm_parse" | wc -l) fpm, $(ls "$out/lint_fix" | wc -l) trees"
