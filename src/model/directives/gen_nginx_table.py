#!/usr/bin/env python3
"""Generate nginx_table.rs: every directive of nginx and of common third-party modules.

Facts come from the `ngx_command_t` arrays of the C sources (name, context and argument flags,
handler), the `ngx_conf_enum_t` / `ngx_conf_bitmask_t` arrays the enum and bitmask slots point
at, and the handlers' bodies (whether they answer "is duplicate").

nginx: every release tag from 1.18.0 on plus the mainline head of a git clone of nginx/nginx;
`since` is the first version with the directive (0.0.0 for "1.18.0 or earlier"), `until` the
first version without it. Third-party modules: one commit each, listed in THIRD_PARTY.

Regenerate (clones as bare or normal git repositories, stdlib only):

    python3 src/model/directives/gen_nginx_table.py \
        [--nginx-git DIR] [--mirrors DIR] [--output FILE]

DIR defaults: --nginx-git $MIRRORS/nginx+nginx/repo, --mirrors /work/.mirror (each third-party
repository at $MIRRORS/<owner>+<name>/repo). The output is formatted with rustfmt when it is on
PATH.
"""

import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# ctx bits of mod.rs, by nginx flag name.
CTX_FLAGS = {
    "NGX_MAIN_CONF": "MAIN",
    "NGX_DIRECT_CONF": None,  # how the conf is passed, not a context
    "NGX_EVENT_CONF": "EVENTS",
    "NGX_HTTP_MAIN_CONF": "HTTP",
    "NGX_HTTP_SRV_CONF": "HTTP_SRV",
    "NGX_HTTP_LOC_CONF": "HTTP_LOC",
    "NGX_HTTP_UPS_CONF": "HTTP_UPS",
    "NGX_HTTP_SIF_CONF": "HTTP_SIF",
    "NGX_HTTP_LIF_CONF": "HTTP_LIF",
    "NGX_HTTP_LMT_CONF": "HTTP_LMT",
    "NGX_MAIL_MAIN_CONF": "MAIL",
    "NGX_MAIL_SRV_CONF": "MAIL_SRV",
    "NGX_STREAM_MAIN_CONF": "STREAM",
    "NGX_STREAM_SRV_CONF": "STREAM_SRV",
    "NGX_STREAM_UPS_CONF": "STREAM_UPS",
}
ALL_CTX = [
    "MAIN", "EVENTS", "HTTP", "HTTP_SRV", "HTTP_LOC", "HTTP_UPS", "HTTP_SIF", "HTTP_LIF",
    "HTTP_LMT", "MAIL", "MAIL_SRV", "STREAM", "STREAM_SRV", "STREAM_UPS", "OTHER",
]
# Third-party block families whose insides are not modelled (their own *_CONF flags).
OTHER_CTX_PREFIXES = ("NGX_RTMP_",)

ARG_FLAGS = {
    "NGX_CONF_NOARGS": ["NOARGS"],
    "NGX_CONF_TAKE1": ["TAKE1"],
    "NGX_CONF_TAKE2": ["TAKE2"],
    "NGX_CONF_TAKE3": ["TAKE3"],
    "NGX_CONF_TAKE4": ["TAKE4"],
    "NGX_CONF_TAKE5": ["TAKE5"],
    "NGX_CONF_TAKE6": ["TAKE6"],
    "NGX_CONF_TAKE7": ["TAKE7"],
    "NGX_CONF_TAKE12": ["TAKE1", "TAKE2"],
    "NGX_CONF_TAKE13": ["TAKE1", "TAKE3"],
    "NGX_CONF_TAKE23": ["TAKE2", "TAKE3"],
    "NGX_CONF_TAKE123": ["TAKE1", "TAKE2", "TAKE3"],
    "NGX_CONF_TAKE1234": ["TAKE1", "TAKE2", "TAKE3", "TAKE4"],
    "NGX_CONF_BLOCK": ["BLOCK"],
    "NGX_CONF_FLAG": ["FLAG"],
    "NGX_CONF_ANY": ["ANY"],
    "NGX_CONF_1MORE": ["ONE_MORE"],
    "NGX_CONF_2MORE": ["TWO_MORE"],
    "NGX_CONF_MULTI": [],
}
ARG_ORDER = [
    "NOARGS", "TAKE1", "TAKE2", "TAKE3", "TAKE4", "TAKE5", "TAKE6", "TAKE7", "BLOCK", "FLAG",
    "ANY", "ONE_MORE", "TWO_MORE",
]

