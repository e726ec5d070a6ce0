//! The GC builtins (`Builtin::Gc*`): compiled code's way into
//! `runtime::gc_ops` for allocation, the array bulk instructions and
//! casts. Each decodes its `ValRaw` arguments by the field types of the
//! calling instance's module and traps as the interpreter does.

use super::builtins::{Exit, enter};
use super::call::{ValRaw, raw_to_slots};
use crate::prelude::*;
use crate::runtime::gc_ops::{self, TypeSpace};
use crate::runtime::store_data::StoreInner;
use kiln_environ::{CompositeType, TrapCode, ValType};

/// The calling instance's module, kept alive while the builtin runs.
fn module_of<T>(store: &StoreInner<T>, instance: u32) -> crate::Module {
    store.opaque.instance(instance).module.clone()
}

/// The slot-form value (a `v128` as one `u128`) of each `ValRaw` in `raw`,
/// typed by `tys` (packed storage types are `i32`s here).
fn raw_values(tys: &[ValType], raw: &[ValRaw]) -> Vec<u128> {
    let slots_len = tys
        .iter()
        .map(|&t| if t == ValType::V128 { 2 } else { 1 })
        .sum();
    let mut slots = vec![0u64; slots_len];
    raw_to_slots(tys, raw, &mut slots);
    let mut out = Vec::with_capacity(tys.len());
    let mut at = 0;
    for &t in tys {
        if t == ValType::V128 {
            out.push(u128::from(slots[at]) | (u128::from(slots[at + 1]) << 64));
            at += 2;
        } else {
            out.push(u128::from(slots[at]));
            at += 1;
        }
    }
    out
}

fn trap(code: TrapCode) -> Exit {
    Exit::Trap(code)
}

/// Collects first if an allocation of `size` bytes wants it; the values
/// in `vals` whose `traced` flag is set are references the builtin holds
/// (decoded from compiled code's buffer, stored into the new object
/// after allocating), so they are roots, rewritten if their objects
/// move.
fn make_room<T>(
    store: &mut StoreInner<T>,
    size: Option<u32>,
    vals: &mut [u128],
    traced: &[bool],
) -> Result<(), Exit> {
    let Some(size) = size else {
        return Ok(());
    };
    let room = store.gc_make_room(size, &mut |visit| {
        for (v, &t) in vals.iter_mut().zip(traced.iter().cycle()) {
            if t {
                let mut r = *v as u32;
                visit(&mut r);
                *v = u128::from(r);
            }
        }
    });
    if room {
        Ok(())
    } else {
        Err(trap(TrapCode::GcHeapOutOfMemory))
    }
}

pub(super) unsafe extern "C" fn gc_struct_new<T>(
    vmctx: *mut u8,
    ty: u32,
    fields: *const ValRaw,
) -> u64 {
    let work = move |store: &mut StoreInner<T>, instance: u32| -> Result<u64, Exit> {
        let module = module_of(store, instance);
        let types = TypeSpace::of(&module);
        let CompositeType::Struct(s) = &types.module.types[ty as usize].composite else {
            return Err(trap(TrapCode::UnreachableCodeReached));
        };
        let mut values = if fields.is_null() {
            None
        } else {
            let tys: Vec<ValType> = s.fields.iter().map(|f| f.storage.unpacked()).collect();
            // SAFETY: compiled code passes one `ValRaw` per field.
            let raw = unsafe { core::slice::from_raw_parts(fields, tys.len()) };
            Some(raw_values(&tys, raw))
        };
        let traced: Vec<bool> = s.fields.iter().map(|f| f.storage.is_traced()).collect();
        let size = kiln_environ::gc_layout::StructLayout::of(s).size;
        make_room(
            store,
            Some(size),
            values.as_deref_mut().unwrap_or(&mut []),
            &traced,
        )?;
        let obj = gc_ops::struct_new(&mut store.opaque.gc_heap, &types, ty, values.as_deref())
            .map_err(trap)?;
        Ok(u64::from(obj))
    };
    // SAFETY: compiled code calls builtins with its own `VMContext`, while
    // its store runs wasm; the stub frames in between own nothing.
    unsafe { enter(vmctx, work) }
}

/// The value type an array type's elements are read and written as.
fn array_value_type(types: &TypeSpace<'_>, ty: u32) -> ValType {
    match &types.module.types[ty as usize].composite {
        CompositeType::Array(a) => a.element.storage.unpacked(),
        _ => ValType::I32,
    }
}

pub(super) unsafe extern "C" fn gc_array_new<T>(
    vmctx: *mut u8,
    ty: u32,
    values: *const ValRaw,
    count: u32,
    len: u32,
) -> u64 {
    let work = move |store: &mut StoreInner<T>, instance: u32| -> Result<u64, Exit> {
        let module = module_of(store, instance);
        let types = TypeSpace::of(&module);
        let tys = vec![array_value_type(&types, ty); count as usize];
        // Compiled code may pass a null pointer for no values, which is
        // not a valid slice.
        let raw: &[ValRaw] = if count == 0 {
            &[]
        } else {
            // SAFETY: compiled code passes `count` `ValRaw`s.
            unsafe { core::slice::from_raw_parts(values, count as usize) }
        };
        let mut vals = raw_values(&tys, raw);
        let kind = types.array_kind(ty).map_err(trap)?;
        let traced = match &types.module.types[ty as usize].composite {
            CompositeType::Array(a) => a.element.storage.is_traced(),
            _ => false,
        };
        let size = kiln_environ::gc_layout::array_size(kind, len);
        make_room(store, size, &mut vals, &[traced])?;
        let arr =
            gc_ops::array_new(&mut store.opaque.gc_heap, &types, ty, &vals, len).map_err(trap)?;
        Ok(u64::from(arr))
    };
    // SAFETY: as for `gc_struct_new`.
    unsafe { enter(vmctx, work) }
}

