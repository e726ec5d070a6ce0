//! Finding and building what the race needs: the repository, the
//! benchmark programs (for `wasm32-wasip1` and for the host), and the
//! `kiln` command.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};

/// Prefix of the programs that are compile-time inputs, not run-time
/// benchmarks.
pub const LARGE_PREFIX: &str = "large_";

/// One benchmark program and its two builds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// The binary's name.
    pub name: String,
    /// Whether it is a compile-time input (`large_*`).
    pub large: bool,
    /// The `wasm32-wasip1` build.
    pub wasm: PathBuf,
    /// The host build.
    pub native: PathBuf,
}

impl Program {
    /// The program `name` as built into `target_dir`.
    pub fn in_target_dir(name: &str, target_dir: &Path) -> Program {
        Program {
            name: name.to_string(),
            large: name.starts_with(LARGE_PREFIX),
            wasm: target_dir
                .join("wasm32-wasip1/release")
                .join(format!("{name}.wasm")),
            native: target_dir.join("release").join(name),
        }
    }
}

/// The repository root: the nearest directory above the current one
/// holding this crate, or else the checkout this harness was built from.
pub fn find_repo() -> Result<PathBuf> {
    let is_repo = |dir: &Path| dir.join("crates/bench/Cargo.toml").is_file();
    if let Ok(cwd) = std::env::current_dir()
        && let Some(dir) = cwd.ancestors().find(|d| is_repo(d))
    {
        return Ok(dir.to_path_buf());
    }
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if is_repo(&built_from) {
        return Ok(built_from.canonicalize().unwrap_or(built_from));
    }
    bail!("cannot find the Kiln repository: run kiln-bench from inside it")
}

/// The program names in a programs workspace: every binary target of
/// every member, as `cargo metadata` lists them (so programs may live in
/// `src/bin` of any member, and a member may be added without telling the
/// harness). Run-time programs come first, then the large modules, each
/// group sorted by name.
pub fn discover_programs(programs_dir: &Path) -> Result<Vec<String>> {
    let manifest = programs_dir.join("Cargo.toml");
    if !manifest.is_file() {
        bail!(
            "cannot list the benchmark programs: `{}` does not exist (is --programs-dir right?)",
            manifest.display()
        );
    }
    let output = cargo()
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(&manifest)
        .output()
        .context("cannot run `cargo metadata` to list the benchmark programs")?;
    if !output.status.success() {
        bail!(
            "cannot list the benchmark programs: `cargo metadata` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
        .context("cannot list the benchmark programs: `cargo metadata` printed bad JSON")?;
    let mut names = bin_targets(&metadata);
    names.sort_by_key(|n| (n.starts_with(LARGE_PREFIX), n.clone()));
    names.dedup();
    if names.is_empty() {
        bail!("no programs (binary targets) in `{}`", manifest.display());
    }
    Ok(names)
}

/// The names of the binary targets in `cargo metadata` output.
fn bin_targets(metadata: &serde_json::Value) -> Vec<String> {
    let none = Vec::new();
    let packages = metadata["packages"].as_array().unwrap_or(&none);
    packages
        .iter()
        .flat_map(|p| p["targets"].as_array().unwrap_or(&none))
        .filter(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|kinds| kinds.iter().any(|k| k == "bin"))
        })
        .filter_map(|t| t["name"].as_str().map(str::to_string))
        .collect()
}

/// The cargo to build with: the one running us, if any.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo")))
}

/// Runs a build command, its output going to our stderr.
fn run_build(mut command: Command, what: &str) -> Result<()> {
    eprintln!("kiln-bench: building {what}");
    let status = command
        .status()
        .with_context(|| format!("cannot run cargo to build {what}"))?;
    if !status.success() {
        bail!("building {what} failed ({status})");
    }
    Ok(())
}

