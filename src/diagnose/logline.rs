//! One log line in, one event out: nginx's error.log, php-fpm's log and the kernel's, told apart
//! by their content, not by the file they came from.
//!
//! Only what a 502 diagnosis needs is read; every other line is `Event::Other` of its kind (a
//! known log that said something else) or `None` (no known kind: counted, never an error).
//! Errors are matched on the errno number, never its text: musl words them differently.

use super::time::{self, Stamp};

/// Which program wrote a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogKind {
    Nginx,
    Fpm,
    Kernel,
}

/// The request fields nginx appends to an error line (`client: ..., server: ..., request: "...",
/// upstream: "...", host: "..."`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestFields<'a> {
    pub client: Option<&'a str>,
    pub server: Option<&'a str>,
    pub request: Option<&'a str>,
    pub upstream: Option<&'a str>,
    pub host: Option<&'a str>,
}

impl<'a> RequestFields<'a> {
    /// The upstream address as nginx dialled it (`unix:/run/php.sock`, `127.0.0.1:9000`), without
    /// the `fastcgi://` scheme and the trailing `:` nginx puts after a unix path.
    pub fn upstream_address(&self) -> Option<&'a str> {
        let u = self.upstream?;
        let u = u.split_once("://").map_or(u, |(_, rest)| rest);
        Some(if u.starts_with("unix:") {
            u.strip_suffix(':').unwrap_or(u)
        } else {
            u
        })
    }

    /// The request path, without method, query and protocol.
    pub fn path(&self) -> Option<&'a str> {
        let r = self.request?;
        let target = r.split(' ').nth(1)?;
        Some(target.split('?').next().unwrap_or(target))
    }
}

/// Where in its exchange with the upstream nginx was when a failure happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Connecting,
    ReadingHeader,
    Reading,
    Other,
}

