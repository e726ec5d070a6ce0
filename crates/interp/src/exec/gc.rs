//! The GC ops' work: allocating structs and arrays through the runtime,
//! reading and writing their fields in the store's heap, and casts. The
//! heap's layout is `kiln_environ::gc_layout`'s; objects are reached from
//! the instance's [`VmGcHeap`](kiln_environ::vm::VmGcHeap) record, whose
//! base is read afresh on every access, because an allocation may move
//! the heap.

use super::run::Cx;
use crate::bytecode::Op;
use alloc::boxed::Box;
use kiln_environ::gc_cast::{self as cast, code};
use kiln_environ::gc_layout::{
    self, ARRAY_ELEMS_OFFSET, ARRAY_LEN_OFFSET, FieldKind, KIND_ARRAY, KIND_MASK, KIND_STRUCT,
    StructLayout,
};
use kiln_environ::vm::{VmFuncRef, VmInstance};
use kiln_environ::{CompositeType, ModuleTranslation, TrapCode};

/// What the interpreter needs at run time about one of a module's types.
#[derive(Debug)]
pub(crate) enum GcTypeLayout {
    /// A function type.
    Func,
    /// A struct type's layout.
    Struct(StructLayout),
    /// An array type's element kind.
    Array(FieldKind),
}

/// The layout of each of `t`'s types, by type index.
pub(crate) fn layouts(t: &ModuleTranslation) -> Box<[GcTypeLayout]> {
    t.types
        .iter()
        .map(|ty| match &ty.composite {
            CompositeType::Func(_) => GcTypeLayout::Func,
            CompositeType::Struct(s) => GcTypeLayout::Struct(StructLayout::of(s)),
            CompositeType::Array(a) => GcTypeLayout::Array(gc_layout::array_elem_kind(a)),
        })
        .collect()
}

/// The kind a bytecode operand names.
fn kind(k: u8) -> FieldKind {
    FieldKind::from_u8(k).expect("the translator writes valid field kinds")
}

/// The slots a value of `kind` takes.
fn slots_of(kind: FieldKind) -> usize {
    if kind == FieldKind::V128 { 2 } else { 1 }
}

/// The heap's first byte.
///
/// # Safety
/// `inst` is a live instance of a store with a heap record.
unsafe fn heap(inst: *const VmInstance) -> *mut u8 {
    // SAFETY: per the contract.
    unsafe { (*(*inst).gc_heap).base }
}

/// The layouts of the running instance's module.
///
/// # Safety
/// `inst` is a live instance whose code is an [`crate::InterpModule`].
unsafe fn module_layouts<'a>(inst: *const VmInstance) -> &'a [GcTypeLayout] {
    // SAFETY: per the contract; the module outlives its instances.
    unsafe { &(*(*inst).code.cast::<crate::InterpModule>()).gc_types }
}

/// Reads the field of `kind` at byte `at` of the heap, sign-extending a
/// packed one when `signed` (to 32 bits, zero-extended to the slot).
///
/// # Safety
/// `at..at + size` lies inside an object of `inst`'s store.
pub(super) unsafe fn load(inst: *const VmInstance, at: u32, k: u8, signed: bool) -> u128 {
    // SAFETY: per the contract; fields are naturally aligned, but reads
    // are unaligned anyway so that a v128 needs only 8-byte alignment.
    unsafe {
        let p = heap(inst).add(at as usize);
        match kind(k) {
            FieldKind::I8 if signed => u128::from(*p.cast::<i8>() as i32 as u32),
            FieldKind::I8 => u128::from(*p),
            FieldKind::I16 if signed => u128::from(p.cast::<i16>().read_unaligned() as i32 as u32),
            FieldKind::I16 => u128::from(p.cast::<u16>().read_unaligned()),
            FieldKind::W32 => u128::from(p.cast::<u32>().read_unaligned()),
            FieldKind::W64 => u128::from(p.cast::<u64>().read_unaligned()),
            // A v128 field is little-endian on every host, as compiled
            // code stores it.
            FieldKind::V128 => u128::from_le_bytes(p.cast::<[u8; 16]>().read_unaligned()),
        }
    }
}