/// Builds `names` (or every program, when `None`) for `wasm32-wasip1`
/// and, when `host`, for the host, into `target_dir`.
pub fn build_programs(
    repo: &Path,
    programs_dir: &Path,
    target_dir: &Path,
    names: Option<&[String]>,
    host: bool,
) -> Result<()> {
    let manifest = programs_dir.join("Cargo.toml");
    let builds: &[bool] = if host { &[true, false] } else { &[true] };
    for &wasm in builds {
        let mut command = cargo();
        // Every member, so programs in any of them can be named.
        command
            .current_dir(repo)
            .args(["build", "--release", "--workspace"]);
        if wasm {
            command.args(["--target", "wasm32-wasip1"]);
        }
        command
            .arg("--manifest-path")
            .arg(&manifest)
            .arg("--target-dir")
            .arg(target_dir);
        for name in names.into_iter().flatten() {
            command.args(["--bin", name]);
        }
        let what = if wasm {
            "the programs for wasm32-wasip1"
        } else {
            "the programs for the host (the native floor)"
        };
        run_build(command, what)?;
    }
    Ok(())
}

/// The target directory the harness itself was built into: the `kiln`
/// command is built there too, so both come from one build of Kiln.
pub fn harness_target_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot locate the harness executable")?;
    let mut dir = exe
        .parent()
        .context("the harness executable has no directory")?;
    // Test binaries live one level further down, in `deps`.
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir = dir.parent().context("unexpected harness location")?;
    }
    // `dir` is the profile directory; its parent is the target directory.
    Ok(dir
        .parent()
        .context("unexpected harness location")?
        .to_path_buf())
}

/// Where [`build_kiln`] puts the `kiln` command.
pub fn kiln_path(target_dir: &Path) -> PathBuf {
    target_dir.join("release/kiln")
}

/// Builds the `kiln` command (release) into `target_dir`.
pub fn build_kiln(repo: &Path, target_dir: &Path) -> Result<PathBuf> {
    let mut command = cargo();
    command
        .current_dir(repo)
        .args(["build", "--release", "-p", "kiln-cli", "--target-dir"])
        .arg(target_dir);
    run_build(command, "the `kiln` command (release)")?;
    let kiln = kiln_path(target_dir);
    if !kiln.is_file() {
        bail!("`{}` is missing after the build", kiln.display());
    }
    Ok(kiln)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovers_bins_of_every_member_with_large_modules_last() {
        let dir = std::env::temp_dir().join(format!("kiln-bench-discover-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let package = |path: &Path, name: &str, bins: &[&str]| {
            std::fs::create_dir_all(path.join("src/bin")).unwrap();
            std::fs::write(
                path.join("Cargo.toml"),
                format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n"),
            )
            .unwrap();
            for bin in bins {
                std::fs::write(path.join("src/bin").join(bin), "fn main() {}\n").unwrap();
            }
        };
        package(&dir, "progs", &["sieve.rs", "fib.rs"]);
        package(&dir.join("large"), "progs-large", &["large_a.rs"]);
        let mut manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        manifest.push_str("[workspace]\nmembers = [\".\", \"large\"]\n");
        std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
        let names = discover_programs(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(names.unwrap(), ["fib", "sieve", "large_a"]);
    }

    #[test]
    fn reads_bin_targets_from_metadata() {
        let metadata = serde_json::json!({"packages": [{"targets": [
            {"name": "fib", "kind": ["bin"]},
            {"name": "progs", "kind": ["lib"]},
        ]}]});
        assert_eq!(bin_targets(&metadata), ["fib"]);
        assert!(bin_targets(&serde_json::json!({})).is_empty());
    }

    #[test]
    fn missing_programs_dir_is_an_error() {
        let err = discover_programs(Path::new("/nonexistent/kiln-bench")).unwrap_err();
        assert!(err.to_string().contains("--programs-dir"), "{err}");
    }

    #[test]
    fn program_paths_follow_cargo_layout() {
        let p = Program::in_target_dir("large_x", Path::new("/t"));
        assert!(p.large);
        assert_eq!(p.wasm, Path::new("/t/wasm32-wasip1/release/large_x.wasm"));
        assert_eq!(p.native, Path::new("/t/release/large_x"));
    }
}