/// What one line says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    // nginx
    /// `connect() to ADDR failed (N: ...)` / `connect() failed (N: ...)`.
    ConnectFailed {
        errno: u32,
        address: Option<&'a str>,
    },
    /// `upstream timed out (110: ...) while ...`.
    TimedOut { phase: Phase },
    /// `recv() failed (104: ...)`, `readv() failed (104: ...)`, `writev() failed (32: ...)`.
    Reset { errno: u32, phase: Phase },
    /// `upstream prematurely closed FastCGI stdout` (or connection).
    PrematurelyClosed,
    /// `upstream sent too big header`.
    TooBigHeader,
    /// `FastCGI sent in stderr: "Primary script unknown"`.
    PrimaryScriptUnknown,
    /// `FastCGI sent in stderr: "PHP message: PHP Fatal error: ..."`.
    PhpFatal { message: &'a str },
    /// `no live upstreams while connecting to upstream`.
    NoLiveUpstreams,
    /// `upstream server temporarily disabled while ...`.
    UpstreamDisabled,

    // php-fpm
    /// `[pool P] child N, script 'S' (request: "R") execution timed out (T sec), terminating`.
    ExecutionTimedOut {
        pool: &'a str,
        pid: u32,
        script: &'a str,
        request: &'a str,
    },
    /// `[pool P] child N exited on signal S (NAME)`.
    ChildSignal {
        pool: &'a str,
        pid: u32,
        signal: u32,
    },
    /// `[pool P] server reached pm.max_children setting (N), consider raising it`, or
    /// `max_children` for ondemand.
    MaxChildrenReached { pool: &'a str, value: Option<u32> },
    /// `[pool P] seems busy (you may need to increase ...)`.
    SeemsBusy { pool: &'a str },
    /// `the maximum number of processes has been reached` (`process.max` in `[global]`).
    MaxProcessesReached,
    /// `unable to bind listening socket for address 'A': ... (N)`.
    BindFailed {
        address: &'a str,
        errno: Option<u32>,
    },
    /// `[FILE:LINE] unknown entry 'X'` and similar refusals of the configuration.
    ConfigRefused { message: &'a str },
    /// `FPM initialization failed`.
    InitFailed,
    /// `Connection disallowed: IP address 'A' has been dropped.`
    ConnectionDisallowed { address: &'a str },
    /// `fpm is running, pid N` / `ready to handle connections`.
    FpmStarted { pid: Option<u32> },
    /// `exiting, bye-bye!` / `Terminating ...`.
    FpmStopped,

    // kernel
    /// `Out of memory: Killed process N (COMM)` or `Memory cgroup out of memory: Killed process N
    /// (COMM)`.
    OomKilled {
        pid: u32,
        comm: &'a str,
        cgroup: bool,
    },

    /// A line of a known kind that says nothing a diagnosis uses.
    Other,
}

/// A line read and understood.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line<'a> {
    pub kind: LogKind,
    pub stamp: Option<Stamp>,
    /// The writer's pid: nginx's worker, php-fpm's master (when logged by journald/syslog).
    pub pid: Option<u32>,
    pub event: Event<'a>,
    pub fields: RequestFields<'a>,
}

/// Classify one line (without its line terminator). `None`: no known kind.
pub fn parse(line: &str) -> Option<Line<'_>> {
    let line = line.trim_end_matches(['\r', '\n']);
    if let Some(l) = parse_nginx(line) {
        return Some(l);
    }
    if let Some(l) = parse_fpm(line) {
        return Some(l);
    }
    parse_syslog_like(line)
}

/// `2026/12/03 08:58:18 [error] 1234#1234: *5 MESSAGE`
fn parse_nginx(line: &str) -> Option<Line<'_>> {
    let (stamp, rest) = time::nginx_prefix(line)?;
    let rest = rest.strip_prefix(' ')?;
    let (_level, rest) = bracketed(rest)?;
    let rest = rest.strip_prefix(' ')?;
    // `1234#1234: ` (a char search: a substring search per line is costly on a 1 GB log)
    let colon = rest.find(':')?;
    let (pid_part, rest) = (&rest[..colon], rest[colon + 1..].strip_prefix(' ')?);
    let pid = pid_part.split('#').next()?.parse().ok();
    // The connection number, when there is one.
    let message = match rest.strip_prefix('*') {
        Some(r) => r.split_once(' ').map_or("", |(_, m)| m),
        None => rest,
    };
    let (event, fields) = nginx_message(message);
    Some(Line {
        kind: LogKind::Nginx,
        stamp: Some(stamp),
        pid,
        event,
        fields,
    })
}

/// The event of an nginx message, and the request fields after it.
pub fn nginx_message(message: &str) -> (Event<'_>, RequestFields<'_>) {
    let event = if let Some(rest) = message.strip_prefix("connect() ") {
        let address = rest
            .strip_prefix("to ")
            .and_then(|r| r.split_once(" failed"))
            .map(|(a, _)| a);
        match errno_after(rest, "failed (") {
            Some(errno) => Event::ConnectFailed { errno, address },
            None => Event::Other,
        }
    } else if message.starts_with("upstream timed out") {
        Event::TimedOut {
            phase: phase_of(message),
        }
    } else if message.starts_with("upstream sent too big header") {
        Event::TooBigHeader
    } else if message.starts_with("upstream prematurely closed") {
        Event::PrematurelyClosed
    } else if message.starts_with("no live upstreams") {
        Event::NoLiveUpstreams
    } else if message.starts_with("upstream server temporarily disabled") {
        Event::UpstreamDisabled
    } else if let Some(stderr) = message.strip_prefix("FastCGI sent in stderr: \"") {
        if stderr.starts_with("Primary script unknown") {
            Event::PrimaryScriptUnknown
        } else if let Some(fatal) = php_fatal(stderr) {
            Event::PhpFatal { message: fatal }
        } else {
            Event::Other
        }
    } else if let Some((call, rest)) = message
        .find('(')
        .and_then(|i| Some((&message[..i], message[i..].strip_prefix("() failed (")?)))
    {
        // recv(), readv(), writev(), send(), sendfile() ...: the upstream went away mid-request.
        match (call.contains(' '), leading_number(rest)) {
            (false, Some(errno)) if matches!(errno, 104 | 32) => Event::Reset {
                errno,
                phase: phase_of(message),
            },
            _ => Event::Other,
        }
    } else {
        Event::Other
    };
    // The trailing fields are read only for lines a cause uses: most lines of a busy log are not.
    let fields = if matches!(event, Event::Other) {
        RequestFields::default()
    } else {
        request_fields(message)
    };
    (event, fields)
}

/// The PHP fatal error's own words, from a FastCGI stderr text (which may carry several
/// `PHP message:` parts).
fn php_fatal(stderr: &str) -> Option<&str> {
    let start = stderr.find("PHP Fatal error:")?;
    let text = &stderr[start + "PHP Fatal error:".len()..];
    let end = text
        .find(" in /")
        .or_else(|| text.find('"'))
        .unwrap_or(text.len());
    Some(text[..end].trim())
}

fn phase_of(message: &str) -> Phase {
    if message.contains("while connecting to upstream") {
        Phase::Connecting
    } else if message.contains("while reading response header from upstream") {
        Phase::ReadingHeader
    } else if message.contains("while reading upstream") {
        Phase::Reading
    } else {
        Phase::Other
    }
}

/// nginx's trailing `, client: A, server: B, request: "C", upstream: "D", host: "E"` fields.
/// Quoted values may hold commas; they are read to their closing quote.
fn request_fields(message: &str) -> RequestFields<'_> {
    let mut f = RequestFields::default();
    let Some(start) = message.rfind(", client: ") else {
        return f;
    };
    let mut rest = &message[start + 2..];
    // Char searches only: these run on every line a cause uses.
    while !rest.is_empty() {
        let Some(colon) = rest.find(':') else {
            break;
        };
        let key = &rest[..colon];
        let Some(after) = rest[colon + 1..].strip_prefix(' ') else {
            break;
        };
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (&quoted[..end], quoted[end + 1..].trim_start_matches(", ")),
                None => (quoted, ""),
            }
        } else {
            // Unquoted values (client, server) hold no comma.
            match after.find(',') {
                Some(end) => (&after[..end], after[end + 1..].trim_start()),
                None => (after, ""),
            }
        };
        let value = Some(value);
        match key {
            "client" => f.client = value,
            "server" => f.server = value,
            "request" => f.request = value,
            "upstream" => f.upstream = value,
            "host" => f.host = value,
            _ => {}
        }
        rest = next;
    }
    f
}

