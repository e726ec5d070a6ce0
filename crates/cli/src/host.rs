//! What `kiln run` gives a module beyond the interpreter: the store's data
//! (the WASI context and a memory limit), WASI itself, stand-ins for
//! unknown imports, and the `--timeout` timer.
//!
//! The wasm32-wasip1 build of `kiln` has no WASI host (`kiln-wasi` needs
//! cap-std, which needs nightly Rust on WASI targets): there the WASI
//! context is empty, the WASI options and modules importing WASI are
//! refused with an error saying so, and `--timeout` (which needs a thread)
//! is refused too.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use kiln::{ExternType, InterruptHandle, Linker, Module, ResourceLimiter, Store};
#[cfg(not(target_os = "wasi"))]
use kiln_wasi::{DirPerms, WasiCtxBuilder};

/// The module's WASI state: `kiln-wasi`'s context.
#[cfg(not(target_os = "wasi"))]
pub type WasiState = kiln_wasi::WasiCtx;

/// The module's WASI state: nothing, in a build without the WASI host.
#[cfg(target_os = "wasi")]
pub struct WasiState;

/// Why a module's WASI imports cannot be satisfied in this build.
#[cfg(target_os = "wasi")]
const NO_WASI_HOST: &str = "this build of kiln (wasm32-wasip1) has no WASI host; run it with a kiln built for Linux, macOS or Windows";

/// The data of `kiln run`'s store.
pub struct Host {
    /// The module's WASI state.
    #[cfg_attr(target_os = "wasi", allow(dead_code))]
    pub wasi: WasiState,
    /// The `-W max-memory-size` limit.
    pub limits: MemoryLimit,
}

/// A [`ResourceLimiter`] that refuses to grow any linear memory beyond a
/// byte count; tables are not limited.
pub struct MemoryLimit {
    /// The largest size, in bytes, a memory may have; `None`: no limit.
    pub max_bytes: Option<usize>,
}

impl ResourceLimiter for MemoryLimit {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> Result<bool> {
        Ok(self.max_bytes.is_none_or(|max| desired <= max))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _max: Option<usize>,
    ) -> Result<bool> {
        Ok(true)
    }
}

/// A directory to preopen: `--dir HOST[::GUEST]` or `--dir-ro`.
#[derive(Debug, Clone)]
pub struct Preopen {
    /// The directory on the host.
    pub host: String,
    /// The name the module sees.
    pub guest: String,
    /// Whether the module may change anything in it.
    pub writable: bool,
}

impl Preopen {
    /// Parses `HOST[::GUEST]`; GUEST defaults to HOST.
    pub fn parse(text: &str, writable: bool) -> Result<Preopen> {
        let (host, guest) = text.split_once("::").unwrap_or((text, text));
        let flag = if writable { "--dir" } else { "--dir-ro" };
        if host.is_empty() || guest.is_empty() {
            bail!("invalid `{flag} {text}`: expected `{flag} HOST[::GUEST]`");
        }
        Ok(Preopen {
            host: host.to_string(),
            guest: guest.to_string(),
            writable,
        })
    }
}

/// What the module's WASI context is made from.
pub struct WasiSetup<'a> {
    /// argv, starting with the module's name (unused where there is no
    /// WASI host to pass it to).
    #[cfg_attr(target_os = "wasi", allow(dead_code))]
    pub args: &'a [String],
    /// `--env` options: `K=V`, or `K` to pass the host's value of K.
    pub env: &'a [String],
    /// `--inherit-env`: start from the whole host environment.
    pub inherit_env: bool,
    /// Preopened directories, in command-line order.
    pub preopens: &'a [Preopen],
}

