//! `cat [FILE...]`: copies each FILE (or stdin for `-` or no FILE) to
//! stdout, like POSIX `cat`. Exit status 1 if any FILE could not be read.

use std::io::{self, Read, Write};

fn copy(mut input: impl Read, out: &mut impl Write) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        out.write_all(&buf[..n])?;
    }
}

fn main() {
    let mut files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        files.push("-".to_string());
    }
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut status = 0;
    for file in &files {
        let result = if file == "-" {
            copy(io::stdin().lock(), &mut out)
        } else {
            std::fs::File::open(file).and_then(|f| copy(f, &mut out))
        };
        if let Err(err) = result {
            eprintln!("cat: {file}: {err}");
            status = 1;
        }
    }
    if let Err(err) = out.flush() {
        eprintln!("cat: write error: {err}");
        status = 1;
    }
    std::process::exit(status);
}
