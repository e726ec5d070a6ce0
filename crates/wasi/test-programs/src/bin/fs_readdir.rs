//! `fd_readdir` with cookies: lists a directory through a buffer too small
//! for all entries, resuming from each entry's `d_next` cookie, and checks
//! that matches one read with a large buffer; resumes from a cookie in the
//! middle; reads an empty directory. Works in the preopened `/sandbox`.

#[cfg(target_os = "wasi")]
mod imp {
    use kiln_wasi_test_programs::raw::*;

    /// One directory entry: (name, type, cookie of the next entry).
    pub type Entry = (String, Filetype, Dircookie);

    /// Reads entries from `cookie` on with a `buf_len`-byte buffer, calling
    /// `fd_readdir` as often as needed; returns them and the call count.
    pub fn read_all(fd: Fd, mut cookie: Dircookie, buf_len: usize) -> (Vec<Entry>, usize) {
        let header = size_of::<Dirent>();
        let mut entries = Vec::new();
        let mut calls = 0;
        loop {
            let mut buf = vec![0u8; buf_len];
            calls += 1;
            // SAFETY: `buf` has `buf_len` writable bytes.
            let used = must("fd_readdir", unsafe {
                fd_readdir(fd, buf.as_mut_ptr(), buf.len(), cookie)
            });
            let mut pos = 0;
            let mut progressed = false;
            while pos + header <= used {
                // SAFETY: a whole header lies inside the filled part.
                let dirent: Dirent =
                    unsafe { std::ptr::read_unaligned(buf[pos..].as_ptr().cast()) };
                let name_end = pos + header + dirent.d_namlen as usize;
                if name_end > used {
                    break; // name cut off: read again from `cookie`
                }
                let name = String::from_utf8_lossy(&buf[pos + header..name_end]).into_owned();
                entries.push((name, dirent.d_type, dirent.d_next));
                cookie = dirent.d_next;
                pos = name_end;
                progressed = true;
            }
            if used < buf_len {
                return (entries, calls); // the host had no more
            }
            if !progressed {
                eprintln!("fd_readdir: buffer of {buf_len} bytes holds no whole entry");
                std::process::exit(1);
            }
        }
    }

    fn names(entries: &[Entry]) -> Vec<String> {
        let mut names: Vec<String> = entries
            .iter()
            .map(|(n, _, _)| n.clone())
            .filter(|n| n != "." && n != "..")
            .collect();
        names.sort();
        names
    }

    pub fn main() {
        let dir = preopen("/sandbox");
        // SAFETY: raw WASI calls with valid fds and strings.
        unsafe {
            must("mkdir", path_create_directory(dir, "list"));
            must("mkdir", path_create_directory(dir, "list/subdir"));
            must("mkdir", path_create_directory(dir, "list/empty"));
            for i in 0..12 {
                let fd = must(
                    "create",
                    open(dir, &format!("list/file-{i:02}.txt"), OFLAGS_CREAT, 0),
                );
                must("write", write(fd, format!("{i}\n").as_bytes()));
                must("close", fd_close(fd));
            }
        }
        let fd = must("open list", open(dir, "list", OFLAGS_DIRECTORY, 0));

        let (big, big_calls) = read_all(fd, 0, 64 * 1024);
        println!(
            "one big read: {} calls, {} entries",
            big_calls,
            names(&big).len()
        );
        let has_dots =
            big.iter().any(|(n, _, _)| n == ".") && big.iter().any(|(n, _, _)| n == "..");
        println!("  . and .. listed: {has_dots}");
        let mut types: Vec<String> = big
            .iter()
            .filter(|(name, _, _)| name.starts_with("file-0") || name == "subdir")
            .map(|(name, ty, _)| format!("  {name}: {}", filetype_name(*ty)))
            .collect();
        types.sort();
        for line in types {
            println!("{line}");
        }

        let (small, small_calls) = read_all(fd, 0, 40);
        println!(
            "40-byte buffer: more than 3 calls {}, same names {}",
            small_calls > 3,
            names(&small) == names(&big)
        );

        // Resume from the cookie after the 5th entry: the rest, in order.
        let (rest, _) = read_all(fd, big[4].2, 64 * 1024);
        let expected: Vec<String> = big[5..].iter().map(|(n, _, _)| n.clone()).collect();
        let got: Vec<String> = rest.iter().map(|(n, _, _)| n.clone()).collect();
        println!(
            "resume after 5th entry: {} entries, same as the tail {}",
            got.len(),
            got == expected
        );
        let last = big.last().map(|e| e.2).unwrap_or(0);
        println!(
            "resume from the last cookie: {} entries",
            read_all(fd, last, 1024).0.len()
        );

        let empty = must("open empty", open(dir, "list/empty", OFLAGS_DIRECTORY, 0));
        println!("empty dir: {:?}", names(&read_all(empty, 0, 1024).0));
        println!("fd_readdir on a file: {}", {
            let file = must("open file", open(dir, "list/file-00.txt", 0, 0));
            let mut buf = [0u8; 128];
            // SAFETY: `buf` has 128 writable bytes.
            outcome(unsafe { fd_readdir(file, buf.as_mut_ptr(), buf.len(), 0) })
        });
        println!("names: {}", names(&big).join(" "));
    }
}

#[cfg(target_os = "wasi")]
fn main() {
    imp::main();
}

#[cfg(not(target_os = "wasi"))]
fn main() {
    eprintln!("fs_readdir only runs on wasm32-wasip1");
    std::process::exit(2);
}
