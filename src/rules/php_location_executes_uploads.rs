use crate::diagnostic::{Label, Severity};
use crate::fix::insert::nginx_lines_in_block;
use crate::fix::{Applicability, Fix};
use crate::model::address::{Target, TargetHost};
use crate::model::fpm::Pool;
use crate::model::nginx::{DirRef, Site};
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};
use crate::syntax::nginx::Word;

declare_rule! {
    /// ## What it does
    /// Flags a regex location matching `.php` that hands any URI to PHP-FPM without first
    /// checking that the script exists, when the pool would then run a file that is not a
    /// `.php` script.
    ///
    /// With no existence check, nginx passes `/uploads/avatar.jpg/x.php` on with
    /// `SCRIPT_FILENAME=/var/www/uploads/avatar.jpg/x.php`. php-fpm's `cgi.fix_pathinfo`
    /// (default `1`) walks back to the longest existing file, `uploads/avatar.jpg`, and runs
    /// it as PHP unless `security.limit_extensions` refuses its extension. That list
    /// defaults to `.php .phar` (php-fpm 8.2), so:
    ///
    /// - an empty `security.limit_extensions`, or one listing `.jpg`, `.html`, ... lets any
    ///   uploaded file with PHP code in it run (error);
    /// - the default still runs an upload named `*.phar`, which upload filters that block
    ///   `.php` often let through (warning);
    /// - `security.limit_extensions = .php` (php-fpm answers 403 `Access denied.`) or
    ///   `php_admin_value[cgi.fix_pathinfo] = 0` (404 `No input file specified.`) in the pool
    ///   closes the hole (not flagged).
    ///
    /// Accepted existence checks, in the location: any `try_files` on `$uri`,
    /// `$fastcgi_script_name` or `$request_filename` (as Debian's `snippets/fastcgi-php.conf`
    /// does), or an `if` testing `-f`/`-e`. When the `fastcgi_pass` sits inside an `if` of
    /// the location, the location's `try_files` does not count: the request runs with the
    /// `if`'s configuration, which has none (nginx allows no `try_files` there).
    ///
    /// Not flagged: locations whose regex cannot match a path under an upload directory
    /// (`^/(index|login)\.php$`, `^/tools/[a-z]+\.php$`: nothing between the literal start
    /// and `.php` matches both a dot and a `/`), a location whose `alias` names one script
    /// (`alias /usr/share/adminer/adminer.php;` runs that file whatever the URI), and
    /// locations whose `SCRIPT_FILENAME` does not come from the URI. The example URI in the
    /// message starts with what an anchored regex requires (`/pma/uploads/x.jpg/x.php` for
    /// `^/pma/(.+\.php)$`).
    ///
    /// When the server around the location is not in the tree (a file of locations nothing
    /// includes), the finding is an info: an earlier location there may take these URIs.
    ///
    /// ## Why it matters
    /// Remote code execution through any upload feature that stores files under the
    /// document root. php-fpm logs nothing for the exploit; with the default limits the
    /// refused `.jpg` case logs
    /// `FastCGI sent in stderr: "Access to the script '/var/www/uploads/avatar.jpg' has been denied (see security.limit_extensions)"`,
    /// a sign someone is trying.
    ///
    /// ## Example
    /// ```nginx
    /// location ~ \.php$ {
    ///     include fastcgi.conf;
    ///     fastcgi_pass unix:/run/php/php8.2-fpm.sock;
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// location ~ \.php$ {
    ///     try_files $uri =404;
    ///     include fastcgi.conf;
    ///     fastcgi_pass unix:/run/php/php8.2-fpm.sock;
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// The fix adds `try_files $uri =404;` at the top of the location. It is safe when the
    /// location cannot take a PATH_INFO suffix and nginx sees the same files as php-fpm
    /// (`SCRIPT_FILENAME` built from `$document_root` or `$request_filename`, and php-fpm on a
    /// unix socket or loopback). Otherwise it is unsafe: with `fastcgi_split_path_info` the
    /// fix is `try_files $fastcgi_script_name =404;`, which empties `$fastcgi_path_info`
    /// (see Debian's snippet for the `set $path_info` work-around); and an nginx container
    /// without the PHP files would answer 404 to everything.
    ///
    /// Two shapes where `try_files $uri` would be wrong get
    /// `if (!-f $request_filename) { return 404; }` at the top of the location instead, and
    /// only when `SCRIPT_FILENAME` is the file `$request_filename` names: a location mapped
    /// with `alias` (`$uri` is not the file there, so `try_files $uri` answers 404 to the
    /// real scripts), and a `fastcgi_pass` inside an `if` (the check runs in the rewrite
    /// phase, before the `if` takes the request). Both were run against real nginx and
    /// php-fpm: the scripts answer as before and the upload no longer runs. Otherwise no fix
    /// is offered.
    ///
    /// ## References
    /// - nginx: `try_files`, `fastcgi_split_path_info`; "Pitfalls and Common Mistakes"
    ///   (Passing Uncontrolled Requests to PHP)
    /// - php-fpm: `security.limit_extensions`; php.ini `cgi.fix_pathinfo`
    pub struct PhpLocationExecutesUploads {
        name: "php-location-executes-uploads",
        category: Nginx,
        severity: Error,
        fix: Sometimes,
    }
}

