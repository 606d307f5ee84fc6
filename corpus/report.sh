#!/usr/bin/env bash
# Lint the shared corpus and the extra corpus deployment by deployment, count the findings per rule
# and severity, list every error-level finding, and set each file's lint refusal against what real
# `nginx -t` / `php-fpm -t` say about it (corpus/realcheck.py).
#
# One deployment = one source folder: nginx/<src> linted together with php-fpm/<src> when present,
# run from the corpus root as `lint --isolated --format concise --quiet` (the before-stop check's
# invocation). Sources with only php-fpm files are linted on their own.
#
# Environment: NGINX_FPM_LINT_CORPUS (shared corpus), NGINX_FPM_LINT_EXTRA_CORPUS (extra corpus,
# from fetch.sh), NFL_BIN (linter binary, default target/release/nginx-fpm-lint), NFL_REPORT_DIR
# (where the TSVs are kept, default a new temp dir), NFL_NO_REAL=1 (skip nginx -t / php-fpm -t).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
bin=${NFL_BIN:-$top/target/release/nginx-fpm-lint}
shared=${NGINX_FPM_LINT_CORPUS:-}
if [ -z "$shared" ]; then
  for c in "$top/../shared/corpus" "$top/../../shared/corpus"; do
    [ -d "$c/nginx" ] && { shared=$(cd "$c" && pwd); break; }
  done
fi
extra=${NGINX_FPM_LINT_EXTRA_CORPUS:-$(dirname "$top")/corpus-extra}
out=${NFL_REPORT_DIR:-$(mktemp -d /tmp/nfl-corpus-report.XXXXXX)}
mkdir -p "$out"

[ -x "$bin" ] || { echo "report.sh: no linter binary at $bin (cargo build --release)" >&2; exit 2; }
[ -d "$extra/nginx" ] || { echo "report.sh: no extra corpus at $extra (run corpus/fetch.sh)" >&2; exit 2; }

corpora=()
[ -n "$shared" ] && [ -d "$shared/nginx" ] && corpora+=("shared=$shared")
corpora+=("extra=$extra")

findings=$out/findings.tsv   # corpus deployment path line col severity code name message
runs=$out/runs.tsv           # corpus deployment exit_code
printf 'corpus\tdeployment\tpath\tline\tcol\tseverity\tcode\tname\tmessage\n' >"$findings"
printf 'corpus\tdeployment\texit\n' >"$runs"

