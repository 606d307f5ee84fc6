#!/usr/bin/env python3
"""Ask the real tools about every file of one corpus: `nginx -t` and `php-fpm -t`.

Usage: realcheck.py CORPUS_DIR OUT_TSV

Each nginx file is wrapped in the context it belongs to (decided from its own top-level directives,
the way the shared corpus's nginx-t.tsv does: main = file as-is when it has `events`; main-snippet =
`include FILE; events {}`; http = `events {} http { include FILE; }`; server and location nest one
and two levels deeper) and tested twice: as-is, then after *environmental* fix-ups only (a missing
include is pointed at the host's stock file of that name or dropped, a line nginx refuses for a
reason other than syntax — missing file, unknown host, unknown user, module directive, duplicate —
is commented out), repeated until nginx accepts the file or stops at a syntax error. PHP-FPM files
are tested with `php-fpm -n -t -R -y FILE` under a private prefix the same way.

Everything runs on copies in a temporary directory; paths nginx or php-fpm would create (temp and
cache directories, log files) are rewritten into it first, so the host is never written to.
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

NGINX = os.environ.get("NFL_NGINX", "/usr/sbin/nginx")
PHP_FPM = os.environ.get("NFL_PHP_FPM", "/usr/sbin/php-fpm8.2")
MAX_FIXUPS = 60

# Directives that only the main context accepts (their presence without `events` means a snippet
# included at main level).
MAIN_ONLY = {
    "user", "worker_processes", "pid", "load_module", "worker_rlimit_nofile", "daemon",
    "master_process", "http", "stream", "mail", "env", "pcre_jit", "thread_pool",
    "worker_cpu_affinity", "timer_resolution", "lock_file", "working_directory",
    "worker_shutdown_timeout", "worker_priority", "worker_rlimit_core", "ssl_engine",
    "google_perftools_profiles", "debug_points",
}
# Directives nginx accepts in location (or deeper) but not at server level.
LOCATION_ONLY = {
    "fastcgi_split_path_info", "internal", "limit_except", "empty_gif", "proxy_pass",
    "fastcgi_pass", "alias", "uwsgi_pass", "scgi_pass", "grpc_pass", "memcached_pass",
    "flv", "mp4", "stub_status", "fastcgi_cache_purge", "proxy_cache_purge",
}
# Directives nginx accepts in server but not at http level.
SERVER_NOT_HTTP = {
    "location", "listen", "server_name", "return", "rewrite", "if", "try_files", "set", "break",
    "ssl_certificate_by_lua_block", "auth_basic_user_file",
}
# Only the file's own syntax counts as "syntax": everything else is environment or semantics.
SYNTAX_RE = re.compile(r'unexpected "|unexpected end of file|expecting "|is not terminated|'
                       r'too long parameter|unbalanced', re.I)


def top_level_directives(text):
    """(name, args) of the directives at brace depth 0 (comments, quotes and escapes handled)."""
    out, depth, i, n, cur = [], 0, 0, len(text), []
    while i < n:
        c = text[i]
        if c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if c.isspace():
            i += 1
            continue
        if c in "{;}":
            if depth == 0 and cur:
                out.append((cur[0], cur[1:]))
            cur = []
            depth += {"{": 1, "}": -1, ";": 0}[c]
            i += 1
            continue
        if c in "\"'":
            q, j = c, i + 1
            while j < n and text[j] != q:
                j += 2 if text[j] == "\\" else 1
            cur.append(text[i + 1:j])
            i = j + 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] not in ";{}\"'#":
            j += 2 if text[j] == "\\" else 1
        cur.append(text[i:j])
        i = j
    return out


def resolve_include(arg, base, root):
    """Files of the deployment copy an include names: relative to base, or an absolute path mapped
    onto the copy by its longest tail that exists there (as the linter maps absolute includes)."""
    if not os.path.isabs(arg):
        return sorted(glob.glob(os.path.join(base, arg)))
    parts = arg.strip("/").split("/")
    for k in range(len(parts)):
        tail = "/".join(parts[k:])
        if "/" not in tail and glob.has_magic(tail):
            break
        for b in (base, root):
            hits = sorted(glob.glob(os.path.join(b, tail)))
            if hits:
                return hits
    return []


def names_following_includes(path, base, root, seen=None):
    seen = seen if seen is not None else set()
    if path in seen or len(seen) > 200:
        return set()
    seen.add(path)
    text = open(path, "rb").read().decode("latin-1")
    names = set()
    for name, args in top_level_directives(text):
        names.add(name)
        if name == "include" and args:
            for f in resolve_include(args[0], base, root):
                if os.path.isfile(f):
                    names |= names_following_includes(f, base, root, seen)
    return names


def context_of(path, base, root):
    names = names_following_includes(path, base, root)
    if "events" in names:
        return "main"
    if names & MAIN_ONLY:
        return "main-snippet"
    if names & LOCATION_ONLY:
        return "location"
    if names & SERVER_NOT_HTTP:
        return "server"
    return "http"


def wrapper(context, path, http_extra):
    inc = f'include "{path}";'
    extra = "".join(l + "\n" for l in http_extra)
    return {
        "main-snippet": f"{inc}\nevents {{}}\n",
        "http": f"events {{}}\nhttp {{\n{extra}{inc}\n}}\n",
        "server": f"events {{}}\nhttp {{\n{extra}server {{\n{inc}\n}}\n}}\n",
        "location": f"events {{}}\nhttp {{\n{extra}server {{\nlocation / {{\n{inc}\n}}\n}}\n}}\n",
    }[context]


PATH_DIRECTIVES = re.compile(
    r"^(\s*)(\w+_temp_path|\w+_cache_path|access_log|error_log)(\s+)(\"[^\"]*\"|'[^']*'|[^\s;]+)",
    re.M)


def neutralise_paths(root, scratch):
    """Point paths nginx -t would create (temp/cache dirs, log files) into the scratch dir."""
    count = [0]

    def repl(m):
        arg = m.group(4).strip("\"'")
        if arg in ("off", "stderr", "/dev/stderr", "/dev/stdout", "/dev/null") or \
                arg.startswith(("syslog:", "memory:", "/proc/self/")) or "$" in arg:
            return m.group(0)
        count[0] += 1
        return f"{m.group(1)}{m.group(2)}{m.group(3)}{scratch}/p{count[0]}"

    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            try:
                b = open(p, "rb").read()
            except OSError:
                continue
            t = b.decode("latin-1")
            t2 = PATH_DIRECTIVES.sub(repl, t)
            if t2 != t:
                open(p, "wb").write(t2.encode("latin-1"))


def comment_out(path, line_no):
    """Comment out the directive starting at line_no (through its `;`, or its whole block)."""
    lines = open(path, "rb").read().decode("latin-1").split("\n")
    i = line_no - 1
    if i < 0 or i >= len(lines):
        return False
    if re.sub(r"#.*", "", lines[i]).strip().startswith("}"):
        # nginx names a block's closing brace (e.g. "no servers are inside upstream"): go back to
        # the line that opens that block and drop the whole block.
        depth = 0
        while i >= 0:
            s = re.sub(r"#.*", "", lines[i])
            depth += s.count("}") - s.count("{")
            if depth <= 0:
                break
            i -= 1
        if i < 0:
            return False
    else:
        # nginx names the line where a directive ends (its ";"): go back to where it starts.
        while i > 0 and not re.search(r"[;{}]", re.sub(r"#.*", "", lines[i - 1])):
            i -= 1
    depth, j = 0, i
    while j < len(lines):
        s = re.sub(r"#.*", "", lines[j])
        depth += s.count("{") - s.count("}")
        lines[j] = "#NFL# " + lines[j]
        if depth <= 0 and (";" in s or "}" in s):
            break
        j += 1
    open(path, "wb").write("\n".join(lines).encode("latin-1"))
    return True


def stock_include(path, line_no, missing):
    """Point a missing include at the host's stock nginx file of the same name, if any."""
    base = os.path.basename(missing)
    if base == "nginx.conf":
        return False
    for cand in (f"/etc/nginx/{base}", f"/etc/nginx/snippets/{base}"):
        if os.path.isfile(cand):
            lines = open(path, "rb").read().decode("latin-1").split("\n")
            l = lines[line_no - 1]
            if "include" in l:
                lines[line_no - 1] = re.sub(r"(include\s+)(\"[^\"]*\"|'[^']*'|[^\s;]+)",
                                            lambda m: m.group(1) + cand, l, count=1)
                open(path, "wb").write("\n".join(lines).encode("latin-1"))
                return True
    return False