SLOT_KINDS = {
    "ngx_conf_set_flag_slot": "Flag",
    "ngx_conf_set_str_slot": "Str",
    "ngx_conf_set_num_slot": "Number",
    "ngx_conf_set_size_slot": "Size",
    "ngx_conf_set_off_slot": "Offset",
    "ngx_conf_set_msec_slot": "Msec",
    "ngx_conf_set_sec_slot": "Sec",
    "ngx_conf_set_enum_slot": "Enum",
    "ngx_conf_set_bitmask_slot": "Bitmask",
}

# Modules of nginx's source that `configure` leaves out unless asked (`--with-...`), and the
# builds that ask. Every other module of src/ is built by default, except the OS-specific ones
# below (no build here runs on them).
NOT_LINUX = {
    "ngx_iocp_module", "ngx_kqueue_module", "ngx_devpoll_module", "ngx_eventport_module",
    "ngx_select_module", "ngx_poll_module", "ngx_win32_select_module", "ngx_win32_poll_module",
    "ngx_google_perftools_module",
}
DEB, ORG, OR = "DEBIAN", "NGINX_ORG", "OPENRESTY"
OPTIONAL_CORE = {
    # http, --with-*_module
    "ngx_http_ssl_module": {DEB, ORG, OR},
    "ngx_http_v2_module": {DEB, ORG, OR},
    "ngx_http_v3_module": {ORG},
    "ngx_http_realip_module": {DEB, ORG, OR},
    "ngx_http_addition_filter_module": {DEB, ORG, OR},
    "ngx_http_xslt_filter_module": {DEB, ORG},
    "ngx_http_image_filter_module": {DEB, ORG},
    "ngx_http_geoip_module": {DEB, ORG},
    "ngx_http_sub_filter_module": {DEB, ORG, OR},
    "ngx_http_dav_module": {DEB, ORG, OR},
    "ngx_http_flv_module": {DEB, ORG, OR},
    "ngx_http_mp4_module": {DEB, ORG, OR},
    "ngx_http_gunzip_filter_module": {DEB, ORG, OR},
    "ngx_http_gzip_static_module": {DEB, ORG, OR},
    "ngx_http_auth_request_module": {DEB, ORG, OR},
    "ngx_http_random_index_module": {DEB, ORG, OR},
    "ngx_http_secure_link_module": {DEB, ORG, OR},
    "ngx_http_degradation_module": set(),
    "ngx_http_slice_filter_module": {DEB, ORG, OR},
    "ngx_http_stub_status_module": {DEB, ORG, OR},
    "ngx_http_perl_module": {DEB, ORG},
    "ngx_thread_pool_module": {DEB, ORG, OR},
    # mail: --with-mail, --with-mail_ssl_module (OpenResty builds mail without its protocols)
    "ngx_mail_ssl_module": {DEB, ORG},
    # stream: --with-stream and its optional modules
    "ngx_stream_ssl_module": {DEB, ORG, OR},
    "ngx_stream_realip_module": {DEB, ORG},
    "ngx_stream_geoip_module": {DEB, ORG},
    "ngx_stream_ssl_preread_module": {DEB, ORG, OR},
}
# Whole families behind one switch.
FAMILY_BUILDS = {"ngx_mail_": {DEB, ORG}, "ngx_stream_": {DEB, ORG, OR}}
# The .so file a load_module names for a core module built as dynamic (Debian and nginx.org).
CORE_DYNAMIC = {
    "ngx_http_geoip_module": "ngx_http_geoip_module.so",
    "ngx_http_image_filter_module": "ngx_http_image_filter_module.so",
    "ngx_http_perl_module": "ngx_http_perl_module.so",
    "ngx_http_xslt_filter_module": "ngx_http_xslt_filter_module.so",
    "ngx_stream_geoip_module": "ngx_stream_geoip_module.so",
}
CORE_DYNAMIC_FAMILY = {"ngx_mail_": "ngx_mail_module.so", "ngx_stream_": "ngx_stream_module.so"}

