//! Panics three calls deep: the panic message goes to stderr and the
//! abort that follows is a wasm trap (`unreachable`), whose backtrace
//! should name these functions.

#[inline(never)]
fn innermost_function(depth: u32) -> u32 {
    if std::hint::black_box(depth) > 2 {
        panic!("deliberate panic at depth {depth}");
    }
    depth
}

#[inline(never)]
fn middle_function(depth: u32) -> u32 {
    innermost_function(depth + 1) + innermost_function(std::hint::black_box(0))
}

fn main() {
    println!("about to trap");
    let result = middle_function(std::hint::black_box(2));
    println!("not reached: {result}");
}