ERR_RE = re.compile(r"\[emerg\] (?:\d+#\d+: )?(.*?)(?: in (\S+):(\d+))?$", re.M)


def run_nginx(prefix, conf):
    r = subprocess.run([NGINX, "-t", "-q", "-p", prefix + "/", "-e", "stderr", "-c", conf],
                       capture_output=True, timeout=20)
    err = r.stderr.decode("utf-8", "replace")
    if r.returncode == 0:
        return None
    m = ERR_RE.search(err)
    if not m:
        return (err.strip().splitlines() or ["?"])[-1], None, None
    return m.group(1), m.group(2), int(m.group(3)) if m.group(3) else None


def tree_files(root):
    for d, _, fs in os.walk(root):
        for f in fs:
            yield os.path.join(d, f)


def replace_in_tree(root, old, new):
    hit = False
    for p in tree_files(root):
        b = open(p, "rb").read()
        if old.encode("latin-1") in b:
            open(p, "wb").write(b.replace(old.encode("latin-1"), new.encode("latin-1")))
            hit = True
    return hit


def drop_line_naming(root, needle):
    for p in tree_files(root):
        ls = open(p, "rb").read().decode("latin-1").split("\n")
        for k, l in enumerate(ls):
            if needle in l and not l.lstrip().startswith("#"):
                return comment_out(p, k + 1)
    return False


