#!/usr/bin/env bash
# Run fuzz targets one after the other, niced, each for SECONDS (default 1200 = 20 min).
#   fuzz/run.sh [SECONDS] [TARGET...]     targets: nginx_parse fpm_parse lint_fix
# cargo-fuzz needs nightly-only flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain accept
# them. Crashes and timeouts land in fuzz/artifacts/<target>/; logs in fuzz/logs/.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-1200}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(nginx_parse fpm_parse lint_fix)
./seed.sh
mkdir -p logs
export RUSTC_BOOTSTRAP=1
for t in "${targets[@]}"; do
  echo "== $t for ${secs}s (log: fuzz/logs/$t.log)"
  # -timeout: one input taking over 10 s is a hang (or an exponential parse) and a failure.
  # -a: debug assertions, hence overflow checks, in the optimised build.
  dict=()
  [ -f "$t.dict" ] && dict=(-dict="$t.dict")
  nice -n 19 cargo fuzz run -O -a "$t" "corpus/$t" -- \
    -max_total_time="$secs" -timeout=10 -max_len=8192 -print_final_stats=1 "${dict[@]}" \
    > "logs/$t.log" 2>&1 || { echo "$t FAILED: see fuzz/logs/$t.log and fuzz/artifacts/$t/"; exit 1; }
  tail -n 12 "logs/$t.log" | grep -E "stat::|Done" || true
done
