//! Reads all of stdin (`fd_read`), then writes a summary and the text
//! upper-cased to stdout and one line to stderr (`fd_write`).

use std::io::{Read, Write};

fn main() {
    let mut input = String::new();
    kiln_wasi_test_programs::check("read stdin", std::io::stdin().read_to_string(&mut input));
    println!(
        "stdin: {} bytes, {} lines",
        input.len(),
        input.lines().count()
    );
    print!("{}", input.to_uppercase());
    std::io::stdout().flush().unwrap();
    eprintln!("this line goes to stderr");
    // A second read at end of input returns 0 bytes.
    let mut buf = [0u8; 16];
    println!(
        "read at eof: {} bytes",
        std::io::stdin().read(&mut buf).unwrap()
    );
}
