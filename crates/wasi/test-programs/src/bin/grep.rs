//! `grep [-n] [-c] [-v] PATTERN [FILE...]`: prints the lines containing the
//! fixed string PATTERN, like `LC_ALL=C grep -F`: lines are byte strings,
//! FILE names prefix each line when there are several files, `-` or no FILE
//! reads stdin. `-n` numbers lines, `-c` prints counts, `-v` inverts.
//! Exit status: 0 if a line was selected, 1 if none, 2 on an error.

use std::io::{self, BufRead, Write};

#[derive(Default)]
struct Options {
    number: bool,
    count: bool,
    invert: bool,
}

fn contains(line: &[u8], pattern: &[u8]) -> bool {
    pattern.is_empty() || line.windows(pattern.len()).any(|w| w == pattern)
}

/// Searches one input; returns the number of selected lines.
fn search(
    input: impl BufRead,
    name: Option<&str>,
    pattern: &[u8],
    opts: &Options,
    out: &mut impl Write,
) -> io::Result<u64> {
    let mut selected = 0;
    for (index, line) in input.split(b'\n').enumerate() {
        let line = line?;
        if contains(&line, pattern) == opts.invert {
            continue;
        }
        selected += 1;
        if opts.count {
            continue;
        }
        if let Some(name) = name {
            write!(out, "{name}:")?;
        }
        if opts.number {
            write!(out, "{}:", index + 1)?;
        }
        out.write_all(&line)?;
        out.write_all(b"\n")?;
    }
    if opts.count {
        if let Some(name) = name {
            write!(out, "{name}:")?;
        }
        writeln!(out, "{selected}")?;
    }
    Ok(selected)
}

fn main() {
    let mut opts = Options::default();
    let mut rest = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "-n" if rest.is_empty() => opts.number = true,
            "-c" if rest.is_empty() => opts.count = true,
            "-v" if rest.is_empty() => opts.invert = true,
            "-F" if rest.is_empty() => {}
            _ => rest.push(arg),
        }
    }
    if rest.is_empty() {
        eprintln!("usage: grep [-n] [-c] [-v] PATTERN [FILE...]");
        std::process::exit(2);
    }
    let pattern = rest.remove(0);
    if rest.is_empty() {
        rest.push("-".to_string());
    }
    let show_names = rest.len() > 1;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut any = false;
    let mut error = false;
    for file in &rest {
        let name = show_names.then_some(if file == "-" {
            "(standard input)"
        } else {
            file.as_str()
        });
        let result = if file == "-" {
            search(
                io::stdin().lock(),
                name,
                pattern.as_bytes(),
                &opts,
                &mut out,
            )
        } else {
            std::fs::File::open(file).and_then(|f| {
                search(
                    io::BufReader::new(f),
                    name,
                    pattern.as_bytes(),
                    &opts,
                    &mut out,
                )
            })
        };
        match result {
            Ok(n) => any |= n > 0,
            Err(err) => {
                eprintln!("grep: {file}: {err}");
                error = true;
            }
        }
    }
    if let Err(err) = out.flush() {
        eprintln!("grep: write error: {err}");
        error = true;
    }
    std::process::exit(if error {
        2
    } else if any {
        0
    } else {
        1
    });
}
