//! [`WasiCtx`]: the state of one WASI program, and [`I32Exit`], how
//! `proc_exit` ends it.

use crate::fd_table::FdTable;
use std::fmt;
use std::time::Instant;

/// Everything a WASI program can reach: its arguments, environment, file
/// descriptor table (standard streams, preopened directories and
/// sockets, and what it opened since) and the base of its monotonic
/// clock. Made by [`WasiCtxBuilder`](crate::WasiCtxBuilder); lives in the
/// store's data, where [`add_to_linker`](crate::add_to_linker)'s accessor
/// finds it.
pub struct WasiCtx {
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) table: FdTable,
    pub(crate) start: Instant,
}

impl WasiCtx {
    /// A context with nothing in it. It stands in the store while a WASI
    /// call has the real one out (see `linker.rs`), and allocates nothing.
    pub(crate) fn placeholder() -> WasiCtx {
        WasiCtx {
            args: Vec::new(),
            env: Vec::new(),
            table: FdTable::default(),
            start: Instant::now(),
        }
    }

    /// A builder; the same as [`WasiCtxBuilder::new`](crate::WasiCtxBuilder::new).
    pub fn builder() -> crate::WasiCtxBuilder {
        crate::WasiCtxBuilder::new()
    }
}

impl fmt::Debug for WasiCtx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WasiCtx")
            .field("args", &self.args)
            .field("env", &self.env.len())
            .finish_non_exhaustive()
    }
}

/// The error a WASI program's `proc_exit` call ends it with. It comes out
/// of `Func::call` (and `TypedFunc::call`) as the [`anyhow::Error`]; the
/// embedder finds the code with `err.downcast_ref::<I32Exit>()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct I32Exit(pub i32);

impl fmt::Display for I32Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the program exited with status {}", self.0)
    }
}

impl std::error::Error for I32Exit {}
