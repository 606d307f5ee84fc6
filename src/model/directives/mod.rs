//! What nginx knows of each directive: the modules that define it, the blocks it may sit in,
//! how many arguments it takes, and how nginx reads its value while loading the configuration.
//!
//! The data is in [`nginx_table`], generated from the `ngx_command_t` arrays of nginx's sources
//! and of the third-party modules people run with PHP sites (see the generator beside it).
//! This module is the stable interface the rules use; the table can be regenerated without
//! touching them.
//!
//! - [`lookup`]: every entry of a name in the whole table (all modules, all versions).
//! - [`Catalog`]: the directives of the build being linted, from the `nginx-modules`,
//!   `nginx-version` and `extra-directives` settings and the tree's `load_module` lines
//!   ([`Catalog::for_project`]); [`Catalog::specs`] for a name, [`Catalog::absence`] for why
//!   the build lacks one the table knows, [`Catalog::names_in`] for "did you mean" candidates,
//!   [`Catalog::is_complete`] before calling a name unknown with certainty.
//! - `tests/real_directive_table.rs` checks the table against the real nginx.

mod catalog;
pub mod nginx_table;
pub mod values;

pub use catalog::{
    parse_args, parse_contexts, Catalog, ExtraDirective, ModuleSelection, BUILD_NAMES,
    CONTEXT_NAMES, EXTRA_MODULE,
};

/// Where a directive may appear: nginx's `NGX_*_CONF` context flags, one bit each.
pub mod ctx {
    /// The main level of `nginx.conf` (`NGX_MAIN_CONF`).
    pub const MAIN: u32 = 1 << 0;
    /// Inside `events { }` (`NGX_EVENT_CONF`).
    pub const EVENTS: u32 = 1 << 1;
    /// `http { }` (`NGX_HTTP_MAIN_CONF`).
    pub const HTTP: u32 = 1 << 2;
    /// `server { }` in `http` (`NGX_HTTP_SRV_CONF`).
    pub const HTTP_SRV: u32 = 1 << 3;
    /// `location { }` (`NGX_HTTP_LOC_CONF`).
    pub const HTTP_LOC: u32 = 1 << 4;
    /// `upstream { }` in `http` (`NGX_HTTP_UPS_CONF`).
    pub const HTTP_UPS: u32 = 1 << 5;
    /// `if { }` in a server (`NGX_HTTP_SIF_CONF`).
    pub const HTTP_SIF: u32 = 1 << 6;
    /// `if { }` in a location (`NGX_HTTP_LIF_CONF`).
    pub const HTTP_LIF: u32 = 1 << 7;
    /// `limit_except { }` (`NGX_HTTP_LMT_CONF`).
    pub const HTTP_LMT: u32 = 1 << 8;
    /// `mail { }` (`NGX_MAIL_MAIN_CONF`).
    pub const MAIL: u32 = 1 << 9;
    /// `server { }` in `mail` (`NGX_MAIL_SRV_CONF`).
    pub const MAIL_SRV: u32 = 1 << 10;
    /// `stream { }` (`NGX_STREAM_MAIN_CONF`).
    pub const STREAM: u32 = 1 << 11;
    /// `server { }` in `stream` (`NGX_STREAM_SRV_CONF`).
    pub const STREAM_SRV: u32 = 1 << 12;
    /// `upstream { }` in `stream` (`NGX_STREAM_UPS_CONF`).
    pub const STREAM_UPS: u32 = 1 << 13;
    /// A third-party module's own block family (rtmp, ...): its insides are not modelled.
    pub const OTHER: u32 = 1 << 14;
}