for spec in "${corpora[@]}"; do
  name=${spec%%=*} dir=${spec#*=}
  srcs=$( (ls "$dir/nginx" 2>/dev/null; ls "$dir/php-fpm" 2>/dev/null) | sort -u)
  for s in $srcs; do
    paths=()
    [ -d "$dir/nginx/$s" ] && paths+=("nginx/$s")
    [ -d "$dir/php-fpm/$s" ] && paths+=("php-fpm/$s")
    text=$(cd "$dir" && timeout 60 "$bin" lint --isolated --format concise --quiet "${paths[@]}" 2>&1)
    rc=$?
    printf '%s\t%s\t%s\n' "$name" "$s" "$rc" >>"$runs"
    # path:line:col: severity[CODE name] message  (a refusal has no [CODE name])
    printf '%s\n' "$text" | awk -v c="$name" -v d="$s" '
      match($0, /^[^:]+:[0-9]+:[0-9]+: (error|warning|info)(\[[^ \]]+ [^\]]+\])?:? /) {
        head = substr($0, 1, RLENGTH); msg = substr($0, RLENGTH + 1)
        n = split(head, p, ":"); sev = p[4]; sub(/^ /, "", sev)
        code = ""; rule = ""
        if (sev ~ /\[/) { code = sev; sub(/^[a-z]+\[/, "", code); rule = code
          sub(/ .*/, "", code); sub(/^[^ ]+ /, "", rule); sub(/\].*/, "", rule); sub(/\[.*/, "", sev) }
        sub(/ $/, "", sev)
        gsub(/\t/, " ", msg)
        printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c, d, p[1], p[2], p[3], sev, \
          (code == "" ? "REFUSED" : code), (rule == "" ? "syntax" : rule), msg
        next }
      # A file that cannot be read at all: "path: error: line:col: message".
      match($0, /^[^:]+: error: [0-9]+:[0-9]+: /) {
        split($0, p, ": "); split(p[3], lc, ":"); msg = substr($0, RLENGTH + 1); gsub(/\t/, " ", msg)
        printf "%s\t%s\t%s\t%s\t%s\terror\tREFUSED\tsyntax\t%s\n", c, d, p[1], lc[1], lc[2], msg
        next }
      NF { gsub(/\t/, " "); printf "%s\t%s\t-\t-\t-\terror\tOTHER\tother\t%s\n", c, d, $0 }' >>"$findings"
  done
done

echo "== nginx-fpm-lint over the corpora ($("$bin" --version)); TSVs in $out"
echo
echo "== Findings per rule and severity (shared / extra / total)"
awk -F'\t' 'NR > 1 { k = $7 " " $8 "\t" $6; t[k]++; n[k, $1]++ }
  END { for (k in t) printf "%-48s %-8s %5d %5d %5d\n", substr(k, 1, index(k, "\t") - 1),
          substr(k, index(k, "\t") + 1), n[k, "shared"], n[k, "extra"], t[k] }' "$findings" |
  sort -k1,1 -k3,3
awk -F'\t' 'NR > 1 { t[$6]++; n[$6, $1]++ }
  END { for (s in t) printf "%-48s %-8s %5d %5d %5d\n", "ALL", s, n[s, "shared"], n[s, "extra"], t[s] }' \
  "$findings" | sort
echo
echo "== Deployments linted: $(($(wc -l <"$runs") - 1)); exit codes:" \
  "$(awk -F'\t' 'NR > 1 { n[$3]++ } END { for (k in n) printf "%s x%d  ", k, n[k] }' "$runs")"
awk -F'\t' 'NR > 1 && $3 != 0 && $3 != 1 { print "   exit " $3 ": " $1 "/" $2 }' "$runs"
echo
echo "== Every error-level finding"
awk -F'\t' 'NR > 1 && $6 == "error" && $7 ~ /^NFL/ {
  printf "%s/%s: %s:%s:%s %s[%s] %s\n", $1, $2, $3, $4, $5, $6, $7, $9 }' "$findings"
echo
echo "== Lint refusals (no rule: the file was not read) and other output"
awk -F'\t' 'NR > 1 && ($7 == "REFUSED" || $7 == "OTHER") {
  printf "%s/%s: %s:%s:%s %s\n", $1, $2, $3, $4, $5, $9 }' "$findings"

[ "${NFL_NO_REAL:-}" = 1 ] && exit 0
echo
echo "== Real tools per file (context as in nginx-t.tsv; 'after fix-ups' = environmental fix-ups only)"
for spec in "${corpora[@]}"; do
  name=${spec%%=*} dir=${spec#*=}
  python3 "$here/realcheck.py" "$dir" "$out/real-$name.tsv" || echo "realcheck failed on $name" >&2
done
{
  printf 'corpus\tpath\tcontext\treal_asis\treal_after_fixups\treal_verdict\tlint\n'
  for spec in "${corpora[@]}"; do
    name=${spec%%=*}
    awk -F'\t' -v c="$name" -v OFS='\t' '
      FNR == NR { if ($1 == c && $7 == "REFUSED") r[$3] = r[$3] (r[$3] ? "; " : "") $4 ":" $5 " " $9; next }
      FNR > 1 { print c, $1, $2, $3, $4, $7, ($1 in r ? "REFUSED: " r[$1] : "read") }' \
      "$findings" "$out/real-$name.tsv"
  done
} >"$out/per-file.tsv"
awk -F'\t' 'NR > 1 { printf "%s/%s [%s] real: %s%s | lint: %s\n", $1, $2, $3, $6,
  ($5 == "ok" ? "" : " (" $5 ")"), $7 }' "$out/per-file.tsv" | cut -c1-400
echo
echo "== Real tools: $(awk -F'\t' 'NR > 1 { n[$6]++ } END { for (k in n) printf "%s %d  ", k, n[k] }' \
  "$out/per-file.tsv")(accepts = accepted after environmental fix-ups, or refused only for a reason
   that is not the file's syntax: nginx semantics, a php-fpm pool spread over files, an unset \${VAR})"
echo "== Files lint refuses although the real tool accepts them (target: none)"
awk -F'\t' 'NR > 1 && $7 ~ /^REFUSED/ && $6 == "accepts" { printf "%s/%s: %s (real: %s)\n", $1, $2, $7, $5 }' \
  "$out/per-file.tsv"
echo "== Files the real tool refuses although lint reads them"
awk -F'\t' 'NR > 1 && $7 == "read" && $6 == "refuses" { printf "%s/%s: %s\n", $1, $2, $5 }' \
  "$out/per-file.tsv"
