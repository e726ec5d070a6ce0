//! `cp_r SRC DST`: copies the file or directory tree SRC to DST, which must
//! not exist yet (the case where `cp -r SRC DST` creates DST as a copy).
//! Symbolic links are not copied (std has no stable way to create one on
//! WASI): meeting one is an error.

use std::io;
use std::path::Path;

fn copy_tree(src: &Path, dst: &Path) -> io::Result<u64> {
    let meta = std::fs::symlink_metadata(src)?;
    if meta.is_dir() {
        std::fs::create_dir(dst)?;
        let mut copied = 0;
        for entry in std::fs::read_dir(src)? {
            let entry = entry?;
            copied += copy_tree(&entry.path(), &dst.join(entry.file_name()))?;
        }
        Ok(copied)
    } else if meta.file_type().is_symlink() {
        Err(io::Error::other(format!(
            "{}: symbolic links are not copied",
            src.display()
        )))
    } else {
        std::fs::copy(src, dst)?;
        Ok(1)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: cp_r SRC DST");
        std::process::exit(2);
    }
    let (src, dst) = (Path::new(&args[1]), Path::new(&args[2]));
    if dst.exists() {
        eprintln!("cp_r: {}: already exists", dst.display());
        std::process::exit(1);
    }
    match copy_tree(src, dst) {
        Ok(files) => eprintln!("cp_r: copied {files} files"),
        Err(err) => {
            eprintln!("cp_r: {err}");
            std::process::exit(1);
        }
    }
}
