use std::collections::HashSet;

use crate::diagnostic::{Label, Severity};
use crate::fix::insert::fpm_lines_in_section;
use crate::fix::{Applicability, Edit, Fix};
use crate::model::address::{Reach, Target};
use crate::model::fpm::{Pool, Setting};
use crate::model::nginx::DirRef;
use crate::model::platform::{stock_groups, SETTLE_HINT};
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};
use crate::syntax::fpm::values;

declare_rule! {
    /// ## What it does
    /// Flags a PHP-FPM pool whose unix socket the nginx worker user cannot open, for a
    /// `fastcgi_pass` that reaches it.
    ///
    /// The worker user is the `user` directive of that nginx.conf, or the packaged default
    /// (`www-data` on Debian/Ubuntu, `nginx` on RHEL and Alpine, `nobody` upstream; see
    /// `--platform` and `--nginx-user`). The socket is created by php-fpm's master, as:
    ///
    /// - owner `listen.owner`, group `listen.group` (or the owner's group), mode `listen.mode`
    ///   (default `0660`);
    /// - with no `listen.owner`/`listen.group`, the master's own user: `root:root` for a
    ///   master started as root (the packaged service). The pool's `user`/`group` do not
    ///   own the socket; they only run the workers. A pool with no `user` at all cannot run
    ///   under a root master (php-fpm refuses it), so its socket's owner is unknown and the
    ///   pool is not judged;
    /// - with `listen.acl_users`/`listen.acl_groups`, an ACL that grants those users and
    ///   groups instead; `listen.owner`/`listen.group` are then ignored (php-fpm warns
    ///   `ACL set, listen.owner = '...' is ignored`).
    ///
    /// Connecting needs write permission on the socket. The worker's groups are its `user`
    /// directive's group (or the group named like the user), the groups listed in
    /// `nginx-groups` (.nginx-fpm-lint.toml), and, for a stock account of a known platform
    /// (declared or detected), the groups the distribution puts it in: Debian's `nobody` is
    /// in `nogroup` only and `www-data` in `www-data`; RHEL's `nginx`, `apache` and `nobody`
    /// each in their own group; Alpine's `nginx` in `nginx`; FreeBSD's `www`
    /// in `www`. When the socket's group is none of these, the finding is an error; when the
    /// worker is not a stock account (or the platform is assumed), its other groups are
    /// unknowable and the finding is a warning. A group `root`/`wheel`, a group without the
    /// write bit, or an ACL listing neither the user nor any group is an error. A mode with
    /// the "other" write bit (`0666`) opens the socket to everyone. With no `user` directive
    /// the worker user is the platform's default, and with an assumed platform that makes
    /// the finding a warning.
    ///
    /// ## Why it matters
    /// Every request to that location answers 502 Bad Gateway. nginx logs, at `[crit]`,
    /// `connect() to unix:/run/php/php8.2-fpm.sock failed (13: Permission denied) while connecting to upstream`.
    /// `nginx -t` and `php-fpm -t` both pass: each is fine on its own.
    ///
    /// ## Example
    /// ```ini
    /// ; nginx runs as www-data (Debian)
    /// [www]
    /// user = www-data
    /// group = www-data
    /// listen = /run/php/php8.2-fpm.sock
    /// ; no listen.owner / listen.group: the socket is root:root 0660
    /// ```
    /// ```nginx
    /// server {
    ///     location ~ \.php$ {
    ///         include fastcgi.conf;
    ///         fastcgi_pass unix:/run/php/php8.2-fpm.sock;
    ///     }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```ini
    /// [www]
    /// user = www-data
    /// group = www-data
    /// listen = /run/php/php8.2-fpm.sock
    /// listen.owner = www-data
    /// listen.group = www-data
    /// ```
    /// ```nginx
    /// server {
    ///     location ~ \.php$ {
    ///         include fastcgi.conf;
    ///         fastcgi_pass unix:/run/php/php8.2-fpm.sock;
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// The fix sets `listen.owner` and `listen.group` to the nginx worker's user and group
    /// (or, when the pool uses ACLs, adds the user to `listen.acl_users`). It is safe when it
    /// only adds keys the pool does not set, and unsafe when it changes a value the pool sets:
    /// someone else may rely on the current owner. No fix is offered when the mode denies the
    /// owner write access.
    ///
    /// ## References
    /// - php-fpm: pool directives `listen.owner`, `listen.group`, `listen.mode`,
    ///   `listen.acl_users`, `listen.acl_groups`
    /// - nginx: `user` (core module), `fastcgi_pass`
    pub struct FpmSocketPermission {
        name: "fpm-socket-permission",
        category: Join,
        severity: Error,
        fix: Sometimes,
    }
}

