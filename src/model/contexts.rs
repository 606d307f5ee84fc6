//! Where nginx allows the directives the rules consult, and which directives stop inheritance.
//!
//! An interim, deliberately small table: the contexts of each directive below are the flags of
//! its `ngx_command_t` in nginx 1.22's sources (`NGX_HTTP_MAIN_CONF`, `NGX_HTTP_SRV_CONF`,
//! `NGX_HTTP_LOC_CONF`, `NGX_HTTP_LIF_CONF`, `NGX_HTTP_SIF_CONF`, `NGX_HTTP_LMT_CONF`), and each
//! was checked with `nginx -t` ("directive is not allowed here"). A full directive table can
//! replace [`allowed_in`] without changing its callers.

/// The kind of block a directive sits in, as nginx's context flags tell them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    Main,
    Http,
    Server,
    Location,
    /// `if` at server level (`NGX_HTTP_SIF_CONF`).
    IfInServer,
    /// `if` inside a location (`NGX_HTTP_LIF_CONF`).
    IfInLocation,
    LimitExcept,
    /// Any other block (`stream`, `mail`, a module's own block): not judged.
    Other,
}

impl BlockKind {
    /// The kind of the block opened by `name`, given the kind of the block around it.
    pub fn of_block(name: &str, outer: BlockKind) -> BlockKind {
        match (name, outer) {
            ("http", _) => BlockKind::Http,
            ("server", BlockKind::Http) => BlockKind::Server,
            ("location", BlockKind::Server | BlockKind::Location) => BlockKind::Location,
            ("if", BlockKind::Server) => BlockKind::IfInServer,
            ("if", BlockKind::Location) => BlockKind::IfInLocation,
            ("limit_except", BlockKind::Location) => BlockKind::LimitExcept,
            _ => BlockKind::Other,
        }
    }
}

const MAIN: u8 = 1;
const HTTP: u8 = 2;
const SRV: u8 = 4;
const LOC: u8 = 8;
const SIF: u8 = 16;
const LIF: u8 = 32;
const LMT: u8 = 64;

/// Context flags of the directives the rules read.
fn contexts(name: &str) -> Option<u8> {
    Some(match name {
        "fastcgi_pass" => LOC | LIF,
        "proxy_pass" => LOC | LIF | LMT,
        "fastcgi_param"
        | "fastcgi_index"
        | "fastcgi_buffer_size"
        | "fastcgi_buffers"
        | "fastcgi_busy_buffers_size"
        | "fastcgi_temp_file_write_size"
        | "fastcgi_max_temp_file_size"
        | "fastcgi_read_timeout"
        | "fastcgi_send_timeout"
        | "fastcgi_connect_timeout"
        | "proxy_buffer_size"
        | "proxy_buffers"
        | "proxy_busy_buffers_size"
        | "proxy_temp_file_write_size"
        | "proxy_max_temp_file_size"
        | "proxy_read_timeout"
        | "proxy_set_header" => HTTP | SRV | LOC,
        "fastcgi_split_path_info" | "alias" | "internal" => LOC,
        "try_files" => SRV | LOC,
        "root" => HTTP | SRV | LOC | LIF,
        "location" => SRV | LOC,
        "if" | "return" => SRV | LOC | SIF | LIF,
        "server" => HTTP,
        "http" | "user" => MAIN,
        _ => return None,
    })
}

/// Whether nginx accepts directive `name` in a block of kind `block`; None when this table
/// does not know the directive or the block (treat as allowed).
pub fn allowed_in(name: &str, block: BlockKind) -> Option<bool> {
    let flags = contexts(name)?;
    let need = match block {
        BlockKind::Main => MAIN,
        BlockKind::Http => HTTP,
        BlockKind::Server => SRV,
        BlockKind::Location => LOC,
        BlockKind::IfInServer => SIF,
        BlockKind::IfInLocation => LIF,
        BlockKind::LimitExcept => LMT,
        BlockKind::Other => return None,
    };
    Some(flags & need != 0)
}

/// Directives of which one at a level replaces the whole outer set: nginx's documentation
/// says of each "inherited from the previous configuration level if and only if there are no
/// ... directives defined on the current level". A fix that adds the first one of these to a
/// level that inherits some must carry the inherited ones along.
pub const INHERITANCE_STOPPERS: &[&str] = &[
    "fastcgi_param",
    "scgi_param",
    "uwsgi_param",
    "proxy_set_header",
    "grpc_set_header",
    "add_header",
    "add_trailer",
    "fastcgi_hide_header",
    "fastcgi_pass_header",
    "proxy_hide_header",
    "proxy_pass_header",
    "error_page",
    "access_log",
    "limit_req",
    "limit_conn",
    "allow",
    "deny",
];

/// Whether one `name` directive at a level stops that level inheriting the outer ones.
pub fn stops_inheritance(name: &str) -> bool {
    INHERITANCE_STOPPERS.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each case was checked with nginx 1.22's `nginx -t`.
    #[test]
    fn contexts_nginx_refuses() {
        use BlockKind::*;
        assert_eq!(allowed_in("proxy_pass", Server), Some(false));
        assert_eq!(allowed_in("fastcgi_pass", IfInServer), Some(false));
        assert_eq!(allowed_in("fastcgi_pass", LimitExcept), Some(false));
        assert_eq!(allowed_in("proxy_pass", LimitExcept), Some(true));
        assert_eq!(allowed_in("fastcgi_buffer_size", IfInLocation), Some(false));
        assert_eq!(allowed_in("fastcgi_param", IfInLocation), Some(false));
        assert_eq!(
            allowed_in("fastcgi_read_timeout", IfInLocation),
            Some(false)
        );
        assert_eq!(allowed_in("try_files", IfInLocation), Some(false));
        assert_eq!(allowed_in("fastcgi_pass", IfInLocation), Some(true));
        assert_eq!(allowed_in("fastcgi_param", Http), Some(true));
        assert_eq!(allowed_in("some_module_directive", Http), None);
        assert_eq!(
            BlockKind::of_block("if", BlockKind::Location),
            BlockKind::IfInLocation
        );
    }
}