impl Rule for PhpLocationExecutesUploads {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for site in cx.nginx.fastcgi_sites() {
            if let Some(f) = check_site(cx, site) {
                out.push(f);
            }
        }
        out
    }
}

/// Variables in SCRIPT_FILENAME that come from the request URI.
const URI_VARS: &[&str] = &[
    "$fastcgi_script_name",
    "$uri",
    "$request_filename",
    "$document_uri",
];

fn check_site(cx: &LintContext<'_, '_>, site: &Site<'_>) -> Option<Finding> {
    let li = site.chain.iter().rposition(|d| d.name() == "location")?;
    let location = site.chain[li];
    let args: Vec<&str> = location.directive.args().iter().map(Word::value).collect();
    let (modifier, regex) = match args[..] {
        [m, r] if m == "~" || m == "~*" => (m, r),
        _ => return None,
    };
    // `.php` with the dot escaped or not; `^/phpstatus$` matches no script path, and
    // `^/(index|login)\.php$` none under an upload directory.
    if !regex.to_ascii_lowercase().contains(".php") {
        return None;
    }
    let regex_prefix = upload_prefix(regex)?;
    let levels = cx.nginx.site_levels(site);
    let loc_level = &levels[li + 1];
    // A pass inside an `if` of the location runs with the `if`'s configuration, which has
    // no `try_files` (nginx allows none there): the location's own does not apply to it.
    let pass_in_if = site.chain[li + 1..].iter().any(|d| d.name() == "if");
    let checked = if pass_in_if {
        loc_level.iter().any(|d| d.name() == "if" && tests_file(d))
    } else {
        checks_existence(loc_level)
    };
    if loc_level.iter().any(|d| d.name() == "internal") || checked {
        return None;
    }
    // `alias /usr/share/adminer/adminer.php;`: the location runs that one file, whatever
    // the URI.
    let alias = loc_level
        .iter()
        .rev()
        .find(|d| d.name() == "alias")
        .copied();
    if alias
        .and_then(|a| a.arg(0))
        .is_some_and(|a| !a.contains('$') && a.to_ascii_lowercase().ends_with(".php"))
    {
        return None;
    }
    // An `if (-f ...)` around the fastcgi_pass is a check too.
    if site.chain[li + 1..]
        .iter()
        .any(|d| d.name() == "if" && tests_file(d))
    {
        return None;
    }
    let script = cx
        .nginx
        .effective(site, "fastcgi_param")
        .into_iter()
        .rev()
        .find(|d| d.arg(0) == Some("SCRIPT_FILENAME"))?;
    let script_value = script.arg(1).unwrap_or("");
    if !URI_VARS.iter().any(|v| script_value.contains(v)) {
        return None;
    }

    // What the pools behind it would run; no pool in the tree: php-fpm's defaults.
    let targets = cx.nginx.pass_targets(site);
    let pools: Vec<&Pool<'_>> = targets
        .iter()
        .flat_map(|(_, _, t)| cx.fpm.pools_reached(t))
        .map(|(_, p, _, _)| p)
        .collect();
    let mut worst: Option<Exposure> = if pools.is_empty() {
        Some(Exposure::Phar)
    } else {
        None
    };
    let mut worst_pool = None;
    for p in &pools {
        let e = exposure(p);
        if e > worst {
            worst = e;
            worst_pool = Some(*p);
        }
    }
    let exposure = worst?;

    let pass_word = site.pass.directive.args().first()?;
    // The rule's (configured) severity for the open case; the default limits only let
    // `.phar` uploads through, which is a warning.
    let (what, severity) = match &exposure {
        Exposure::Any(why) => (
            format!("any uploaded file with PHP code in it runs ({why})"),
            None,
        ),
        Exposure::Phar => (
            "an upload named `*.phar` runs as PHP (security.limit_extensions allows .php .phar)"
                .to_owned(),
            Some(Severity::Warning),
        ),
    };
    // The example URI stays under an enclosing prefix location, which it must match, and
    // starts with what an anchored regex requires.
    let outer_prefix = site.chain[..li]
        .iter()
        .rev()
        .find(|d| d.name() == "location")
        .and_then(|d| {
            match d
                .directive
                .args()
                .iter()
                .map(Word::value)
                .collect::<Vec<_>>()[..]
            {
                [p] | [_, p]
                    if !p.starts_with('@') && d.arg(0) != Some("~") && d.arg(0) != Some("~*") =>
                {
                    Some(p.trim_end_matches('/').to_owned())
                }
                _ => None,
            }
        })
        .unwrap_or_default();
    let prefix = if regex_prefix.len() > outer_prefix.len() {
        regex_prefix
    } else {
        outer_prefix
    };
    let ext = if matches!(exposure, Exposure::Phar) {
        "phar"
    } else {
        "jpg"
    };
    let message = format!(
        "`location {modifier} {regex}` passes URIs to PHP-FPM without checking the script exists: `{prefix}/uploads/x.{ext}/x.php` runs `{prefix}/uploads/x.{ext}`; {what}",
    );
    let mut f = Finding::new(
        message,
        Label::primary(
            location.file,
            location.directive.words().span(),
            "no try_files or -f check",
        ),
    )
    .label(Label::secondary(
        site.pass.file,
        pass_word.span(),
        "any URI ending in .php goes here",
    ))
    .help("add `try_files $uri =404;` (or `try_files $fastcgi_script_name =404;` with fastcgi_split_path_info) to the location, and set `security.limit_extensions = .php` in the pool");
    f.severity = severity;
    // The server around the location is not in the tree: an earlier location there (a
    // `deny` on the upload directory) may take these URIs first.
    if !cx.nginx.known_from(site, "server") {
        f.message = format!("{}; {}", f.message, crate::rules::PARENTS_UNKNOWN);
        f.severity = Some(Severity::Info);
    }
    if let Some(p) = worst_pool {
        if let Some(s) = p.get("security.limit_extensions") {
            f = f.label(Label::secondary(
                s.file,
                s.value_span(),
                format!("pool [{}] runs these extensions", p.name),
            ));
        }
    }
    let shape = Shape {
        alias: alias.is_some(),
        pass_in_if,
    };
    Some(f.fix(fix(
        cx,
        site,
        location,
        regex,
        script_value,
        &targets,
        shape,
    )))
}

