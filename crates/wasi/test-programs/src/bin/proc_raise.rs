//! `proc_raise`: prints a line, then raises SIGTERM with the raw call and
//! prints what the call returned (if it returns).

fn main() {
    println!("before proc_raise");
    raise();
}

#[cfg(target_os = "wasi")]
fn raise() {
    use kiln_wasi_test_programs::raw::*;
    // SAFETY: a call on an integer.
    let result = unsafe { proc_raise(SIGNAL_TERM) };
    println!("proc_raise returned: {}", outcome(result));
}

#[cfg(not(target_os = "wasi"))]
fn raise() {}