/// `[03-Dec-2026 08:58:18] LEVEL: MESSAGE` (php-fpm's own error_log), or the same message
/// through journald/syslog, where the prefix is `... php-fpm8.2[123]: `.
fn parse_fpm(line: &str) -> Option<Line<'_>> {
    let (stamp, rest) = time::fpm_prefix(line)?;
    let rest = rest.strip_prefix(' ')?;
    let message = strip_fpm_level(rest)?;
    Some(Line {
        kind: LogKind::Fpm,
        stamp: Some(stamp),
        pid: None,
        event: fpm_message(message),
        fields: RequestFields::default(),
    })
}

/// `WARNING: msg` (its own log) or `[WARNING] msg` (through syslog) -> `msg`; php-fpm's
/// levels only.
fn strip_fpm_level(s: &str) -> Option<&str> {
    let (bracket, s) = match s.strip_prefix('[') {
        Some(inner) => (true, inner),
        None => (false, s),
    };
    for level in [
        "DEBUG", "NOTICE", "WARNING", "ERROR", "ALERT", "EMERG", "CRIT",
    ] {
        if let Some(rest) = s.strip_prefix(level) {
            let sep = if bracket { "] " } else { ": " };
            if let Some(msg) = rest.strip_prefix(sep) {
                return Some(msg.trim_start());
            }
        }
    }
    None
}

