//! `poll_oneoff` with clock and fd subscriptions: a relative and an
//! absolute timeout, fd_write readiness of stdout, fd_read readiness of a
//! file (with its byte count) and of stdin (the test pipes `ping\n` into
//! it), a bad fd, and the order of mixed subscriptions. Works in the
//! preopened `/sandbox`.

#[cfg(target_os = "wasi")]
mod imp {
    use kiln_wasi_test_programs::raw::*;
    use std::time::{Duration, Instant};

    fn clock(userdata: u64, id: Clockid, timeout: u64, flags: Subclockflags) -> Subscription {
        Subscription {
            userdata,
            u: SubscriptionU {
                tag: EVENTTYPE_CLOCK.raw(),
                u: SubscriptionUU {
                    clock: SubscriptionClock {
                        id,
                        timeout,
                        precision: 0,
                        flags,
                    },
                },
            },
        }
    }

    fn fd_sub(userdata: u64, ty: Eventtype, fd: Fd) -> Subscription {
        let rw = SubscriptionFdReadwrite {
            file_descriptor: fd,
        };
        let u = if ty == EVENTTYPE_FD_READ {
            SubscriptionUU { fd_read: rw }
        } else {
            SubscriptionUU { fd_write: rw }
        };
        Subscription {
            userdata,
            u: SubscriptionU { tag: ty.raw(), u },
        }
    }

    fn kind(ty: Eventtype) -> &'static str {
        match ty {
            EVENTTYPE_CLOCK => "clock",
            EVENTTYPE_FD_READ => "fd_read",
            EVENTTYPE_FD_WRITE => "fd_write",
            _ => "?",
        }
    }

    /// Polls `subs`; returns the events sorted by userdata, as text.
    fn poll(subs: &[Subscription]) -> Vec<String> {
        let mut events: Vec<Event> = Vec::with_capacity(subs.len());
        // SAFETY: room for one event per subscription; `n` are filled.
        let n = must("poll_oneoff", unsafe {
            poll_oneoff(subs.as_ptr(), events.as_mut_ptr(), subs.len())
        });
        // SAFETY: the host wrote `n` events.
        unsafe { events.set_len(n) };
        events.sort_by_key(|e| e.userdata);
        events
            .iter()
            .map(|e| {
                let mut text = format!(
                    "{} userdata {} error {}",
                    kind(e.type_),
                    e.userdata,
                    e.error.name()
                );
                if e.type_ == EVENTTYPE_FD_READ && e.error == ERRNO_SUCCESS {
                    text += &format!(" nbytes>0 {}", e.fd_readwrite.nbytes > 0);
                }
                text
            })
            .collect()
    }

    pub fn main() {
        let start = Instant::now();
        println!(
            "relative 20ms: {:?}",
            poll(&[clock(7, CLOCKID_MONOTONIC, 20_000_000, 0)])
        );
        println!(
            "  waited at least 20ms: {}",
            start.elapsed() >= Duration::from_millis(20)
        );

        // SAFETY: a call returning an integer.
        let now = must("clock", unsafe { clock_time_get(CLOCKID_MONOTONIC, 1) });
        let start = Instant::now();
        let abs = clock(
            8,
            CLOCKID_MONOTONIC,
            now + 20_000_000,
            SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME,
        );
        println!("absolute now+20ms: {:?}", poll(&[abs]));
        println!(
            "  waited at least 15ms: {}",
            start.elapsed() >= Duration::from_millis(15)
        );
        let past = clock(
            9,
            CLOCKID_REALTIME,
            1,
            SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME,
        );
        println!("absolute in the past: {:?}", poll(&[past]));

        let start = Instant::now();
        let events = poll(&[
            clock(1, CLOCKID_MONOTONIC, 10_000_000_000, 0),
            fd_sub(2, EVENTTYPE_FD_WRITE, 1),
        ]);
        println!("stdout writable before a 10s timeout: {events:?}");
        println!(
            "  returned within 5s: {}",
            start.elapsed() < Duration::from_secs(5)
        );

        let dir = preopen("/sandbox");
        let file = must(
            "create",
            open(dir, "poll.txt", OFLAGS_CREAT | OFLAGS_TRUNC, 0),
        );
        must("write", write(file, b"0123456789"));
        // SAFETY: a plain call on an fd we own.
        must("seek", unsafe { fd_seek(file, 4, WHENCE_SET) });
        println!(
            "file readable and writable: {:?}",
            poll(&[
                fd_sub(3, EVENTTYPE_FD_READ, file),
                fd_sub(4, EVENTTYPE_FD_WRITE, file)
            ])
        );

        let start = Instant::now();
        let events = poll(&[
            fd_sub(5, EVENTTYPE_FD_READ, 0),
            clock(6, CLOCKID_MONOTONIC, 10_000_000_000, 0),
        ]);
        println!("stdin readable before a 10s timeout: {events:?}");
        println!(
            "  returned within 5s: {}",
            start.elapsed() < Duration::from_secs(5)
        );
        let got = must("read stdin", read(0, 64));
        println!("  stdin had {:?}", String::from_utf8_lossy(&got));

        println!("bad fd: {:?}", poll(&[fd_sub(10, EVENTTYPE_FD_READ, 1234)]));
        let mut events: Vec<Event> = Vec::with_capacity(1);
        // SAFETY: zero subscriptions, room for one event.
        let empty = unsafe { poll_oneoff([].as_ptr(), events.as_mut_ptr(), 0) };
        println!("no subscriptions: {}", outcome(empty));
        println!("done");
    }
}

#[cfg(target_os = "wasi")]
fn main() {
    imp::main();
}

#[cfg(not(target_os = "wasi"))]
fn main() {
    eprintln!("poll only runs on wasm32-wasip1");
    std::process::exit(2);
}