def remap_absolute_includes(work, base):
    """Point absolute includes that the deployment holds a copy of at that copy."""
    inc = re.compile(r"^(\s*include\s+)(\"[^\"]*\"|'[^']*'|[^\s;]+)", re.M)
    for p in tree_files(work):
        t = open(p, "rb").read().decode("latin-1")

        def repl(m):
            arg = m.group(2).strip("\"'")
            if not os.path.isabs(arg):
                return m.group(0)
            parts = arg.strip("/").split("/")
            for k in range(len(parts)):
                tail = "/".join(parts[k:])
                if "/" not in tail and glob.has_magic(tail):
                    break
                for b in (base, work):
                    hits = glob.glob(os.path.join(b, tail))
                    if hits and os.path.realpath(p) not in map(os.path.realpath, hits):
                        return m.group(1) + os.path.join(b, tail)
            return m.group(0)

        t2 = inc.sub(repl, t)
        if t2 != t:
            open(p, "wb").write(t2.encode("latin-1"))


def dummy_tls(scratch):
    crt, key = os.path.join(scratch, "dummy.crt"), os.path.join(scratch, "dummy.key")
    if not os.path.exists(crt):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=dummy", "-keyout", key, "-out", crt], capture_output=True,
                       check=True)
        subprocess.run(["openssl", "dhparam", "-dsaparam", "-out",
                        os.path.join(scratch, "dummy.dh"), "2048"], capture_output=True)
    return crt, key, os.path.join(scratch, "dummy.dh")