/// The event of a php-fpm message (after its level).
pub fn fpm_message(message: &str) -> Event<'_> {
    // `[pool www] ...` prefixes the per-pool messages.
    let (pool, msg) = match message.strip_prefix("[pool ") {
        Some(r) => match r.split_once("] ") {
            Some((p, m)) => (Some(p), m),
            None => (None, message),
        },
        None => (None, message),
    };
    let pool_name = || pool.unwrap_or_default();
    // With catch_workers_output a worker's own log lines arrive wrapped:
    // `child 31251 said into stderr: "ERROR: Connection disallowed: ..."`.
    if let Some((_, said)) = msg.split_once(" said into stderr: \"") {
        let inner = said.strip_suffix('"').unwrap_or(said);
        let inner = strip_fpm_level(inner).unwrap_or(inner);
        return match fpm_message(inner) {
            Event::ConnectionDisallowed { address } => Event::ConnectionDisallowed { address },
            _ => Event::Other,
        };
    }
    if let Some(rest) = msg.strip_prefix("child ") {
        let pid = leading_number(rest);
        if let (Some(pid), Some(sig)) = (pid, rest.split_once(" exited on signal ")) {
            if let Some(signal) = leading_number(sig.1) {
                return Event::ChildSignal {
                    pool: pool_name(),
                    pid,
                    signal,
                };
            }
        }
        if let (Some(pid), true) = (pid, rest.contains("execution timed out")) {
            let script = between(rest, "script '", "'").unwrap_or_default();
            let request = between(rest, "(request: \"", "\")").unwrap_or_default();
            return Event::ExecutionTimedOut {
                pool: pool_name(),
                pid,
                script,
                request,
            };
        }
        return Event::Other;
    }
    if msg.starts_with("server reached pm.max_children setting")
        || msg.starts_with("server reached max_children setting")
    {
        let value = between(msg, "setting (", ")").and_then(|v| v.parse().ok());
        return Event::MaxChildrenReached {
            pool: pool_name(),
            value,
        };
    }
    if msg.starts_with("seems busy") {
        return Event::SeemsBusy { pool: pool_name() };
    }
    if msg.contains("maximum number of processes has been reached") {
        return Event::MaxProcessesReached;
    }
    if let Some(rest) = msg.strip_prefix("unable to bind listening socket for address '") {
        let address = rest.split('\'').next().unwrap_or_default();
        // `... : Address already in use (98)`: the errno is the last parenthesised number.
        let errno = rest
            .rsplit_once('(')
            .and_then(|(_, n)| n.trim_end_matches(')').parse().ok());
        return Event::BindFailed { address, errno };
    }
    if msg.starts_with("FPM initialization failed") {
        return Event::InitFailed;
    }
    if let Some(rest) = msg.strip_prefix("Connection disallowed: IP address '") {
        return Event::ConnectionDisallowed {
            address: rest.split('\'').next().unwrap_or_default(),
        };
    }
    if msg.starts_with("fpm is running, pid ") || msg.starts_with("ready to handle connections") {
        return Event::FpmStarted {
            pid: msg
                .strip_prefix("fpm is running, pid ")
                .and_then(leading_number),
        };
    }
    if msg.starts_with("exiting, bye-bye") {
        return Event::FpmStopped;
    }
    // `[/etc/php/8.2/fpm/pool.d/www.conf:9] unknown entry 'pm.max_chidren'`, `failed to load
    // configuration file`, `[pool www] invalid ...`, `unable to parse value for entry ...`.
    if msg.contains("unknown entry")
        || msg.contains("unable to parse value")
        || msg.contains("failed to load configuration file")
        || msg.contains("failed to post process the configuration")
        || msg.contains("invalid process manager")
        || msg.contains("no listen address have been defined")
    {
        return Event::ConfigRefused { message: msg };
    }
    Event::Other
}