pub(super) unsafe extern "C" fn gc_array_new_segment<T>(
    vmctx: *mut u8,
    ty: u32,
    seg: u32,
    src: u32,
    len: u32,
) -> u64 {
    let work = move |store: &mut StoreInner<T>, instance: u32| -> Result<u64, Exit> {
        let module = module_of(store, instance);
        let types = TypeSpace::of(&module);
        let kind = types.array_kind(ty).map_err(trap)?;
        // A bad range traps before anything is allocated. Collect before
        // reading the segment: its items are roots, the values read from
        // it are not.
        gc_ops::check_segment(&store.opaque, instance, seg, src, len, kind).map_err(trap)?;
        make_room(
            store,
            kiln_environ::gc_layout::array_size(kind, len),
            &mut [],
            &[],
        )?;
        let vals =
            gc_ops::segment_values(&store.opaque, instance, seg, src, len, kind).map_err(trap)?;
        let arr =
            gc_ops::array_new(&mut store.opaque.gc_heap, &types, ty, &[], len).map_err(trap)?;
        gc_ops::array_write(&mut store.opaque.gc_heap, kind, u64::from(arr), 0, &vals)
            .map_err(trap)?;
        Ok(u64::from(arr))
    };
    // SAFETY: as for `gc_struct_new`.
    unsafe { enter(vmctx, work) }
}

pub(super) unsafe extern "C" fn gc_array_fill<T>(
    vmctx: *mut u8,
    ty: u32,
    arr: u64,
    index: u32,
    value: *const ValRaw,
    len: u32,
) {
    let work = move |store: &mut StoreInner<T>, instance: u32| -> Result<(), Exit> {
        let module = module_of(store, instance);
        let types = TypeSpace::of(&module);
        let kind = types.array_kind(ty).map_err(trap)?;
        // SAFETY: compiled code passes one `ValRaw`.
        let raw = unsafe { core::slice::from_raw_parts(value, 1) };
        let v = raw_values(&[array_value_type(&types, ty)], raw)[0];
        gc_ops::array_fill(&mut store.opaque.gc_heap, kind, arr, index, v, len).map_err(trap)
    };
    // SAFETY: as for `gc_struct_new`.
    unsafe { enter(vmctx, work) }
}

pub(super) unsafe extern "C" fn gc_array_copy<T>(
    vmctx: *mut u8,
    ty: u32,
    dst: u64,
    di: u32,
    src: u64,
    si: u32,
    len: u32,
) {
    let work = move |store: &mut StoreInner<T>, instance: u32| -> Result<(), Exit> {
        let module = module_of(store, instance);
        let types = TypeSpace::of(&module);
        let kind = types.array_kind(ty).map_err(trap)?;
        gc_ops::array_copy(&mut store.opaque.gc_heap, kind, dst, di, src, si, len).map_err(trap)
    };
    // SAFETY: as for `gc_struct_new`.
    unsafe { enter(vmctx, work) }
}

pub(super) unsafe extern "C" fn gc_array_init_segment<T>(
    vmctx: *mut u8,
    ty: u32,
    seg: u32,
    arr: u64,
    index: u32,
    src: u32,
    len: u32,
) {
    let work = move |store: &mut StoreInner<T>, instance: u32| -> Result<(), Exit> {
        let module = module_of(store, instance);
        let types = TypeSpace::of(&module);
        let kind = types.array_kind(ty).map_err(trap)?;
        // The array's range is checked before the segment's, as the
        // interpreter does: a null or short array traps first.
        gc_ops::elems(&store.opaque.gc_heap, arr, index, len, kind).map_err(trap)?;
        let vals =
            gc_ops::segment_values(&store.opaque, instance, seg, src, len, kind).map_err(trap)?;
        gc_ops::array_write(&mut store.opaque.gc_heap, kind, arr, index, &vals).map_err(trap)
    };
    // SAFETY: as for `gc_struct_new`.
    unsafe { enter(vmctx, work) }
}

pub(super) unsafe extern "C" fn gc_ref_test<T>(
    vmctx: *mut u8,
    r: u64,
    target: u32,
    flags: u32,
) -> u32 {
    let work = move |store: &mut StoreInner<T>, instance: u32| -> Result<u32, Exit> {
        let module = module_of(store, instance);
        let types = TypeSpace::of(&module);
        Ok(u32::from(gc_ops::ref_test(
            &store.opaque,
            &types,
            r,
            target,
            flags,
        )))
    };
    // SAFETY: as for `gc_struct_new`.
    unsafe { enter(vmctx, work) }
}

pub(super) unsafe extern "C" fn gc_remember<T>(vmctx: *mut u8, obj: u64, field: u32) {
    let work = move |store: &mut StoreInner<T>, _: u32| -> Result<(), Exit> {
        store.opaque.gc_heap.remember_store(obj as u32, field);
        Ok(())
    };
    // SAFETY: as for `gc_struct_new`.
    unsafe { enter(vmctx, work) }
}
