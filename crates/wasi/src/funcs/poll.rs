//! `poll_oneoff`: waits for clock timeouts and fd readiness.
//!
//! Regular files, directories and in-memory streams are always ready.
//! Inherited standard streams and sockets are polled for real (`poll(2)`
//! through `rustix` on Unix; elsewhere they count as ready). Clock
//! subscriptions take the real-time or monotonic clock, relative or
//! absolute; the CPU-time clocks give an event with `EINVAL`.

use super::WasiResult;
use super::clock;
use crate::ctx::WasiCtx;
use crate::errno::Errno;
use crate::fd_table::{Input, Kind, Output};
use crate::memory::GuestMemory;
use crate::types::{
    EVENT_SIZE, Event, SUBCLOCK_ABSTIME, SUBSCRIPTION_SIZE, Subscription, SubscriptionKind,
    clockid, eventtype, rights,
};
use std::time::{Duration, Instant};

/// A subscription still waiting.
enum Waiting {
    Clock {
        userdata: u64,
        deadline: Instant,
    },
    Fd {
        userdata: u64,
        /// The fd to poll (only `poll(2)` needs it).
        #[cfg(unix)]
        fd: u32,
        write: bool,
    },
}

fn event(userdata: u64, kind: u8, error: Errno) -> Event {
    Event {
        userdata,
        error,
        kind,
        nbytes: 0,
        flags: 0,
    }
}

/// When a clock subscription fires, as an `Instant`.
fn deadline(
    ctx: &WasiCtx,
    now: Instant,
    id: u32,
    timeout: u64,
    flags: u16,
) -> Result<Instant, Errno> {
    if flags & !SUBCLOCK_ABSTIME != 0 {
        return Err(Errno::Inval);
    }
    if !matches!(id, clockid::REALTIME | clockid::MONOTONIC) {
        return Err(Errno::Inval);
    }
    let wait = if flags & SUBCLOCK_ABSTIME != 0 {
        timeout.saturating_sub(clock::now(ctx, id)?)
    } else {
        timeout
    };
    // Far-future deadlines are capped (about 30 years) to stay representable.
    let wait = Duration::from_nanos(wait.min(1 << 60));
    Ok(now
        .checked_add(wait)
        .unwrap_or(now + Duration::from_secs(1 << 30)))
}

/// `poll_oneoff(in, out, nsubscriptions, nevents_ptr)`.
pub(crate) fn poll_oneoff(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    input: u32,
    out: u32,
    nsubs: u32,
    nevents_ptr: u32,
) -> WasiResult {
    if nsubs == 0 {
        return Err(Errno::Inval);
    }
    mem.check(input, nsubs, SUBSCRIPTION_SIZE)?;
    mem.check(out, nsubs, EVENT_SIZE)?;
    mem.check(nevents_ptr, 1, 4)?;
    let now = Instant::now();
    let mut ready: Vec<Event> = Vec::new();
    let mut waiting: Vec<Waiting> = Vec::new();
    for i in 0..nsubs {
        let sub = Subscription::decode(&mem.array(input + i * SUBSCRIPTION_SIZE)?)?;
        match sub.kind {
            SubscriptionKind::Clock {
                id, timeout, flags, ..
            } => match deadline(ctx, now, id, timeout, flags) {
                Ok(deadline) => waiting.push(Waiting::Clock {
                    userdata: sub.userdata,
                    deadline,
                }),
                Err(e) => ready.push(event(sub.userdata, eventtype::CLOCK, e)),
            },
            SubscriptionKind::FdRead(fd) | SubscriptionKind::FdWrite(fd) => {
                let write = matches!(sub.kind, SubscriptionKind::FdWrite(_));
                let kind = if write {
                    eventtype::FD_WRITE
                } else {
                    eventtype::FD_READ
                };
                match fd_now(ctx, fd, write) {
                    Ok(Some(nbytes)) => ready.push(Event {
                        nbytes,
                        ..event(sub.userdata, kind, Errno::Success)
                    }),
                    Ok(None) => waiting.push(Waiting::Fd {
                        userdata: sub.userdata,
                        #[cfg(unix)]
                        fd,
                        write,
                    }),
                    Err(e) => ready.push(event(sub.userdata, kind, e)),
                }
            }
        }
    }
    wait(ctx, &mut ready, &waiting);
    for (i, ev) in ready.iter().enumerate() {
        mem.write(out + i as u32 * EVENT_SIZE, &ev.encode())?;
    }
    mem.write_u32(nevents_ptr, ready.len() as u32)
}

/// Whether fd `fd` is ready without waiting: `Some(nbytes)` if so, `None`
/// if it must be polled, an error for the event otherwise.
fn fd_now(ctx: &WasiCtx, fd: u32, write: bool) -> Result<Option<u64>, Errno> {
    let e = ctx.table.get(fd)?;
    e.require(rights::POLL_FD_READWRITE)?;
    match &e.kind {
        Kind::File(f) => {
            if write {
                return Ok(Some(0));
            }
            let len = f.metadata()?.len();
            let pos = {
                use std::io::Seek;
                let mut f: &cap_std::fs::File = f;
                f.stream_position()?
            };
            Ok(Some(len.saturating_sub(pos)))
        }
        Kind::Dir(_) => Ok(Some(0)),
        Kind::Stdin(Input::Inherit)
        | Kind::Stdout(Output::Stdout | Output::Stderr)
        | Kind::Listener(_)
        | Kind::Stream(_) => Ok(None),
        Kind::Stdin(_) | Kind::Stdout(_) => Ok(Some(0)),
    }
}

