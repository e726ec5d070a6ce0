//! [`WasiCtxBuilder`]: how an embedder describes what a WASI program may
//! reach.

use crate::ctx::WasiCtx;
use crate::fd_table::{DirFd, Entry, FdTable, Input, Kind, Output};
use crate::types::rights;
use anyhow::Context as _;
use cap_std::fs::Dir;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::time::Instant;

/// What a preopened directory lets the guest do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DirPerms {
    /// Read, create, write, rename and remove anything beneath it.
    ReadWrite,
    /// Open, read, list and stat only. Anything that would change the
    /// tree fails with `ENOTCAPABLE` (76), the specification's errno for
    /// an fd without the needed right.
    ReadOnly,
}

/// Builds a [`WasiCtx`].
///
/// By default the program gets no arguments, no environment, an empty
/// standard input, discarded standard output and error, and no files.
/// Descriptors are numbered 0–2 for the standard streams, then the
/// preopened directories in the order given, then the preopened sockets
/// (directories come first so that a C or Rust program's start-up scan,
/// which stops at the first fd that is not a preopened directory, finds
/// them all).
#[derive(Default)]
pub struct WasiCtxBuilder {
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Option<Input>,
    stdout: Option<Output>,
    stderr: Option<Output>,
    dirs: Vec<(Dir, String, DirPerms)>,
    sockets: Vec<TcpListener>,
}

impl WasiCtxBuilder {
    /// A builder that grants nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one argument (the first is conventionally the program name).
    pub fn arg(&mut self, a: impl AsRef<str>) -> &mut Self {
        self.args.push(a.as_ref().to_string());
        self
    }

    /// Appends arguments.
    pub fn args(&mut self, a: &[impl AsRef<str>]) -> &mut Self {
        self.args.extend(a.iter().map(|s| s.as_ref().to_string()));
        self
    }

    /// Adds the environment variable `k=v`.
    pub fn env(&mut self, k: impl AsRef<str>, v: impl AsRef<str>) -> &mut Self {
        self.env
            .push((k.as_ref().to_string(), v.as_ref().to_string()));
        self
    }

    /// Adds the host process's environment (variables whose name or value
    /// is not UTF-8 are skipped).
    pub fn inherit_env(&mut self) -> &mut Self {
        for (k, v) in std::env::vars_os() {
            if let (Some(k), Some(v)) = (k.to_str(), v.to_str()) {
                self.env.push((k.to_string(), v.to_string()));
            }
        }
        self
    }

    /// Standard input reads the host's standard input.
    pub fn inherit_stdin(&mut self) -> &mut Self {
        self.stdin = Some(Input::Inherit);
        self
    }

    /// Standard output writes to the host's standard output.
    pub fn inherit_stdout(&mut self) -> &mut Self {
        self.stdout = Some(Output::Stdout);
        self
    }

    /// Standard error writes to the host's standard error.
    pub fn inherit_stderr(&mut self) -> &mut Self {
        self.stderr = Some(Output::Stderr);
        self
    }

    /// All three standard streams are the host's.
    pub fn inherit_stdio(&mut self) -> &mut Self {
        self.inherit_stdin().inherit_stdout().inherit_stderr()
    }

    /// Standard input reads from `r` (for example a `&'static [u8]` or a
    /// `std::io::Cursor<Vec<u8>>`).
    pub fn stdin(&mut self, r: impl Read + Send + Sync + 'static) -> &mut Self {
        self.stdin = Some(Input::Reader(Box::new(r)));
        self
    }

    /// Standard output writes to `w` (for example a
    /// [`MemoryOutput`](crate::MemoryOutput)).
    pub fn stdout(&mut self, w: impl Write + Send + Sync + 'static) -> &mut Self {
        self.stdout = Some(Output::Writer(Box::new(w)));
        self
    }

    /// Standard error writes to `w`.
    pub fn stderr(&mut self, w: impl Write + Send + Sync + 'static) -> &mut Self {
        self.stderr = Some(Output::Writer(Box::new(w)));
        self
    }

    /// Gives the guest the host directory `host` under the name `guest`
    /// (such as `"."` or `"/data"`). The guest reaches nothing outside it:
    /// every path is resolved beneath it by `cap-std`.
    pub fn preopened_dir(
        &mut self,
        host: impl AsRef<Path>,
        guest: impl AsRef<str>,
        perms: DirPerms,
    ) -> anyhow::Result<&mut Self> {
        let host = host.as_ref();
        let dir = Dir::open_ambient_dir(host, cap_std::ambient_authority())
            .with_context(|| format!("failed to open directory `{}`", host.display()))?;
        self.dirs.push((dir, guest.as_ref().to_string(), perms));
        Ok(self)
    }

    /// Gives the guest a listening TCP socket; `sock_accept` on its fd
    /// yields connected streams as new fds.
    pub fn preopened_socket(&mut self, l: TcpListener) -> anyhow::Result<&mut Self> {
        // Blocking by default, as the guest expects until it asks otherwise.
        l.set_nonblocking(false)
            .context("failed to configure the listening socket")?;
        self.sockets.push(l);
        Ok(self)
    }

    /// The context. The builder is left empty, as if new.
    pub fn build(&mut self) -> WasiCtx {
        let b = std::mem::take(self);
        let mut table = FdTable::default();
        let stdin = b.stdin.unwrap_or(Input::Empty);
        let stdout = b.stdout.unwrap_or(Output::Sink);
        let stderr = b.stderr.unwrap_or(Output::Sink);
        table.insert_at(0, Entry::new(Kind::Stdin(stdin), rights::STDIN, 0));
        table.insert_at(1, Entry::new(Kind::Stdout(stdout), rights::STDOUT, 0));
        table.insert_at(2, Entry::new(Kind::Stdout(stderr), rights::STDOUT, 0));
        let mut fd = 3;
        for (dir, name, perms) in b.dirs {
            let (base, inheriting) = match perms {
                DirPerms::ReadWrite => (rights::DIR, rights::DIR | rights::FILE),
                DirPerms::ReadOnly => (
                    rights::DIR_READ_ONLY,
                    rights::DIR_READ_ONLY | rights::FILE_READ_ONLY,
                ),
            };
            let d = DirFd {
                dir,
                preopen: Some(name),
                depth: 0,
                listing: None,
            };
            table.insert_at(fd, Entry::new(Kind::Dir(d), base, inheriting));
            fd += 1;
        }
        for l in b.sockets {
            table.insert_at(
                fd,
                Entry::new(Kind::Listener(l), rights::LISTENER, rights::STREAM),
            );
            fd += 1;
        }
        WasiCtx {
            args: b.args,
            env: b.env,
            table,
            start: Instant::now(),
        }
    }
}

impl std::fmt::Debug for WasiCtxBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasiCtxBuilder")
            .field("args", &self.args)
            .field(
                "preopened_dirs",
                &self.dirs.iter().map(|d| &d.1).collect::<Vec<_>>(),
            )
            .field("preopened_sockets", &self.sockets.len())
            .finish_non_exhaustive()
    }
}
