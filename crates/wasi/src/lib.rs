//! `kiln-wasi`: WASI preview 1 (`wasi_snapshot_preview1`) for Kiln.
//!
//! **What it does.** It implements every function of the
//! `wasi_snapshot_preview1` import module — arguments and environment,
//! clocks, randomness, the `fd_*` and `path_*` file system calls,
//! `poll_oneoff`, `proc_exit`, and the `sock_*` calls on preopened TCP
//! listeners — with the specification's errno numbering and memory
//! layouts. The guest reaches only what the embedder grants through
//! [`WasiCtxBuilder`]: its arguments and environment, its standard
//! streams (the host's, in-memory buffers such as [`MemoryOutput`], or
//! nothing), preopened directories (read-write or read-only, see
//! [`DirPerms`]) and preopened sockets.
//!
//! **The sandbox.** Every path is resolved beneath a directory handle by
//! `cap-std`: `..` above a preopen, absolute paths, and symlinks leading
//! outside (absolute or relative) fail with `ENOTCAPABLE` (76); a symlink
//! loop fails with `ELOOP`. Symlinks whose target is absolute or climbs
//! above the preopen are never created, and hard links never follow a
//! symlink. Rights follow the specification's model: each fd carries base
//! and inheriting rights, a call lacking a right fails with
//! `ENOTCAPABLE`, and a read-only preopen simply passes on no right that
//! changes anything.
//!
//! **What it doesn't do.** No signals (`proc_raise` is `ENOSYS`), no
//! datagram sockets and no outgoing connections (preview 1 has no calls
//! for them), no WASI preview 2 / component model. `fd_allocate` ensures
//! the file's size rather than reserving blocks. Linux is the platform
//! this is written for and tested on; other Unix systems and Windows
//! build through `cap-std`, with the few host calls `cap-std` lacks
//! (`fd_pread`/`fd_pwrite` and `fd_filestat_set_times` on Windows, the
//! CPU-time clocks off Linux) reported as `ENOTSUP`.
//!
//! **Who calls it.** Embedders and the `kiln run` command: build a
//! [`WasiCtx`], keep it in the store's data, and call [`add_to_linker`]
//! with an accessor for it. A program's `proc_exit(code)` surfaces from
//! the call as an [`I32Exit`] error.
//!
//! ```
//! # fn main() -> anyhow::Result<()> {
//! use kiln::{Engine, Linker, Module, Store};
//! use kiln_wasi::{MemoryOutput, WasiCtx, WasiCtxBuilder};
//!
//! let engine = Engine::default();
//! let module = Module::new(&engine, r#"(module
//!     (import "wasi_snapshot_preview1" "fd_write"
//!       (func $fd_write (param i32 i32 i32 i32) (result i32)))
//!     (memory (export "memory") 1)
//!     (data (i32.const 0) "\10\00\00\00\03\00\00\00")   ;; iovec {16, 3}
//!     (data (i32.const 16) "hi\n")
//!     (func (export "_start")
//!       (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#)?;
//! let out = MemoryOutput::new();
//! let mut linker: Linker<WasiCtx> = Linker::new(&engine);
//! kiln_wasi::add_to_linker(&mut linker, |ctx| ctx)?;
//! let mut store = Store::new(&engine, WasiCtxBuilder::new().stdout(out.clone()).build());
//! let instance = linker.instantiate(&mut store, &module)?;
//! instance.get_typed_func::<(), ()>(&mut store, "_start")?.call(&mut store, ())?;
//! assert_eq!(out.contents(), b"hi\n");
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod builder;
mod ctx;
mod errno;
mod fd_table;
mod funcs;
mod linker;
mod memory;
mod pipe;
mod sys;
pub mod types;

pub use builder::{DirPerms, WasiCtxBuilder};
pub use ctx::{I32Exit, WasiCtx};
pub use errno::Errno;
pub use linker::{MODULE, add_to_linker};
pub use pipe::MemoryOutput;