/// Waits until something in `waiting` fires (or returns at once if
/// `ready` is not empty), adding the events that did to `ready`.
fn wait(ctx: &WasiCtx, ready: &mut Vec<Event>, waiting: &[Waiting]) {
    let earliest = waiting
        .iter()
        .filter_map(|w| match w {
            Waiting::Clock { deadline, .. } => Some(*deadline),
            Waiting::Fd { .. } => None,
        })
        .min();
    loop {
        let timeout = if ready.is_empty() {
            earliest.map(|d| d.saturating_duration_since(Instant::now()))
        } else {
            Some(Duration::ZERO)
        };
        poll_fds(ctx, ready, waiting, timeout);
        let now = Instant::now();
        for w in waiting {
            if let Waiting::Clock { userdata, deadline } = w
                && *deadline <= now
            {
                ready.push(event(*userdata, eventtype::CLOCK, Errno::Success));
            }
        }
        if !ready.is_empty() || waiting.is_empty() {
            return;
        }
    }
}

/// Polls the waiting fds for up to `timeout` (`None`: without limit),
/// adding an event for each that is ready. Without fds, sleeps.
#[cfg(unix)]
fn poll_fds(ctx: &WasiCtx, ready: &mut Vec<Event>, waiting: &[Waiting], timeout: Option<Duration>) {
    use rustix::event::{PollFd, PollFlags};
    use std::os::fd::{AsFd, BorrowedFd};

    let mut subs: Vec<(u64, bool, BorrowedFd<'_>)> = Vec::new();
    for w in waiting {
        let Waiting::Fd {
            userdata,
            fd,
            write,
        } = w
        else {
            continue;
        };
        let Ok(e) = ctx.table.get(*fd) else { continue };
        let host = match &e.kind {
            Kind::Stdin(Input::Inherit) => rustix::stdio::stdin(),
            Kind::Stdout(Output::Stdout) => rustix::stdio::stdout(),
            Kind::Stdout(Output::Stderr) => rustix::stdio::stderr(),
            Kind::Listener(l) => l.as_fd(),
            Kind::Stream(s) => s.as_fd(),
            _ => continue,
        };
        subs.push((*userdata, *write, host));
    }
    if subs.is_empty() {
        // Without a timeout nothing could fire; that cannot happen, as every
        // call has a subscription and fds that need no polling are ready.
        if let Some(t) = timeout {
            std::thread::sleep(t);
        }
        return;
    }
    let mut fds: Vec<PollFd<'_>> = subs
        .iter()
        .map(|&(_, write, fd)| {
            let flags = if write { PollFlags::OUT } else { PollFlags::IN };
            PollFd::from_borrowed_fd(fd, flags)
        })
        .collect();
    let ts = timeout.map(|t| rustix::time::Timespec {
        tv_sec: t.as_secs().try_into().unwrap_or(i64::MAX),
        tv_nsec: t.subsec_nanos().into(),
    });
    match rustix::event::poll(&mut fds, ts.as_ref()) {
        Ok(_) => {}
        Err(rustix::io::Errno::INTR) => return,
        Err(e) => {
            let err = Errno::from(std::io::Error::from(e));
            for &(userdata, write, _) in &subs {
                let kind = if write {
                    eventtype::FD_WRITE
                } else {
                    eventtype::FD_READ
                };
                ready.push(event(userdata, kind, err));
            }
            return;
        }
    }
    for (pfd, &(userdata, write, fd)) in fds.iter().zip(&subs) {
        let revents = pfd.revents();
        if revents.is_empty() {
            continue;
        }
        let kind = if write {
            eventtype::FD_WRITE
        } else {
            eventtype::FD_READ
        };
        let error = if revents.contains(PollFlags::NVAL) {
            Errno::Badf
        } else if revents.contains(PollFlags::ERR) {
            Errno::Io
        } else {
            Errno::Success
        };
        let nbytes = if write {
            0
        } else {
            crate::sys::bytes_readable(fd)
        };
        let flags = if revents.contains(PollFlags::HUP) {
            crate::types::EVENT_FD_READWRITE_HANGUP
        } else {
            0
        };
        ready.push(Event {
            userdata,
            error,
            kind,
            nbytes,
            flags,
        });
    }
}

/// Without `poll(2)`: the waiting fds (inherited standard streams and
/// sockets) count as ready at once; without any, sleeps.
#[cfg(not(unix))]
fn poll_fds(
    _ctx: &WasiCtx,
    ready: &mut Vec<Event>,
    waiting: &[Waiting],
    timeout: Option<Duration>,
) {
    let before = ready.len();
    for w in waiting {
        if let Waiting::Fd { userdata, write } = *w {
            let kind = if write {
                eventtype::FD_WRITE
            } else {
                eventtype::FD_READ
            };
            ready.push(event(userdata, kind, Errno::Success));
        }
    }
    if ready.len() == before
        && let Some(t) = timeout
    {
        std::thread::sleep(t);
    }
}