def check_nginx(deploy_dir, rel, scratch):
    """Returns (context, asis, final, final_in_file, fixups) for one nginx file."""
    work = os.path.join(scratch, "d")
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(deploy_dir, work, symlinks=True)
    target = os.path.join(work, rel)
    # Relative includes resolve against the folder of the deployment's nginx.conf.
    confs = sorted((p for p in tree_files(work) if os.path.basename(p) == "nginx.conf"),
                   key=lambda p: p.count("/"))
    base = os.path.dirname(confs[0]) if confs else work
    ctx = context_of(target, base, work)
    neutralise_paths(work, scratch)
    http_extra = []
    conf = target if ctx == "main" else os.path.join(base, "__nfl_wrap.conf")
    prefix = os.path.dirname(conf)

    def write_wrapper():
        if ctx != "main":
            open(conf, "w").write(wrapper(ctx, target, http_extra))

    write_wrapper()
    first = run_nginx(prefix, conf)
    asis = "ok" if first is None else first[0].replace(work + "/", "")
    fixups, res = [], first
    remap_absolute_includes(work, base)
    res = run_nginx(prefix, conf)
    if res != first:
        fixups.append("include-remap")
    for _ in range(MAX_FIXUPS):
        if res is None:
            break
        msg, epath, eline = res
        if SYNTAX_RE.search(msg):
            break
        done = False
        m = re.match(r'open\(\) "([^"]+)" failed', msg)
        mv = re.match(r'unknown "([^"]+)" variable', msg)
        mz = re.match(r'"(fastcgi|proxy|uwsgi|scgi)_cache" zone "([^"]+)" is unknown', msg)
        mc = re.match(r'cannot load certificate( key)? "([^"]+)"', msg) or \
            re.match(r'(?:PEM_read_bio_DHparams|BIO_new_file|SSL_CTX_load_verify_locations)'
                     r'\("([^"]+)"\)', msg)
        mzz = re.match(r'zero size shared memory zone "([^"]+)"', msg)
        mdl = re.match(r'dlopen\(\) "([^"]+)" failed', msg)
        mb = re.match(r"bind\(\) to (\S+) failed", msg)
        if mv and ctx != "main":
            http_extra.append(f'map "" ${mv.group(1)} {{ default ""; }}')
            write_wrapper(); done = True; fixups.append("define-var")
        elif mv:
            t = open(target, "rb").read().decode("latin-1")
            t2 = re.sub(r"(\bhttp\s*\{)", lambda x: x.group(1) + f' map "" ${mv.group(1)} '
                        '{ default ""; }', t, count=1)
            if t2 != t:
                open(target, "wb").write(t2.encode("latin-1"))
                done = True; fixups.append("define-var")
        elif mz and ctx != "main":
            http_extra.append(f"{mz.group(1)}_cache_path {scratch}/z{len(http_extra)} "
                              f"keys_zone={mz.group(2)}:1m;")
            write_wrapper(); done = True; fixups.append("define-zone")
        elif mc:
            crt, key, dh = dummy_tls(scratch)
            path = mc.group(mc.lastindex)
            new = dh if msg.startswith(("PEM_read_bio_DH", "BIO_new_file")) else \
                key if msg.startswith("cannot load certificate key") else crt
            # The message shows the path nginx opened; the file may spell a shorter relative one.
            parts = path.split("/")
            for k in range(len(parts)):
                tail = "/".join(parts[k:])
                if tail and replace_in_tree(work, tail, new):
                    done = True
                    break
            if done:
                fixups.append("dummy-cert")
        elif mzz and ctx != "main":
            texts = "\n".join(open(f, "rb").read().decode("latin-1") for f in tree_files(work))
            z = re.escape(mzz.group(1))
            kind = re.search(r"\b(fastcgi|proxy|uwsgi|scgi)_cache\s+" + z + r"\s*;", texts)
            if kind:
                http_extra.append(f"{kind.group(1)}_cache_path {scratch}/z{len(http_extra)} "
                                  f"keys_zone={mzz.group(1)}:1m;")
            elif re.search(r"limit_req\s+zone=" + z, texts):
                http_extra.append(f"limit_req_zone $binary_remote_addr zone={mzz.group(1)}:1m "
                                  "rate=1r/s;")
            elif re.search(r"limit_conn\s+" + z, texts):
                http_extra.append(f"limit_conn_zone $binary_remote_addr zone={mzz.group(1)}:1m;")
            else:
                http_extra.append(f"fastcgi_cache_path {scratch}/z{len(http_extra)} "
                                  f"keys_zone={mzz.group(1)}:1m;")
            write_wrapper(); done = True; fixups.append("define-zone")
        elif mdl:
            done = drop_line_naming(work, os.path.basename(mdl.group(1)))
            if done:
                fixups.append("drop-module")
        elif mb:
            done = drop_line_naming(work, mb.group(1).strip("[]").split("]")[0])
            if done:
                fixups.append("drop-listen")
        if not done and epath and eline and m and os.path.isfile(epath):
            line = open(epath, "rb").read().decode("latin-1").split("\n")[eline - 1]
            if re.match(r"\s*include\b", line) and stock_include(epath, eline, m.group(1)):
                fixups.append("include-stock"); done = True
        if not done and epath and eline and os.path.isfile(epath) and \
                (ctx == "main" or os.path.realpath(epath) != os.path.realpath(conf)) and \
                os.path.realpath(epath).startswith(os.path.realpath(work)):
            done = comment_out(epath, eline)
            if done:
                kind = re.sub(r'"[^"]*"|\(.*?\)|\d+', "", msg).strip()[:40]
                fixups.append("drop:" + kind)
        if not done and m:
            done = drop_line_naming(work, m.group(1))
            if done:
                fixups.append("drop-path")
        if not done:
            break
        res = run_nginx(prefix, conf)
    if res is None:
        final, in_file = "ok", ""
    else:
        msg, epath, eline = res
        in_file = "yes" if epath and os.path.realpath(epath) == os.path.realpath(target) else "no"
        final = msg.replace(work + "/", "") + \
            (f" in {os.path.relpath(epath, work)}:{eline}" if epath else "")
        if SYNTAX_RE.search(msg):
            final = "SYNTAX: " + final
    return ctx, asis, final, in_file, ",".join(sorted(set(fixups)))


