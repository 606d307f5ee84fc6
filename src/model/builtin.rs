//! Files that distributions ship and config repos include without carrying: when an include
//! names one of these and the linted tree lacks it, rules see what the packaged file sets.
//!
//! nginx's own `fastcgi_params` (which Debian, RHEL and Alpine all ship unchanged) has no
//! `SCRIPT_FILENAME`; `fastcgi.conf` is the same list plus `SCRIPT_FILENAME`. Debian adds
//! `snippets/fastcgi-php.conf`; the RHEL php-fpm package adds `conf.d/php-fpm.conf`
//! (an upstream) and `default.d/php.conf` (the PHP location).

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Debian,
    Rhel,
    Alpine,
    /// FreeBSD's ports: `/usr/local/etc/nginx`, worker user `www`.
    Freebsd,
    /// The official Docker php image (pool `www` on port 9000 as `www-data`) with the
    /// official nginx image (worker user `nginx`).
    Docker,
    Upstream,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Debian => "debian",
            Platform::Rhel => "rhel",
            Platform::Alpine => "alpine",
            Platform::Freebsd => "freebsd",
            Platform::Docker => "docker",
            Platform::Upstream => "upstream",
        }
    }

    /// As prose names it: "Debian", "RHEL".
    pub fn display(self) -> &'static str {
        match self {
            Platform::Debian => "Debian",
            Platform::Rhel => "RHEL",
            Platform::Alpine => "Alpine",
            Platform::Freebsd => "FreeBSD",
            Platform::Docker => "the Docker images",
            Platform::Upstream => "upstream nginx",
        }
    }

    /// The nginx worker user when nginx.conf has no `user` directive (the packaged default).
    pub fn default_nginx_user(self) -> &'static str {
        match self {
            Platform::Debian => "www-data",
            // The official nginx image's nginx.conf says `user nginx;`.
            Platform::Rhel | Platform::Alpine | Platform::Docker => "nginx",
            Platform::Freebsd => "www",
            Platform::Upstream => "nobody",
        }
    }
}

impl std::str::FromStr for Platform {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "debian" | "ubuntu" => Ok(Platform::Debian),
            "rhel" | "fedora" | "centos" | "rocky" | "alma" => Ok(Platform::Rhel),
            "alpine" => Ok(Platform::Alpine),
            "freebsd" => Ok(Platform::Freebsd),
            "docker" => Ok(Platform::Docker),
            "upstream" | "nginx" => Ok(Platform::Upstream),
            other => Err(format!(
                "unknown platform {other:?} (expected {})",
                PLATFORM_NAMES
            )),
        }
    }
}

/// A packaged file known by heart.
pub struct Builtin {
    /// Path relative to the nginx prefix (`/etc/nginx`).
    pub rel_path: &'static str,
    pub platforms: &'static [Platform],
    pub text: &'static str,
}

impl Builtin {
    /// Shown wherever a finding points into this file.
    pub fn display_name(&self, platform: Platform) -> String {
        format!(
            "<{} package>/etc/nginx/{}",
            platform.as_str(),
            self.rel_path
        )
    }
}

/// The names `--platform` and `platform =` accept.
pub const PLATFORM_NAMES: &str = "debian, rhel, alpine, freebsd, docker or upstream";

const ALL: &[Platform] = &[
    Platform::Debian,
    Platform::Rhel,
    Platform::Alpine,
    Platform::Freebsd,
    Platform::Docker,
    Platform::Upstream,
];

/// nginx's `fastcgi_params`, as a literal so `fastcgi.conf` can be built from it by `concat!`.
macro_rules! fastcgi_params_text {
    () => {
        "\
fastcgi_param  QUERY_STRING       $query_string;
fastcgi_param  REQUEST_METHOD     $request_method;
fastcgi_param  CONTENT_TYPE       $content_type;
fastcgi_param  CONTENT_LENGTH     $content_length;

fastcgi_param  SCRIPT_NAME        $fastcgi_script_name;
fastcgi_param  REQUEST_URI        $request_uri;
fastcgi_param  DOCUMENT_URI       $document_uri;
fastcgi_param  DOCUMENT_ROOT      $document_root;
fastcgi_param  SERVER_PROTOCOL    $server_protocol;
fastcgi_param  REQUEST_SCHEME     $scheme;
fastcgi_param  HTTPS              $https if_not_empty;

fastcgi_param  GATEWAY_INTERFACE  CGI/1.1;
fastcgi_param  SERVER_SOFTWARE    nginx/$nginx_version;

fastcgi_param  REMOTE_ADDR        $remote_addr;
fastcgi_param  REMOTE_PORT        $remote_port;
fastcgi_param  SERVER_ADDR        $server_addr;
fastcgi_param  SERVER_PORT        $server_port;
fastcgi_param  SERVER_NAME        $server_name;

# PHP only, required if PHP was built with --enable-force-cgi-redirect
fastcgi_param  REDIRECT_STATUS    200;
"
    };
}

