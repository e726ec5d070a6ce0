//! Which address ranges hold wasm code: the process-wide code registry.
//!
//! The signal handler must answer "is this pc in wasm code, and which trap
//! is it?" from inside a signal, where it may not take a lock (the
//! interrupted thread might hold it) or allocate. So readers see an
//! immutable **snapshot**: a sorted array of ranges behind one atomic
//! pointer. A reader announces itself in a global counter, loads the
//! pointer, binary-searches, and leaves. Writers (registration and drop of
//! a [`CodeRegistration`], serialised by a mutex that readers never touch)
//! build a new snapshot, swap the pointer, then wait until the counter
//! drops to zero before freeing the old one: a reader that could have
//! loaded the old pointer incremented the counter before loading it, and
//! every access is `SeqCst`, so the writer sees it (a one-counter
//! read-copy-update). Readers never wait; a writer waits at most for the
//! signal handlers that are mid-lookup, which is a few hundred instructions
//! each. A writer never waits for a reader on its own thread: a signal
//! handler runs to completion (leaving the counter as it found it) before
//! the interrupted writer continues.
//!
//! (A `RwLock` read would deadlock if the signal interrupted a writer on
//! the same thread, and `std`'s lock may allocate or park; the snapshot
//! has neither problem.)

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ptr;
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering::SeqCst};

use super::sync::Mutex;

use kiln_environ::TrapCode;

use super::SysError;

/// Maps an offset into a registered code range to the trap its instruction
/// raises, or `None` if the instruction is not a trapping one.
///
/// It is called **inside the signal handler**: it must be async-signal-safe
/// (no allocation, no locks, no panics), e.g. a binary search over a sorted
/// trap table owned by the closure.
pub(crate) type CodeLookup = Arc<dyn Fn(usize) -> Option<TrapCode> + Send + Sync>;

struct Entry {
    start: usize,
    /// One past the last byte.
    end: usize,
    id: u64,
    lookup: CodeLookup,
}

/// What readers see: ranges sorted by `start`, never overlapping.
struct Snapshot {
    entries: Vec<Entry>,
}

/// The current snapshot (null: nothing registered yet).
static SNAPSHOT: AtomicPtr<Snapshot> = AtomicPtr::new(ptr::null_mut());
/// Readers currently between loading `SNAPSHOT` and done with it.
static READERS: AtomicUsize = AtomicUsize::new(0);
/// Serialises writers; holds the next registration id.
static WRITER: Mutex<u64> = Mutex::new(0);

/// A registered range of wasm code; dropping it unregisters the range.
///
/// Drop it before the code memory it describes is unmapped.
#[derive(Debug)]
pub(crate) struct CodeRegistration {
    id: u64,
}

/// Registers `start..start + len` as wasm code whose trapping instructions
/// `lookup` knows (by offset from `start`). Fails if the range is empty,
/// wraps around the address space, or overlaps a registered range.
pub(crate) fn register_code(
    start: usize,
    len: usize,
    lookup: CodeLookup,
) -> Result<CodeRegistration, SysError> {
    let end = start
        .checked_add(len)
        .filter(|_| len > 0)
        .ok_or(SysError::BadRange {
            op: "register_code",
            offset: start,
            len,
            limit: 0,
        })?;
    let mut next_id = WRITER.lock();
    let id = *next_id;
    *next_id += 1;
    let old = current_entries();
    if old.iter().any(|e| start < e.end && e.start < end) {
        return Err(SysError::Overlap { start, len });
    }
    let mut entries: Vec<Entry> = old
        .iter()
        .map(|e| Entry {
            start: e.start,
            end: e.end,
            id: e.id,
            lookup: e.lookup.clone(),
        })
        .collect();
    let at = entries.partition_point(|e| e.start < start);
    entries.insert(
        at,
        Entry {
            start,
            end,
            id,
            lookup,
        },
    );
    publish(entries);
    Ok(CodeRegistration { id })
}

impl Drop for CodeRegistration {
    fn drop(&mut self) {
        let _writer = WRITER.lock();
        let entries = current_entries()
            .iter()
            .filter(|e| e.id != self.id)
            .map(|e| Entry {
                start: e.start,
                end: e.end,
                id: e.id,
                lookup: e.lookup.clone(),
            })
            .collect();
        publish(entries);
    }
}

/// The entries of the current snapshot. Only for writers (holding
/// `WRITER`): no other writer can free the snapshot while they look.
fn current_entries() -> &'static [Entry] {
    let snap = SNAPSHOT.load(SeqCst);
    if snap.is_null() {
        return &[];
    }
    // SAFETY: `snap` came from `Box::into_raw` in `publish` and is freed
    // only by a later `publish`, which needs the `WRITER` lock our caller
    // holds for as long as it uses the slice.
    unsafe { &(*snap).entries }
}

/// Makes `entries` the current snapshot and frees the previous one once no
/// reader can still be using it. Caller holds `WRITER`.
fn publish(entries: Vec<Entry>) {
    let new = Box::into_raw(Box::new(Snapshot { entries }));
    let old = SNAPSHOT.swap(new, SeqCst);
    // A reader that got `old` incremented READERS before loading it, and
    // does not decrement until it is done with it; once we see zero after
    // the swap, every later reader loads `new`.
    while READERS.load(SeqCst) != 0 {
        super::sync::yield_now();
    }
    if !old.is_null() {
        // SAFETY: `old` came from `Box::into_raw` here, is no longer
        // reachable through SNAPSHOT, and no reader holds it (above).
        drop(unsafe { Box::from_raw(old) });
    }
}

/// The trap raised at `pc` if `pc` is in registered code, `lookup` knows
/// the instruction and `confirm()` (asked only once the pc is known to be
/// in wasm code) agrees. Async-signal-safe: no locks, no allocation.
pub(super) fn trap_at(pc: usize, confirm: impl FnOnce() -> bool) -> Option<TrapCode> {
    READERS.fetch_add(1, SeqCst);
    let snap = SNAPSHOT.load(SeqCst);
    let code = if snap.is_null() {
        None
    } else {
        // SAFETY: we announced ourselves in READERS before loading `snap`,
        // so no writer frees it until we decrement below.
        let entries = unsafe { &(*snap).entries };
        let i = entries.partition_point(|e| e.start <= pc);
        match i.checked_sub(1).and_then(|i| entries.get(i)) {
            Some(e) if pc < e.end && confirm() => (e.lookup)(pc - e.start),
            _ => None,
        }
    };
    READERS.fetch_sub(1, SeqCst);
    code
}

/// Whether `pc` lies in registered wasm code (for backtraces).
pub(crate) fn is_wasm_pc(pc: usize) -> bool {
    let mut hit = false;
    trap_at(pc, || {
        hit = true;
        false
    });
    hit
}
