//! `wc [FILE...]`: counts lines, words and bytes like `LC_ALL=C wc`: a word
//! starts at a printable ASCII character and ends at white space (other
//! bytes neither start nor end one); columns are as wide as the digits of
//! the total size of the regular files named (at least 7 when reading
//! stdin); a `total` line follows when there are several files.

use std::io::{self, Read, Write};

#[derive(Default, Clone, Copy)]
struct Counts {
    lines: u64,
    words: u64,
    bytes: u64,
}

fn count(mut input: impl Read) -> io::Result<Counts> {
    let mut counts = Counts::default();
    let mut in_word = false;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            return Ok(counts);
        }
        counts.bytes += n as u64;
        for &b in &buf[..n] {
            match b {
                b'\n' => {
                    counts.lines += 1;
                    in_word = false;
                }
                b' ' | b'\t' | b'\r' | 0x0b | 0x0c => in_word = false,
                0x21..=0x7e if !in_word => {
                    counts.words += 1;
                    in_word = true;
                }
                _ => {}
            }
        }
    }
}

fn main() {
    let mut files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        files.push("-".to_string());
    }
    // Column width: digits of the summed sizes of the regular files.
    let mut total_size = 0u64;
    let mut min_width = 1;
    for file in &files {
        match std::fs::metadata(file) {
            Ok(meta) if file != "-" && meta.is_file() => total_size += meta.len(),
            _ => min_width = 7,
        }
    }
    let width = total_size.to_string().len().max(min_width);

    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut total = Counts::default();
    let mut status = 0;
    for file in &files {
        let result = if file == "-" {
            count(io::stdin().lock())
        } else {
            std::fs::File::open(file).and_then(count)
        };
        match result {
            Ok(c) => {
                total.lines += c.lines;
                total.words += c.words;
                total.bytes += c.bytes;
                let name = if file == "-" { "" } else { file.as_str() };
                let line = format!(
                    "{:w$} {:w$} {:w$} {name}",
                    c.lines,
                    c.words,
                    c.bytes,
                    w = width
                );
                let _ = writeln!(out, "{}", line.trim_end());
            }
            Err(err) => {
                eprintln!("wc: {file}: {err}");
                status = 1;
            }
        }
    }
    if files.len() > 1 {
        let _ = writeln!(
            out,
            "{:w$} {:w$} {:w$} total",
            total.lines,
            total.words,
            total.bytes,
            w = width
        );
    }
    std::process::exit(status);
}
