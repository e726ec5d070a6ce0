//! The functions of `wasi_snapshot_preview1`, one module per family. Each
//! takes the context, the guest memory and the call's arguments, and
//! returns the errno (`Ok(())` is `success`).

pub(crate) mod args;
pub(crate) mod clock;
pub(crate) mod fd;
pub(crate) mod path;
pub(crate) mod poll;
pub(crate) mod proc;
pub(crate) mod sock;

use crate::errno::Errno;

/// The result of a WASI function: success or an errno.
pub(crate) type WasiResult = Result<(), Errno>;