impl Rule for FpmSocketPermission {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for site in cx.nginx.fastcgi_sites() {
            let worker = worker(cx, site.root);
            // root bypasses file permissions.
            if worker.user == "root" {
                continue;
            }
            for (pass, word, target) in cx.nginx.pass_targets(site) {
                if !matches!(target, Target::Unix(_)) {
                    continue;
                }
                for (i, pool, _, reach) in cx.fpm.pools_reached(&target) {
                    if reach != Reach::Yes || !seen.insert((i, worker.user.clone())) {
                        continue;
                    }
                    let Some(socket) = Socket::of(pool) else {
                        continue;
                    };
                    let Some(denial) = socket.denies(&worker, &membership(cx, &worker)) else {
                        continue;
                    };
                    out.push(finding(
                        cx,
                        pool,
                        &socket,
                        &worker,
                        denial,
                        pass,
                        word.value(),
                    ));
                }
            }
        }
        out
    }
}

/// The nginx worker's identity.
struct Worker<'p> {
    user: String,
    /// The primary group: `user`'s second argument, else the group named like the user.
    group: String,
    directive: Option<DirRef<'p>>,
}

fn worker<'p>(cx: &LintContext<'_, 'p>, root: usize) -> Worker<'p> {
    match cx.nginx.users.iter().find(|(r, _)| *r == root) {
        Some((_, d)) => {
            let user = d.arg(0).unwrap_or("nobody").to_owned();
            let group = d.arg(1).map_or_else(|| user.clone(), str::to_owned);
            Worker {
                user,
                group,
                directive: Some(*d),
            }
        }
        None => {
            let user = cx.settings.nginx_user_or_default().to_owned();
            Worker {
                group: user.clone(),
                user,
                directive: None,
            }
        }
    }
}

/// What is known of the worker user's groups besides its primary one.
enum Membership {
    /// A stock account of a known platform, plus `nginx-groups`: every group it is in.
    Known { groups: Vec<String>, why: String },
    /// Only `nginx-groups` is known; the user may be in others.
    Unknown { listed: Vec<String>, why: String },
}

impl Membership {
    fn includes(&self, group: &str) -> bool {
        match self {
            Membership::Known { groups, .. } => groups.iter().any(|g| g == group),
            Membership::Unknown { listed, .. } => listed.iter().any(|g| g == group),
        }
    }
}

fn membership(cx: &LintContext<'_, '_>, w: &Worker<'_>) -> Membership {
    let settings = cx.settings;
    let listed = settings.nginx_groups.clone();
    let cited = settings.cited_platform();
    match stock_groups(settings.platform, &w.user) {
        Some(stock) if settings.platform_basis.is_known() => {
            let mut groups: Vec<String> = stock.iter().map(|g| g.to_string()).collect();
            groups.extend(listed);
            Membership::Known {
                why: format!(
                    "`{}` is a stock account of {cited}, in group{} {}{}",
                    w.user,
                    if groups.len() == 1 { "" } else { "s" },
                    groups.join(", "),
                    if settings.nginx_groups.is_empty() {
                        " only"
                    } else {
                        " (with nginx-groups)"
                    }
                ),
                groups,
            }
        }
        Some(_) => Membership::Unknown {
            listed,
            why: format!(
                "`{}`'s groups are those of a stock account only if the platform is the one assumed: {cited}",
                w.user
            ),
        },
        None => Membership::Unknown {
            listed,
            why: format!(
                "`{}` is not a stock account of {cited}, so its groups cannot be known from the files",
                w.user
            ),
        },
    }
}

/// Why the worker cannot connect, and how sure that is.
struct Denial {
    why: String,
    severity: Severity,
    /// Says which groups were assumed, and how to declare more.
    membership_note: Option<String>,
}

/// The socket php-fpm creates for a pool.
struct Socket<'p> {
    owner: String,
    group: String,
    mode: u32,
    owner_set: Option<Setting<'p>>,
    group_set: Option<Setting<'p>>,
    mode_set: Option<Setting<'p>>,
    acl_users: Option<(Vec<String>, Setting<'p>)>,
    acl_groups: Option<(Vec<String>, Setting<'p>)>,
}

/// A pool value, unless empty or only known at start-up (`${ENV}`).
fn known<'p>(pool: &Pool<'p>, key: &str) -> Result<Option<(String, Setting<'p>)>, ()> {
    let Some(s) = pool.get(key) else {
        return Ok(None);
    };
    if !values::env_refs(s.text()).is_empty() {
        return Err(());
    }
    let v = pool.value(key).unwrap_or_default().trim().to_owned();
    Ok((!v.is_empty()).then_some((v, s)))
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(|x| x.trim().to_owned())
        .filter(|x| !x.is_empty())
        .collect()
}

