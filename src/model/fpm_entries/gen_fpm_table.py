#!/usr/bin/env python3
"""Generate table.rs: every entry php-fpm 7.4 to 8.4 accepts in php-fpm.conf and pool files.

Run from anywhere: `python3 src/model/fpm_entries/gen_fpm_table.py` rewrites table.rs beside
this script.

The facts are php-src's, sapi/fpm/fpm/fpm_conf.c:
- `ini_fpm_global_options[]` and `ini_fpm_pool_options[]`: name and value parser of every
  plain entry (matched with strcasecmp, so case does not matter);
- `fpm_conf_ini_parser_array()`: the array entries `env`, `php_value`, `php_admin_value`,
  `php_flag`, `php_admin_flag` and (8.2) `access.suppress_path`, matched case-sensitively,
  pool sections only;
- `fpm_conf_ini_parser_entry()`: `include` in any section.
Read from three stored copies of fpm_conf.c: an 8.2-line revision (its pool table has
`listen.setfib`, `pm.max_spawn_rate`, `pm.status_listen`, its array parser
`access.suppress_path`), an 8.1-line one (shivammathur/php-src-backports @07e5a926: the same
tables without `listen.setfib` and `access.suppress_path`), and php/php-src @035536ad (the
5.3-era tables, for what is old). Versions come from those and php-src's UPGRADING and NEWS:
`pm.status_listen` 8.0, `pm.max_spawn_rate` 8.1, `access.suppress_path` and `listen.setfib`
8.2; `log_limit`, `log_buffering`, `decorate_workers_output`,
`request_terminate_timeout_track_finished` 7.3 (before the range). Nothing was removed
between 7.4 and 8.4.

`build` names the `#ifdef` around an entry: php-fpm knows it only when built with that
feature (Debian's php-fpm8.2 has systemd, ACL and AppArmor; `SO_SETFIB` is FreeBSD's).
"""

import os

FIRST, LAST = (7, 4), (8, 4)

# (name, parser, since, build)
GLOBAL = [
    ("pid", "String", None, None),
    ("error_log", "String", None, None),
    ("syslog.ident", "String", None, "syslog"),
    ("syslog.facility", "SyslogFacility", None, "syslog"),
    ("log_buffering", "Boolean", None, None),
    ("log_level", "LogLevel", None, None),
    ("log_limit", "Integer", None, None),
    ("emergency_restart_threshold", "Integer", None, None),
    ("emergency_restart_interval", "Time", None, None),
    ("process_control_timeout", "Time", None, None),
    ("process.max", "Integer", None, None),
    ("process.priority", "Integer", None, None),
    ("daemonize", "Boolean", None, None),
    ("rlimit_files", "Integer", None, None),
    ("rlimit_core", "RlimitCore", None, None),
    ("events.mechanism", "String", None, None),
    ("systemd_interval", "Time", None, "systemd"),
]

POOL = [
    ("prefix", "String", None, None),
    ("user", "String", None, None),
    ("group", "String", None, None),
    ("listen", "String", None, None),
    ("listen.backlog", "Integer", None, None),
    ("listen.acl_users", "String", None, "acl"),
    ("listen.acl_groups", "String", None, "acl"),
    ("listen.owner", "String", None, None),
    ("listen.group", "String", None, None),
    ("listen.mode", "String", None, None),
    ("listen.allowed_clients", "String", None, None),
    ("listen.setfib", "Integer", (8, 2), "setfib"),
    ("process.priority", "Integer", None, None),
    ("process.dumpable", "Boolean", None, None),
    ("pm", "Pm", None, None),
    ("pm.max_children", "Integer", None, None),
    ("pm.start_servers", "Integer", None, None),
    ("pm.min_spare_servers", "Integer", None, None),
    ("pm.max_spare_servers", "Integer", None, None),
    ("pm.max_spawn_rate", "Integer", (8, 1), None),
    ("pm.process_idle_timeout", "Time", None, None),
    ("pm.max_requests", "Integer", None, None),
    ("pm.status_path", "String", None, None),
    ("pm.status_listen", "String", (8, 0), None),
    ("ping.path", "String", None, None),
    ("ping.response", "String", None, None),
    ("access.log", "String", None, None),
    ("access.format", "String", None, None),
    ("slowlog", "String", None, None),
    ("request_slowlog_timeout", "Time", None, None),
    ("request_slowlog_trace_depth", "Integer", None, None),
    ("request_terminate_timeout", "Time", None, None),
    ("request_terminate_timeout_track_finished", "Boolean", None, None),
    ("rlimit_files", "Integer", None, None),
    ("rlimit_core", "RlimitCore", None, None),
    ("chroot", "String", None, None),
    ("chdir", "String", None, None),
    ("catch_workers_output", "Boolean", None, None),
    ("decorate_workers_output", "Boolean", None, None),
    ("clear_env", "Boolean", None, None),
    ("security.limit_extensions", "String", None, None),
    ("apparmor_hat", "String", None, "apparmor"),
]

# Array entries (`name[key] = value`), pool sections only.
ARRAYS = [
    ("env", "ArrayEnv", None, None),
    ("php_value", "ArrayString", None, None),
    ("php_admin_value", "ArrayString", None, None),
    ("php_flag", "ArrayBoolean", None, None),
    ("php_admin_flag", "ArrayBoolean", None, None),
    ("access.suppress_path", "ArraySuppressPath", (8, 2), None),
]

BUILDS = {
    None: "Build::Always",
    "syslog": "Build::Always",  # HAVE_SYSLOG_H: every Unix
    "systemd": "Build::Systemd",
    "acl": "Build::Acl",
    "apparmor": "Build::Apparmor",
    "setfib": "Build::FreeBsd",
}


def row(name, section, parser, since, build):
    s = since or FIRST
    return (
        f'    FpmEntry {{ name: "{name}", section: Section::{section}, parser: Parser::{parser}, '
        f"since: PhpVersion({s[0]}, {s[1]}), until: None, build: {BUILDS[build]} }},"
    )


def main():
    rows = [row(*(e[:1] + ("Global",) + e[1:])) for e in GLOBAL]
    rows += [row(*(e[:1] + ("Pool",) + e[1:])) for e in POOL]
    rows += [row(*(e[:1] + ("PoolArray",) + e[1:])) for e in ARRAYS]
    out = [
        "// @generated by gen_fpm_table.py from php-src sapi/fpm/fpm/fpm_conf.c: do not edit.",
        "// Regenerate: python3 src/model/fpm_entries/gen_fpm_table.py",
        "",
        "use super::{Build, FpmEntry, Parser, PhpVersion, Section};",
        "",
        "/// The oldest and newest php-fpm the table describes.",
        f"pub const FIRST_VERSION: PhpVersion = PhpVersion({FIRST[0]}, {FIRST[1]});",
        f"pub const LAST_VERSION: PhpVersion = PhpVersion({LAST[0]}, {LAST[1]});",
        "",
        "/// Global entries, then pool entries, then pool array entries, in php-src's order.",
        "#[rustfmt::skip]",
        "pub static ENTRIES: &[FpmEntry] = &[",
        *rows,
        "];",
        "",
    ]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "table.rs")
    with open(path, "w") as f:
        f.write("\n".join(out))
    print(f"{path}: {len(rows)} entries")


if __name__ == "__main__":
    main()
