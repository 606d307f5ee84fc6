//! `--host`: the server's live state, read-only, from files under a root (`/`, or a test
//! stack's stand-in): is a php-fpm master running for each pool, does each socket exist and
//! with which owner and mode, which TCP ports listen, which users nginx's workers run as, how
//! much memory there is, and how much each pool's workers take.

use std::collections::BTreeMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// A process seen in `/proc`.
#[derive(Clone, Debug)]
pub struct Process {
    pub pid: u32,
    pub uid: u32,
    pub rss: u64,
    /// `php-fpm: pool www`, `nginx: worker process`, ...
    pub title: String,
}

/// A unix socket's state on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SocketState {
    Missing,
    NotASocket,
    Socket { uid: u32, gid: u32, mode: u32 },
}

#[derive(Clone, Debug, Default)]
pub struct LiveState {
    pub processes: Vec<Process>,
    /// TCP ports in LISTEN state (IPv4 and IPv6).
    pub tcp_listening: Vec<u16>,
    pub mem_total: Option<u64>,
    pub mem_available: Option<u64>,
    pub swap_total: Option<u64>,
    /// The memory cgroup's limit, in a container (v2 `memory.max`, v1 `memory.limit_in_bytes`).
    pub cgroup_limit: Option<u64>,
    /// User names by uid (`/etc/passwd` under the root).
    pub users: BTreeMap<u32, String>,
    pub groups: BTreeMap<u32, String>,
    root: PathBuf,
}