/// Writes `v` (truncated to the kind) as the field of `kind` at byte `at`.
///
/// # Safety
/// As for [`load`].
pub(super) unsafe fn store(inst: *const VmInstance, at: u32, k: u8, v: u128) {
    // SAFETY: per the contract.
    unsafe {
        let p = heap(inst).add(at as usize);
        match kind(k) {
            FieldKind::I8 => *p = v as u8,
            FieldKind::I16 => p.cast::<u16>().write_unaligned(v as u16),
            FieldKind::W32 => p.cast::<u32>().write_unaligned(v as u32),
            FieldKind::W64 => p.cast::<u64>().write_unaligned(v as u64),
            FieldKind::V128 => p.cast::<[u8; 16]>().write_unaligned(v.to_le_bytes()),
        }
    }
}

/// The value of `kind` in the slot(s) at `p`.
///
/// # Safety
/// `p` points at one slot (two for a `v128`) of the frame.
unsafe fn read_slots(p: *const u64, k: FieldKind) -> u128 {
    // SAFETY: per the contract.
    unsafe {
        if k == FieldKind::V128 {
            u128::from(*p) | (u128::from(*p.add(1)) << 64)
        } else {
            u128::from(*p)
        }
    }
}

/// Allocates a zeroed object: by bumping the heap's allocation pointer
/// when it fits before the record's `end`, else through the runtime,
/// which may collect: the running frame, stopped at the op before `ip`,
/// is suspended for the collector to find its reference slots (`GcMaps`)
/// and rewrite them.
fn alloc(cx: &mut Cx<'_>, ty: u32, kind: u32, size: u32, ip: *const Op) -> Result<u32, TrapCode> {
    // SAFETY: the running instance is live, and so is its store's heap
    // record; `top..top + size` lies below `end`, which the runtime keeps
    // within the space it allocated at `base` (8-aligned, so the header's
    // words are aligned).
    unsafe {
        let id = (&(*cx.inst).sigs)[ty as usize];
        let rec = (*cx.inst).gc_heap;
        let top = (*rec).top;
        if let Some(new_top) = top.checked_add(size)
            && new_top <= (*rec).end
        {
            (*rec).top = new_top;
            let p = (*rec).base.add(top as usize);
            core::ptr::write_bytes(p, 0, size as usize);
            p.cast::<u32>().write(id);
            p.add(4).cast::<u32>().write(kind);
            return Ok(top);
        }
    }
    alloc_slow(cx, ty, kind, size, ip)
}

/// The runtime's side of [`alloc`].
#[cold]
#[inline(never)]
fn alloc_slow(
    cx: &mut Cx<'_>,
    ty: u32,
    kind: u32,
    size: u32,
    ip: *const Op,
) -> Result<u32, TrapCode> {
    // SAFETY: the running instance is live.
    let id = unsafe { (&(*cx.inst).sigs)[ty as usize] };
    let frame = cx.frame(ip);
    // SAFETY: `es` is the live execution state.
    unsafe { (*cx.es).suspended.0.push(frame) };
    let r = cx.host.gc_alloc(id, kind, size);
    // SAFETY: as above (the host does not replace the state).
    unsafe { (*cx.es).suspended.0.pop() };
    r
}

/// `struct.new` (fields from the slots at `fields`) or
/// `struct.new_default` (`fields` null) of module type `ty`.
///
/// # Safety
/// `fields` points at the struct's field slots in the frame, or is null.
pub(super) unsafe fn struct_new(
    cx: &mut Cx<'_>,
    ty: u32,
    fields: *const u64,
    ip: *const Op,
) -> Result<u64, TrapCode> {
    // SAFETY: the running instance's code is an interpreter module.
    let GcTypeLayout::Struct(layout) = (unsafe { &module_layouts(cx.inst)[ty as usize] }) else {
        unreachable!("validation: struct.new names a struct type")
    };
    let obj = alloc(cx, ty, KIND_STRUCT, layout.size, ip)?;
    if !fields.is_null() {
        let mut slot = 0;
        for &(offset, k) in &layout.fields {
            // SAFETY: the translator placed one value per field at
            // `fields`; the object was just allocated with this layout.
            unsafe {
                let v = read_slots(fields.add(slot), k);
                store(cx.inst, obj + offset, k as u8, v);
            }
            slot += slots_of(k);
        }
    }
    Ok(u64::from(obj))
}

/// The element kind of array type `ty`.
///
/// # Safety
/// `inst`'s code is an interpreter module and `ty` one of its array types.
unsafe fn array_kind(inst: *const VmInstance, ty: u32) -> FieldKind {
    // SAFETY: per the contract.
    match unsafe { &module_layouts(inst)[ty as usize] } {
        GcTypeLayout::Array(k) => *k,
        _ => unreachable!("validation: an array instruction names an array type"),
    }
}

