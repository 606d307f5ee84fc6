use crate::rules::buffers::{header_buffer_findings, Family};
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Flags a location that passes to `proxy_pass` with the default `proxy_buffer_size` (4k
    /// or 8k: one memory page) or with one smaller than `min-header-buffer` (32k unless
    /// configured).
    ///
    /// ## Why it matters
    /// nginx reads the proxied server's whole status line and response headers into this one
    /// buffer. When they do not fit (large cookies, CSP, JWTs in headers) the request answers
    /// 502 Bad Gateway and nginx logs
    /// `upstream sent too big header while reading response header from upstream`.
    /// Raising `proxy_buffers` alone does not help.
    ///
    /// ## Example
    /// ```nginx
    /// location / {
    ///     proxy_pass http://app;
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// location / {
    ///     proxy_buffer_size 32k;
    ///     proxy_buffers 16 16k;
    ///     proxy_pass http://app;
    /// }
    /// ```
    ///
    /// 32k is a floor, not a guarantee: size it to the application's largest headers.
    ///
    /// ## Fix safety
    /// Safe. The fix sets `proxy_buffer_size` to `min-header-buffer` and raises `proxy_buffers`
    /// with it (`proxy_buffer_size 32k;` alone fails `nginx -t`:
    /// `"proxy_busy_buffers_size" must be less than the size of all "proxy_buffers" minus one buffer`),
    /// in the block that covers the flagged locations (the http block when every proxied
    /// location of several servers under it needs it); it is not offered when it would make
    /// another block fail `nginx -t`. Where the levels above a snippet are not in the tree
    /// the finding is an info with no fix, and a fix in a snippet several servers include is
    /// unsafe.
    ///
    /// ## References
    /// - nginx: `proxy_buffer_size`, `proxy_buffers`, `proxy_busy_buffers_size`
    ///   (ngx_http_proxy_module)
    pub struct ProxyHeaderBufferSmall {
        name: "proxy-header-buffer-small",
        category: Nginx,
        severity: Warning,
        fix: Sometimes,
    }
}

impl Rule for ProxyHeaderBufferSmall {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        header_buffer_findings(cx, Family::Proxy)
    }
}
