//! A child process we own: its own process group, output to a log file,
//! and stopped by PID on drop (SIGTERM, bounded wait, then SIGKILL).

use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::wait_until;

/// nginx and php-fpm both shut down in milliseconds on SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Proc {
    name: &'static str,
    child: Child,
}

impl Proc {
    pub fn spawn(name: &'static str, mut cmd: Command, log: &Path) -> Result<Proc, String> {
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("open {}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        // Own group (pgid == pid): a Ctrl-C aimed at `cargo test` does not
        // reach it first, and a SIGKILL fallback can take the workers too.
        cmd.process_group(0);
        let child = cmd
            .spawn()
            .map_err(|e| format!("spawn {name} ({cmd:?}): {e}"))?;
        Ok(Proc { name, child })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process has exited (and is reaped).
    pub fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    pub fn stop(&mut self) {
        if self.exited() {
            return;
        }
        let pid = self.pid().to_string();
        // The master reaps its workers on SIGTERM before it exits itself.
        signal("TERM", &pid);
        if wait_until(STOP_TIMEOUT, || self.exited().then_some(())).is_some() {
            return;
        }
        eprintln!(
            "{} (pid {pid}) ignored SIGTERM; killing its group",
            self.name
        );
        // Not yet reaped, so the group id cannot have been reused.
        signal("KILL", &format!("-{pid}"));
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Send `sig` to `target` (a pid, or -pgid) with the shell's builtin kill,
/// which exists wherever `sh` does; errors (already gone) are ignored.
fn signal(sig: &str, target: &str) {
    let _ = Command::new("sh")
        .args([
            "-c",
            "kill -s \"$1\" -- \"$2\" 2>/dev/null",
            "sh",
            sig,
            target,
        ])
        .status();
}