FPM_PATH_KEYS = re.compile(r"^(\s*(?:error_log|slowlog|access\.log|pid)\s*=\s*)(\S.*)$", re.M)


def run_fpm(work, conf):
    r = subprocess.run([PHP_FPM, "-n", "-t", "-R", "-p", work, "-y", conf], capture_output=True,
                       timeout=20)
    out = (r.stdout + r.stderr).decode("utf-8", "replace")
    if r.returncode == 0:
        return None
    errs = [re.sub(r"^\[[^\]]*\] (ERROR|ALERT): ", "", l).strip() for l in out.splitlines()
            if re.search(r"ERROR|ALERT", l)]
    errs = [e for e in errs if not re.match(r"FPM initialization failed|failed to load "
                                            r"configuration file|failed to post process", e)]
    return errs[0] if errs else (out.strip().splitlines() or ["?"])[-1]


def check_fpm(path, scratch):
    """Returns (asis, final, fixups) of `php-fpm -t` on one file, under a private prefix."""
    work = os.path.join(scratch, "fpm")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work + "/log", exist_ok=True)
    t = open(path, "rb").read().decode("latin-1")
    n = [0]

    def repl(m):
        n[0] += 1
        v = m.group(2).strip()
        if v.startswith(("/proc/self", "/dev/", "syslog")):
            return m.group(0)
        return f"{m.group(1)}{work}/log/f{n[0]}"

    t = FPM_PATH_KEYS.sub(repl, t)
    conf = os.path.join(work, os.path.basename(path))
    open(conf, "wb").write(t.encode("latin-1"))
    res = first = run_fpm(work, conf)
    fixups = []
    for _ in range(10):
        if res is None:
            break
        mu = re.search(r"cannot get uid for user '([^']*)'", res)
        mg = re.search(r"cannot get gid for group '([^']*)'", res)
        mi = re.search(r"Unable to globalize '([^']*)'", res)
        t = open(conf, "rb").read().decode("latin-1")
        if mu:
            t2 = re.sub(r"^(\s*(?:user|listen\.owner)\s*=\s*)" + re.escape(mu.group(1)) + r"\s*$",
                        r"\1nobody", t, flags=re.M)
        elif mg:
            t2 = re.sub(r"^(\s*(?:group|listen\.group)\s*=\s*)" + re.escape(mg.group(1)) +
                        r"\s*$", r"\1nogroup", t, flags=re.M)
        elif mi:
            t2 = re.sub(r"^(\s*include\s*=.*)$", r";NFL; \1", t, flags=re.M)
        else:
            break
        if t2 == t:
            break
        open(conf, "wb").write(t2.encode("latin-1"))
        fixups.append("user" if mu else "group" if mg else "drop-include")
        res = run_fpm(work, conf)

    def show(r):
        if r is None:
            return "ok"
        r = r.replace(work + "/", "").replace("\t", " ")
        if re.search(r"syntax error|unexpected|value is NULL for a ZEND_INI_PARSER_ENTRY", r):
            return "SYNTAX: " + r
        # A pool spread over several files (docker's zz-docker.conf, a php-fpm.conf whose pools
        # are included): the piece alone lacks what the other files set.
        if re.search(r"No pool defined|no listen address have been defined|process manager is "
                     r"missing", r):
            return "FRAGMENT: " + r
        text = open(conf, "rb").read().decode("latin-1")
        # Pool keys with no [section] header: a piece php-fpm reads through a pool's include=.
        if not text.lstrip().startswith("<?xml") and \
                not re.search(r"^\s*\[[^\]]+\]", text, re.M) and \
                re.search(r"unknown entry|not allowed in the global section", r):
            return "FRAGMENT: " + r
        m = re.match(r"\[[^\]:]+:(\d+)\]", r)
        if m:
            lines = text.split("\n")
            # ${VAR} is expanded by php-fpm from its environment; a bare $VAR is an envsubst
            # placeholder the image renders at start: both are set outside the file.
            if int(m.group(1)) <= len(lines) and "$" in lines[int(m.group(1)) - 1]:
                return "ENV: " + r
        return r

    return show(first), show(res), ",".join(sorted(set(fixups)))


