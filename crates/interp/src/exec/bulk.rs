//! Bulk memory and table operations, and the scalar accesses of memories
//! other than the first: all bounds are checked (in 64-bit arithmetic)
//! before anything is written, as the spec requires.

use alloc::boxed::Box;
use core::ptr;
use kiln_environ::TrapCode;
use kiln_environ::vm::{VmInstance, VmTable};

use crate::bytecode::{LoadTy, StoreTy};

#[inline]
fn in_bounds(start: u64, len: u64, size: u64) -> bool {
    start.checked_add(len).is_some_and(|end| end <= size)
}

/// `memory.init` into the memory at `mem_base..mem_base+mem_len`.
///
/// # Safety
/// `inst` is live; `mem_base..mem_base+mem_len` is one of its memories.
pub(super) unsafe fn memory_init(
    inst: *const VmInstance,
    mem_base: *mut u8,
    mem_len: usize,
    data: u32,
    d: u64,
    s: u32,
    n: u32,
) -> Result<(), TrapCode> {
    // SAFETY: `inst` is live and validation checked the segment index.
    let (seg, seg_len) = unsafe { (&(*inst).datas)[data as usize] };
    if !in_bounds(s as u64, n as u64, seg_len as u64) || !in_bounds(d, n as u64, mem_len as u64) {
        return Err(TrapCode::MemoryOutOfBounds);
    }
    // SAFETY: both ranges were just bounds-checked; a segment's bytes are
    // module-owned and never alias linear memory.
    unsafe { ptr::copy_nonoverlapping(seg.add(s as usize), mem_base.add(d as usize), n as usize) };
    Ok(())
}

/// `data.drop`.
///
/// # Safety
/// `inst` is live and the runtime lets the interpreter mutate `datas`.
pub(super) unsafe fn data_drop(inst: *const VmInstance, data: u32) {
    // SAFETY: the vm contract has `data.drop` set the length to 0 in place.
    // The runtime allocates instances with write provenance (`Box::leak`)
    // and holds no reference into them while wasm runs; the place is
    // reached through raw pointers only, never through a shared reference.
    unsafe {
        let p = (&raw const (*inst).datas) as *mut Box<[(*const u8, usize)]>;
        (&mut *p)[data as usize].1 = 0;
    }
}

/// `memory.copy` of `n` bytes from `s` in memory `src` to `d` in memory
/// `dst` (each `(base, len)`; the same memory, or two different ones).
///
/// # Safety
/// Both are live memories of the running instance.
pub(super) unsafe fn memory_copy(
    dst: (*mut u8, usize),
    src: (*mut u8, usize),
    d: u64,
    s: u64,
    n: u64,
) -> Result<(), TrapCode> {
    if !in_bounds(s, n, src.1 as u64) || !in_bounds(d, n, dst.1 as u64) {
        return Err(TrapCode::MemoryOutOfBounds);
    }
    // SAFETY: both ranges are in bounds; `copy` allows overlap (when both
    // are the same memory).
    unsafe { ptr::copy(src.0.add(s as usize), dst.0.add(d as usize), n as usize) };
    Ok(())
}

/// `memory.fill`.
///
/// # Safety
/// `mem_base..mem_base+mem_len` is a live memory.
pub(super) unsafe fn memory_fill(
    mem_base: *mut u8,
    mem_len: usize,
    d: u64,
    val: u8,
    n: u64,
) -> Result<(), TrapCode> {
    if !in_bounds(d, n, mem_len as u64) {
        return Err(TrapCode::MemoryOutOfBounds);
    }
    // SAFETY: the range is in bounds.
    unsafe { ptr::write_bytes(mem_base.add(d as usize), val, n as usize) };
    Ok(())
}

/// The address of an `n`-byte access at `addr + offset` in the memory at
/// `base..base+len`, or the trap if any of it is out of bounds.
#[inline]
fn effective(
    base: *mut u8,
    len: usize,
    addr: u64,
    offset: u32,
    n: u64,
) -> Result<*mut u8, TrapCode> {
    let start = addr
        .checked_add(u64::from(offset))
        .ok_or(TrapCode::MemoryOutOfBounds)?;
    if !in_bounds(start, n, len as u64) {
        return Err(TrapCode::MemoryOutOfBounds);
    }
    Ok(base.wrapping_add(start as usize))
}

/// A scalar load of kind `ty` from any memory (`Op::LoadMem`).
///
/// # Safety
/// `base..base+len` is a live memory.
pub(super) unsafe fn load(
    base: *mut u8,
    len: usize,
    addr: u64,
    offset: u32,
    ty: LoadTy,
) -> Result<u64, TrapCode> {
    let n = match ty {
        LoadTy::U8 | LoadTy::S8To32 | LoadTy::S8To64 => 1,
        LoadTy::U16 | LoadTy::S16To32 | LoadTy::S16To64 => 2,
        LoadTy::U32 | LoadTy::S32To64 => 4,
        LoadTy::U64 => 8,
    };
    let p = effective(base, len, addr, offset, n)?;
    // SAFETY: `p..p+n` is inside the memory (just checked); wasm memory
    // is unaligned little-endian bytes.
    let raw = unsafe {
        let mut bytes = [0u8; 8];
        ptr::copy_nonoverlapping(p, bytes.as_mut_ptr(), n as usize);
        u64::from_le_bytes(bytes)
    };
    Ok(match ty {
        LoadTy::U8 | LoadTy::U16 | LoadTy::U32 | LoadTy::U64 => raw,
        LoadTy::S8To32 => raw as i8 as i32 as u32 as u64,
        LoadTy::S8To64 => raw as i8 as i64 as u64,
        LoadTy::S16To32 => raw as i16 as i32 as u32 as u64,
        LoadTy::S16To64 => raw as i16 as i64 as u64,
        LoadTy::S32To64 => raw as i32 as i64 as u64,
    })
}