impl WasiSetup<'_> {
    /// The environment the module sees: the host's (with
    /// `--inherit-env`), then each `--env` in order, a later value of a
    /// name replacing an earlier one. Host variables that are not UTF-8
    /// are left out.
    #[cfg(not(target_os = "wasi"))]
    pub fn environment(&self) -> Result<Vec<(String, String)>> {
        let mut vars: Vec<(String, String)> = Vec::new();
        let mut set = |key: String, value: String| match vars.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => vars.push((key, value)),
        };
        if self.inherit_env {
            for (key, value) in std::env::vars_os() {
                if let (Ok(key), Ok(value)) = (key.into_string(), value.into_string()) {
                    set(key, value);
                }
            }
        }
        for item in self.env {
            match item.split_once('=') {
                Some(("", _)) => {
                    bail!("invalid `--env {item}`: expected `--env NAME=VALUE` or `--env NAME`")
                }
                Some((key, value)) => set(key.to_string(), value.to_string()),
                None if item.is_empty() => {
                    bail!("invalid `--env`: expected `--env NAME=VALUE` or `--env NAME`")
                }
                None => {
                    if let Some(value) = std::env::var_os(item).and_then(|v| v.into_string().ok()) {
                        set(item.clone(), value);
                    }
                }
            }
        }
        Ok(vars)
    }

    /// Builds the WASI context: these args and environment, the preopens,
    /// and the host's stdin, stdout and stderr.
    #[cfg(not(target_os = "wasi"))]
    pub fn build(&self) -> Result<WasiState> {
        let mut builder = WasiCtxBuilder::new();
        builder.args(self.args).inherit_stdio();
        for (key, value) in self.environment()? {
            builder.env(&key, &value);
        }
        for dir in self.preopens {
            let perms = if dir.writable {
                DirPerms::ReadWrite
            } else {
                DirPerms::ReadOnly
            };
            builder
                .preopened_dir(&dir.host, &dir.guest, perms)
                .map_err(|err| {
                    err.context(format!("failed to open directory `{}` for --dir", dir.host))
                })?;
        }
        Ok(builder.build())
    }

    /// Without a WASI host there is no context to build: refuses the
    /// options that would only configure one.
    #[cfg(target_os = "wasi")]
    pub fn build(&self) -> Result<WasiState> {
        let option = if let Some(dir) = self.preopens.first() {
            let flag = if dir.writable { "--dir" } else { "--dir-ro" };
            format!("{flag} {}::{}", dir.host, dir.guest)
        } else if let Some(var) = self.env.first() {
            format!("--env {var}")
        } else if self.inherit_env {
            "--inherit-env".to_string()
        } else {
            return Ok(WasiState);
        };
        bail!("`{option}` configures WASI, but {NO_WASI_HOST}")
    }
}

/// Defines WASI preview 1 in `linker`.
#[cfg(not(target_os = "wasi"))]
pub fn link_wasi(linker: &mut Linker<Host>, _module: &Module, _file: &str) -> Result<()> {
    kiln_wasi::add_to_linker(linker, |host: &mut Host| &mut host.wasi)
}

/// Without a WASI host: refuses a module that imports WASI, naming the
/// first such import (any other module runs as it would elsewhere).
#[cfg(target_os = "wasi")]
pub fn link_wasi(_linker: &mut Linker<Host>, module: &Module, file: &str) -> Result<()> {
    match module
        .imports()
        .find(|import| import.module().starts_with("wasi"))
    {
        Some(import) => bail!(
            "`{file}` imports `{}::{}`, but {NO_WASI_HOST}",
            import.module(),
            import.name()
        ),
        None => Ok(()),
    }
}

/// The exit status a WASI `proc_exit(N)` asked for, if `err` is one (the
/// OS keeps the low 8 bits).
pub fn wasi_exit_status(err: &anyhow::Error) -> Option<u8> {
    #[cfg(not(target_os = "wasi"))]
    {
        err.downcast_ref::<kiln_wasi::I32Exit>()
            .map(|exit| exit.0 as u8)
    }
    #[cfg(target_os = "wasi")]
    {
        let _ = err;
        None
    }
}

