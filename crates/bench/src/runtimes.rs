//! The runtimes in the race: which exist, where they are found, their
//! versions, and the command lines that compile and run a program on each.
//!
//! Kiln's backends and Wasmtime's compilers are data, so a new backend is
//! one line in [`KILN_BACKENDS`] or [`WASMTIME_COMPILERS`].

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::build::Program;
use crate::measure::Spec;
use crate::results::{Role, RuntimeInfo};

/// One of Kiln's backends.
#[derive(Debug)]
pub struct KilnBackend {
    /// The runtime's name in the reports.
    pub runtime: &'static str,
    /// The value of `kiln run -C compiler=…`.
    pub compiler: &'static str,
    /// The strategy the in-process measurements configure; `None` when
    /// this build of the `kiln` crate cannot select it.
    pub strategy: Option<kiln::Strategy>,
    /// Whether functions are translated at their first call
    /// (`-C lazy-translation=y`). Such a backend races on the large
    /// modules only unless named: its run times would repeat its eager
    /// twin's, only its start-up differs.
    pub lazy: bool,
    /// Whether the race compiles ahead of time (`kiln compile`) and times
    /// `kiln run --allow-precompiled`, as it does for Wasmtime: run time
    /// without compilation, compile time as a process, and start-up from
    /// the `.wasm` measured separately.
    pub aot: bool,
}

/// Kiln's backends, in report order. A backend is raced when `kiln run`
/// accepts its `-C compiler=` value.
pub const KILN_BACKENDS: &[KilnBackend] = &[
    KilnBackend {
        runtime: "kiln-interp",
        compiler: "interp",
        strategy: Some(kiln::Strategy::Interpreter),
        lazy: false,
        aot: false,
    },
    KilnBackend {
        runtime: "kiln-cranelift",
        compiler: "cranelift",
        strategy: Some(kiln::Strategy::Cranelift),
        lazy: false,
        aot: true,
    },
    KilnBackend {
        runtime: "kiln-baseline",
        compiler: "baseline",
        strategy: Some(kiln::Strategy::Baseline),
        lazy: false,
        aot: true,
    },
    KilnBackend {
        runtime: "kiln-tiered",
        compiler: "tiered",
        strategy: Some(kiln::Strategy::Tiered),
        lazy: false,
        aot: false,
    },
    KilnBackend {
        runtime: "kiln-interp-lazy",
        compiler: "interp",
        strategy: Some(kiln::Strategy::Interpreter),
        lazy: true,
        aot: false,
    },
];

/// One of Wasmtime's compilers, and the flags selecting it (given alike
/// to `wasmtime compile` and `wasmtime run`, since a precompiled module
/// only loads into an engine configured as the one that made it).
#[derive(Debug)]
pub struct WasmtimeCompiler {
    /// The runtime's name in the reports.
    pub runtime: &'static str,
    /// The flags selecting the compiler.
    pub flags: &'static [&'static str],
}

/// Wasmtime's compilers, in report order.
pub const WASMTIME_COMPILERS: &[WasmtimeCompiler] = &[
    WasmtimeCompiler {
        runtime: "wasmtime-cranelift",
        flags: &[],
    },
    WasmtimeCompiler {
        runtime: "wasmtime-winch",
        flags: &["-C", "compiler=winch"],
    },
    WasmtimeCompiler {
        runtime: "wasmtime-pulley",
        flags: &["--target", "pulley64"],
    },
];

/// The other runtimes, after Kiln's and Wasmtime's, in report order.
const OTHER_RUNTIMES: &[&str] = &["wasmi", "wasmi-lazy", "wasm3", "node", "native"];

/// Every runtime name the harness knows, in report order.
pub fn all_names() -> Vec<&'static str> {
    KILN_BACKENDS
        .iter()
        .map(|b| b.runtime)
        .chain(WASMTIME_COMPILERS.iter().map(|c| c.runtime))
        .chain(OTHER_RUNTIMES.iter().copied())
        .collect()
}

