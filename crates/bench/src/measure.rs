//! Timing one process: its wall time from spawn to exit and its peak
//! resident set size, with a time limit.
//!
//! Peak RSS of a child is only known to its parent, after the child is
//! reaped, through `getrusage(RUSAGE_CHILDREN)`; and that figure is the
//! largest over every child the caller ever reaped. So the harness does
//! not spawn the measured command itself: it re-executes itself as a small
//! wrapper (`kiln-bench __measure`) whose one and only child is the
//! command. The wrapper times spawn to exit, reads the figure, prints both
//! and exits; the harness parses them. Running the wrapper in a process
//! group of its own lets the harness kill wrapper and command together
//! when the time limit runs out.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::File;
use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use clap::Args;

/// The hidden wrapper subcommand's name.
pub const WRAPPER: &str = "__measure";

/// A command line to run: an executable and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// The executable.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
}

impl Spec {
    /// A command running `program` with `args`.
    pub fn new(
        program: impl Into<PathBuf>,
        args: impl IntoIterator<Item = impl Into<OsString>>,
    ) -> Spec {
        Spec {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
        }
    }
}

impl fmt::Display for Spec {
    /// The command as a shell would need it typed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&shell_quote(self.program.as_os_str()))?;
        for arg in &self.args {
            write!(f, " {}", shell_quote(arg))?;
        }
        Ok(())
    }
}

/// `arg` quoted for a POSIX shell, unchanged when that is not needed.
pub fn shell_quote(arg: &OsStr) -> String {
    let text = arg.to_string_lossy();
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./=:,+@%".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// How a measured process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this status.
    Code(i32),
    /// A signal killed it.
    Signal(i32),
    /// It ran past the time limit and was killed.
    TimedOut,
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Code(c) => write!(f, "exit status {c}"),
            Exit::Signal(s) => write!(f, "killed by signal {s}"),
            Exit::TimedOut => f.write_str("timed out"),
        }
    }
}

/// What one measured process did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Spawn to exit, in seconds.
    pub wall: f64,
    /// Peak resident set size, in KiB.
    pub peak_rss_kib: f64,
    /// How it ended.
    pub exit: Exit,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

/// Runs commands through the wrapper, one at a time.
#[derive(Debug, Clone)]
pub struct Measurer {
    /// The harness executable, which is also the wrapper.
    exe: PathBuf,
    /// Where the measured command's output goes.
    scratch: PathBuf,
    /// The time limit of one process.
    timeout: Duration,
}

impl Measurer {
    /// A measurer keeping output files in `scratch` (created if needed).
    pub fn new(scratch: &Path, timeout: Duration) -> Result<Measurer> {
        let exe = std::env::current_exe().context("cannot locate the harness executable")?;
        std::fs::create_dir_all(scratch)
            .with_context(|| format!("cannot create `{}`", scratch.display()))?;
        Ok(Measurer {
            exe,
            scratch: scratch.to_path_buf(),
            timeout,
        })
    }

    /// Runs `spec` once and measures it. `Err` means the measurement
    /// itself failed (for example, the executable could not be started).
    pub fn run(&self, spec: &Spec) -> Result<Outcome> {
        let stdout_path = self.scratch.join("stdout");
        let stderr_path = self.scratch.join("stderr");
        let mut wrapper = Command::new(&self.exe);
        wrapper
            .arg(WRAPPER)
            .arg("--stdout")
            .arg(&stdout_path)
            .arg("--stderr")
            .arg(&stderr_path)
            .arg("--")
            .arg(&spec.program)
            .args(&spec.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let child = wrapper
            .spawn()
            .context("cannot start the measuring wrapper")?;
        let pid = rustix::process::Pid::from_child(&child);
        // Waiting happens on a thread so this one can give up after the
        // time limit; killing the group takes the command down with the
        // wrapper, and the thread then returns.
        let (tx, rx) = mpsc::channel();
        let waiter = std::thread::spawn(move || {
            // The receiver may be gone only if this thread outlives the
            // call, which it does not: the result is always received.
            let _ = tx.send(child.wait_with_output());
        });
        let (output, timed_out) = match rx.recv_timeout(self.timeout) {
            Ok(output) => (output, false),
            Err(_) => {
                // The group may have exited just now; then there is
                // nothing to kill and the error says so harmlessly.
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
                (rx.recv().context("the measuring thread vanished")?, true)
            }
        };
        waiter
            .join()
            .map_err(|_| anyhow!("the measuring thread panicked"))?;
        let output = output.context("cannot wait for the measuring wrapper")?;
        let read = |path: &Path| {
            std::fs::read(path)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default()
        };
        let stdout = read(&stdout_path);
        let stderr = read(&stderr_path);
        if timed_out {
            return Ok(Outcome {
                wall: self.timeout.as_secs_f64(),
                peak_rss_kib: 0.0,
                exit: Exit::TimedOut,
                stdout,
                stderr,
            });
        }
        let report = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "{}",
                String::from_utf8_lossy(&output.stderr)
                    .trim()
                    .trim_start_matches("error: ")
            );
        }
        let (wall, peak_rss_kib, exit) = parse_report(&report)?;
        Ok(Outcome {
            wall,
            peak_rss_kib,
            exit,
            stdout,
            stderr,
        })
    }
}