/// Where an upload URI the regex matches starts (`""` for any path, `"/pma"` for
/// `^/pma/(.+\.php)$`), or None when the regex cannot match a path with a file name before
/// `.php` (`^/(index|wp-login)\.php$`, `^/adminer/adminer\.php`: nothing between the literal
/// start and `.php` may match both a dot and a `/`).
fn upload_prefix(regex: &str) -> Option<String> {
    // An alternation at the top (`^/update\.php|\.php$`): any branch may match.
    if has_top_level_alternation(regex) {
        return Some(String::new());
    }
    let lower = regex.to_ascii_lowercase();
    let at = lower.find(".php")?;
    let head = regex[..at].strip_suffix('\\').unwrap_or(&regex[..at]);
    let Some(anchored) = head.strip_prefix('^') else {
        // Unanchored: anything may come before.
        return Some(String::new());
    };
    // The literal start: plain characters and escaped punctuation.
    let mut literal = String::new();
    let mut chars = anchored.char_indices().peekable();
    let mut rest = "";
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&(_, n)) if n.is_ascii_punctuation() => {
                    literal.push(n);
                    chars.next();
                }
                _ => {
                    rest = &anchored[i..];
                    break;
                }
            },
            '(' | '[' | '.' | '*' | '+' | '?' | '|' | '{' | '^' | '$' => {
                // A quantifier makes the character before it optional.
                if matches!(c, '*' | '?' | '{') {
                    literal.pop();
                }
                rest = &anchored[i..];
                break;
            }
            c => literal.push(c),
        }
    }
    if !matches_any_path(rest) {
        return None;
    }
    // Up to the last `/`: the upload directory goes below it.
    let dir = literal.rfind('/').map_or("", |k| &literal[..k]);
    Some(dir.to_owned())
}