/// How a runtime is driven.
#[derive(Debug, Clone)]
pub enum Kind {
    /// `kiln run -C compiler=…`.
    Kiln(&'static KilnBackend),
    /// `wasmtime compile` then `wasmtime run --allow-precompiled`.
    Wasmtime(&'static WasmtimeCompiler),
    /// `wasmi run`, translating eagerly or lazily.
    Wasmi {
        /// Whether functions are translated on first call.
        lazy: bool,
    },
    /// `wasm3 prog.wasm`.
    Wasm3,
    /// `node node-wasi.mjs prog.wasm`.
    Node {
        /// The script running `_start` with `node:wasi`.
        script: PathBuf,
    },
    /// The program built for the host.
    Native,
}

/// A runtime of the catalog, found or not.
#[derive(Debug, Clone)]
pub struct Runtime {
    /// How it is driven.
    pub kind: Kind,
    /// What the reports say about it.
    pub info: RuntimeInfo,
    /// Its executable (unused for native, whose executable is the program).
    exe: Option<PathBuf>,
    /// Raced on large modules only, unless asked for by name: its run
    /// times would repeat another column's, only its start-up differs.
    large_only: bool,
}

/// Where to look for executables.
#[derive(Debug, Clone)]
pub struct Search {
    /// The peers' cache directories, searched before `$PATH`.
    pub peer_dirs: Vec<PathBuf>,
    /// The directories of `$PATH`.
    pub path: Vec<PathBuf>,
}

impl Search {
    /// `$KILN_PEERS_DIR` (and its `bin`), or `~/.cache/kiln-peers/bin`,
    /// then `$PATH`.
    pub fn from_env() -> Search {
        let mut peer_dirs = Vec::new();
        if let Some(dir) = std::env::var_os("KILN_PEERS_DIR") {
            let dir = PathBuf::from(dir);
            peer_dirs.push(dir.join("bin"));
            peer_dirs.push(dir);
        } else if let Some(home) = std::env::var_os("HOME") {
            peer_dirs.push(Path::new(&home).join(".cache/kiln-peers/bin"));
        }
        let path = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        Search { peer_dirs, path }
    }

    /// The first executable file called `name`.
    pub fn find(&self, name: &str) -> Option<PathBuf> {
        self.peer_dirs
            .iter()
            .chain(&self.path)
            .map(|dir| dir.join(name))
            .find(|candidate| is_executable(candidate))
    }
}

/// Whether `path` is a file with an execute bit.
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The first non-empty line `exe --version` prints, if it succeeds.
pub fn version_of(exe: &Path) -> Option<String> {
    let output = Command::new(exe)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

/// Builds the catalog: every runtime named in `selected`, found or not.
///
/// `kiln` is the `kiln` executable (built by the harness); `repo` is the
/// repository root (for the Node script); `rustc` describes the native
/// toolchain.
pub fn discover(
    selected: &BTreeSet<String>,
    explicit: bool,
    kiln: Option<&Path>,
    repo: &Path,
    search: &Search,
    rustc: &str,
) -> Vec<Runtime> {
    let mut runtimes = Vec::new();
    for name in all_names() {
        if !selected.contains(name) {
            continue;
        }
        let (kind, role, exe, note) =
            if let Some(backend) = KILN_BACKENDS.iter().find(|b| b.runtime == name) {
                let note = kiln
                    .is_none()
                    .then(|| "the `kiln` executable was not built".to_string());
                (
                    Kind::Kiln(backend),
                    Role::Kiln,
                    kiln.map(Path::to_path_buf),
                    note,
                )
            } else if let Some(compiler) = WASMTIME_COMPILERS.iter().find(|c| c.runtime == name) {
                (
                    Kind::Wasmtime(compiler),
                    Role::Peer,
                    search.find("wasmtime"),
                    None,
                )
            } else {
                match name {
                    "wasmi" | "wasmi-lazy" => (
                        Kind::Wasmi {
                            lazy: name == "wasmi-lazy",
                        },
                        Role::Peer,
                        // wasmi_cli 2 installs `wasmi`; older releases `wasmi_cli`.
                        search.find("wasmi").or_else(|| search.find("wasmi_cli")),
                        None,
                    ),
                    "wasm3" => (Kind::Wasm3, Role::Peer, search.find("wasm3"), None),
                    "node" => {
                        let script = repo.join("benches/peers/node-wasi.mjs");
                        let exe = search.find("node");
                        if exe.is_some() && !script.is_file() {
                            let note = format!("`{}` is missing", script.display());
                            (Kind::Node { script }, Role::Peer, None, Some(note))
                        } else {
                            (Kind::Node { script }, Role::Peer, exe, None)
                        }
                    }
                    _ => (Kind::Native, Role::Native, None, None),
                }
            };
        let found = matches!(kind, Kind::Native) || exe.is_some();
        let version = match (&kind, &exe) {
            (Kind::Native, _) => Some(rustc.to_string()),
            (Kind::Wasm3, Some(exe)) => version_of(exe).or_else(|| wasm3_version(exe)),
            (Kind::Node { .. }, Some(exe)) => node_version(exe),
            (_, Some(exe)) => version_of(exe),
            (_, None) => None,
        };
        let note = note.or_else(|| (!found).then(|| "not found".to_string()));
        runtimes.push(Runtime {
            large_only: !explicit
                && (name == "wasmi-lazy"
                    || KILN_BACKENDS.iter().any(|b| b.runtime == name && b.lazy)),
            info: RuntimeInfo {
                name: name.to_string(),
                role,
                found,
                path: exe.as_ref().map(|p| p.display().to_string()),
                version,
                note,
            },
            kind,
            exe,
        });
    }
    runtimes
}

/// Node's version and, since V8 is what runs the wasm, V8's.
fn node_version(exe: &Path) -> Option<String> {
    let node = version_of(exe)?;
    let v8 = Command::new(exe)
        .args(["-p", "process.versions.v8"])
        .stdin(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    Some(match v8 {
        Some(v8) if !v8.is_empty() => format!("node {node} (V8 {v8})"),
        _ => format!("node {node}"),
    })
}

/// wasm3's driver may not answer `--version`; `install.sh` records the
/// version it built beside the `bin` directory.
fn wasm3_version(exe: &Path) -> Option<String> {
    let file = exe.parent()?.parent()?.join("wasm3.version");
    let text = std::fs::read_to_string(file).ok()?;
    Some(format!("wasm3 from pywasm3 {}", text.trim()))
}

impl Runtime {
    /// The runtime's name.
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// Whether it races on `program`.
    pub fn runs(&self, program: &Program) -> bool {
        self.info.found && (program.large || !self.large_only)
    }

    /// The ahead-of-time compile command writing `artifact`, for runtimes
    /// that have one.
    pub fn compile_spec(&self, program: &Program, artifact: &Path) -> Option<Spec> {
        if let Kind::Kiln(backend) = &self.kind {
            if !backend.aot {
                return None;
            }
            let mut args: Vec<OsString> = vec!["compile".into()];
            args.extend(["-C".into(), format!("compiler={}", backend.compiler).into()]);
            args.extend(["-o".into(), artifact.into(), program.wasm.clone().into()]);
            return Some(Spec::new(self.exe.clone()?, args));
        }
        let Kind::Wasmtime(compiler) = &self.kind else {
            return None;
        };
        let mut args: Vec<OsString> = vec!["compile".into()];
        // A cached compile would time a file copy, not the compiler.
        args.extend(["-C".into(), "cache=n".into()]);
        args.extend(compiler.flags.iter().map(OsString::from));
        args.extend(["-o".into(), artifact.into(), program.wasm.clone().into()]);
        Some(Spec::new(self.exe.clone()?, args))
    }

    /// The command whose run time is measured. `artifact` is what
    /// [`Runtime::compile_spec`] wrote, when there was such a step.
    pub fn run_spec(&self, program: &Program, artifact: Option<&Path>) -> Option<Spec> {
        let wasm = || OsString::from(&program.wasm);
        let args: Vec<OsString> = match &self.kind {
            Kind::Native => return Some(Spec::new(&program.native, Vec::<OsString>::new())),
            Kind::Kiln(backend) => {
                let mut args: Vec<OsString> = vec!["run".into()];
                if backend.aot {
                    args.push("--allow-precompiled".into());
                }
                args.extend(["-C".into(), format!("compiler={}", backend.compiler).into()]);
                if backend.lazy {
                    args.extend(["-C".into(), "lazy-translation=y".into()]);
                }
                args.push(if backend.aot {
                    artifact?.into()
                } else {
                    wasm()
                });
                args
            }
            Kind::Wasmtime(compiler) => {
                let mut args: Vec<OsString> = vec!["run".into(), "--allow-precompiled".into()];
                args.extend(compiler.flags.iter().map(OsString::from));
                args.push(artifact?.into());
                args
            }
            // `lazy-translation` (wasmi's default) still validates the
            // whole module up front, as every other runtime here does;
            // only translation waits for a function's first call.
            Kind::Wasmi { lazy } => vec![
                "run".into(),
                "--compilation-mode".into(),
                if *lazy { "lazy-translation" } else { "eager" }.into(),
                wasm(),
            ],
            Kind::Wasm3 => vec![wasm()],
            Kind::Node { script } => vec![script.into(), wasm()],
        };
        Some(Spec::new(self.exe.clone()?, args))
    }

    /// For runtimes whose run command loads a precompiled artifact: the
    /// command running the `.wasm` itself, compilation included and no
    /// cache, which is its start-up time.
    pub fn startup_spec(&self, program: &Program) -> Option<Spec> {
        if let Kind::Kiln(backend) = &self.kind {
            if !backend.aot {
                return None;
            }
            let args: Vec<OsString> = vec![
                "run".into(),
                "-C".into(),
                format!("compiler={}", backend.compiler).into(),
                program.wasm.clone().into(),
            ];
            return Some(Spec::new(self.exe.clone()?, args));
        }
        let Kind::Wasmtime(compiler) = &self.kind else {
            return None;
        };
        let mut args: Vec<OsString> = vec!["run".into(), "-C".into(), "cache=n".into()];
        args.extend(compiler.flags.iter().map(OsString::from));
        args.push(program.wasm.clone().into());
        Some(Spec::new(self.exe.clone()?, args))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program() -> Program {
        Program {
            name: "fib".into(),
            large: false,
            wasm: PathBuf::from("/b/fib.wasm"),
            native: PathBuf::from("/b/fib"),
        }
    }

    fn runtime(kind: Kind, exe: &str) -> Runtime {
        Runtime {
            kind,
            info: RuntimeInfo {
                name: "x".into(),
                role: Role::Peer,
                found: true,
                path: None,
                version: None,
                note: None,
            },
            exe: Some(PathBuf::from(exe)),
            large_only: false,
        }
    }

    #[test]
    fn names_are_unique_and_kiln_comes_first() {
        let names = all_names();
        let unique: BTreeSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
        assert_eq!(names[0], "kiln-interp");
        assert_eq!(names.last(), Some(&"native"));
    }

    #[test]
    fn wasmtime_commands_share_the_compiler_flags() {
        let winch = runtime(Kind::Wasmtime(&WASMTIME_COMPILERS[1]), "wasmtime");
        let p = program();
        let compile = winch.compile_spec(&p, Path::new("/a/fib.cwasm")).unwrap();
        assert_eq!(
            compile.to_string(),
            "wasmtime compile -C cache=n -C compiler=winch -o /a/fib.cwasm /b/fib.wasm"
        );
        let run = winch.run_spec(&p, Some(Path::new("/a/fib.cwasm"))).unwrap();
        assert_eq!(
            run.to_string(),
            "wasmtime run --allow-precompiled -C compiler=winch /a/fib.cwasm"
        );
        assert!(winch.run_spec(&p, None).is_none());
        let startup = winch.startup_spec(&p).unwrap();
        assert_eq!(
            startup.to_string(),
            "wasmtime run -C cache=n -C compiler=winch /b/fib.wasm"
        );
    }

    #[test]
    fn kiln_cranelift_runs_precompiled_like_wasmtime() {
        let p = program();
        let backend = KILN_BACKENDS
            .iter()
            .find(|b| b.runtime == "kiln-cranelift")
            .unwrap();
        let kiln = runtime(Kind::Kiln(backend), "/t/kiln");
        let artifact = Path::new("/a/fib.kiln-cranelift.cwasm");
        assert_eq!(
            kiln.compile_spec(&p, artifact).unwrap().to_string(),
            "/t/kiln compile -C compiler=cranelift -o /a/fib.kiln-cranelift.cwasm /b/fib.wasm"
        );
        assert_eq!(
            kiln.run_spec(&p, Some(artifact)).unwrap().to_string(),
            "/t/kiln run --allow-precompiled -C compiler=cranelift /a/fib.kiln-cranelift.cwasm"
        );
        assert!(kiln.run_spec(&p, None).is_none());
        assert_eq!(
            kiln.startup_spec(&p).unwrap().to_string(),
            "/t/kiln run -C compiler=cranelift /b/fib.wasm"
        );
    }

    #[test]
    fn other_runtimes_run_the_wasm_directly() {
        let p = program();
        let kiln = runtime(Kind::Kiln(&KILN_BACKENDS[0]), "/t/kiln");
        assert_eq!(
            kiln.run_spec(&p, None).unwrap().to_string(),
            "/t/kiln run -C compiler=interp /b/fib.wasm"
        );
        assert!(kiln.compile_spec(&p, Path::new("x")).is_none());
        assert!(kiln.startup_spec(&p).is_none());
        let native = runtime(Kind::Native, "unused");
        assert_eq!(native.run_spec(&p, None).unwrap().to_string(), "/b/fib");
        let lazy = runtime(Kind::Wasmi { lazy: true }, "wasmi");
        assert_eq!(
            lazy.run_spec(&p, None).unwrap().to_string(),
            "wasmi run --compilation-mode lazy-translation /b/fib.wasm"
        );
    }

    #[test]
    fn lazy_wasmi_races_only_on_large_modules_unless_named() {
        let mut lazy = runtime(Kind::Wasmi { lazy: true }, "wasmi");
        lazy.large_only = true;
        let mut p = program();
        assert!(!lazy.runs(&p));
        p.large = true;
        assert!(lazy.runs(&p));
    }
}
