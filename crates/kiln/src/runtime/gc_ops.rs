//! The GC instructions compiled code leaves to the runtime: allocation,
//! the array bulk instructions and casts, over the store's [`GcHeap`]
//! with the same layout (`kiln_environ::gc_layout`) and the same traps as
//! the interpreter's ops. Field access and `array.len` are inline in the
//! compiled code.

use super::StoreOpaque;
use super::gc_heap::GcHeap;
use crate::prelude::*;
use kiln_environ::gc_cast::{self, code};
use kiln_environ::gc_layout::{
    self, ARRAY_ELEMS_OFFSET, ARRAY_LEN_OFFSET, FieldKind, KIND_ARRAY, KIND_STRUCT, StructLayout,
};
use kiln_environ::{CompositeType, TrapCode};

/// What the instance a builtin was called from contributes: its module's
/// types and their registry ids.
pub(crate) struct TypeSpace<'a> {
    pub(crate) module: &'a kiln_environ::ModuleTranslation,
    pub(crate) ids: &'a [u32],
}

impl TypeSpace<'_> {
    /// The types of `module`.
    pub(crate) fn of(module: &crate::Module) -> TypeSpace<'_> {
        TypeSpace {
            module: module.translation(),
            ids: &module.inner.sigs,
        }
    }

    fn struct_layout(&self, ty: u32) -> Result<StructLayout, TrapCode> {
        match &self.module.types.get(ty as usize).map(|t| &t.composite) {
            Some(CompositeType::Struct(s)) => Ok(StructLayout::of(s)),
            _ => Err(TrapCode::UnreachableCodeReached),
        }
    }

    /// The element kind of array type `ty`.
    pub(crate) fn array_kind(&self, ty: u32) -> Result<FieldKind, TrapCode> {
        match &self.module.types.get(ty as usize).map(|t| &t.composite) {
            Some(CompositeType::Array(a)) => Ok(gc_layout::array_elem_kind(a)),
            _ => Err(TrapCode::UnreachableCodeReached),
        }
    }

    fn id(&self, ty: u32) -> u32 {
        self.ids[ty as usize]
    }
}

/// `struct.new` (`fields` in slot form, a `v128` as one `u128`) or
/// `struct.new_default` (`None`).
pub(crate) fn struct_new(
    heap: &mut GcHeap,
    types: &TypeSpace<'_>,
    ty: u32,
    fields: Option<&[u128]>,
) -> Result<u32, TrapCode> {
    let layout = types.struct_layout(ty)?;
    let obj = heap.alloc(types.id(ty), KIND_STRUCT, layout.size)?;
    if let Some(fields) = fields {
        for (&(offset, kind), &v) in layout.fields.iter().zip(fields) {
            heap.write_field(obj + offset, kind, v);
        }
    }
    Ok(obj)
}

/// An array of type `ty` and `len` elements, element `i` being
/// `values[i % values.len()]` (zero when `values` is empty).
pub(crate) fn array_new(
    heap: &mut GcHeap,
    types: &TypeSpace<'_>,
    ty: u32,
    values: &[u128],
    len: u32,
) -> Result<u32, TrapCode> {
    let kind = types.array_kind(ty)?;
    let size = gc_layout::array_size(kind, len).ok_or(TrapCode::GcHeapOutOfMemory)?;
    let arr = heap.alloc(types.id(ty), KIND_ARRAY, size)?;
    heap.write_field(arr + ARRAY_LEN_OFFSET, FieldKind::W32, u128::from(len));
    match values {
        [] => {}
        [v] => heap.fill_fields(elem_at(arr, kind, 0), kind, *v, len),
        _ => {
            for i in 0..len {
                let v = values[i as usize % values.len()];
                heap.write_field(elem_at(arr, kind, i), kind, v);
            }
        }
    }
    Ok(arr)
}

/// The byte offset of element `i` of the array at `arr`.
pub(crate) fn elem_at(arr: u32, kind: FieldKind, i: u32) -> u32 {
    arr + ARRAY_ELEMS_OFFSET + i * kind.size()
}

/// The byte offset of elements `index..index + n` of the array `r`,
/// checked (a null array traps first).
pub(crate) fn elems(
    heap: &GcHeap,
    r: u64,
    index: u32,
    n: u32,
    kind: FieldKind,
) -> Result<u32, TrapCode> {
    let arr = match r as u32 {
        0 => return Err(TrapCode::NullReference),
        a => a,
    };
    let len = heap.read_u32(arr + ARRAY_LEN_OFFSET);
    if index.checked_add(n).is_none_or(|end| end > len) {
        return Err(TrapCode::ArrayOutOfBounds);
    }
    Ok(elem_at(arr, kind, index))
}

/// `array.fill`.
pub(crate) fn array_fill(
    heap: &mut GcHeap,
    kind: FieldKind,
    r: u64,
    index: u32,
    v: u128,
    n: u32,
) -> Result<(), TrapCode> {
    let at = elems(heap, r, index, n, kind)?;
    heap.fill_fields(at, kind, v, n);
    bulk_barrier(heap, kind, r, at, n);
    Ok(())
}

/// `array.copy` (overlap-safe).
#[allow(clippy::too_many_arguments)]
pub(crate) fn array_copy(
    heap: &mut GcHeap,
    kind: FieldKind,
    dst: u64,
    di: u32,
    src: u64,
    si: u32,
    n: u32,
) -> Result<(), TrapCode> {
    let d = elems(heap, dst, di, n, kind)?;
    let s = elems(heap, src, si, n, kind)?;
    let bytes = n * kind.size();
    let lo = d.min(s);
    let span = d.max(s) - lo + bytes;
    // One slice over both ranges; `copy_within` allows the overlap.
    let region = heap.bytes_mut(lo, span);
    region.copy_within(
        (s - lo) as usize..(s - lo + bytes) as usize,
        (d - lo) as usize,
    );
    bulk_barrier(heap, kind, dst, d, n);
    Ok(())
}