/// Allocates an array of `len` zeroed elements of type `ty`.
fn alloc_array(
    cx: &mut Cx<'_>,
    ty: u32,
    len: u64,
    ip: *const Op,
) -> Result<(u32, FieldKind), TrapCode> {
    // SAFETY: the running instance's code is an interpreter module.
    let k = unsafe { array_kind(cx.inst, ty) };
    let size = u32::try_from(len)
        .ok()
        .and_then(|len| gc_layout::array_size(k, len))
        .ok_or(TrapCode::GcHeapOutOfMemory)?;
    let arr = alloc(cx, ty, KIND_ARRAY, size, ip)?;
    // SAFETY: the array was just allocated, with room for its length.
    unsafe {
        store(
            cx.inst,
            arr + ARRAY_LEN_OFFSET,
            FieldKind::W32 as u8,
            u128::from(len),
        )
    };
    Ok((arr, k))
}

/// `array.new` (every element the value in the slots at `init`) or
/// `array.new_default` (`init` null). The value is read after allocating:
/// a reference may have moved.
///
/// # Safety
/// `init` is null or points at the value's slot(s) in the frame.
pub(super) unsafe fn array_new(
    cx: &mut Cx<'_>,
    ty: u32,
    init: *const u64,
    len: u64,
    ip: *const Op,
) -> Result<u64, TrapCode> {
    let (arr, k) = alloc_array(cx, ty, len, ip)?;
    // SAFETY: per the contract.
    let init = (!init.is_null()).then(|| unsafe { read_slots(init, k) });
    if let Some(v) = init {
        for i in 0..len as u32 {
            // SAFETY: `i` is below the new array's length.
            unsafe { store(cx.inst, elem_at(arr, k, i), k as u8, v) };
        }
    }
    Ok(u64::from(arr))
}

/// `array.new_fixed`: `len` elements from the slots at `elems`.
///
/// # Safety
/// `elems` points at the elements' slots in the frame.
pub(super) unsafe fn array_new_fixed(
    cx: &mut Cx<'_>,
    ty: u32,
    elems: *const u64,
    len: u32,
    ip: *const Op,
) -> Result<u64, TrapCode> {
    let (arr, k) = alloc_array(cx, ty, u64::from(len), ip)?;
    for i in 0..len {
        // SAFETY: per the contract; `i` is below the length.
        unsafe {
            let v = read_slots(elems.add(i as usize * slots_of(k)), k);
            store(cx.inst, elem_at(arr, k, i), k as u8, v);
        }
    }
    Ok(u64::from(arr))
}

/// Byte offset of element `i` of the array at `arr`.
fn elem_at(arr: u32, k: FieldKind, i: u32) -> u32 {
    arr + ARRAY_ELEMS_OFFSET + i * k.size()
}

/// The array in reference bits `r`, trapping on null.
fn non_null(r: u64) -> Result<u32, TrapCode> {
    match r as u32 {
        0 => Err(TrapCode::NullReference),
        a => Ok(a),
    }
}

/// The length of the array `arr` (non-null).
///
/// # Safety
/// `arr` is an array of `inst`'s store.
unsafe fn len_of(inst: *const VmInstance, arr: u32) -> u32 {
    // SAFETY: per the contract.
    unsafe { load(inst, arr + ARRAY_LEN_OFFSET, FieldKind::W32 as u8, false) as u32 }
}

/// The byte offset of `n` elements of the array in `r` from `index`,
/// checking the range (null traps first).
///
/// # Safety
/// `r` is null or an array of `inst`'s store, of element kind `k`.
pub(super) unsafe fn elems(
    inst: *const VmInstance,
    r: u64,
    index: u64,
    n: u64,
    k: u8,
) -> Result<u32, TrapCode> {
    let arr = non_null(r)?;
    // SAFETY: per the contract.
    let len = unsafe { len_of(inst, arr) };
    if index.checked_add(n).is_none_or(|end| end > u64::from(len)) {
        return Err(TrapCode::ArrayOutOfBounds);
    }
    Ok(elem_at(arr, kind(k), index as u32))
}

/// `array.len`.
///
/// # Safety
/// `r` is null or an array of `inst`'s store.
pub(super) unsafe fn array_len(inst: *const VmInstance, r: u64) -> Result<u64, TrapCode> {
    let arr = non_null(r)?;
    // SAFETY: per the contract.
    Ok(u64::from(unsafe { len_of(inst, arr) }))
}