def main():
    corpus, out = sys.argv[1], sys.argv[2]
    scratch = tempfile.mkdtemp(prefix="nfl-realcheck-")
    rows = []
    try:
        for kind in ("nginx", "php-fpm"):
            kdir = os.path.join(corpus, kind)
            if not os.path.isdir(kdir):
                continue
            for src in sorted(os.listdir(kdir)):
                sdir = os.path.join(kdir, src)
                for d, _, fs in sorted(os.walk(sdir)):
                    for f in sorted(fs):
                        p = os.path.join(d, f)
                        rel = os.path.relpath(p, sdir)
                        dest = f"{kind}/{src}/{rel}"
                        try:
                            if kind == "nginx":
                                ctx, asis, final, in_file, fx = check_nginx(sdir, rel, scratch)
                                # A syntax error in another file the file includes is that
                                # file's refusal, not this one's.
                                verdict = "accepts" if not final.startswith("SYNTAX") else \
                                    "refuses" if in_file == "yes" else "refuses-included-file"
                                rows.append((dest, ctx, asis, final, in_file, fx, verdict))
                            else:
                                asis, final, fx = check_fpm(p, scratch)
                                verdict = "accepts" if final == "ok" or final.startswith(
                                    ("FRAGMENT", "ENV")) else "refuses"
                                rows.append((dest, "fpm", asis, final,
                                             "yes" if final != "ok" else "", fx, verdict))
                        except subprocess.TimeoutExpired:
                            rows.append((dest, "?", "timeout", "timeout", "", "", "unknown"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    with open(out, "w") as o:
        o.write("path\tcontext\treal_asis\treal_after_env_fixups\tfinal_error_in_file\tfixups\t"
                "verdict\n")
        for r in rows:
            o.write("\t".join(x.replace("\t", " ").replace("\n", " ") for x in r) + "\n")


if __name__ == "__main__":
    main()