impl LiveState {
    pub fn read(root: &Path) -> LiveState {
        let mut s = LiveState {
            root: root.to_owned(),
            ..LiveState::default()
        };
        let proc = root.join("proc");
        if let Ok(entries) = std::fs::read_dir(&proc) {
            for e in entries.filter_map(Result::ok) {
                let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
                    continue;
                };
                if let Some(p) = process(&e.path(), pid) {
                    s.processes.push(p);
                }
            }
        }
        s.processes.sort_by_key(|p| p.pid);
        for f in ["net/tcp", "net/tcp6"] {
            if let Ok(text) = std::fs::read_to_string(proc.join(f)) {
                s.tcp_listening.extend(listening_ports(&text));
            }
        }
        s.tcp_listening.sort_unstable();
        s.tcp_listening.dedup();
        if let Ok(text) = std::fs::read_to_string(proc.join("meminfo")) {
            let kb = |key: &str| -> Option<u64> {
                text.lines()
                    .find_map(|l| l.strip_prefix(key))?
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .map(|v| v.saturating_mul(1024))
            };
            s.mem_total = kb("MemTotal:");
            s.mem_available = kb("MemAvailable:");
            s.swap_total = kb("SwapTotal:");
        }
        for f in [
            "sys/fs/cgroup/memory.max",
            "sys/fs/cgroup/memory/memory.limit_in_bytes",
        ] {
            if let Ok(text) = std::fs::read_to_string(root.join(f)) {
                // "max", or the v1 "unlimited" sentinel near i64::MAX, mean no limit.
                if let Ok(v) = text.trim().parse::<u64>() {
                    if v < (1 << 60) {
                        s.cgroup_limit = Some(v);
                    }
                }
            }
        }
        s.users = id_names(&root.join("etc/passwd"));
        s.groups = id_names(&root.join("etc/group"));
        s
    }

    /// The memory php-fpm may use: the cgroup's limit in a container, else the RAM.
    pub fn memory_budget(&self) -> Option<u64> {
        self.cgroup_limit.or(self.mem_total)
    }

    /// Whether a process with this pid runs (a pid file's master).
    pub fn runs(&self, pid: u32) -> bool {
        self.processes.iter().any(|p| p.pid == pid)
    }

    pub fn fpm_masters(&self) -> impl Iterator<Item = &Process> {
        self.processes
            .iter()
            .filter(|p| p.title.starts_with("php-fpm: master process"))
    }

    /// The workers of pool `name` (every master's).
    pub fn pool_workers<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Process> {
        self.processes
            .iter()
            .filter(move |p| p.title.strip_prefix("php-fpm: pool ") == Some(name))
    }

    /// The users nginx's workers run as.
    pub fn nginx_worker_users(&self) -> Vec<String> {
        let mut users: Vec<String> = self
            .processes
            .iter()
            .filter(|p| p.title.starts_with("nginx: worker process"))
            .map(|p| self.user_name(p.uid))
            .collect();
        users.sort();
        users.dedup();
        users
    }

    pub fn user_name(&self, uid: u32) -> String {
        self.users
            .get(&uid)
            .cloned()
            .unwrap_or_else(|| uid.to_string())
    }

    pub fn group_name(&self, gid: u32) -> String {
        self.groups
            .get(&gid)
            .cloned()
            .unwrap_or_else(|| gid.to_string())
    }

    /// A socket path of the configs, looked up under the root.
    pub fn socket(&self, path: &str) -> SocketState {
        let on_disk = self.root.join(path.trim_start_matches('/'));
        match std::fs::metadata(on_disk) {
            Err(_) => SocketState::Missing,
            Ok(m) if !m.file_type().is_socket() => SocketState::NotASocket,
            Ok(m) => SocketState::Socket {
                uid: m.uid(),
                gid: m.gid(),
                mode: m.mode() & 0o7777,
            },
        }
    }

    /// A pid file of the configs (`pid = /run/php/php8.2-fpm.pid`), read under the root.
    pub fn pid_file(&self, path: &str) -> Option<u32> {
        std::fs::read_to_string(self.root.join(path.trim_start_matches('/')))
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

fn process(dir: &Path, pid: u32) -> Option<Process> {
    let status = std::fs::read_to_string(dir.join("status")).ok()?;
    let field = |key: &str| status.lines().find_map(|l| l.strip_prefix(key));
    // Uid: real, effective, saved, filesystem: the effective one decides what it may open.
    let uid = field("Uid:")?.split_whitespace().nth(1)?.parse().ok()?;
    let rss = field("VmRSS:")
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb.saturating_mul(1024));
    // php-fpm and nginx set their process titles in argv: the command line is the title.
    let cmdline = std::fs::read(dir.join("cmdline")).ok()?;
    let title = String::from_utf8_lossy(&cmdline)
        .split('\0')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .trim()
        .to_owned();
    Some(Process {
        pid,
        uid,
        rss,
        title,
    })
}

/// Local ports in state 0A (LISTEN) of a `/proc/net/tcp` table.
fn listening_ports(table: &str) -> Vec<u16> {
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut cols = l.split_whitespace();
            let local = cols.nth(1)?;
            let state = cols.nth(1)?;
            if state != "0A" {
                return None;
            }
            u16::from_str_radix(local.rsplit(':').next()?, 16).ok()
        })
        .collect()
}

fn id_names(path: &Path) -> BTreeMap<u32, String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return BTreeMap::new();
    };
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let id = f.nth(1)?.parse().ok()?;
            Some((id, name.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_table() {
        // Two rows as this machine's /proc/net/tcp printed them: a listener on 2024, a
        // connection in TIME_WAIT.
        let t = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1613 1 000000008bbfacdb 100 0 0 10 0\n   1: 0100007F:B5A9 0100007F:A16E 06 00000000:00000000 03:00000B6F 00000000     0        0 0 3 00000000ef821c58\n";
        assert_eq!(listening_ports(t), [2024]);
    }

    #[test]
    fn this_machine() {
        let s = LiveState::read(Path::new("/"));
        let me = std::process::id();
        assert!(s.runs(me), "the test's own process is in /proc");
        assert!(s.mem_total.is_some_and(|m| m > 0));
        assert_eq!(s.user_name(0), "root");
    }
}