# Third-party modules: (repository, commit, source paths (prefixes), builds, {module: .so}).
# A module without an .so entry is named after its own .so (`<module>.so`).
THIRD_PARTY = [
    # The OpenResty bundle.
    ("openresty/lua-nginx-module", "bbed32a6e500895b248df915a3b77b5a2d1b285e", ["src/"],
     {DEB, OR}, {}),
    ("openresty/stream-lua-nginx-module", "9344b4d0ca09429db9ec450660654b31a7b4470b", ["src/"],
     {OR}, {}),
    ("openresty/lua-upstream-nginx-module", "a1c451affc75c757c2b23e2dcf8f56ec2efc6ab0",
     ["src/"], {OR}, {}),
    ("vision5/ngx_devel_kit", "bd44d16302273052d6005d7bdb55f74e23813de3", ["src/", "objs/"],
     {DEB, OR}, {}),
    ("openresty/echo-nginx-module", "1148fe77cd7cbe1e66ff3428f572ad944f932e54", ["src/"],
     {DEB, OR}, {}),
    ("openresty/set-misc-nginx-module", "fdad936b03a501449fa1d0190052002fab408e98", ["src/"],
     {DEB, OR}, {}),
    ("openresty/headers-more-nginx-module", "e76a51306b152c2d3f3706053dcadb5a6bed9013",
     ["src/"], {DEB, OR}, {}),
    ("openresty/srcache-nginx-module", "33e5f13be3969e910c8075544908cdbd414dff32", ["src/"],
     {DEB, OR}, {}),
    ("openresty/memc-nginx-module", "e18ec73641b7049d8aa118dc821b51b105aefd26", ["src/"],
     {DEB, OR}, {}),
    ("openresty/redis2-nginx-module", "197f3e2f32b88e34bbc01f993376434b1c62e5ac", ["src/"],
     {OR}, {}),
    ("openresty/rds-json-nginx-module", "e6517b9f939748ccb153f661d97595f749e51670", ["src/"],
     {OR}, {}),
    ("openresty/rds-csv-nginx-module", "6a906860c62fc700870fff0340862e7fc0ec884f", ["src/"],
     {OR}, {}),
    ("openresty/array-var-nginx-module", "aa6b05871130e737b1843a07a1e9ef1f82bc8f49", ["src/"],
     {OR}, {}),
    ("openresty/encrypted-session-nginx-module", "7ffe4ec55c5020788035080319357e938e2ed746",
     ["src/"], {OR}, {}),
    ("calio/form-input-nginx-module", "2c94e74671f006d1897de062b5c774f7e0e5ff74", ["src/"],
     {OR}, {}),
    ("openresty/xss-nginx-module", "0e77f38d0ddf1ee3445024a8d875413418636245", ["src/"],
     {OR}, {}),
    ("osokin/ngx_http_redis", "ab4ef0c18c41afe2c1fcc8a7ad1af89c57773338", [""], {OR}, {}),
    ("calio/iconv-nginx-module", "9d5d79d9de2d4630ac8f328270aa8cc8ff2c0c66", ["src/"],
     set(), {}),
    ("openresty/drizzle-nginx-module", "3a72515e01bf8a8ad0064588ac94e99c01964fe6", ["src/"],
     set(), {}),
    # Other modules of PHP sites.
    ("google/ngx_brotli", "a71f9312c2deb28875acc7bacfdd5695a111aa53", ["filter/", "static/"],
     {DEB}, {}),
    ("nginx/njs", "3e02ae0fae030cd802075f42b7037fe3df96e2f6", ["nginx/"], {DEB, ORG},
     {"ngx_http_js_core_module": "ngx_http_js_module.so",
      "ngx_stream_js_core_module": "ngx_stream_js_module.so"}),
    ("leev/ngx_http_geoip2_module", "445df24ef3781e488cee3dfe8a1e111997fc1dfe", [""], {DEB},
     {}),
    ("vozlt/nginx-module-vts", "affcaf8e69bdc1c1b50522c1e77b16c218e990c8", ["src/"], set(),
     {}),
    ("nginx-modules/ngx_cache_purge", "4e012c13c55e6161aed74ed2816fad1cc646601d", [""], {DEB},
     {}),
    ("wargio/naxsi", "69ed59a1b48fe52347b4310d34e0b32920777bf5", ["naxsi_src/"], set(), {}),
    ("masterzen/nginx-upload-progress-module", "463d60b5024d3870280d3a63b1568a2676e24a8c",
     [""], {DEB}, {}),
    ("apache/incubator-pagespeed-ngx", "13bee9da76591484ad2b8d755620b610d2bb8551", ["src/"],
     set(), {}),
    ("owasp-modsecurity/ModSecurity-nginx", "86b670914e71a47a82d3afc04f0a2914d6c41282",
     ["src/"], {DEB}, {}),
    # Debian's other libnginx-mod-* packages.
    ("sto/ngx_http_auth_pam_module", "d9429ba93cdbe022196290c2c1dd529a59595315", [""], {DEB},
     {}),
    ("arut/nginx-dav-ext-module", "f5e30888a256136d9c550bf1ada77d6ea78a48af", [""], {DEB}, {}),
    ("aperezdc/ngx-fancyindex", "70311f239ec1e88ff79c669d126d08532ddb8554", [""], {DEB}, {}),
    ("yaoweibin/ngx_http_substitutions_filter_module",
     "e12e965ac1837ca709709f9a26f572a54d83430e", [""], {DEB}, {}),
    ("gnosek/nginx-upstream-fair", "a18b4099fbd458111983200e098b6f0c8efed4bc", [""], {DEB}, {}),
    ("slact/nchan", "9c6909d0a4c4611479b7182ac29b2065a5845614", ["src/"], {DEB},
     {"*": "ngx_nchan_module.so"}),
    ("arut/nginx-rtmp-module", "6c7719d0ba32e00b563ec70bd43dad11960fa9c4", [""], {DEB},
     {"*": "ngx_rtmp_module.so"}),
]
# The versions Debian 12 packages (libnginx-mod-*): their directives join the table (a module
# may since have dropped one), and those they lack are listed in NOT_IN_DEBIAN_12.
DEBIAN_12_TAGS = {
    "openresty/lua-nginx-module": "v0.10.23",
    "openresty/echo-nginx-module": "v0.63",
    "openresty/headers-more-nginx-module": "v0.34",
    "openresty/set-misc-nginx-module": "v0.33",
    "openresty/srcache-nginx-module": "v0.33",
    "openresty/memc-nginx-module": "v0.19",
    "vision5/ngx_devel_kit": "v0.3.2",
    "google/ngx_brotli": "v1.0.0rc",
    "nginx/njs": "0.7.9",
    "leev/ngx_http_geoip2_module": "3.4",
    "nginx-modules/ngx_cache_purge": "2.3",
    "masterzen/nginx-upload-progress-module": "v0.9.2",
    "owasp-modsecurity/ModSecurity-nginx": "v1.0.3",
    "sto/ngx_http_auth_pam_module": "v1.5.3",
    "arut/nginx-dav-ext-module": "v3.0.0",
    "aperezdc/ngx-fancyindex": "v0.5.2",
    "yaoweibin/ngx_http_substitutions_filter_module": "v0.6.4",
    "gnosek/nginx-upstream-fair": "a18b4099fbd458111983200e098b6f0c8efed4bc",
    "slact/nchan": "v1.3.6",
    "arut/nginx-rtmp-module": "v1.2.2",
}

