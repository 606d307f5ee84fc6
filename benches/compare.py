#!/usr/bin/env python3
"""Side-by-side benchmark: nginx-fpm-lint against the peers a registry serves.

Generates trees of 100, 1,000 and 10,000 PHP sites (benches/gen_tree.py), installs the peers
from PyPI into virtualenvs under the work directory (crossplane, gixy-ng, gixy-next), and
times each tool as a whole process on the same tree: wall time, MB/s over the tree's bytes,
and peak RSS (GNU time). Peers are bounded by a timeout. Also times one ~5 KB site file (the
pre-commit case) as the median of repeated runs.

usage: benches/compare.py [--sizes 100,1000,10000] [--work /tmp/nfl-bench] [--timeout 600]
                          [--skip-slow]   # skip gixy-ng/gixy-next on the largest tree
Needs: python3 with venv, GNU time (/usr/bin/time; Debian package `time`), openssl (for the
test certificate nginx -t wants), nginx (optional). Prints a Markdown table.
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PEERS = {
    # name: (pip package, executable in the venv)
    "crossplane": ("crossplane", "crossplane"),
    "gixy-ng": ("gixy-ng", "gixy"),
    "gixy-next": ("gixy-next", "gixy"),
}


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def tree_bytes(root):
    total = 0
    for d, _, files in os.walk(root):
        for f in files:
            total += os.path.getsize(os.path.join(d, f))
    return total


def ensure_tree(work, n):
    root = os.path.join(work, f"tree-{n}")
    if not os.path.exists(os.path.join(root, "etc/nginx/nginx.conf")):
        shutil.rmtree(root, ignore_errors=True)
        sh([sys.executable, os.path.join(HERE, "gen_tree.py"), str(n), root])
        ssl = os.path.join(root, "etc/nginx/ssl")
        os.makedirs(ssl, exist_ok=True)
        if shutil.which("openssl"):
            sh(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-subj", "/CN=fleet", "-keyout", f"{ssl}/fleet.key", "-out", f"{ssl}/fleet.pem"],
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return root


def ensure_peer(work, name):
    pkg, exe = PEERS[name]
    venv = os.path.join(work, "peers", name)
    path = os.path.join(venv, "bin", exe)
    if not os.path.exists(path):
        sh([sys.executable, "-m", "venv", venv])
        r = subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", pkg])
        if r.returncode != 0:
            return None
    return path if os.path.exists(path) else None


def timed(cmd, timeout, cwd=None):
    """(wall seconds, peak RSS MB, exit code or 'timeout')"""
    fmt = "%e %M"
    t0 = time.monotonic()
    # /usr/bin/time writes to a file we read back (portable across shells).
    out = os.path.join("/tmp", f"nfl-time-{os.getpid()}")
    # Own process group, so a timeout ends the peer too, not only GNU time.
    p = subprocess.Popen(["/usr/bin/time", "-f", fmt, "-o", out] + cmd, cwd=cwd,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        return time.monotonic() - t0, None, "timeout"
    wall, rss = open(out).read().split()[-2:]
    return float(wall), int(rss) / 1024, p.returncode


def median_wall(cmd, runs):
    walls = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - t0)
    return statistics.median(walls)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--work", default="/tmp/nfl-bench")
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--skip-slow", action="store_true")
    ap.add_argument("--peers", default="crossplane,gixy-ng,gixy-next")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)

    sh(["cargo", "build", "--release", "--quiet"], cwd=REPO)
    ours = os.path.join(REPO, "target/release/nginx-fpm-lint")
    peers = {n: ensure_peer(args.work, n) for n in args.peers.split(",") if n}
    nginx = shutil.which("nginx")

    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        root = ensure_tree(args.work, n)
        size = tree_bytes(root)
        conf = os.path.join(root, "etc/nginx/nginx.conf")
        tools = [("nginx-fpm-lint lint", [ours, "lint", root])]
        # find batches the 20,000 paths to fit the argument limit, as xargs would.
        tools.append(("wc -l (all files)", ["find", root, "-type", "f", "-exec", "wc", "-l", "{}", "+"]))
        if nginx:
            # One log file a site: lift the open-files limit to the hard limit.
            tools.append(("nginx -t", ["sh", "-c", 'ulimit -n "$(ulimit -Hn)" && exec "$0" "$@"', nginx,
                                       "-t", "-q", "-p", os.path.dirname(conf) + "/", "-c", conf]))
        if peers.get("crossplane"):
            tools.append(("crossplane parse", [peers["crossplane"], "parse", "-o", "/dev/null", conf]))
        for g in ("gixy-ng", "gixy-next"):
            if peers.get(g) and not (args.skip_slow and n >= 10000):
                tools.append((g, [peers[g], conf]))
        for name, cmd in tools:
            # Warm the page cache, then measure (a run over 10 s is measured once: the
            # cache is warm by then and the peers' minutes would double).
            wall, rss, code = timed(cmd, args.timeout)
            if code != "timeout" and wall < 10:
                wall, rss, code = timed(cmd, args.timeout)
            rows.append((n, size, name, wall, rss, code))
            mbs = size / 1e6 / wall if code != "timeout" and wall > 0 else None
            print(f"{n:>6} sites {size/1e6:6.1f} MB  {name:<22} "
                  f"{'>' if code == 'timeout' else ''}{wall:8.2f} s  "
                  f"{(f'{mbs:7.1f} MB/s') if mbs else '      -    '}  "
                  f"{(f'{rss:7.0f} MB') if rss else '      -'}  exit {code}", flush=True)

    # The targets, on the largest tree, from this run's own figures.
    n_max = max(r[0] for r in rows)
    got = {r[2]: r for r in rows if r[0] == n_max}
    ours_row = got.get("nginx-fpm-lint lint")
    if ours_row and ours_row[5] != "timeout":
        _, size, _, wall, rss, _ = ours_row
        print(f"targets on {n_max} sites: lint {wall:.2f} s; reference walf443/nginx-lint 7.4 s "
              f"-> {7.4 / wall:.1f}x faster (goal 5x)")
        for peer, goal in (("crossplane parse", "faster, goal 15x"), ("wc -l (all files)", "of wc -l, goal within 5x")):
            row = got.get(peer)
            if row and row[5] != "timeout":
                ratio = row[3] / wall if peer.startswith("crossplane") else wall / max(row[3], 1e-3)
                print(f"  vs {peer}: {row[3]:.2f} s -> {ratio:.1f}x {goal}")
        # rss is in MiB (GNU time's KiB / 1024); size in bytes.
        print(f"  peak RSS {rss:.0f} MB = {rss * 2**20 / size:.1f}x the {size / 1e6:.1f} MB input (goal 4x)")

    # One ~5 KB site file: the pre-commit case.
    root = ensure_tree(args.work, min(int(s) for s in args.sizes.split(",")))
    site = os.path.join(root, "etc/nginx/sites-enabled/site00000.conf")
    one = [("nginx-fpm-lint lint", [ours, "lint", site])]
    if peers.get("crossplane"):
        one.append(("crossplane parse", [peers["crossplane"], "parse", "-o", "/dev/null", site]))
    for name, cmd in one:
        w = median_wall(cmd, 21)
        print(f"one site file ({os.path.getsize(site)} B)  {name:<22} {w*1000:8.2f} ms (median of 21)")


if __name__ == "__main__":
    main()