/// A scalar store of kind `ty` to any memory (`Op::StoreMem`).
///
/// # Safety
/// `base..base+len` is a live memory.
pub(super) unsafe fn store(
    base: *mut u8,
    len: usize,
    addr: u64,
    offset: u32,
    ty: StoreTy,
    value: u64,
) -> Result<(), TrapCode> {
    let n = match ty {
        StoreTy::B8 => 1,
        StoreTy::B16 => 2,
        StoreTy::B32 => 4,
        StoreTy::B64 => 8,
    };
    let p = effective(base, len, addr, offset, n)?;
    // SAFETY: `p..p+n` is inside the memory (just checked).
    unsafe { ptr::copy_nonoverlapping(value.to_le_bytes().as_ptr(), p, n as usize) };
    Ok(())
}

/// The table at `index` of `inst`.
///
/// # Safety
/// `inst` is live and `index` valid (validation).
#[inline]
pub(super) unsafe fn table(inst: *const VmInstance, index: u32) -> *mut VmTable {
    // SAFETY: per the contract.
    unsafe { (&(*inst).tables)[index as usize] }
}

/// `table.get`.
///
/// # Safety
/// `t` is a live table.
#[inline]
pub(super) unsafe fn table_get(t: *mut VmTable, i: u64) -> Result<u64, TrapCode> {
    // SAFETY: `t` is live; `i` is checked against its length.
    unsafe {
        if i >= u64::from((*t).len) {
            return Err(TrapCode::TableOutOfBounds);
        }
        Ok(*(*t).base.add(i as usize))
    }
}

/// `table.set`.
///
/// # Safety
/// `t` is a live table.
#[inline]
pub(super) unsafe fn table_set(t: *mut VmTable, i: u64, v: u64) -> Result<(), TrapCode> {
    // SAFETY: `t` is live; `i` is checked against its length.
    unsafe {
        if i >= u64::from((*t).len) {
            return Err(TrapCode::TableOutOfBounds);
        }
        *(*t).base.add(i as usize) = v;
    }
    Ok(())
}

/// `table.fill`.
///
/// # Safety
/// `t` is a live table.
pub(super) unsafe fn table_fill(t: *mut VmTable, d: u64, v: u64, n: u64) -> Result<(), TrapCode> {
    // SAFETY: `t` is live; the range is checked before writing.
    unsafe {
        if !in_bounds(d, n, (*t).len as u64) {
            return Err(TrapCode::TableOutOfBounds);
        }
        core::slice::from_raw_parts_mut((*t).base.add(d as usize), n as usize).fill(v);
    }
    Ok(())
}

/// `table.copy` (overlap-safe, possibly within one table).
///
/// # Safety
/// Both tables are live.
pub(super) unsafe fn table_copy(
    dt: *mut VmTable,
    st: *mut VmTable,
    d: u64,
    s: u64,
    n: u64,
) -> Result<(), TrapCode> {
    // SAFETY: both tables are live; ranges are checked first; `copy`
    // allows the overlap of a copy within one table.
    unsafe {
        if !in_bounds(s, n, (*st).len as u64) || !in_bounds(d, n, (*dt).len as u64) {
            return Err(TrapCode::TableOutOfBounds);
        }
        ptr::copy(
            (*st).base.add(s as usize),
            (*dt).base.add(d as usize),
            n as usize,
        );
    }
    Ok(())
}

/// `table.init`.
///
/// # Safety
/// `inst` and `t` are live; `elem` is a valid segment index.
pub(super) unsafe fn table_init(
    inst: *const VmInstance,
    t: *mut VmTable,
    elem: u32,
    d: u64,
    s: u32,
    n: u32,
) -> Result<(), TrapCode> {
    // SAFETY: live per the contract; ranges checked before the copy; the
    // segment is instance-owned and never aliases a table.
    unsafe {
        let seg: &[u64] = &(&(*inst).elems)[elem as usize];
        if !in_bounds(s as u64, n as u64, seg.len() as u64)
            || !in_bounds(d, n as u64, (*t).len as u64)
        {
            return Err(TrapCode::TableOutOfBounds);
        }
        ptr::copy_nonoverlapping(
            seg.as_ptr().add(s as usize),
            (*t).base.add(d as usize),
            n as usize,
        );
    }
    Ok(())
}

/// `elem.drop`: empties the segment.
///
/// # Safety
/// `inst` is live and the runtime lets the interpreter mutate `elems`.
pub(super) unsafe fn elem_drop(inst: *const VmInstance, elem: u32) {
    // SAFETY: the vm contract has `elem.drop` empty the segment in place.
    // As in `data_drop`, the place is reached through raw pointers from a
    // write-capable instance pointer; no reference to the segment is held
    // (`table_init` borrows it only for the duration of its copy).
    unsafe {
        let p = (&raw const (*inst).elems) as *mut Box<[Box<[u64]>]>;
        (&mut *p)[elem as usize] = Box::new([]);
    }
}