# Directives the Debian 12 packages lack although their source version has them: Debian's
# stream js module is built without NGX_STREAM_SSL (the probe test shows it).
DEBIAN_12_BUILT_WITHOUT = [
    ("ngx_stream_js_module", name)
    for name in (
        "js_fetch_ciphers", "js_fetch_protocols", "js_fetch_trusted_certificate",
        "js_fetch_verify", "js_fetch_verify_depth",
    )
]

# Modules people use with PHP sites that could not be read here (no public source reached).
UNREACHED = [
    "ngx_coolkit and ngx_postgres (in OpenResty's bundle, off by default)",
]


def git(repo, *args):
    return subprocess.run(
        ["git", "-C", repo, *args], check=True, capture_output=True
    ).stdout


def cat_blobs(repo, shas):
    """Blob contents by sha, read in one `git cat-file --batch`."""
    shas = list(dict.fromkeys(shas))
    if not shas:
        return {}
    proc = subprocess.run(
        ["git", "-C", repo, "cat-file", "--batch"],
        input="".join(s + "\n" for s in shas).encode(),
        check=True,
        capture_output=True,
    )
    out, pos, blobs = proc.stdout, 0, {}
    for sha in shas:
        nl = out.index(b"\n", pos)
        header = out[pos:nl].split()
        size = int(header[2])
        blobs[sha] = out[nl + 1 : nl + 1 + size].decode("utf-8", "replace")
        pos = nl + 1 + size + 1
    return blobs


def source_files(repo, rev, prefixes, exts=(".c", ".cc", ".cpp", ".h")):
    """(path, blob sha) of the C sources of `rev` under `prefixes`."""
    listing = git(repo, "ls-tree", "-r", rev).decode()
    files = []
    for line in listing.splitlines():
        meta, path = line.split("\t", 1)
        parts = meta.split()
        if parts[1] != "blob" or not path.endswith(exts):
            continue
        if any(path.startswith(p) for p in prefixes):
            files.append((path, parts[2]))
    return files


COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def strip_comments(text):
    return COMMENT.sub(lambda m: " " * 0 + ("\n" * m.group(0).count("\n")), text)


