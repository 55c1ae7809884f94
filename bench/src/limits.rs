//! A Lambda memory size on this machine: Lambda gives a function CPU in proportion to its
//! memory (1,769 MB is one vCPU), so a function of `M` MB runs here in a cgroup (v1) whose
//! CPU quota is `M / 1,769` of one core per 100 ms period (`cpu.cfs_quota_us`), with `M` MB
//! of memory (`memory.limit_in_bytes`). Needs root and the v1 `cpu` and `memory`
//! hierarchies under `/sys/fs/cgroup`; [`Limits::new`] says why when they are not there.
//!
//! A measured binary joins both groups before its own program starts ([`Limits::command`]):
//! a small exec wrapper (`/bin/sh`, started outside the groups) writes itself into them and
//! then executes the binary, so everything the binary does, from its exec on, is charged to
//! them, as in a Lambda sandbox — and the harness's own process creation is not. Measured
//! ways that were wrong:
//! - moving the child in after `spawn` returned (the bench until 2026-12-03): it ran
//!   unthrottled on the other core meanwhile; a process that burnt 10 ms of CPU under a
//!   7.2 ms quota finished in 17 ms, never throttled;
//! - joining in a `pre_exec` hook (between fork and exec): std then forks the whole harness
//!   instead of `posix_spawn`ing, and the child's exec tears the copy down inside the quota:
//!   the bare hello's cold start cost 4 ms of CPU at the start of a run and 14 ms at its end,
//!   growing with the harness's memory;
//! - spawning from a thread that had joined the CPU group: the harness's process creation was
//!   charged to the quota (the bare hello measured 17 ms instead of 2 ms).
//!
//! [`Limits::self_test`] shows that the quota binds before anything is measured.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

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

    /// A command that runs `program` inside the groups: `/bin/sh` writes itself into both
    /// (`0` names the writing process) and then executes `program` in its place (same pid),
    /// with the arguments and environment given to the command. The shell's own start (a
    /// few hundred microseconds of CPU) runs outside the groups, like the harness's spawn.
    pub fn command(&self, program: &Path) -> Command {
        let mut command = Command::new("/bin/sh");
        command.args([
            "-c",
            r#"echo 0 > "$1" && echo 0 > "$2" && shift 2 && exec "$@""#,
            "join",
        ]);
        command.arg(self.cpu.join("cgroup.procs"));
        command.arg(self.memory.join("cgroup.procs"));
        command.arg(program);
        command
    }

    /// The quota binds: `burner` with `args` and then the CPU time to burn, in
    /// microseconds, burns twice a period's quota inside the groups; an error unless the
    /// group throttled it at least once and it took longer than a period.
    pub fn self_test(&self, burner: &Path, args: &[&str]) -> Result<String, String> {
        let burn = Duration::from_micros(2 * self.quota_us());
        let mut burner = self.command(burner);
        burner.args(args).arg(burn.as_micros().to_string());
        // A fresh quota, as before a cold start.
        std::thread::sleep(2 * Duration::from_micros(PERIOD_US));
        let (before, waited_before) = self.throttled();
        let started = Instant::now();
        let status = (burner.spawn().and_then(|mut child| child.wait()))
            .map_err(|e| format!("the burner did not run: {e}"))?;
        let took = started.elapsed();
        let (after, waited_after) = self.throttled();
        let said = format!(
            "{} ms of CPU under a {} ms quota per {} ms: {} ms wall, throttled {} times for {} ms",
            burn.as_millis(),
            self.quota_us() as f64 / 1000.0,
            PERIOD_US / 1000,
            took.as_millis(),
            after - before,
            (waited_after - waited_before).as_millis()
        );
        let binds = status.success() && after > before && took > Duration::from_micros(PERIOD_US);
        if binds {
            Ok(said)
        } else {
            Err(format!("{said} ({status}): the quota does not bind"))
        }
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

    /// A shell counting to 300,000 (tens of milliseconds of CPU, far more than the 128 MB
    /// quota's 7.2 ms) is throttled: it was born inside the group. (`make bench` runs this
    /// as root; where cgroups v1 cannot be made, it says so and checks nothing.)
    #[test]
    fn a_process_born_inside_the_groups_is_throttled() {
        let limits = match Limits::new(128) {
            Ok(limits) => limits,
            Err(why) => return eprintln!("skipped: {why}"),
        };
        let count = "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done";
        let said =
            (limits.self_test(Path::new("/bin/sh"), &["-c", count])).expect("the quota binds");
        assert!(said.contains("throttled"), "{said}");
    }
}
