//! Prints a line, then loops forever: for `kiln run --timeout` and fuel.

use std::io::Write;

fn main() {
    println!("spinning");
    std::io::stdout().flush().unwrap();
    let mut x = 0u64;
    loop {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}