/// The values of `n` elements of kind `kind` read from segment `seg` of
/// `instance` (a data segment from byte `src`, or with `seg`'s top bit an
/// element segment from element `src`), range-checked by
/// [`check_segment`].
pub(crate) fn segment_values(
    store: &StoreOpaque,
    instance: u32,
    seg: u32,
    src: u32,
    n: u32,
    kind: FieldKind,
) -> Result<Vec<u128>, TrapCode> {
    check_segment(store, instance, seg, src, n, kind)?;
    let vm = store.instance(instance).vm.get();
    let src = src as usize;
    if seg & ELEM_SEGMENT != 0 {
        let items = &vm.elems[(seg & !ELEM_SEGMENT) as usize][src..src + n as usize];
        return Ok(items.iter().map(|&b| u128::from(b)).collect());
    }
    let (ptr, _) = vm.datas[seg as usize];
    let size = kind.size() as usize;
    // SAFETY: a data segment's bytes belong to the module, which the
    // instance keeps alive; `check_segment` found `src..src + n * size`
    // inside them (so the product does not overflow either).
    let bytes = unsafe { core::slice::from_raw_parts(ptr.add(src), n as usize * size) };
    Ok(bytes
        .chunks_exact(size)
        .map(|c| {
            let mut le = [0u8; 16];
            le[..c.len()].copy_from_slice(c);
            u128::from_le_bytes(le)
        })
        .collect())
}

/// Checks that `n` elements of kind `kind` from `src` lie inside segment
/// `seg` of `instance`, as [`segment_values`] reads them, without reading
/// them: `array.new_data`/`array.new_elem` trap on a bad range before
/// they allocate.
pub(crate) fn check_segment(
    store: &StoreOpaque,
    instance: u32,
    seg: u32,
    src: u32,
    n: u32,
    kind: FieldKind,
) -> Result<(), TrapCode> {
    let vm = store.instance(instance).vm.get();
    let end = u64::from(src)
        + u64::from(n)
            * if seg & ELEM_SEGMENT != 0 {
                1
            } else {
                u64::from(kind.size())
            };
    if seg & ELEM_SEGMENT != 0 {
        let len = vm.elems[(seg & !ELEM_SEGMENT) as usize].len() as u64;
        return if end <= len {
            Ok(())
        } else {
            Err(TrapCode::TableOutOfBounds)
        };
    }
    if end <= vm.datas[seg as usize].1 as u64 {
        Ok(())
    } else {
        Err(TrapCode::MemoryOutOfBounds)
    }
}

/// The top bit of a segment argument: an element segment.
pub(crate) const ELEM_SEGMENT: u32 = 1 << 31;

/// Writes `values` into the array `r` from `index`, range-checked.
pub(crate) fn array_write(
    heap: &mut GcHeap,
    kind: FieldKind,
    r: u64,
    index: u32,
    values: &[u128],
) -> Result<(), TrapCode> {
    let at = elems(heap, r, index, values.len() as u32, kind)?;
    for (i, &v) in values.iter().enumerate() {
        heap.write_field(at + i as u32 * kind.size(), kind, v);
    }
    bulk_barrier(heap, kind, r, at, values.len() as u32);
    Ok(())
}

/// The write barrier of a bulk write into the array `r`: traced
/// references are 32-bit elements, and an old array written any of them
/// is remembered (checking each value would cost more than the rare
/// extra scan of an old `i32` array).
fn bulk_barrier(heap: &mut GcHeap, kind: FieldKind, r: u64, at: u32, n: u32) {
    if kind == FieldKind::W32 && n > 0 {
        heap.remember_if_old(r as u32, at, at + n * 4);
    }
}

/// Whether reference bits `v` are a value of the type `target` and
/// `flags` name (`kiln_environ::gc_cast`), `target` being a type index of
/// `types` when concrete.
pub(crate) fn ref_test(
    store: &StoreOpaque,
    types: &TypeSpace<'_>,
    v: u64,
    target: u32,
    flags: u32,
) -> bool {
    let flags = flags as u8;
    if v == 0 {
        return flags & gc_cast::NULLABLE != 0;
    }
    let heap = &store.gc_heap;
    let r = v as u32;
    if flags & gc_cast::CONCRETE == 0 {
        return match target {
            code::TOP | code::ANY => true,
            code::I31 => gc_layout::is_i31(r),
            code::EQ => gc_layout::is_i31(r) || heap.contains(r),
            code::STRUCT => heap.contains(r) && heap.kind_of(r) == KIND_STRUCT,
            code::ARRAY => heap.contains(r) && heap.kind_of(r) == KIND_ARRAY,
            _ => false,
        };
    }
    let want = types.id(target);
    let have = if flags & gc_cast::FUNC != 0 {
        // SAFETY: a non-null function reference is a live `VmFuncRef` of
        // this store.
        unsafe { (*(v as usize as *const kiln_environ::vm::VmFuncRef)).sig }
    } else if heap.contains(r) {
        heap.type_of(r)
    } else {
        return false;
    };
    have == want || kiln_environ::SubtypeOracle::is_subtype(&store.engine, have, want)
}