/// Argument shapes: the `NGX_CONF_*` argument flags of `ngx_command_t.type`, same meaning.
pub mod args {
    pub const NOARGS: u32 = 0x1;
    pub const TAKE1: u32 = 0x2;
    pub const TAKE2: u32 = 0x4;
    pub const TAKE3: u32 = 0x8;
    pub const TAKE4: u32 = 0x10;
    pub const TAKE5: u32 = 0x20;
    pub const TAKE6: u32 = 0x40;
    pub const TAKE7: u32 = 0x80;
    /// The directive opens a block.
    pub const BLOCK: u32 = 0x100;
    /// Exactly one argument, `on` or `off`.
    pub const FLAG: u32 = 0x200;
    /// Any number of arguments, not checked by nginx.
    pub const ANY: u32 = 0x400;
    pub const ONE_MORE: u32 = 0x800;
    pub const TWO_MORE: u32 = 0x1000;
    /// The bit for exactly `n` arguments, `n` from 0 to 7.
    pub const TAKE: [u32; 8] = [NOARGS, TAKE1, TAKE2, TAKE3, TAKE4, TAKE5, TAKE6, TAKE7];
}

/// How nginx reads the value while loading the configuration, where a standard handler of
/// nginx does it (`ngx_conf_set_*_slot`). Directives with their own handler are `Custom`:
/// the value rules check some of those by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// Own handler, or a string nginx takes as written.
    Custom,
    /// `on` / `off` (`ngx_conf_set_flag_slot`).
    Flag,
    /// `ngx_conf_set_str_slot` and friends: any string.
    Str,
    /// A non-negative integer (`ngx_conf_set_num_slot`).
    Number,
    /// A size: `512`, `8k`, `1m` (`ngx_conf_set_size_slot`).
    Size,
    /// An offset: a size that may also use `g` (`ngx_conf_set_off_slot`).
    Offset,
    /// A time in milliseconds: `500ms`, `30s`, `1m` (`ngx_conf_set_msec_slot`).
    Msec,
    /// A time in seconds (`ngx_conf_set_sec_slot`).
    Sec,
    /// One of the listed words (`ngx_conf_set_enum_slot`).
    Enum(&'static [&'static str]),
    /// One or more of the listed words (`ngx_conf_set_bitmask_slot`).
    Bitmask(&'static [&'static str]),
}

/// One `ngx_command_t` of one module. A name may have several (the `server` of `http` and
/// the `server` of `upstream`, `listen` in http, mail and stream, ...).
#[derive(Clone, Copy, Debug)]
pub struct DirectiveSpec {
    pub name: &'static str,
    /// The module's name as nginx spells it (`ngx_http_fastcgi_module`).
    pub module: &'static str,
    /// [`ctx`] bits.
    pub contexts: u32,
    /// [`args`] bits.
    pub args: u32,
    pub value: ValueKind,
    /// nginx refuses a second one in the same block (`"root" directive is duplicate`).
    pub refuses_duplicate: bool,
    /// First nginx version that has it (for third-party modules: 0, unknown).
    pub since: Version,
    /// First nginx version that no longer has it; None while it exists in mainline.
    pub until: Option<Version>,
}

/// An nginx version, `1.25.1` as `Version(1, 25, 1)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u16, pub u16, pub u16);

/// Where a module comes from, for the `nginx-modules` setting.
#[derive(Clone, Copy, Debug)]
pub struct ModuleSpec {
    pub name: &'static str,
    /// [`builds`] bits: which common builds carry it (statically or as a package).
    pub builds: u32,
    /// The file a `load_module` line names for it when it is dynamic (`ngx_http_echo_module.so`).
    pub dynamic_file: Option<&'static str>,
}

/// Common nginx builds.
pub mod builds {
    /// Debian's `nginx` package and its `libnginx-mod-*` packages.
    pub const DEBIAN: u32 = 1 << 0;
    /// nginx.org's packages (with their dynamic modules).
    pub const NGINX_ORG: u32 = 1 << 1;
    /// OpenResty.
    pub const OPENRESTY: u32 = 1 << 2;
}

/// Every `ngx_command_t` named `name`, across all modules in the table.
pub fn lookup(name: &str) -> &'static [DirectiveSpec] {
    nginx_table::lookup(name)
}

/// Every module in the table.
pub fn modules() -> &'static [ModuleSpec] {
    nginx_table::MODULES
}

