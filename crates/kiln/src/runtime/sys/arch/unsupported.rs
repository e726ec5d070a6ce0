//! Architectures (or OSes) without trap resumption: `Supported` has no
//! values, so nothing here can be reached, and `Traps::init` reports
//! `SysError::Unsupported`; the runtime uses the interpreter instead.

#[cfg(kiln_os)]
use core::ffi::c_void;

use crate::runtime::sys::traps::{Activation, WasmEntry};

/// No value: trap resumption is not implemented here.
#[derive(Clone, Copy)]
pub(crate) enum Supported {}

pub(in crate::runtime::sys) fn supported() -> Option<Supported> {
    None
}

/// # Safety
/// Unreachable: no `Supported` exists.
pub(in crate::runtime::sys) unsafe fn enter(
    never: &Supported,
    _act: *mut Activation,
    _entry: WasmEntry,
    _a0: usize,
    _a1: usize,
    _a2: usize,
    _a3: usize,
) -> u32 {
    match *never {}
}

/// # Safety
/// Unreachable: no `Supported` exists.
pub(in crate::runtime::sys) unsafe fn unwind_to(never: &Supported, _sp: usize) -> ! {
    match *never {}
}

/// # Safety
/// Unreachable: no `Supported` exists.
pub(in crate::runtime::sys) unsafe fn resume_handler(
    never: &Supported,
    _pc: usize,
    _sp: usize,
    _fp: usize,
    _payload: usize,
) -> ! {
    match *never {}
}

/// Unreachable: no `Supported` exists.
#[cfg_attr(not(kiln_custom_signals), allow(dead_code))]
pub(in crate::runtime::sys) fn resume_pc(never: &Supported) -> usize {
    match *never {}
}

/// # Safety
/// Nothing is read.
#[cfg(kiln_os)]
pub(in crate::runtime::sys) unsafe fn fault_context(
    _signal: core::ffi::c_int,
    _info: *mut libc::siginfo_t,
    _ucontext: *mut c_void,
) -> Option<(usize, usize)> {
    None
}

/// # Safety
/// Nothing is written.
#[cfg(kiln_os)]
pub(in crate::runtime::sys) unsafe fn redirect(_ucontext: *mut c_void, _sp: usize) {}
