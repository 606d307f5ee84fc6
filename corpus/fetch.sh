#!/usr/bin/env bash
# Materialise the extra real-world corpus listed in MANIFEST.tsv, pinned by commit.
#
# Destination: $NGINX_FPM_LINT_EXTRA_CORPUS, else ../corpus-extra next to the checkout (never inside
# the repository: these files are other people's, we only record where they come from).
# Source of each file, in order: a local bare mirror ($NFL_MIRROR_DIR/<owner>+<name>, default
# /work/.mirror), else https://raw.githubusercontent.com/<repo>/<commit>/<path> with curl.
# Idempotent: a file already present with the recorded sha256 is left alone. Exits non-zero, naming
# the files, when any file could not be materialised or does not match its recorded hash.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
manifest=$here/MANIFEST.tsv
dest=${NGINX_FPM_LINT_EXTRA_CORPUS:-$(dirname "$top")/corpus-extra}
mirrors=${NFL_MIRROR_DIR:-/work/.mirror}

case "$(realpath -m "$dest")/" in
  "$top"/*) echo "fetch.sh: refusing to write into the repository ($dest)" >&2; exit 2 ;;
esac
mkdir -p "$dest"

# A mirror is a bare git dir, or a checkout's .git, under <mirrors>/<owner>+<name>/.
mirror_gitdir() {
  local base=$mirrors/${1/\//+} d
  for d in "$base/repo/.git" "$base/repo" "$base/.git" "$base"; do
    if [ -d "$d" ] && git --git-dir="$d" rev-parse --git-dir >/dev/null 2>&1; then
      echo "$d"; return 0
    fi
  done
  return 1
}

# Percent-encode every byte of a repository path except the unreserved characters and '/'.
urlencode() {
  local LC_ALL=C s=$1 i c h out=
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
      [A-Za-z0-9._~/-]) out+=$c ;;
      *) printf -v h '%%%02X' "'$c"; out+=$h ;;
    esac
  done
  printf '%s' "$out"
}

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

fetched=0 kept=0 failed=()
while IFS=$'\t' read -r dest_rel repo commit src_path transform sha256; do
  [ "$dest_rel" = dest_rel ] && continue
  out=$dest/$dest_rel
  if [ -f "$out" ] && [ "$(sha_of "$out")" = "$sha256" ]; then kept=$((kept + 1)); continue; fi
  mkdir -p "$(dirname "$out")"
  tmp=$(mktemp "$(dirname "$out")/.fetch.XXXXXX")
  ok=no
  if gd=$(mirror_gitdir "$repo") && git --git-dir="$gd" cat-file -e "$commit:$src_path" 2>/dev/null; then
    git --git-dir="$gd" show "$commit:$src_path" >"$tmp" && ok=yes
  fi
  if [ $ok = no ]; then
    enc=$(urlencode "$src_path")
    curl -fsSL --retry 2 --max-time 60 -o "$tmp" \
      "https://raw.githubusercontent.com/$repo/$commit/$enc" 2>/dev/null && ok=yes
  fi
  # The only transform used is a rename (`*.template` -> served name); bytes are kept as committed.
  case "$transform" in none|rename-template) ;; *) ok=no ;; esac
  if [ $ok = yes ] && [ "$(sha_of "$tmp")" = "$sha256" ]; then
    mv -f "$tmp" "$out"; fetched=$((fetched + 1))
  else
    rm -f "$tmp"; failed+=("$dest_rel ($repo@$commit:$src_path)")
  fi
done <"$manifest"

# Verify the whole tree once more: every listed file present and intact.
while IFS=$'\t' read -r dest_rel _ _ _ _ sha256; do
  [ "$dest_rel" = dest_rel ] && continue
  if [ ! -f "$dest/$dest_rel" ] || [ "$(sha_of "$dest/$dest_rel")" != "$sha256" ]; then
    case " ${failed[*]-} " in *" $dest_rel "*) ;; *) failed+=("$dest_rel (missing or altered)") ;; esac
  fi
done <"$manifest"

echo "corpus-extra: $dest ($fetched fetched, $kept already present)"
if [ ${#failed[@]} -gt 0 ]; then
  printf 'missing: %s\n' "${failed[@]}" >&2
  exit 1
fi