fn has_top_level_alternation(regex: &str) -> bool {
    let (mut depth, mut escaped) = (0i32, false);
    for c in regex.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            '|' if depth == 0 => return true,
            _ => {}
        }
    }
    false
}

/// Whether a regex fragment can match a path segment holding a dot and a `/`: an unescaped
/// `.`, `\S`/`\W`/`\D`, or a negated class that does not exclude `/`.
fn matches_any_path(fragment: &str) -> bool {
    let b = fragment.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                if matches!(b.get(i + 1), Some(b'S' | b'W' | b'D')) {
                    return true;
                }
                i += 2;
                continue;
            }
            b'.' => return true,
            b'[' => {
                let end = fragment[i..].find(']').map_or(b.len(), |k| i + k);
                let class = &fragment[i + 1..end.max(i + 1)];
                if class.starts_with('^') && !class.contains('/') {
                    return true;
                }
                if !class.starts_with('^') && class.contains('/') && class.contains('.') {
                    return true;
                }
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    false
}

fn tests_file(d: &DirRef<'_>) -> bool {
    d.directive.args().iter().any(|a| {
        matches!(
            a.value().trim_start_matches('('),
            "-f" | "!-f" | "-e" | "!-e"
        )
    })
}

fn checks_existence(level: &[DirRef<'_>]) -> bool {
    level.iter().any(|d| match d.name() {
        "try_files" => d.directive.args().iter().any(|a| {
            [
                "$uri",
                "$fastcgi_script_name",
                "$request_filename",
                "$document_root",
            ]
            .iter()
            .any(|v| a.value().contains(v))
        }),
        "if" => tests_file(d),
        _ => false,
    })
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Exposure {
    /// Only `.phar` besides `.php` (the default list).
    Phar,
    /// Any extension, with why.
    Any(String),
}

/// What a pool lets run through a path-info URI; None when nothing but `.php`.
fn exposure(pool: &Pool<'_>) -> Option<Exposure> {
    for key in ["php_admin_value", "php_value", "php_admin_flag", "php_flag"] {
        if let Some(s) = pool.get_array(key, "cgi.fix_pathinfo") {
            if matches!(
                s.text().trim().to_ascii_lowercase().as_str(),
                "0" | "off" | "false" | "no"
            ) {
                return None;
            }
        }
    }
    let Some(s) = pool.get("security.limit_extensions") else {
        return Some(Exposure::Phar);
    };
    let exts: Vec<String> = s
        .text()
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    if exts.is_empty() {
        return Some(Exposure::Any(format!(
            "pool [{}] sets an empty security.limit_extensions, which allows every extension",
            pool.name
        )));
    }
    let others: Vec<&String> = exts
        .iter()
        .filter(|e| e.as_str() != ".php" && e.as_str() != ".phar")
        .collect();
    if !others.is_empty() {
        let shown: Vec<&str> = others.iter().map(|e| e.as_str()).collect();
        return Some(Exposure::Any(format!(
            "pool [{}] also runs {}",
            pool.name,
            shown.join(" ")
        )));
    }
    exts.iter().any(|e| e == ".phar").then_some(Exposure::Phar)
}

/// What decides the fix's form.
#[derive(Clone, Copy)]
struct Shape {
    /// The location maps URIs with `alias`: `$uri` is not the file's path.
    alias: bool,
    /// The `fastcgi_pass` sits in an `if`, whose configuration has no `try_files`.
    pass_in_if: bool,
}

/// The existence check both odd shapes take: a rewrite-phase test, which runs before any `if`
/// hands the request on, on the file nginx maps the URI to.
const IF_NOT_FILE: &str = "if (!-f $request_filename) { return 404; }";

fn fix(
    cx: &LintContext<'_, '_>,
    site: &Site<'_>,
    location: DirRef<'_>,
    regex: &str,
    script_value: &str,
    targets: &[(DirRef<'_>, Word<'_>, Target)],
    shape: Shape,
) -> Option<Fix> {
    let source = cx.project.sources.get(location.file);
    if source.is_builtin() {
        return None;
    }
    let split = !cx
        .nginx
        .effective(site, "fastcgi_split_path_info")
        .is_empty();
    let line = if shape.alias || shape.pass_in_if {
        // `$request_filename` must be the file php-fpm is told to run: the check tests it.
        let same = script_value == "$request_filename"
            || (!shape.alias && !split && script_value == "$document_root$fastcgi_script_name");
        if !same {
            return None;
        }
        IF_NOT_FILE
    } else if split {
        "try_files $fastcgi_script_name =404;"
    } else {
        "try_files $uri =404;"
    };
    // A regex that ends right after `php` takes no PATH_INFO suffix.
    let lower = regex.to_ascii_lowercase();
    let no_path_info = lower.ends_with("php$") || lower.ends_with("php)$");
    let same_files =
        script_value.starts_with("$document_root") || script_value.starts_with("$request_filename");
    let local = targets.iter().all(|(_, _, t)| match t {
        Target::Unix(_) => true,
        Target::Tcp {
            host: TargetHost::Ip(ip),
            ..
        } => ip.is_loopback(),
        Target::Tcp {
            host: TargetHost::Localhost,
            ..
        } => true,
        _ => false,
    });
    let applicability = if !split && no_path_info && same_files && local {
        Applicability::Safe
    } else {
        Applicability::Unsafe
    };
    let edit = nginx_lines_in_block(
        location.file,
        &source.text,
        location.directive,
        &[line.to_owned()],
    )?;
    Some(Fix::new(
        format!("add `{line}` to the location"),
        applicability,
        vec![edit],
    ))
}

#[cfg(test)]
mod tests {
    use crate::lint::lint_project;
    use crate::project::{Options, Project};
    use crate::settings::Settings;

    #[test]
    fn upload_prefix_of_regexes() {
        use super::upload_prefix;
        assert_eq!(upload_prefix(r"\.php$").as_deref(), Some(""));
        assert_eq!(upload_prefix(r"[^/]\.php(/|$)").as_deref(), Some(""));
        assert_eq!(upload_prefix(r"^/pma/(.+\.php)$").as_deref(), Some("/pma"));
        assert_eq!(upload_prefix(r"^/app/.+\.php$").as_deref(), Some("/app"));
        assert_eq!(upload_prefix(r"^/.+\.php$").as_deref(), Some(""));
        assert_eq!(upload_prefix(r"^/(index|login)\.php$"), None);
        assert_eq!(upload_prefix(r"^/adminer/adminer.php"), None);
        assert_eq!(upload_prefix(r"^/tools/[a-z]+\.php$"), None);
        assert_eq!(upload_prefix(r"^/[^/]+\.php$"), None);
        assert_eq!(upload_prefix(r"^/x/[^?]+\.php$").as_deref(), Some("/x"));
        assert_eq!(upload_prefix(r"^/(a|b)\.php$|\.php$").as_deref(), Some(""));
    }

    /// Directives missing their arguments are nginx's errors to report, never a panic here.
    #[test]
    fn bare_directives_do_not_panic() {
        let conf = "user;\nevents {}\nhttp { server { location ~ \\.php$ { include fastcgi_params; fastcgi_pass; } } }\n";
        let p = Project::from_memory(
            &[
                ("nginx.conf", conf),
                ("www.conf", "[www]\nuser = x\nlisten = /run/x.sock\n"),
            ],
            Options::default(),
        );
        lint_project(p, &Settings::default(), &crate::lint::all_rules);
    }
}
