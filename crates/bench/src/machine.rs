//! What machine the figures come from, and the UTC clock for the report.
//!
//! Read from `/proc` where it exists; on other systems the fields say
//! `unknown` rather than failing the run.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// The machine a run was measured on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// CPU model name, from `/proc/cpuinfo`.
    pub cpu: String,
    /// Logical CPUs this process may use.
    pub cores: usize,
    /// Operating system and kernel release.
    pub kernel: String,
    /// Total memory in GiB, from `/proc/meminfo`.
    pub memory_gib: Option<f64>,
    /// The Rust toolchain that built the programs.
    pub rustc: String,
}

impl Machine {
    /// Describes the machine this process runs on.
    pub fn detect() -> Machine {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| cpu_model(&text))
            .unwrap_or_else(|| "unknown".to_string());
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let read = |path: &str| {
            std::fs::read_to_string(path)
                .ok()
                .map(|s| s.trim().to_string())
        };
        let kernel = match (
            read("/proc/sys/kernel/ostype"),
            read("/proc/sys/kernel/osrelease"),
        ) {
            (Some(os), Some(release)) => format!("{os} {release}"),
            _ => std::env::consts::OS.to_string(),
        };
        let memory_gib = read("/proc/meminfo").and_then(|text| mem_total_gib(&text));
        let rustc = std::process::Command::new("rustc")
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|| "unknown".to_string());
        Machine {
            cpu,
            cores,
            kernel,
            memory_gib,
            rustc,
        }
    }

    /// One line for a report header.
    pub fn one_line(&self) -> String {
        let memory = self
            .memory_gib
            .map(|g| format!(", {g:.1} GiB RAM"))
            .unwrap_or_default();
        format!(
            "{} ({} logical CPUs{memory}), {}",
            self.cpu, self.cores, self.kernel
        )
    }
}

/// The first `model name` of a `/proc/cpuinfo` text.
fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim().to_string())
    })
}

/// `MemTotal` of a `/proc/meminfo` text, in GiB.
fn mem_total_gib(meminfo: &str) -> Option<f64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / (1024.0 * 1024.0))
}

/// Now, in UTC, as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format_utc(secs)
}

/// Formats seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_date(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date `days` days after 1970-01-01.
///
/// Counts in 400-year eras (146,097 days each, which repeat exactly), and
/// within an era starts years on 1 March, so the leap day falls at the
/// end of a year and month lengths follow a fixed pattern.
fn civil_date(days: i64) -> (i64, u32, u32) {
    // Shift the origin to 0000-03-01, the start of an era.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Months counted from March: 0 = March, ..., 11 = February.
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_utc(1_709_210_096), "2024-02-29T12:34:56Z");
        assert_eq!(format_utc(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn reads_cpu_model_and_memory() {
        let cpuinfo = "processor\t: 0\nmodel name\t: Some CPU @ 3GHz\nflags\t: x\n";
        assert_eq!(cpu_model(cpuinfo).as_deref(), Some("Some CPU @ 3GHz"));
        assert_eq!(cpu_model("processor: 0\n"), None);
        let meminfo = "MemTotal:        2097152 kB\nMemFree: 1 kB\n";
        assert_eq!(mem_total_gib(meminfo), Some(2.0));
    }
}