def drop_if0(text):
    """Remove `#if 0` sections (nested conditionals counted); other conditionals stay: a
    directive behind `#if (NGX_PCRE)` or `#if (NGX_HTTP_SSL)` is one a common build has."""
    out, depth, skipping = [], 0, 0
    for line in text.split("\n"):
        s = line.strip()
        if skipping:
            if s.startswith("#if"):
                depth += 1
            elif s.startswith("#endif"):
                depth -= 1
                if depth == 0:
                    skipping = 0
            elif s.startswith(("#else", "#elif")) and depth == 1:
                skipping = 0
            out.append("")
            continue
        if re.match(r"#\s*if\s+0\b", s):
            skipping, depth = 1, 1
            out.append("")
            continue
        out.append(line)
    return "\n".join(out)


def split_top(s, sep=","):
    parts, depth, cur, in_str = [], 0, [], False
    i = 0
    while i < len(s):
        c = s[i]
        if in_str:
            cur.append(c)
            if c == "\\":
                cur.append(s[i + 1])
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            cur.append(c)
        elif c in "({[":
            depth += 1
            cur.append(c)
        elif c in ")}]":
            depth -= 1
            cur.append(c)
        elif c == sep and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


def match_brace(text, start):
    """Index just past the brace block opening at text[start] == '{'."""
    depth, i, in_str = 0, start, False
    while i < len(text):
        c = text[i]
        if in_str:
            if c == "\\":
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


DEFINE = re.compile(r"^\s*#\s*define\s+(\w+)\s+(.+?)\s*$", re.M)
COMMANDS = re.compile(r"ngx_command_t\s+(\w+)\s*\[\s*\w*\s*\]\s*=\s*\{")
MODULE_DEF = re.compile(
    r"ngx_module_t\s+(\w+)\s*=\s*\{\s*NGX_MODULE_V1\s*,\s*&?\s*(?:\w+::)*(\w+)\s*,"
    r"\s*&?\s*(?:\w+::)*(\w+)\s*,"
)
ANY_MODULE_DEF = re.compile(r"^ngx_module_t\s+(\w+)\s*=\s*\{", re.M)
NGX_STRING_MACRO = re.compile(r"ngx_string\s*\(\s*(\w+)\s*\)")
WORD_ARRAY = re.compile(r"(ngx_conf_enum_t|ngx_conf_bitmask_t)\s+(\w+)\s*\[\s*\]\s*=\s*\{")
NGX_STRING = re.compile(r'ngx_string\s*\(\s*"((?:[^"\\]|\\.)*)"\s*\)')
FUNC_DEF = re.compile(r"^(\w+)\s*\([^;{]*?\)\s*\{", re.M | re.S)