/// Lines with a syslog, journald or dmesg prefix: the kernel's OOM kills, and php-fpm's or
/// nginx's messages when journald or syslog carried them.
fn parse_syslog_like(line: &str) -> Option<Line<'_>> {
    let (stamp, rest, has_host) = time::syslog_prefix(line)?;
    // dmesg: the message follows the stamp. journald/syslog: `HOST IDENT[PID]: message`.
    let (ident, pid, message) = if has_host {
        time::host_ident(rest)?
    } else {
        ("kernel", None, rest.trim_start())
    };
    if ident == "kernel" {
        // kern.log keeps dmesg's own `[  472.991234] ` stamp after the ident.
        let message = time::strip_dmesg_stamp(message).map_or(message, |(_, m)| m.trim_start());
        let event = oom_kill(message)?;
        return Some(Line {
            kind: LogKind::Kernel,
            stamp,
            pid: None,
            event,
            fields: RequestFields::default(),
        });
    }
    if ident.starts_with("php") && ident.contains("fpm") {
        let message = strip_fpm_level(message).unwrap_or(message);
        return Some(Line {
            kind: LogKind::Fpm,
            stamp,
            pid,
            event: fpm_message(message),
            fields: RequestFields::default(),
        });
    }
    if ident == "nginx" {
        // nginx through syslog (`error_log syslog:...`): `nginx: 2026/12/03 ... [error] ...`
        // or the bare message.
        if let Some(mut l) = parse_nginx(message) {
            l.stamp = l.stamp.or(stamp);
            return Some(l);
        }
    }
    None
}

/// The kernel's OOM kill line, or `Event::Other` for another kernel line.
fn oom_kill(message: &str) -> Option<Event<'_>> {
    let cgroup = message.starts_with("Memory cgroup out of memory");
    let Some(at) = message.find("Killed process ") else {
        return Some(Event::Other);
    };
    if !(cgroup || message.starts_with("Out of memory")) {
        return Some(Event::Other);
    }
    let rest = &message[at + "Killed process ".len()..];
    let pid = leading_number(rest)?;
    let comm = between(rest, "(", ")").unwrap_or_default();
    Some(Event::OomKilled { pid, comm, cgroup })
}

fn bracketed(s: &str) -> Option<(&str, &str)> {
    let s = s.strip_prefix('[')?;
    let end = s.find(']')?;
    Some((&s[..end], &s[end + 1..]))
}

fn between<'s>(s: &'s str, open: &str, close: &str) -> Option<&'s str> {
    let start = s.find(open)? + open.len();
    let len = s[start..].find(close)?;
    Some(&s[start..start + len])
}

fn leading_number(s: &str) -> Option<u32> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    s[..end].parse().ok()
}