/// `array.fill`.
///
/// # Safety
/// As for [`elems`].
pub(super) unsafe fn array_fill(
    inst: *const VmInstance,
    r: u64,
    index: u64,
    v: u128,
    n: u64,
    k: u8,
) -> Result<(), TrapCode> {
    // SAFETY: per the contract; the range is checked.
    unsafe {
        let at = elems(inst, r, index, n, k)?;
        let size = kind(k).size();
        for i in 0..n as u32 {
            store(inst, at + i * size, k, v);
        }
    }
    Ok(())
}

/// `array.copy` (overlap-safe).
///
/// # Safety
/// As for [`elems`], for both arrays.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn array_copy(
    inst: *const VmInstance,
    dst: u64,
    di: u64,
    src: u64,
    si: u64,
    n: u64,
    k: u8,
) -> Result<(), TrapCode> {
    // SAFETY: per the contract; both ranges are checked, and `copy`
    // allows them to overlap.
    unsafe {
        let d = elems(inst, dst, di, n, k)?;
        let s = elems(inst, src, si, n, k)?;
        let base = heap(inst);
        let bytes = n as usize * kind(k).size() as usize;
        core::ptr::copy(base.add(s as usize), base.add(d as usize), bytes);
    }
    Ok(())
}

/// The high bit of a segment operand: an element segment.
pub(crate) const ELEM_SEGMENT: u32 = 1 << 31;

/// Reads `n` elements of kind `k` from segment `seg` (a data segment's
/// little-endian bytes from byte `src`, or an element segment's reference
/// bits from element `src`), calling `put(i, value)` for each; checks the range
/// first.
///
/// # Safety
/// `inst` is live.
unsafe fn read_segment(
    inst: *const VmInstance,
    seg: u32,
    src: u64,
    n: u64,
    k: FieldKind,
    mut put: impl FnMut(u32, u128),
) -> Result<(), TrapCode> {
    // SAFETY: `inst` is live; segment indices are valid (validation), and
    // every read is inside the checked range.
    unsafe {
        if seg & ELEM_SEGMENT != 0 {
            let elems = &(&(*inst).elems)[(seg & !ELEM_SEGMENT) as usize];
            if src
                .checked_add(n)
                .is_none_or(|end| end > elems.len() as u64)
            {
                return Err(TrapCode::TableOutOfBounds);
            }
            for i in 0..n as usize {
                put(i as u32, u128::from(elems[src as usize + i]));
            }
        } else {
            let (p, len) = (&(*inst).datas)[seg as usize];
            // A data segment's offset counts bytes, not elements.
            let size = u64::from(k.size());
            let count = n.checked_mul(size);
            let Some(count) =
                count.filter(|c| src.checked_add(*c).is_some_and(|e| e <= len as u64))
            else {
                return Err(TrapCode::MemoryOutOfBounds);
            };
            let start = src;
            let data = core::slice::from_raw_parts(p.add(start as usize), count as usize);
            for (i, chunk) in data.chunks_exact(size as usize).enumerate() {
                let mut le = [0u8; 16];
                le[..chunk.len()].copy_from_slice(chunk);
                put(i as u32, u128::from_le_bytes(le));
            }
        }
    }
    Ok(())
}

/// `array.new_data`/`array.new_elem`.
pub(super) fn array_new_segment(
    cx: &mut Cx<'_>,
    ty: u32,
    seg: u32,
    src: u64,
    n: u64,
    ip: *const Op,
) -> Result<u64, TrapCode> {
    // SAFETY: the running instance's code is an interpreter module.
    let k = unsafe { array_kind(cx.inst, ty) };
    // The segment's range is checked before anything is allocated.
    // SAFETY: the instance is live.
    unsafe { read_segment(cx.inst, seg, src, n, k, |_, _| {})? };
    let (arr, k) = alloc_array(cx, ty, n, ip)?;
    let inst = cx.inst;
    // SAFETY: as above; each element index is below the new length.
    unsafe {
        read_segment(inst, seg, src, n, k, |i, v| {
            store(inst, elem_at(arr, k, i), k as u8, v)
        })?
    };
    Ok(u64::from(arr))
}