class Source:
    """What one tree of C sources says: commands arrays, modules, enum arrays, handlers."""

    def __init__(self, parts):
        self.defines = {}
        self.commands = {}  # array name -> list of raw entries
        self.modules = {}  # commands array name -> module name
        self.words = {}  # enum/bitmask array name -> words
        self.dup_funcs = set()  # functions whose body answers "is duplicate"
        self.calls = {}  # function -> names it calls
        self.all_modules = set()  # every ngx_module_t defined, with or without commands
        for part in parts:
            self.all_modules |= part.all_modules
            for k, v in part.defines.items():
                self.defines.setdefault(k, v)
            self.commands.update(part.commands)
            self.modules.update(part.modules)
            self.words.update(part.words)
            self.dup_funcs |= part.dup_funcs
            self.calls.update(part.calls)

    @classmethod
    def of_text(cls, text):
        part = cls([])
        part._read(drop_if0(strip_comments(text)))
        return part

    def _read(self, text):
        for m in DEFINE.finditer(text):
            self.defines.setdefault(m.group(1), m.group(2))
        self.all_modules.update(ANY_MODULE_DEF.findall(text))
        for m in MODULE_DEF.finditer(text):
            if m.group(3) != "NULL":
                self.modules[m.group(3)] = m.group(1)
        for m in WORD_ARRAY.finditer(text):
            end = match_brace(text, m.end() - 1)
            self.words[m.group(2)] = NGX_STRING.findall(text[m.end() : end])
        for m in FUNC_DEF.finditer(text):
            start = m.end() - 1
            end = match_brace(text, start)
            body = text[start:end]
            name = m.group(1)
            if '"is duplicate"' in body:
                self.dup_funcs.add(name)
            self.calls[name] = set(re.findall(r"return\s+(\w+)\s*\(", body))
        for m in COMMANDS.finditer(text):
            end = match_brace(text, m.end() - 1)
            body = text[m.end() : end - 1]
            body = "\n".join(
                "" if line.strip().startswith("#") else line for line in body.split("\n")
            )
            entries = []
            for item in split_top(body):
                if not item.startswith("{"):
                    continue
                fields = split_top(item.strip()[1:-1])
                if len(fields) < 3:
                    continue
                name = NGX_STRING.match(fields[0]) or NGX_STRING_MACRO.match(fields[0])
                if not name:
                    continue
                entries.append((name.group(0), fields[1], fields[2], fields[5:6]))
            self.commands[m.group(1)] = entries

    def expand(self, token, seen=()):
        token = token.strip().strip("()").strip()
        if (
            token in CTX_FLAGS
            or token in ARG_FLAGS
            or token == "NGX_ANY_CONF"
            or token.startswith(OTHER_CTX_PREFIXES)
        ):
            return [token]
        if token in self.defines and token not in seen:
            out = []
            for t in re.split(r"[|()\s\\]+", self.defines[token]):
                if t:
                    out += self.expand(t, seen + (token,))
            return out
        if token in ("0",):
            return []
        raise ValueError(f"unknown flag {token}")

    def command_name(self, token):
        """The name of `ngx_string("x")` or of `ngx_string(MACRO)` with `#define MACRO "x"`."""
        m = NGX_STRING.match(token)
        if not m:
            macro = NGX_STRING_MACRO.match(token).group(1)
            m = re.fullmatch(r'"((?:[^"\\]|\\.)*)"', self.defines.get(macro, ""))
            if not m:
                raise ValueError(f"cannot resolve {token}")
        return m.group(1)

    def refuses_duplicate(self, handler):
        if handler in self.dup_funcs or handler in CORE_DUP_SLOTS:
            return True
        # `return ngx_conf_set_flag_slot(cf, cmd, conf);` and the like
        return any(
            callee in self.dup_funcs or callee in CORE_DUP_SLOTS
            for callee in self.calls.get(handler, ())
        )

    def specs(self):
        """(module, name, ctx bits, arg bits, value kind, refuses duplicate)."""
        out = []
        for array, entries in self.commands.items():
            module = self.modules.get(array)
            if module is None:
                continue
            for name, flags, handler, post in entries:
                name = self.command_name(name)
                ctx, args = set(), set()
                for f in re.split(r"\|", flags):
                    for t in self.expand(f):
                        if t in ARG_FLAGS:
                            args.update(ARG_FLAGS[t])
                        elif t == "NGX_ANY_CONF":
                            ctx.update(ALL_CTX)
                        elif t.startswith(OTHER_CTX_PREFIXES):
                            ctx.add("OTHER")
                        elif CTX_FLAGS.get(t):
                            ctx.add(CTX_FLAGS[t])
                handler = handler.strip()
                kind = SLOT_KINDS.get(handler, "Custom")
                value = (kind,)
                if kind in ("Enum", "Bitmask"):
                    arr = post[0].strip().lstrip("&").split("[")[0].strip() if post else ""
                    words = self.words.get(arr)
                    value = (kind, tuple(words)) if words else ("Custom",)
                dup = self.refuses_duplicate(handler)
                if (module, name) in DUPLICATE_ONLY_FOR_SOME_VALUES:
                    dup = False
                out.append((module, name, frozenset(ctx), frozenset(args), value, dup))
        return out


CORE_DUP_SLOTS = set()


# Handlers that answer "is duplicate" only for some values: a second one is refused after
# `mirror off` alone, so in general nginx takes several.
DUPLICATE_ONLY_FOR_SOME_VALUES = {("ngx_http_mirror_module", "mirror")}


def version_of(tag):
    return tuple(int(x) for x in tag[len("release-") :].split("."))


def read_tree(repo, rev, prefixes, parsed):
    """The Source of `rev`; `parsed` caches each file's parse by blob across versions."""
    files = source_files(repo, rev, prefixes)
    missing = [sha for _, sha in files if sha not in parsed]
    for sha, text in cat_blobs(repo, missing).items():
        parsed[sha] = Source.of_text(text)
    return Source(parsed[sha] for _, sha in sorted(files))


def merge(specs):
    """One entry per (module, name): `#if` branches of one file may define a name twice."""
    merged = {}
    for module, name, ctx, args, value, dup in specs:
        key = (module, name)
        if key in merged:
            _, _, c0, a0, v0, d0 = merged[key]
            merged[key] = (module, name, c0 | ctx, a0 | args, v0, d0 and dup)
        else:
            merged[key] = (module, name, ctx, args, value, dup)
    return merged


def core_builds(module):
    if module in NOT_LINUX:
        return set()
    if module in OPTIONAL_CORE:
        return OPTIONAL_CORE[module]
    for prefix, builds in FAMILY_BUILDS.items():
        if module.startswith(prefix):
            return builds
    return {DEB, ORG, OR}


