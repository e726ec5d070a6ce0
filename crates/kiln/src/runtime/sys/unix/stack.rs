//! Where the current thread's stack ends: [`thread_stack_low`].

use std::cell::Cell;

/// The lowest address of this thread's stack, if the OS says. Cached per
/// thread: asking can be slow (the main thread's answer comes from
/// `/proc/self/maps`), and a thread's stack never moves.
pub(crate) fn thread_stack_low() -> Option<usize> {
    std::thread_local! {
        static LOW: Cell<Option<usize>> = const { Cell::new(None) };
    }
    if let Some(low) = LOW.with(Cell::get) {
        return Some(low);
    }
    let low = query_stack_low()?;
    LOW.with(|c| c.set(Some(low)));
    Some(low)
}

#[cfg(target_os = "linux")]
fn query_stack_low() -> Option<usize> {
    // SAFETY: `attr` is initialised by `pthread_getattr_np` before it is
    // read and destroyed exactly once; the out-pointers are valid locals.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut addr: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let r = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        (r == 0 && !addr.is_null()).then_some(addr as usize)
    }
}

#[cfg(not(target_os = "linux"))]
fn query_stack_low() -> Option<usize> {
    None
}