impl<'p> Socket<'p> {
    /// None when something that decides access is unknown at lint time.
    fn of(pool: &Pool<'p>) -> Option<Socket<'p>> {
        let owner = known(pool, "listen.owner").ok()?;
        // php-fpm started as root refuses a pool without `user` ("user has not been
        // defined"), so such a pool runs under a non-root master whose user, unknown here,
        // owns the socket (the docker images that run everything as one user).
        if owner.is_none() && pool.get("user").is_none() {
            return None;
        }
        let group = known(pool, "listen.group").ok()?;
        let mode = known(pool, "listen.mode").ok()?;
        let acl_users = known(pool, "listen.acl_users").ok()?;
        let acl_groups = known(pool, "listen.acl_groups").ok()?;
        let mode_bits = match &mode {
            Some((v, _)) => u32::from_str_radix(v, 8).ok()?,
            None => 0o660,
        };
        // Without listen.owner/listen.group the socket keeps the master's identity; the
        // packaged service starts the master as root (checked on php-fpm 8.2).
        let owner_name = owner
            .as_ref()
            .map_or("root", |(v, _)| v.as_str())
            .to_owned();
        let group_name = match (&group, &owner) {
            (Some((g, _)), _) => g.clone(),
            // listen.owner alone also sets the group to the owner's primary group,
            // which is almost always the group named like the user.
            (None, Some((o, _))) => o.clone(),
            (None, None) => "root".to_owned(),
        };
        Some(Socket {
            owner: owner_name,
            group: group_name,
            mode: mode_bits,
            owner_set: owner.map(|x| x.1),
            group_set: group.map(|x| x.1),
            mode_set: mode.map(|x| x.1),
            acl_users: acl_users.map(|(v, s)| (list(&v), s)),
            acl_groups: acl_groups.map(|(v, s)| (list(&v), s)),
        })
    }

    fn acl(&self) -> bool {
        self.acl_users.as_ref().is_some_and(|(v, _)| !v.is_empty())
            || self.acl_groups.as_ref().is_some_and(|(v, _)| !v.is_empty())
    }

    fn describe(&self) -> String {
        format!("{}:{} mode {:04o}", self.owner, self.group, self.mode)
    }

    /// Why the worker cannot connect, or None when it can.
    fn denies(&self, w: &Worker<'_>, m: &Membership) -> Option<Denial> {
        let sure = |why: String| Denial {
            why,
            severity: Severity::Error,
            membership_note: None,
        };
        if self.mode & 0o002 != 0 {
            return None;
        }
        if self.acl() {
            let users = self.acl_users.as_ref().map_or(&[][..], |(v, _)| v);
            // Any listed group might hold the worker: only a user-only ACL is conclusive.
            if users.contains(&w.user) || self.acl_groups.is_some() {
                return None;
            }
            return Some(sure(format!(
                "`listen.acl_users = {}` does not list `{}`, and the ACL replaces listen.owner/listen.group",
                users.join(","),
                w.user
            )));
        }
        if w.user == self.owner {
            if self.mode & 0o200 != 0 {
                return None;
            }
            return Some(sure(format!(
                "the socket is {}: its owner `{}` has no write permission",
                self.describe(),
                self.owner
            )));
        }
        let mut membership_note = None;
        let mut severity = Severity::Error;
        if self.mode & 0o020 != 0 {
            if self.group == w.group || self.group == w.user || m.includes(&self.group) {
                return None;
            }
            // root and wheel hold no service account on any platform.
            if !matches!(self.group.as_str(), "root" | "wheel" | "0") {
                match m {
                    Membership::Known { why, .. } => membership_note = Some(why.clone()),
                    Membership::Unknown { why, .. } => {
                        severity = Severity::Warning;
                        membership_note = Some(format!(
                            "{why}; unless `{}` was added to group `{}`",
                            w.user, self.group
                        ));
                    }
                }
            }
        }
        let origin = if self.owner_set.is_none() && self.group_set.is_none() {
            " (the pool sets no listen.owner/listen.group, so it keeps the master's root:root)"
        } else {
            ""
        };
        Some(Denial {
            why: format!(
                "the socket is {}{origin}, and `{}` is neither its owner nor in a group that may write to it",
                self.describe(),
                w.user
            ),
            severity,
            membership_note,
        })
    }
}

fn finding(
    cx: &LintContext<'_, '_>,
    pool: &Pool<'_>,
    socket: &Socket<'_>,
    w: &Worker<'_>,
    denial: Denial,
    pass: DirRef<'_>,
    address: &str,
) -> Finding {
    let why = denial.why;
    let (listen, listen_setting) = pool.listen().expect("pools_reached only returns listeners");
    let message = format!(
        "nginx workers run as `{}` but cannot open pool [{}]'s socket {listen}: {why}",
        w.user, pool.name
    );
    let primary = Label::primary(
        listen_setting.file,
        listen_setting.value_span(),
        format!("created as {}", socket.describe()),
    );
    let mut f = Finding::new(message, primary)
        .label(Label::secondary(
            pass.file,
            pass.directive.args().first().expect("a pass has an address").span(),
            format!("nginx connects to {address} as `{}`", w.user),
        ))
        .help(format!(
            "requests here answer 502 Bad Gateway; nginx logs `connect() to {address} failed (13: Permission denied) while connecting to upstream` at [crit]. Make `{}` the socket's owner (listen.owner/listen.group), or list it in listen.acl_users.",
            w.user
        ));
    match w.directive {
        Some(d) => {
            let span = d
                .directive
                .args()
                .first()
                .map_or(d.directive.span(), |a| a.span());
            f = f.label(Label::secondary(d.file, span, "worker user"))
        }
        None if cx.settings.nginx_user.is_some() => {}
        None => {
            f.help = f.help.map(|h| {
                format!(
                    "{h} (no `user` directive: assumed the default worker user `{}` of {}, as when the packaged nginx is started as root; a master started as another user runs its workers as that user; see --nginx-user, and {})",
                    w.user,
                    cx.settings.cited_platform(),
                    SETTLE_HINT
                )
                .into()
            });
            f.message = format!(
                "{} (no `user` directive: the default of {})",
                f.message,
                cx.settings.cited_platform()
            );
            // Without `user`, the workers run as whoever starts nginx when that is not root (as
            // in many containers), else as the build's default: neither is in the tree, so
            // only a declared platform (the packaged build, started as root) settles it.
            if !matches!(
                cx.settings.platform_basis,
                crate::model::platform::PlatformBasis::Declared
            ) {
                f = f.severity(Severity::Warning);
            }
        }
    }
    if let Some(note) = denial.membership_note {
        f.message = format!("{} ({note})", f.message);
        f.help = f.help.map(|h| {
            format!("{h} Declare groups the worker user was added to with `nginx-groups = [\"...\"]` in .nginx-fpm-lint.toml.").into()
        });
    }
    if denial.severity == Severity::Warning {
        f = f.severity(Severity::Warning);
    }
    for (s, what) in [
        (socket.owner_set, "listen.owner"),
        (socket.group_set, "listen.group"),
        (socket.mode_set, "listen.mode"),
    ] {
        if let Some(s) = s {
            f = f.label(Label::secondary(s.file, s.value_span(), what));
        }
    }
    if let Some((_, s)) = &socket.acl_users {
        f = f.label(Label::secondary(s.file, s.value_span(), "listen.acl_users"));
    }
    f.fix(fix(cx, pool, socket, w, listen_setting))
}

fn fix(
    cx: &LintContext<'_, '_>,
    pool: &Pool<'_>,
    socket: &Socket<'_>,
    w: &Worker<'_>,
    listen: Setting<'_>,
) -> Option<Fix> {
    let text = &cx.project.sources.get(listen.file).text;
    let config = cx.project.fpm(listen.file)?;
    if socket.acl() {
        return Some(match &socket.acl_users {
            Some((users, s)) => {
                let mut users = users.clone();
                users.push(w.user.clone());
                Fix::new(
                    format!("add `{}` to listen.acl_users", w.user),
                    Applicability::Unsafe,
                    vec![Edit::replace(s.file, s.value_span(), users.join(","))],
                )
            }
            None => Fix::new(
                format!("set listen.acl_users = {}", w.user),
                Applicability::Safe,
                vec![fpm_lines_in_section(
                    listen.file,
                    text,
                    config,
                    &pool.name,
                    &[format!("listen.acl_users = {}", w.user)],
                )?],
            ),
        });
    }
    if socket.mode & 0o200 == 0 {
        return None;
    }
    let mut edits = Vec::new();
    let mut new_lines = Vec::new();
    let mut applicability = Applicability::Safe;
    for (set, key, value) in [
        (socket.owner_set, "listen.owner", &w.user),
        (socket.group_set, "listen.group", &w.group),
    ] {
        match set {
            Some(s) if s.text().trim() == value => {}
            Some(s) => {
                applicability = Applicability::Unsafe;
                edits.push(Edit::replace(s.file, s.value_span(), value.clone()));
            }
            None => new_lines.push(format!("{key} = {value}")),
        }
    }
    if !new_lines.is_empty() {
        edits.push(fpm_lines_in_section(
            listen.file,
            text,
            config,
            &pool.name,
            &new_lines,
        )?);
    }
    Some(Fix::new(
        format!(
            "make the socket {}:{} (listen.owner, listen.group)",
            w.user, w.group
        ),
        applicability,
        edits,
    ))
}
