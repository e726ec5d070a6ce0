//! `ls_r DIR`: lists DIR recursively in the format of `LC_ALL=C ls -R DIR`
//! writing to a pipe: a `path:` header per directory, its entries one per
//! line sorted by bytes (names starting with `.` hidden), a blank line
//! between directories, subdirectories visited depth-first in order.
//! Symbolic links are listed but not followed.

use std::io::{self, Write};
use std::path::Path;

fn list(dir: &Path, out: &mut impl Write, first: &mut bool) -> io::Result<()> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry
            .file_name()
            .into_string()
            .map_err(|name| io::Error::new(io::ErrorKind::InvalidData, format!("{name:?}")))?;
        if name.starts_with('.') {
            continue;
        }
        let is_dir = entry.file_type()?.is_dir();
        entries.push((name, is_dir));
    }
    entries.sort();
    if !*first {
        writeln!(out)?;
    }
    *first = false;
    writeln!(out, "{}:", dir.display())?;
    for (name, _) in &entries {
        writeln!(out, "{name}")?;
    }
    for (name, is_dir) in &entries {
        if *is_dir {
            list(&dir.join(name), out, first)?;
        }
    }
    Ok(())
}

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".to_string());
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut first = true;
    let result = list(Path::new(&dir), &mut out, &mut first).and_then(|()| out.flush());
    if let Err(err) = result {
        eprintln!("ls_r: {dir}: {err}");
        std::process::exit(2);
    }
}