/// `array.init_data`/`array.init_elem`.
///
/// # Safety
/// As for [`elems`].
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn array_init_segment(
    inst: *const VmInstance,
    r: u64,
    index: u64,
    seg: u32,
    src: u64,
    n: u64,
    k: u8,
) -> Result<(), TrapCode> {
    // SAFETY: per the contract; the array's range is checked first, then
    // the segment's.
    unsafe {
        let at = elems(inst, r, index, n, k)?;
        let size = kind(k).size();
        read_segment(inst, seg, src, n, kind(k), |i, v| {
            store(inst, at + i * size, k, v)
        })
    }
}

/// Whether reference bits `v` are a value of the type `target` and
/// `flags` name (`kiln_environ::gc_cast`).
pub(super) fn ref_test(cx: &Cx<'_>, v: u64, target: u32, flags: u8) -> bool {
    if v == 0 {
        return flags & cast::NULLABLE != 0;
    }
    if flags & cast::CONCRETE == 0 {
        return match target {
            code::TOP | code::ANY => true,
            code::BOTTOM => false,
            code::I31 => gc_layout::is_i31(v as u32),
            code::EQ => gc_layout::is_i31(v as u32) || gc_layout::is_object(v as u32),
            // SAFETY: an object reference names an object of this store.
            code::STRUCT => {
                gc_layout::is_object(v as u32)
                    && unsafe { kind_of(cx.inst, v as u32) } == KIND_STRUCT
            }
            // SAFETY: as above.
            code::ARRAY => {
                gc_layout::is_object(v as u32)
                    && unsafe { kind_of(cx.inst, v as u32) } == KIND_ARRAY
            }
            _ => unreachable!("the translator writes valid cast targets"),
        };
    }
    // SAFETY: the running instance is live.
    let want = unsafe { (&(*cx.inst).sigs)[target as usize] };
    let have = if flags & cast::FUNC != 0 {
        // SAFETY: a non-null function reference is a live `VmFuncRef`.
        unsafe { (*(v as usize as *const VmFuncRef)).sig }
    } else if gc_layout::is_object(v as u32) {
        // SAFETY: an object reference names an object of this store.
        unsafe { load(cx.inst, v as u32, FieldKind::W32 as u8, false) as u32 }
    } else {
        return false;
    };
    have == want || cx.host.is_subtype(have, want)
}

/// The kind bits of the object at `obj`.
///
/// # Safety
/// `obj` is an object of `inst`'s store.
unsafe fn kind_of(inst: *const VmInstance, obj: u32) -> u32 {
    // SAFETY: per the contract.
    unsafe { load(inst, obj + 4, FieldKind::W32 as u8, false) as u32 & KIND_MASK }
}

/// `Op::GcBarrier`'s `at`: the store was to a struct field.
pub(crate) const BARRIER_FIELD: u8 = 0;
/// `Op::GcBarrier`'s `at`: the store was to an array element.
pub(crate) const BARRIER_ELEMENT: u8 = 1;
/// `Op::GcBarrier`'s `at`: a bulk instruction wrote the array.
pub(crate) const BARRIER_BULK: u8 = 2;

/// The write barrier (`Op::GcBarrier`): tells the runtime when the old
/// object `obj` was given a reference `v` to a young object (at the field
/// `at` and `offset` name, `index` being an array element's), or after a
/// bulk write anything at all, unless its header says it is remembered
/// already and not carded (a carded array's every store marks a card).
///
/// # Safety
/// `obj` is an object of `cx.inst`'s store.
#[inline(always)]
pub(super) unsafe fn barrier(cx: &mut Cx<'_>, obj: u32, v: u32, index: u32, offset: u32, at: u8) {
    // SAFETY: per the contract, the instance and its heap record are live.
    let start = unsafe { (*(*cx.inst).gc_heap).nursery_start };
    let bulk = at == BARRIER_BULK;
    if obj >= start || !(bulk || (gc_layout::is_object(v) && v >= start)) {
        return;
    }
    // SAFETY: per the contract.
    let header = unsafe { load(cx.inst, obj + 4, FieldKind::W32 as u8, false) as u32 };
    if header & (gc_layout::REMEMBERED | gc_layout::CARDED) == gc_layout::REMEMBERED {
        return;
    }
    let field = match at {
        BARRIER_FIELD => obj + offset,
        BARRIER_ELEMENT => obj + ARRAY_ELEMS_OFFSET + index * offset,
        _ => u32::MAX,
    };
    cx.host.gc_remember(obj, field);
}