/// Parses the wrapper's report: `wall_ns N`, `peak_rss_kib N`, and
/// `exit N` or `signal N`, one per line.
pub fn parse_report(report: &str) -> Result<(f64, f64, Exit)> {
    let mut wall = None;
    let mut rss = None;
    let mut exit = None;
    for line in report.lines() {
        let Some((key, value)) = line.split_once(' ') else {
            continue;
        };
        let number = || -> Result<i64> {
            value
                .trim()
                .parse()
                .map_err(|_| anyhow!("bad wrapper report line `{line}`"))
        };
        match key {
            "wall_ns" => wall = Some(number()? as f64 / 1e9),
            "peak_rss_kib" => rss = Some(number()? as f64),
            "exit" => exit = Some(Exit::Code(number()? as i32)),
            "signal" => exit = Some(Exit::Signal(number()? as i32)),
            _ => {}
        }
    }
    match (wall, rss, exit) {
        (Some(w), Some(r), Some(e)) => Ok((w, r, e)),
        _ => bail!("incomplete wrapper report: {report:?}"),
    }
}

/// The arguments of the hidden wrapper subcommand.
#[derive(Args, Debug)]
pub struct WrapperArgs {
    /// Where the command's standard output goes.
    #[arg(long)]
    stdout: PathBuf,
    /// Where the command's standard error goes.
    #[arg(long)]
    stderr: PathBuf,
    /// The command and its arguments.
    #[arg(last = true, required = true)]
    command: Vec<OsString>,
}

/// The wrapper: runs the command as its only child and prints its wall
/// time, peak RSS and exit on standard output.
pub fn wrapper_main(args: WrapperArgs) -> Result<()> {
    let stdout = File::create(&args.stdout)
        .with_context(|| format!("cannot create `{}`", args.stdout.display()))?;
    let stderr = File::create(&args.stderr)
        .with_context(|| format!("cannot create `{}`", args.stderr.display()))?;
    let (program, rest) = args
        .command
        .split_first()
        .context("no command to measure")?;
    let mut command = Command::new(program);
    command
        .args(rest)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    // Everything above is done before the clock starts, so only the
    // process's own life is timed.
    let start = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot run `{}`", program.to_string_lossy()))?;
    let status = child.wait().context("cannot wait for the command")?;
    let wall = start.elapsed();
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .context("getrusage failed")?;
    // Linux reports `ru_maxrss` in KiB.
    println!("wall_ns {}", wall.as_nanos());
    println!("peak_rss_kib {}", usage.max_rss());
    match (status.code(), status.signal()) {
        (Some(code), _) => println!("exit {code}"),
        (None, Some(signal)) => println!("signal {signal}"),
        (None, None) => bail!("the command ended in an unknown way: {status:?}"),
    }
    Ok(())
}

/// Checks that `stdout` is exactly the line `<program> ok <16 hex digits>`
/// and returns the checksum.
pub fn check_output(program: &str, stdout: &str) -> Result<String, String> {
    let lines: Vec<&str> = stdout.lines().collect();
    let [line] = lines.as_slice() else {
        return Err(format!(
            "expected one line `{program} ok <checksum>` on stdout, got {} lines: {:?}",
            lines.len(),
            truncate(stdout, 200)
        ));
    };
    let words: Vec<&str> = line.split(' ').collect();
    match words.as_slice() {
        [name, "ok", sum]
            if *name == program
                && sum.len() == 16
                && sum.chars().all(|c| c.is_ascii_hexdigit()) =>
        {
            Ok(sum.to_ascii_lowercase())
        }
        _ => Err(format!(
            "expected `{program} ok <16 hex digits>` on stdout, got {:?}",
            truncate(line, 200)
        )),
    }
}

/// At most the last `lines` lines of `text`, and at most `max` bytes of
/// them, for failure reports.
pub fn tail(text: &str, lines: usize, max: usize) -> String {
    let all: Vec<&str> = text.trim_end().lines().collect();
    let start = all.len().saturating_sub(lines);
    let joined = all[start..].join("\n");
    if joined.len() <= max {
        return joined;
    }
    let mut cut = joined.len() - max;
    while !joined.is_char_boundary(cut) {
        cut += 1;
    }
    format!("…{}", &joined[cut..])
}

/// The first `max` bytes of `text` (on a character boundary).
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_expected_line() {
        assert_eq!(
            check_output("fib", "fib ok 0123456789ABCDEF\n"),
            Ok("0123456789abcdef".to_string())
        );
    }

    #[test]
    fn rejects_anything_else() {
        for bad in [
            "",
            "fib ok 0123\n",
            "fob ok 0123456789abcdef\n",
            "fib failed 0123456789abcdef\n",
            "fib ok 0123456789abcdeg\n",
            "hello\nfib ok 0123456789abcdef\n",
        ] {
            assert!(check_output("fib", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn parses_wrapper_reports() {
        let (wall, rss, exit) =
            parse_report("wall_ns 1500000000\npeak_rss_kib 2048\nexit 0\n").unwrap();
        assert_eq!((wall, rss, exit), (1.5, 2048.0, Exit::Code(0)));
        let (_, _, exit) = parse_report("wall_ns 1\npeak_rss_kib 1\nsignal 9\n").unwrap();
        assert_eq!(exit, Exit::Signal(9));
        assert!(parse_report("wall_ns 1\n").is_err());
        assert!(parse_report("wall_ns x\npeak_rss_kib 1\nexit 0\n").is_err());
    }

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(shell_quote(OsStr::new("a/b.wasm")), "a/b.wasm");
        assert_eq!(shell_quote(OsStr::new("a b")), "'a b'");
        assert_eq!(shell_quote(OsStr::new("it's")), r"'it'\''s'");
        assert_eq!(shell_quote(OsStr::new("")), "''");
        let spec = Spec::new("wasmtime", ["run", "x y.wasm"]);
        assert_eq!(spec.to_string(), "wasmtime run 'x y.wasm'");
    }

    #[test]
    fn tails_keep_the_end() {
        assert_eq!(tail("a\nb\nc\n", 2, 100), "b\nc");
        assert_eq!(tail("abcdef", 5, 3), "…def");
    }
}