/// The number after `marker`: `failed (111: Connection refused)` -> 111.
fn errno_after(s: &str, marker: &str) -> Option<u32> {
    let at = s.find(marker)? + marker.len();
    leading_number(&s[at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    // Lines below were written by nginx 1.22 and php-fpm 8.2 on Debian 12 (tests/real_diagnose.rs
    // makes the same happen and checks the whole command).

    #[test]
    fn nginx_connect_failed_with_fields() {
        let l = parse(r#"2026/12/03 10:32:10 [crit] 22528#22528: *3 connect() to unix:/tmp/rs/run/nope.sock failed (2: No such file or directory) while connecting to upstream, client: 127.0.0.1, server: , request: "GET /wrong.php HTTP/1.1", upstream: "fastcgi://unix:/tmp/rs/run/nope.sock:", host: "127.0.0.1:18080""#).unwrap();
        assert_eq!(l.kind, LogKind::Nginx);
        assert_eq!(l.pid, Some(22528));
        assert_eq!(
            l.event,
            Event::ConnectFailed {
                errno: 2,
                address: Some("unix:/tmp/rs/run/nope.sock")
            }
        );
        assert_eq!(
            l.fields.upstream_address(),
            Some("unix:/tmp/rs/run/nope.sock")
        );
        assert_eq!(l.fields.server, Some(""));
        assert_eq!(l.fields.path(), Some("/wrong.php"));
        assert_eq!(l.fields.host, Some("127.0.0.1:18080"));
        let s = l.stamp.unwrap();
        assert_eq!(s.to_string(), "2026-12-03 10:32:10");
    }

    #[test]
    fn nginx_tcp_refused_and_timeouts() {
        let l = parse(r#"2026/12/03 10:32:10 [error] 7#7: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.2, server: shop, request: "POST /a.php?x=1 HTTP/2.0", upstream: "fastcgi://127.0.0.1:9000", host: "shop""#).unwrap();
        assert_eq!(
            l.event,
            Event::ConnectFailed {
                errno: 111,
                address: None
            }
        );
        assert_eq!(l.fields.upstream_address(), Some("127.0.0.1:9000"));
        assert_eq!(l.fields.path(), Some("/a.php"));
        let l = parse(r#"2026/12/03 10:32:13 [error] 22528#22528: *13 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 127.0.0.1, server: , request: "GET /index.php?sleep=4 HTTP/1.1", upstream: "fastcgi://unix:/tmp/rs/run/fpm.sock", host: "127.0.0.1:18080""#).unwrap();
        assert_eq!(
            l.event,
            Event::TimedOut {
                phase: Phase::ReadingHeader
            }
        );
        let l = parse(r#"2026/12/03 10:32:15 [error] 22528#22528: *15 recv() failed (104: Connection reset by peer) while reading response header from upstream, client: 127.0.0.1, server: , request: "GET /index.php?segv=1 HTTP/1.1", upstream: "fastcgi://unix:/tmp/rs/run/fpm.sock:", host: "127.0.0.1:18080""#).unwrap();
        assert_eq!(
            l.event,
            Event::Reset {
                errno: 104,
                phase: Phase::ReadingHeader
            }
        );
    }

    #[test]
    fn nginx_fastcgi_stderr() {
        let l = parse(r#"2026/12/03 10:32:10 [error] 22528#22528: *11 FastCGI sent in stderr: "Primary script unknown" while reading response header from upstream, client: 127.0.0.1, server: , request: "GET /missing.php HTTP/1.1", upstream: "fastcgi://unix:/tmp/rs/run/fpm.sock:", host: "127.0.0.1:18080""#).unwrap();
        assert_eq!(l.event, Event::PrimaryScriptUnknown);
        let l = parse(r#"2026/12/03 10:32:10 [error] 22528#22528: *7 FastCGI sent in stderr: "PHP message: PHP Fatal error:  Uncaught Error: Call to undefined function undefined_fn() in /tmp/rs/www/index.php:4"#).unwrap();
        assert_eq!(
            l.event,
            Event::PhpFatal {
                message: "Uncaught Error: Call to undefined function undefined_fn()"
            }
        );
    }

    #[test]
    fn fpm_lines() {
        fn ev(s: &str) -> Event<'_> {
            parse(s).unwrap().event
        }
        assert_eq!(
            ev("[03-Dec-2026 10:32:15] WARNING: [pool www] child 22899 exited on signal 11 (SIGSEGV) after 0.134914 seconds from start"),
            Event::ChildSignal { pool: "www", pid: 22899, signal: 11 }
        );
        assert_eq!(
            ev(
                r#"[03-Dec-2026 10:32:14] WARNING: [pool www] child 22529, script '/tmp/rs/www/index.php' (request: "GET /index.php?sleep=4") execution timed out (3.882834 sec), terminating"#
            ),
            Event::ExecutionTimedOut {
                pool: "www",
                pid: 22529,
                script: "/tmp/rs/www/index.php",
                request: "GET /index.php?sleep=4"
            }
        );
        assert_eq!(
            ev("[03-Dec-2026 10:40:00] WARNING: [pool www] server reached pm.max_children setting (5), consider raising it"),
            Event::MaxChildrenReached { pool: "www", value: Some(5) }
        );
        assert_eq!(
            ev("[03-Dec-2026 10:40:00] ERROR: unable to bind listening socket for address '/run/php/x.sock': No such file or directory (2)"),
            Event::BindFailed { address: "/run/php/x.sock", errno: Some(2) }
        );
        assert_eq!(
            ev("[03-Dec-2026 10:32:09] NOTICE: fpm is running, pid 22525"),
            Event::FpmStarted { pid: Some(22525) }
        );
        assert_eq!(
            ev("[03-Dec-2026 10:32:15] NOTICE: exiting, bye-bye!"),
            Event::FpmStopped
        );
    }

    #[test]
    fn kernel_lines_in_each_form() {
        let forms = [
            "[  472.991234] Memory cgroup out of memory: Killed process 4242 (php-fpm8.2) total-vm:512000kB, anon-rss:300000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:700kB oom_score_adj:0",
            "[Thu Dec  3 10:40:00 2026] Memory cgroup out of memory: Killed process 4242 (php-fpm8.2) total-vm:512000kB",
            "Dec 03 10:40:00 web1 kernel: Memory cgroup out of memory: Killed process 4242 (php-fpm8.2) total-vm:512000kB",
            "2026-12-03T10:40:00+0000 web1 kernel: Memory cgroup out of memory: Killed process 4242 (php-fpm8.2) total-vm:512000kB",
            "Dec  3 10:40:00 web1 kernel: [  472.991234] Memory cgroup out of memory: Killed process 4242 (php-fpm8.2) total-vm:512000kB",
        ];
        for f in forms {
            let l = parse(f).unwrap_or_else(|| panic!("not read: {f}"));
            assert_eq!(l.kind, LogKind::Kernel, "{f}");
            assert_eq!(
                l.event,
                Event::OomKilled {
                    pid: 4242,
                    comm: "php-fpm8.2",
                    cgroup: true
                },
                "{f}"
            );
        }
        let l = parse("[  472.991234] Out of memory: Killed process 17 (php-fpm) total-vm:1kB")
            .unwrap();
        assert!(matches!(
            l.event,
            Event::OomKilled {
                pid: 17,
                cgroup: false,
                ..
            }
        ));
        assert!(parse(forms[0]).unwrap().stamp.unwrap().is_uptime());
        assert!(!parse(forms[1]).unwrap().stamp.unwrap().is_uptime());
    }

    #[test]
    fn worker_output_caught_by_the_master() {
        let l = parse(r#"[03-Dec-2026 10:54:49] WARNING: [pool www] child 31251 said into stderr: "ERROR: Connection disallowed: IP address '127.0.0.1' has been dropped.""#).unwrap();
        assert_eq!(
            l.event,
            Event::ConnectionDisallowed {
                address: "127.0.0.1"
            }
        );
        let l = parse(r#"[03-Dec-2026 10:32:10] WARNING: [pool www] child 22529 said into stderr: "NOTICE: PHP message: PHP Fatal error:  Uncaught Error""#).unwrap();
        assert_eq!(l.event, Event::Other);
    }

    #[test]
    fn fpm_through_journald() {
        // php-fpm writes its level in brackets when it logs to syslog.
        let l = parse("Dec 03 10:40:00 web1 php-fpm8.2[812]: [WARNING] [pool www] server reached pm.max_children setting (5), consider raising it").unwrap();
        assert_eq!(l.kind, LogKind::Fpm);
        assert_eq!(l.pid, Some(812));
        assert_eq!(
            l.event,
            Event::MaxChildrenReached {
                pool: "www",
                value: Some(5)
            }
        );
    }

    #[test]
    fn unknown_lines() {
        assert!(parse("").is_none());
        assert!(parse("hello world").is_none());
        assert!(
            parse("127.0.0.1 - - [03/Dec/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200").is_none()
        );
    }
}
