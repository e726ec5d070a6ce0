//! A directory preopened read-only (`kiln run --dir-ro`) at `/ro`: reading
//! works, every kind of change is refused.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::time::{Duration, SystemTime};

use kiln_wasi_test_programs::{check, io_outcome};

fn main() {
    println!(
        "read: {:?}",
        check("read", fs::read_to_string("/ro/data.txt"))
    );
    let mut names: Vec<String> = check("read_dir", fs::read_dir("/ro"))
        .map(|e| check("entry", e).file_name().into_string().unwrap())
        .collect();
    names.sort();
    println!("read_dir: {names:?}");
    println!("create: {}", io_outcome(fs::write("/ro/new.txt", "x")));
    // Opening for writing is refused, or else every write through it is.
    match OpenOptions::new().write(true).open("/ro/data.txt") {
        Ok(mut file) => println!(
            "open for writing: ok; write: {}",
            io_outcome(file.write_all(b"changed"))
        ),
        Err(err) => println!("open for writing: {}", io_outcome::<()>(Err(err))),
    }
    println!(
        "open for append: {}",
        io_outcome(OpenOptions::new().append(true).open("/ro/data.txt"))
    );
    println!("create_dir: {}", io_outcome(fs::create_dir("/ro/sub")));
    println!(
        "remove_file: {}",
        io_outcome(fs::remove_file("/ro/data.txt"))
    );
    println!(
        "rename: {}",
        io_outcome(fs::rename("/ro/data.txt", "/ro/renamed.txt"))
    );
    println!(
        "hard_link: {}",
        io_outcome(fs::hard_link("/ro/data.txt", "/ro/link.txt"))
    );
    let file = check("open", fs::File::open("/ro/data.txt"));
    println!("set_len: {}", io_outcome(file.set_len(0)));
    let when = SystemTime::UNIX_EPOCH + Duration::from_secs(1);
    println!("set_modified: {}", io_outcome(file.set_modified(when)));
    println!("done");
}