pub const BUILTINS: &[Builtin] = &[
    Builtin {
        rel_path: "fastcgi_params",
        platforms: ALL,
        text: fastcgi_params_text!(),
    },
    Builtin {
        rel_path: "fastcgi.conf",
        platforms: ALL,
        text: concat!(
            "fastcgi_param  SCRIPT_FILENAME    $document_root$fastcgi_script_name;\n",
            fastcgi_params_text!()
        ),
    },
    Builtin {
        rel_path: "snippets/fastcgi-php.conf",
        platforms: &[Platform::Debian],
        text: "\
# regex to split $uri to $fastcgi_script_name and $fastcgi_path
fastcgi_split_path_info ^(.+?\\.php)(/.*)$;

# Check that the PHP script exists before passing it
try_files $fastcgi_script_name =404;

# Bypass the fact that try_files resets $fastcgi_path_info
set $path_info $fastcgi_path_info;
fastcgi_param PATH_INFO $path_info;

fastcgi_index index.php;
include fastcgi.conf;
",
    },
    Builtin {
        rel_path: "proxy_params",
        platforms: &[Platform::Debian],
        text: "\
proxy_set_header Host $http_host;
proxy_set_header X-Real-IP $remote_addr;
proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
proxy_set_header X-Forwarded-Proto $scheme;
",
    },
    Builtin {
        rel_path: "scgi_params",
        platforms: ALL,
        text: "\
scgi_param  REQUEST_METHOD     $request_method;
scgi_param  REQUEST_URI        $request_uri;
scgi_param  QUERY_STRING       $query_string;
scgi_param  CONTENT_TYPE       $content_type;
scgi_param  DOCUMENT_URI       $document_uri;
scgi_param  DOCUMENT_ROOT      $document_root;
scgi_param  SCGI               1;
scgi_param  SERVER_PROTOCOL    $server_protocol;
scgi_param  REQUEST_SCHEME     $scheme;
scgi_param  HTTPS              $https if_not_empty;
scgi_param  REMOTE_ADDR        $remote_addr;
scgi_param  REMOTE_PORT        $remote_port;
scgi_param  SERVER_PORT        $server_port;
scgi_param  SERVER_NAME        $server_name;
",
    },
    Builtin {
        rel_path: "uwsgi_params",
        platforms: ALL,
        text: "\
uwsgi_param  QUERY_STRING       $query_string;
uwsgi_param  REQUEST_METHOD     $request_method;
uwsgi_param  CONTENT_TYPE       $content_type;
uwsgi_param  CONTENT_LENGTH     $content_length;
uwsgi_param  REQUEST_URI        $request_uri;
uwsgi_param  PATH_INFO          $document_uri;
uwsgi_param  DOCUMENT_ROOT      $document_root;
uwsgi_param  SERVER_PROTOCOL    $server_protocol;
uwsgi_param  REQUEST_SCHEME     $scheme;
uwsgi_param  HTTPS              $https if_not_empty;
uwsgi_param  REMOTE_ADDR        $remote_addr;
uwsgi_param  REMOTE_PORT        $remote_port;
uwsgi_param  SERVER_PORT        $server_port;
uwsgi_param  SERVER_NAME        $server_name;
",
    },
    Builtin {
        // The rules read no MIME type; the block is here so `include mime.types;` resolves.
        rel_path: "mime.types",
        platforms: ALL,
        text: "\
types {
    text/html                             html htm shtml;
    text/css                              css;
    text/plain                            txt;
    application/javascript                js;
    application/json                      json;
    image/png                             png;
    image/jpeg                            jpeg jpg;
    image/svg+xml                         svg svgz;
    application/octet-stream              bin exe dll;
}
",
    },
    Builtin {
        rel_path: "conf.d/php-fpm.conf",
        platforms: &[Platform::Rhel],
        text: "\
# PHP-FPM FastCGI server
# network or unix domain socket configuration

upstream php-fpm {
        server unix:/run/php-fpm/www.sock;
}
",
    },
    Builtin {
        rel_path: "default.d/php.conf",
        platforms: &[Platform::Rhel],
        text: "\
# pass the PHP scripts to FastCGI server
#
# See conf.d/php-fpm.conf for socket configuration
#
index index.php index.html index.htm;

location ~ \\.(php|phar)(/.*)?$ {
    fastcgi_split_path_info ^(.+\\.(?:php|phar))(/.*)$;

    fastcgi_intercept_errors on;
    fastcgi_index  index.php;
    include        fastcgi_params;
    fastcgi_param  SCRIPT_FILENAME  $document_root$fastcgi_script_name;
    fastcgi_param  PATH_INFO $fastcgi_path_info;
    fastcgi_pass   php-fpm;
}
",
    },
];

/// The packaged file an include names, if any: matched on the path below the nginx prefix
/// (`/etc/nginx/fastcgi_params`, `fastcgi_params`, `snippets/fastcgi-php.conf`).
pub fn lookup(include: &str, platform: Platform) -> Option<&'static Builtin> {
    let rel = include
        .strip_prefix("/etc/nginx/")
        .or_else(|| include.strip_prefix("/usr/local/etc/nginx/"))
        .or_else(|| include.strip_prefix("/usr/local/nginx/conf/"))
        .unwrap_or(include);
    let rel = rel.trim_start_matches("./");
    BUILTINS
        .iter()
        .find(|b| b.rel_path == rel && b.platforms.contains(&platform))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses_as_nginx() {
        for b in BUILTINS {
            crate::syntax::nginx::parse(b.text).unwrap_or_else(|e| panic!("{}: {e}", b.rel_path));
        }
    }

    #[test]
    fn fastcgi_params_lacks_script_filename_but_fastcgi_conf_has_it() {
        let params = lookup("/etc/nginx/fastcgi_params", Platform::Debian).unwrap();
        assert!(!params.text.contains("SCRIPT_FILENAME"));
        let conf = lookup("fastcgi.conf", Platform::Debian).unwrap();
        assert!(conf.text.contains("SCRIPT_FILENAME"));
        assert!(lookup("snippets/fastcgi-php.conf", Platform::Debian).is_some());
        assert!(lookup("snippets/fastcgi-php.conf", Platform::Rhel).is_none());
    }
}
