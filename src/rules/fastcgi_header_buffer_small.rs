use crate::rules::buffers::{header_buffer_findings, Family};
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Flags a location that passes to FastCGI with the default `fastcgi_buffer_size` (4k or
    /// 8k: one memory page) or with one smaller than `min-header-buffer` (32k unless
    /// configured).
    ///
    /// ## Why it matters
    /// nginx reads the whole response header block (the FastCGI record header and PHP's
    /// headers: `Set-Cookie`, `Content-Security-Policy`, `Link`, long `Location`s) into this one
    /// buffer. When it does not fit, the request answers 502 Bad Gateway and nginx logs
    /// `upstream sent too big header while reading response header from upstream`.
    /// With the default 4k buffer, PHP's whole header block may be at most 4088 bytes (the
    /// page minus the 8-byte FastCGI record header). Measured with nginx 1.22 and php-fpm 8.2:
    /// next to `Content-type` and `X-Powered-By`, one header with a 4,011-byte value passes
    /// and 4,012 bytes answer 502. Raising
    /// `fastcgi_buffers` alone does not help: headers must fit in `fastcgi_buffer_size`.
    ///
    /// ## Example
    /// ```nginx
    /// location ~ \.php$ {
    ///     include fastcgi_params;
    ///     fastcgi_pass unix:/run/php/php8.2-fpm.sock;
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// location ~ \.php$ {
    ///     fastcgi_buffer_size 32k;
    ///     fastcgi_buffers 16 16k;
    ///     include fastcgi_params;
    ///     fastcgi_pass unix:/run/php/php8.2-fpm.sock;
    /// }
    /// ```
    ///
    /// 32k covers most applications, not all: a login flow that sets 40 KB of cookies still
    /// fails. Size the buffer to your application's largest response headers.
    ///
    /// ## Fix safety
    /// Safe. The fix sets `fastcgi_buffer_size` to `min-header-buffer` and, because that alone
    /// fails `nginx -t` with the default buffers
    /// (`"fastcgi_busy_buffers_size" must be less than the size of all "fastcgi_buffers" minus one buffer`),
    /// raises `fastcgi_buffers` with it (`16 16k` when you set none, more of your own size when
    /// you did) and any busy, temp-file write or max-temp-file size nginx would then reject.
    /// It goes where one edit covers the most: the directive you set, the http block when every
    /// such location of several servers under it needs it (one edit, not one per server), the
    /// server block when every PHP location of the server needs it, or else the location.
    /// Where the levels above a snippet are not in the tree the default is not judged as
    /// missing: the finding is an info and has no fix (an outer level may set a larger size,
    /// which a line added here would lower). A fix in a snippet several servers include is
    /// unsafe: it changes all of them. The fix is not offered
    /// when it would make another block fail `nginx -t`.
    ///
    /// ## References
    /// - nginx: `fastcgi_buffer_size`, `fastcgi_buffers`, `fastcgi_busy_buffers_size`
    ///   (ngx_http_fastcgi_module)
    pub struct FastcgiHeaderBufferSmall {
        name: "fastcgi-header-buffer-small",
        category: Nginx,
        severity: Warning,
        fix: Sometimes,
    }
}

impl Rule for FastcgiHeaderBufferSmall {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        header_buffer_findings(cx, Family::Fastcgi)
    }
}
