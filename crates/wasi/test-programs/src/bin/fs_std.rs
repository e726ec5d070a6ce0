//! The file system through `std::fs` and `std::env::set_current_dir`, as a
//! normal Rust program uses it, in the preopened directory `/sandbox`.
//! Leaves `/sandbox/std-result.txt` behind for the test to check on the
//! host.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use kiln_wasi_test_programs::{check, io_outcome};

fn main() {
    let root = Path::new("/sandbox/std");
    check("create_dir_all", fs::create_dir_all(root.join("a/b")));
    let hello = root.join("a/b/hello.txt");
    check("write", fs::write(&hello, "hello, wasi\n"));
    println!(
        "read_to_string: {:?}",
        check("read", fs::read_to_string(&hello))
    );

    let meta = check("metadata", fs::metadata(&hello));
    println!(
        "metadata: len {} file {} dir {}",
        meta.len(),
        meta.is_file(),
        meta.is_dir()
    );
    let meta = check("metadata", fs::metadata(root.join("a")));
    println!(
        "metadata of a dir: file {} dir {}",
        meta.is_file(),
        meta.is_dir()
    );

    let mut file = check("append", OpenOptions::new().append(true).open(&hello));
    check("append write", file.write_all(b"more\n"));
    drop(file);
    println!(
        "after append: {:?}",
        check("read", fs::read_to_string(&hello))
    );

    let mut file = check("open", File::open(&hello));
    println!(
        "seek to 7: {}",
        check("seek", file.seek(SeekFrom::Start(7)))
    );
    let mut rest = String::new();
    check("read", file.read_to_string(&mut rest));
    println!("read from 7: {rest:?}");
    println!("stream_position: {}", check("pos", file.stream_position()));
    println!(
        "file metadata len: {}",
        check("fmeta", file.metadata()).len()
    );
    println!(
        "write to read-only handle: {}",
        io_outcome(file.write_all(b"x"))
    );
    drop(file);

    let file = check(
        "open rw",
        OpenOptions::new().read(true).write(true).open(&hello),
    );
    check("set_len", file.set_len(5));
    println!("set_len 5: {:?}", check("read", fs::read_to_string(&hello)));
    println!("sync_all: {}", io_outcome(file.sync_all()));
    println!("sync_data: {}", io_outcome(file.sync_data()));
    let when = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    println!("set_modified: {}", io_outcome(file.set_modified(when)));
    let modified = check(
        "modified",
        check("metadata", fs::metadata(&hello)).modified(),
    );
    println!("modified is 2001-09-09: {}", modified == when);
    drop(file);

    let copy = root.join("a/copy.txt");
    println!("copy: {} bytes", check("copy", fs::copy(&hello, &copy)));
    let moved = root.join("moved.txt");
    check("rename", fs::rename(&copy, &moved));
    println!(
        "rename: old exists {} new exists {}",
        copy.exists(),
        moved.exists()
    );
    let linked = root.join("hard.txt");
    check("hard_link", fs::hard_link(&moved, &linked));
    println!(
        "hard_link reads {:?}",
        check("read", fs::read_to_string(&linked))
    );

    let mut names: Vec<String> = check("read_dir", fs::read_dir(root))
        .map(|e| check("entry", e).file_name().into_string().unwrap())
        .collect();
    names.sort();
    println!("read_dir: {names:?}");

    check("set_current_dir", std::env::set_current_dir(root.join("a")));
    println!(
        "relative read after chdir: {:?}",
        check("read", fs::read_to_string("b/hello.txt"))
    );
    println!(
        "current_dir: {}",
        check("cwd", std::env::current_dir()).display()
    );

    println!(
        "open missing: {}",
        io_outcome(File::open(root.join("missing")))
    );
    println!(
        "create_dir existing: {}",
        io_outcome(fs::create_dir(root.join("a")))
    );
    println!(
        "remove_dir non-empty: {}",
        io_outcome(fs::remove_dir(root.join("a")))
    );
    println!("read_dir of a file: {}", io_outcome(fs::read_dir(&linked)));
    println!(
        "open outside the preopens: {}",
        io_outcome(File::open("/elsewhere/file"))
    );
    println!(
        "open .. of the preopen: {}",
        io_outcome(File::open("/sandbox/../etc/passwd"))
    );

    check("remove_file", fs::remove_file(&moved));
    check("remove_file", fs::remove_file(&linked));
    check("remove_dir_all", fs::remove_dir_all(root.join("a")));
    check("remove_dir", fs::remove_dir(root));
    println!("cleaned up: {}", !root.exists());
    check(
        "result",
        fs::write("/sandbox/std-result.txt", "written by fs_std\n"),
    );
    println!("done");
}
