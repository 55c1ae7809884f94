//! A Lambda memory size on this machine: Lambda gives a function CPU in proportion to its
//! memory (1,769 MB is one vCPU), so a function of `M` MB runs here in a cgroup (v1) whose
//! CPU quota is `M / 1,769` of one core per 100 ms period (`cpu.cfs_quota_us`), with `M` MB
//! of memory (`memory.limit_in_bytes`). Needs root and the v1 `cpu` and `memory`
//! hierarchies under `/sys/fs/cgroup`; [`Limits::new`] says why when they are not there.
//!
//! The child joins both groups right after it is spawned: its first instructions (the exec)
//! run outside them, and nothing of the harness is charged to them. (Spawning from a thread
//! that had joined the CPU group, so that the child would be born in it, charged the
//! harness's own process creation to the group: the bare hello's cold post measured 17 ms
//! instead of 2 ms under the 128 MB quota.)

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

const ROOT: &str = "/sys/fs/cgroup";
/// Lambda's memory for one whole vCPU.
pub const ONE_VCPU_MB: u64 = 1_769;
/// The CFS period the quota is a share of.
pub const PERIOD_US: u64 = 100_000;

/// One memory size's cgroups; removed when dropped.
pub struct Limits {
    pub memory_mb: u64,
    cpu: PathBuf,
    memory: PathBuf,
}

impl Limits {
    /// The groups for `memory_mb`, or why they cannot be made here.
    pub fn new(memory_mb: u64) -> Result<Limits, String> {
        let name = format!("bridge-bench-{memory_mb}mb-{}", std::process::id());
        let cpu = Path::new(ROOT).join("cpu").join(&name);
        let memory = Path::new(ROOT).join("memory").join(&name);
        for dir in [&cpu, &memory] {
            std::fs::create_dir_all(dir).map_err(|e| {
                format!(
                    "no cgroup v1 {} ({e}): the CPU quota emulation needs root and cgroup v1",
                    dir.display()
                )
            })?;
        }
        let limits = Limits {
            memory_mb,
            cpu,
            memory,
        };
        limits.write(&limits.cpu, "cpu.cfs_period_us", PERIOD_US)?;
        limits.write(&limits.cpu, "cpu.cfs_quota_us", limits.quota_us())?;
        limits.write(&limits.memory, "memory.limit_in_bytes", memory_mb << 20)?;
        Ok(limits)
    }

    /// CPU time per period, in microseconds.
    pub fn quota_us(&self) -> u64 {
        (PERIOD_US * self.memory_mb / ONE_VCPU_MB).max(1_000)
    }

    fn write(&self, dir: &Path, file: &str, value: u64) -> Result<(), String> {
        std::fs::write(dir.join(file), value.to_string())
            .map_err(|e| format!("{}: {e}", dir.join(file).display()))
    }

    /// `command` started, then moved into the groups (before it can have done more than
    /// start: its first instructions run outside them).
    pub fn spawn(&self, mut command: Command) -> std::io::Result<Child> {
        let child = command.spawn()?;
        let pid = child.id().to_string();
        std::fs::write(self.cpu.join("cgroup.procs"), &pid)?;
        std::fs::write(self.memory.join("cgroup.procs"), &pid)?;
        Ok(child)
    }

    /// How often the group waited for the next period, and for how long in all.
    pub fn throttled(&self) -> (u64, std::time::Duration) {
        let stat = std::fs::read_to_string(self.cpu.join("cpu.stat")).unwrap_or_default();
        let value = |key: &str| {
            stat.lines()
                .find_map(|l| l.strip_prefix(key)?.trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        (
            value("nr_throttled "),
            std::time::Duration::from_nanos(value("throttled_time ")),
        )
    }
}

impl Drop for Limits {
    fn drop(&mut self) {
        // Empty by now (every child stopped); a group with processes is left behind.
        let _ = std::fs::remove_dir(&self.cpu);
        let _ = std::fs::remove_dir(&self.memory);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quota_is_the_memorys_share_of_a_vcpu() {
        let limits = |memory_mb| Limits {
            memory_mb,
            cpu: PathBuf::new(),
            memory: PathBuf::new(),
        };
        assert_eq!(limits(128).quota_us(), 7_235);
        assert_eq!(limits(1_769).quota_us(), PERIOD_US);
        assert_eq!(limits(1_024).quota_us(), 57_885);
    }
}