/// The error a stand-in for an unknown import returns when called
/// (`-W unknown-imports-trap=y`); `kiln run` reports it as a trap.
#[derive(Debug)]
pub struct UnknownImportCalled {
    /// The import's module name.
    pub module: String,
    /// The import's field name.
    pub name: String,
}

impl fmt::Display for UnknownImportCalled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "called unknown import `{}::{}`, which has not been defined (-W unknown-imports-trap=y made it a trap)",
            self.module, self.name
        )
    }
}

impl std::error::Error for UnknownImportCalled {}

/// Defines each function import of `module` that `linker` lacks as a
/// function of the import's type that fails with [`UnknownImportCalled`].
/// Other kinds of unknown imports stay unknown (instantiation names them).
pub fn define_unknown_imports<T: 'static>(
    linker: &mut Linker<T>,
    store: &mut Store<T>,
    module: &Module,
) -> Result<()> {
    let mut defined = HashSet::new();
    for import in module.imports() {
        let (module_name, name) = (import.module().to_string(), import.name().to_string());
        let ExternType::Func(ty) = import.ty() else {
            continue;
        };
        if defined.contains(&(module_name.clone(), name.clone()))
            || linker.get(&mut *store, &module_name, &name).is_some()
        {
            continue;
        }
        let (m, n) = (module_name.clone(), name.clone());
        linker.func_new(&module_name, &name, ty, move |_, _, _| {
            Err(UnknownImportCalled {
                module: m.clone(),
                name: n.clone(),
            }
            .into())
        })?;
        defined.insert((module_name, name));
    }
    Ok(())
}

/// How long after interrupting wasm the timer waits for it to stop before
/// ending the process itself (wasm blocked in a host call, such as a read
/// of stdin or a sleep, only sees the interrupt when the call returns).
const TIMEOUT_GRACE: Duration = Duration::from_secs(1);

/// The `--timeout` timer: a thread that interrupts the store's wasm when
/// the time is up. Dropping it stops the thread.
pub struct Timeout {
    done: Option<mpsc::Sender<()>>,
    fired: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    text: String,
}

impl Timeout {
    /// Starts the timer. `text` is the duration as the user wrote it.
    /// Fails where no thread can be started (wasm32-wasip1 has none).
    pub fn start(duration: Duration, text: &str, handle: InterruptHandle) -> Result<Timeout> {
        let (done, rx) = mpsc::channel::<()>();
        let fired = Arc::new(AtomicBool::new(false));
        let flag = fired.clone();
        let message = timeout_message(text);
        let timer = move || {
            if rx.recv_timeout(duration) != Err(RecvTimeoutError::Timeout) {
                return; // finished in time
            }
            flag.store(true, Ordering::SeqCst);
            handle.interrupt();
            if rx.recv_timeout(TIMEOUT_GRACE) == Err(RecvTimeoutError::Timeout) {
                eprintln!("error: {message} (stopped while in a host call)");
                std::process::exit(i32::from(crate::EXIT_TIMEOUT));
            }
        };
        let thread = std::thread::Builder::new()
            .name("kiln-timeout".to_string())
            .spawn(timer)
            .map_err(|err| {
                anyhow!(
                    "`--timeout {text}` needs a timer thread, which this build of kiln cannot start ({err})"
                )
            })?;
        Ok(Timeout {
            done: Some(done),
            fired,
            thread: Some(thread),
            text: text.to_string(),
        })
    }

    /// Whether the time ran out (and wasm was interrupted).
    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }

    /// Stops the timer (waiting for its thread); [`fired`](Self::fired)
    /// still tells whether it had run out.
    pub fn stop(&mut self) {
        drop(self.done.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// The message to print when the time ran out.
    pub fn message(&self) -> String {
        timeout_message(&self.text)
    }
}

fn timeout_message(text: &str) -> String {
    format!("timed out after {text} (--timeout)")
}

impl Drop for Timeout {
    fn drop(&mut self) {
        self.stop();
    }
}