def core_dynamic(module):
    if module in CORE_DYNAMIC:
        return CORE_DYNAMIC[module]
    for prefix, so in CORE_DYNAMIC_FAMILY.items():
        if module.startswith(prefix):
            return so
    return None


def rust_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def bits(names, order, empty="0"):
    names = [n for n in order if n in names]
    return " | ".join(names) if names else empty


def rust_version(v):
    return "V0" if v is None else f"Version({v[0]}, {v[1]}, {v[2]})"


def value_rs(value):
    if value[0] in ("Enum", "Bitmask"):
        words = ", ".join(rust_str(w) for w in value[1])
        return f"ValueKind::{value[0]}(&[{words}])"
    return f"ValueKind::{value[0]}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mirrors", default=os.environ.get("NGINX_TABLE_MIRRORS", "/work/.mirror"))
    ap.add_argument("--nginx-git")
    ap.add_argument("--output", default=os.path.join(HERE, "nginx_table.rs"))
    opts = ap.parse_args()
    nginx = opts.nginx_git or os.path.join(opts.mirrors, "nginx+nginx", "repo")

    tags = [
        t
        for t in git(nginx, "tag", "-l", "release-*").decode().split()
        if re.fullmatch(r"release-\d+\.\d+\.\d+", t) and version_of(t) >= (1, 18, 0)
    ]
    tags.sort(key=version_of)
    head = git(nginx, "rev-parse", "HEAD").decode().strip()
    nginx_h = git(nginx, "show", "HEAD:src/core/nginx.h").decode()
    head_version = tuple(
        int(x) for x in re.search(r'NGINX_VERSION\s+"([\d.]+)"', nginx_h).group(1).split(".")
    )
    revs = [(version_of(t), t) for t in tags]
    if head_version > revs[-1][0]:
        revs.append((head_version, head))

    blob_cache = {}
    per_version = []
    global CORE_DUP_SLOTS
    for version, rev in revs:
        src = read_tree(nginx, rev, ["src/"], blob_cache)
        if rev == revs[-1][1]:
            CORE_DUP_SLOTS = {f for f in src.dup_funcs if f.startswith("ngx_conf_set_")}
        per_version.append((version, src))
    # The duplicate check of the standard slots is known only once the core was read.
    per_version = [(v, merge(src.specs())) for v, src in per_version]

    entries = {}  # (module, name) -> [spec, since, until]
    modules = {}  # module -> (builds, .so)
    versions = [v for v, _ in per_version]
    for key in set().union(*(specs.keys() for _, specs in per_version)):
        present = [i for i, (_, specs) in enumerate(per_version) if key in specs]
        last = present[-1]
        spec = per_version[last][1][key]
        since = None if present[0] == 0 else versions[present[0]]
        until = None if last == len(versions) - 1 else versions[last + 1]
        entries[key] = (spec, since, until)
        modules[key[0]] = (core_builds(key[0]), core_dynamic(key[0]))

    header_third = []
    not_in_debian = []  # (module, name) of a newer module version than Debian 12 packages
    for repo, commit, prefixes, builds, so_map in THIRD_PARTY:
        path = os.path.join(opts.mirrors, repo.replace("/", "+"), "repo")
        if not os.path.isdir(path):
            sys.exit(f"missing clone of {repo} at {path}")
        parsed = {}
        src = read_tree(path, commit, prefixes, parsed)
        specs = merge(src.specs())
        note = "" if specs else " (no directives)"
        if repo in DEBIAN_12_TAGS:
            tag = DEBIAN_12_TAGS[repo]
            old = merge(read_tree(path, tag, prefixes, parsed).specs())
            for key in specs:
                if key not in old:
                    not_in_debian.append(key)
            for key, spec in old.items():
                specs.setdefault(key, spec)
            note += f", with Debian 12's {tag[:12]}"
        header_third.append(f"{repo} {commit[:12]}{note}")
        if not specs:
            # Still a module a load_module may name (ndk_http_module.so).
            for module in sorted(src.all_modules):
                so = so_map.get(module, so_map.get("*", module + ".so"))
                modules.setdefault(module, (builds, so))
        for key, spec in specs.items():
            entries.setdefault(key, (spec, None, None))
            so = so_map.get(key[0], so_map.get("*", key[0] + ".so"))
            modules.setdefault(key[0], (builds, so))

    lines = []
    w = lines.append
    w("//! Generated by `python3 src/model/directives/gen_nginx_table.py`: do not edit.")
    w("//!")
    w(f"//! nginx: tags release-{'.'.join(map(str, versions[0]))} to "
      f"release-{'.'.join(map(str, [v for v, r in revs if r != head][-1]))}"
      + (f" and mainline {head[:12]} ({'.'.join(map(str, head_version))})"
         if revs[-1][1] == head else "")
      + f", {len(versions)} versions.")
    w("//! Third-party modules (repository, commit):")
    for h in header_third:
        w(f"//! - {h}")
    w("//!")
    w("//! Not covered: " + "; ".join(UNREACHED) + ".")
    w("")
    w("use super::{args::*, builds::*, ctx::*, DirectiveSpec, ModuleSpec, ValueKind, Version};")
    w("")
    w("/// `since` of the directives nginx 1.18.0 already had.")
    w("const V0: Version = Version(0, 0, 0);")
    w("")
    w("/// Every module with a directive, sorted by name.")
    w("pub static MODULES: &[ModuleSpec] = &[")
    for name in sorted(modules):
        builds, so = modules[name]
        w("    ModuleSpec {")
        w(f"        name: {rust_str(name)},")
        w(f"        builds: {bits(builds, [DEB, ORG, OR])},")
        w(f"        dynamic_file: {'Some(' + rust_str(so) + ')' if so else 'None'},")
        w("    },")
    w("];")
    w("")
    keys = sorted(entries, key=lambda k: (k[1], k[0]))
    names = list(dict.fromkeys(k[1] for k in keys))
    w("/// Every `ngx_command_t`, sorted by name, then module.")
    w("pub static DIRECTIVES: &[DirectiveSpec] = &[")
    for key in keys:
        (module, name, ctx, args, value, dup), since, until = entries[key]
        w("    DirectiveSpec {")
        w(f"        name: {rust_str(name)},")
        w(f"        module: {rust_str(module)},")
        w(f"        contexts: {bits(ctx, ALL_CTX)},")
        w(f"        args: {bits(args, ARG_ORDER)},")
        w(f"        value: {value_rs(value)},")
        w(f"        refuses_duplicate: {'true' if dup else 'false'},")
        w(f"        since: {rust_version(since)},")
        w(f"        until: {'None' if until is None else 'Some(' + rust_version(until) + ')'},")
        w("    },")
    w("];")
    w("")
    w("/// Entries (module, name) that Debian 12's third-party module packages lack: they came in")
    w("/// later versions of the module, or Debian builds the module without them.")
    w("pub static NOT_IN_DEBIAN_12: &[(&str, &str)] = &[")
    for key in DEBIAN_12_BUILT_WITHOUT:
        if key not in entries:
            sys.exit(f"DEBIAN_12_BUILT_WITHOUT names an unknown entry {key}")
    not_in_debian = set(not_in_debian) | set(DEBIAN_12_BUILT_WITHOUT)
    for module, name in sorted(not_in_debian, key=lambda k: (k[1], k[0])):
        w(f"    ({rust_str(module)}, {rust_str(name)}),")
    w("];")
    w("")
    w("/// The distinct names of [`DIRECTIVES`], sorted, for binary search.")
    w("pub static NAMES: &[&str] = &[")
    for n in names:
        w(f"    {rust_str(n)},")
    w("];")
    w("")
    w("/// `NAME_STARTS[i]..NAME_STARTS[i + 1]` are the entries of `NAMES[i]` in [`DIRECTIVES`].")
    w("pub static NAME_STARTS: &[u16] = &[")
    starts, i = [], 0
    for n in names:
        starts.append(i)
        while i < len(keys) and keys[i][1] == n:
            i += 1
    starts.append(len(keys))
    for s in starts:
        w(f"    {s},")
    w("];")
    w("")
    w("/// Every entry named `name`.")
    w("pub fn lookup(name: &str) -> &'static [DirectiveSpec] {")
    w("    match NAMES.binary_search(&name) {")
    w("        Ok(i) => &DIRECTIVES[NAME_STARTS[i] as usize..NAME_STARTS[i + 1] as usize],")
    w("        Err(_) => &[],")
    w("    }")
    w("}")
    text = "\n".join(lines) + "\n"
    with open(opts.output, "w") as f:
        f.write(text)
    try:
        subprocess.run(["rustfmt", "--edition", "2021", opts.output], check=True)
    except FileNotFoundError:
        print("rustfmt not found: run `cargo fmt`", file=sys.stderr)
    print(
        f"{opts.output}: {len(keys)} entries, {len(names)} names, {len(modules)} modules, "
        f"{len(versions)} nginx versions",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