/// Whether `n` arguments (the name not counted) fit the shape `shape`, as nginx's
/// `ngx_conf_handler` counts them.
pub fn arg_count_ok(shape: u32, n: usize) -> bool {
    if shape & args::ANY != 0 {
        return true;
    }
    if shape & args::FLAG != 0 {
        return n == 1;
    }
    // No upper bound: `gzip_types` lists dozens of types.
    if shape & args::ONE_MORE != 0 {
        return n >= 1;
    }
    if shape & args::TWO_MORE != 0 {
        return n >= 2;
    }
    // NGX_CONF_MAX_ARGS is 8, the name included.
    args::TAKE.get(n).is_some_and(|bit| shape & bit != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_counts_as_nginx_counts_them() {
        assert!(arg_count_ok(args::NOARGS, 0));
        assert!(!arg_count_ok(args::NOARGS, 1));
        assert!(arg_count_ok(args::TAKE1 | args::TAKE2, 2));
        assert!(!arg_count_ok(args::TAKE1 | args::TAKE2, 3));
        assert!(arg_count_ok(args::ONE_MORE, 7));
        assert!(arg_count_ok(args::ONE_MORE, 40));
        assert!(arg_count_ok(args::TWO_MORE, 9));
        assert!(!arg_count_ok(args::ONE_MORE, 0));
        assert!(!arg_count_ok(args::TWO_MORE, 1));
        assert!(arg_count_ok(args::FLAG, 1));
        assert!(arg_count_ok(args::ANY, 0));
    }

    // Expected values read from nginx's sources and the modules' documentation.
    #[test]
    fn lookup_finds_directives_of_nginx_and_third_party_modules() {
        let pass = lookup("fastcgi_pass");
        assert_eq!(pass.len(), 1);
        assert_eq!(pass[0].module, "ngx_http_fastcgi_module");
        assert_eq!(pass[0].contexts, ctx::HTTP_LOC | ctx::HTTP_LIF);
        assert_eq!(pass[0].args, args::TAKE1);
        assert!(pass[0].refuses_duplicate);

        let http2 = lookup("http2");
        assert_eq!(http2.len(), 1);
        assert_eq!(http2[0].since, Version(1, 25, 1));
        assert_eq!(http2[0].until, None);
        assert_eq!(http2[0].value, ValueKind::Flag);

        let ssl: Vec<_> = lookup("ssl").iter().map(|d| (d.module, d.until)).collect();
        assert!(ssl.contains(&("ngx_http_ssl_module", Some(Version(1, 25, 1)))));

        let more = lookup("more_set_headers");
        assert_eq!(more[0].module, "ngx_http_headers_more_filter_module");
        assert_eq!(more[0].args, args::ONE_MORE);

        let listen: Vec<_> = lookup("listen").iter().map(|d| d.module).collect();
        assert!(listen.contains(&"ngx_http_core_module"));
        assert!(listen.contains(&"ngx_stream_core_module"));
        assert!(listen.contains(&"ngx_mail_core_module"));

        assert_eq!(
            lookup("gzip_http_version")[0].value,
            ValueKind::Enum(&["1.0", "1.1"])
        );
        assert!(lookup("fastcgi_pas").is_empty());
        assert!(lookup("").is_empty());
        assert!(lookup("zzzz").is_empty());
    }

    #[test]
    fn every_entry_names_a_module_of_the_table() {
        let modules: std::collections::HashSet<_> = modules().iter().map(|m| m.name).collect();
        for name in nginx_table::NAMES {
            let specs = lookup(name);
            assert!(!specs.is_empty(), "{name}");
            for d in specs {
                assert_eq!(d.name, *name);
                assert!(modules.contains(d.module), "{}", d.module);
                assert!(d.contexts != 0, "{name} has no context");
            }
        }
        assert!(nginx_table::NAMES.windows(2).all(|w| w[0] < w[1]));
    }
}

/// Why a directive the table knows is not available in the build being linted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Absence {
    /// Added in this version, after the `nginx-version` given.
    NewerThan(Version),
    /// Removed in this version, at or before the `nginx-version` given.
    RemovedIn(Version),
    /// Its module is not in the `nginx-modules` selection (and no `load_module` loads it).
    ModuleNotSelected(&'static str),
}
