//! The sock_* calls on a preopened TCP listener (the Rust test preopens it
//! through the kiln-wasi API): accept a connection, receive a line, send a
//! reply, shut down the write side, see the peer's end of stream, close.

#[cfg(target_os = "wasi")]
mod imp {
    use kiln_wasi_test_programs::raw::*;

    /// The first fd (from 3) that is a stream socket.
    fn find_listener() -> Fd {
        for fd in 3..64 {
            // SAFETY: a call on an integer.
            if let Ok(stat) = unsafe { fd_fdstat_get(fd) }
                && stat.fs_filetype == FILETYPE_SOCKET_STREAM
            {
                return fd;
            }
        }
        eprintln!("no socket among fds 3..64");
        std::process::exit(1);
    }

    fn accept(listener: Fd) -> Fd {
        for _ in 0..2_000 {
            // SAFETY: a call on an integer.
            match unsafe { sock_accept(listener, 0) } {
                Ok(fd) => return fd,
                Err(ERRNO_AGAIN) => std::thread::sleep(std::time::Duration::from_millis(5)),
                Err(err) => {
                    eprintln!("sock_accept: {}", err.name());
                    std::process::exit(1);
                }
            }
        }
        eprintln!("sock_accept: no connection");
        std::process::exit(1);
    }

    fn recv(fd: Fd, max: usize) -> Result<(Vec<u8>, Roflags), Errno> {
        let mut buf = vec![0u8; max];
        let iov = Iovec {
            buf: buf.as_mut_ptr(),
            buf_len: buf.len(),
        };
        // SAFETY: `iov` points at `buf`, alive for the call.
        let (n, flags) = unsafe { sock_recv(fd, &[iov], 0) }?;
        buf.truncate(n);
        Ok((buf, flags))
    }

    pub fn main() {
        let listener = find_listener();
        println!("found the listening socket");
        let conn = accept(listener);
        // SAFETY: a call on an integer.
        let stat = must("fd_fdstat_get", unsafe { fd_fdstat_get(conn) });
        println!("accepted: {}", filetype_name(stat.fs_filetype));

        let mut line = Vec::new();
        while !line.ends_with(b"\n") {
            match recv(conn, 7) {
                Ok((chunk, _)) if chunk.is_empty() => break,
                Ok((chunk, _)) => line.extend_from_slice(&chunk),
                Err(ERRNO_AGAIN) => std::thread::sleep(std::time::Duration::from_millis(5)),
                Err(err) => {
                    eprintln!("sock_recv: {}", err.name());
                    std::process::exit(1);
                }
            }
        }
        println!("received: {:?}", String::from_utf8_lossy(&line));

        let reply = format!("reply: {}", String::from_utf8_lossy(&line).to_uppercase());
        let parts = [reply.as_bytes()];
        let iovs: Vec<Ciovec> = parts
            .iter()
            .map(|p| Ciovec {
                buf: p.as_ptr(),
                buf_len: p.len(),
            })
            .collect();
        // SAFETY: `iovs` point at `reply`, alive for the call.
        let sent = must("sock_send", unsafe { sock_send(conn, &iovs, 0) });
        println!("sock_send: {} of {} bytes", sent, reply.len());
        // SAFETY: calls on integers.
        println!(
            "sock_shutdown write: {}",
            outcome(unsafe { sock_shutdown(conn, SDFLAGS_WR) })
        );

        // The test closes its end once it has read ours: end of stream.
        loop {
            match recv(conn, 16) {
                Ok((chunk, _)) if chunk.is_empty() => break,
                Ok((chunk, _)) => println!("unexpected data: {chunk:?}"),
                Err(ERRNO_AGAIN) => std::thread::sleep(std::time::Duration::from_millis(5)),
                Err(err) => {
                    println!("sock_recv after peer closed: {}", err.name());
                    break;
                }
            }
        }
        println!("peer closed");
        // SAFETY: calls on integers.
        unsafe {
            println!("fd_close: {}", outcome(fd_close(conn)));
            println!("sock_accept on stdout: {}", outcome(sock_accept(1, 0)));
            println!(
                "sock_shutdown on stdout: {}",
                outcome(sock_shutdown(1, SDFLAGS_RD))
            );
            println!("sock_recv on stdin: {}", outcome(recv(0, 4)));
            let iov = Ciovec {
                buf: b"x".as_ptr(),
                buf_len: 1,
            };
            println!("sock_send on stdout: {}", outcome(sock_send(1, &[iov], 0)));
        }
        println!("done");
    }
}

#[cfg(target_os = "wasi")]
fn main() {
    imp::main();
}

#[cfg(not(target_os = "wasi"))]
fn main() {
    eprintln!("sock_server only runs on wasm32-wasip1");
    std::process::exit(2);
}
