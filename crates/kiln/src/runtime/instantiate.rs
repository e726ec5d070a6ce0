//! Instantiation, following the spec (WebAssembly 2.0): check imports,
//! allocate the instance's entities, evaluate initializers, apply active
//! element and data segments in order, run the start function.

use super::const_eval::{ConstEnv, eval, eval_offset};
use super::native::vmctx::{self, IndexSpaces, VmCtx};
use super::owned::Owned;
use super::store_data::{FuncKind, InstanceData, NativeEntry, StoreInner, StoreOpaque};
use crate::Engine;
use crate::externals::Extern;
use crate::module::Module;
use crate::prelude::*;
use crate::trap::Trap;
use alloc::sync::Arc;
use anyhow::{Result, bail};
use kiln_environ::vm::{VmFuncKind, VmInstance};
use kiln_environ::{DataSegmentKind, ElemItems, ElemSegmentKind, EntityType, Import, TrapCode};

/// Instantiates `module` in `store` with `imports` (in import order);
/// returns the store index of the new instance.
///
/// On failure after allocation (a segment out of bounds, a trapping start
/// function) the partly initialized instance stays in the store, unreachable
/// except through references it already wrote into imported tables, as the
/// spec requires.
pub(crate) fn instantiate<T>(
    store: &mut StoreInner<T>,
    module: &Module,
    imports: &[Extern],
) -> Result<u32> {
    let t = module.translation();
    if !Engine::same(module.engine(), &store.opaque.engine) {
        bail!(
            "cross-engine instantiation is not supported: the module and the store belong to different engines"
        );
    }
    if imports.len() != t.imports.len() {
        bail!(
            "expected {} imports, found {}",
            t.imports.len(),
            imports.len()
        );
    }

    // Index spaces, as store indices; imports first.
    let mut funcs = Vec::with_capacity(t.functions.len());
    let mut tables = Vec::with_capacity(t.tables.len());
    let mut memories = Vec::with_capacity(t.memories.len());
    let mut globals = Vec::with_capacity(t.globals.len());
    let mut tags = Vec::with_capacity(t.tags.len());
    for (import, item) in t.imports.iter().zip(imports) {
        if item.store_id() != store.opaque.id {
            bail!(
                "import `{}::{}` belongs to a different store",
                import.module,
                import.field
            );
        }
        check_import(&store.opaque, module, import, item)?;
        match item {
            Extern::Func(f) => {
                // A loader's host function created before any module with
                // its signature was loaded has no trampoline yet: this
                // module has one for the import's type.
                if let Some(code) = &module.inner.native {
                    let ty = t.functions[funcs.len()];
                    if let Some(addr) = code.wasm_to_array(ty) {
                        store.opaque.fill_missing_trampoline(f.index, addr);
                    }
                }
                funcs.push(f.index)
            }
            Extern::Table(x) => tables.push(x.index),
            Extern::Memory(m) => memories.push(m.index),
            Extern::Global(g) => globals.push(g.index),
            Extern::Tag(x) => tags.push(x.index),
        }
    }
    // Each defined tag is a new identity.
    for &ty in &t.tags[t.num_imported_tags as usize..] {
        tags.push(store.opaque.push_tag(module.func_type_at(ty)));
    }

    // The instance record comes first: its functions point at it.
    let instance_index = u32::try_from(store.opaque.instances.len()).expect("too many instances");
    // Code allocates without the runtime on its fast paths: the collector
    // must know every struct and array type of the module beforehand.
    for (ty, &id) in t.types.iter().zip(module.inner.sigs.iter()) {
        if ty.as_func().is_none() {
            store.opaque.gc_heap.know_type(id);
        }
    }
    let mut vm = Owned::new(VmInstance {
        // The interpreter's code for the module; the instance keeps the
        // module (and so the code) alive.
        code: Arc::as_ptr(&module.inner.code).cast(),
        memories: Box::new([]),
        tables: Box::new([]),
        globals: Box::new([]),
        funcs: Box::new([]),
        sigs: module.inner.sigs.clone(),
        tags: tags.clone().into_boxed_slice(),
        datas: Box::new([]),
        elems: Box::new([]),
        id: instance_index,
        gc_heap: store.opaque.gc_heap.vm_ptr(),
    });
    let instance_ptr = vm.as_ptr().cast_const();
    // Native code: the instance's `VMContext` exists (zeroed) before its
    // functions, whose funcref records point at it.
    let mut vmctx = module.inner.native.as_ref().map(|code| {
        VmCtx::new(
            &code.offsets,
            store.opaque.native_store_ptr(),
            instance_index,
        )
    });

    // Each function type once, not once per function.
    let slots: Vec<_> = module
        .inner
        .types
        .iter()
        .zip(module.inner.sigs.iter())
        .map(|(ty, &sig)| ty.as_ref().map(|ty| store.opaque.register_type(ty, sig)))
        .collect();
    for (defined_index, body) in t.bodies.iter().enumerate() {
        let sig = module.inner.sigs[body.type_index as usize];
        let func = store.opaque.push_func(
            sig,
            slots[body.type_index as usize].expect("a function's type is a function type"),
            VmFuncKind::Wasm {
                instance: instance_ptr,
                defined_index: defined_index as u32,
            },
            FuncKind::Wasm,
        );
        if let (Some(code), Some(vmctx)) = (&module.inner.native, &vmctx) {
            let defined = defined_index as u32;
            store.opaque.set_native_entry(
                func,
                NativeEntry {
                    wasm_call: code.wasm_call(defined),
                    array_call: code.array_call(defined),
                    vmctx: vmctx.as_ptr() as usize,
                },
            );
        }
        funcs.push(func);
    }

    for (i, init) in t.global_inits.iter().enumerate() {
        let ty = module.canonical_global(t.globals[t.num_imported_globals as usize + i]);
        let env = ConstEnv {
            globals: &globals,
            funcs: &funcs,
            module: t,
            type_ids: &module.inner.sigs,
        };
        let bits = eval(&mut store.opaque, &env, init)?;
        globals.push(store.opaque.push_global(ty, bits));
    }

    for (i, init) in t.table_inits.iter().enumerate() {
        let ty = module.canonical_table(t.tables[t.num_imported_tables as usize + i]);
        let init = match init {
            Some(expr) => {
                let env = ConstEnv {
                    globals: &globals,
                    funcs: &funcs,
                    module: t,
                    type_ids: &module.inner.sigs,
                };
                eval(&mut store.opaque, &env, expr)? as u64
            }
            None => 0,
        };
        tables.push(store.new_table(ty, init)?);
    }

    for ty in &t.memories[t.num_imported_memories as usize..] {
        memories.push(store.new_memory(*ty)?);
    }

    // Every element segment's items are evaluated before any is applied.
    let mut elems = Vec::with_capacity(t.elems.len());
    for seg in &t.elems {
        let items: Box<[u64]> = match &seg.items {
            ElemItems::Functions(indices) => indices
                .iter()
                .map(|&f| store.opaque.func_bits(funcs[f as usize]))
                .collect(),
            ElemItems::Expressions(exprs) => {
                let env = ConstEnv {
                    globals: &globals,
                    funcs: &funcs,
                    module: t,
                    type_ids: &module.inner.sigs,
                };
                exprs
                    .iter()
                    .map(|e| eval(&mut store.opaque, &env, e).map(|bits| bits as u64))
                    .collect::<Result<_>>()?
            }
        };
        elems.push(items);
    }

    let datas = t
        .datas
        .iter()
        .map(|d| {
            let bytes = &t.wasm[d.data.clone()];
            (bytes.as_ptr(), bytes.len())
        })
        .collect();

    {
        let v = vm.get_mut();
        v.memories = memories
            .iter()
            .map(|&m| store.opaque.memory_ptr(m))
            .collect();
        v.tables = tables.iter().map(|&x| store.opaque.table_ptr(x)).collect();
        v.globals = globals
            .iter()
            .map(|&g| store.opaque.global_ptr(g))
            .collect();
        v.funcs = funcs.iter().map(|&f| store.opaque.func_ptr(f)).collect();
        v.datas = datas;
        v.elems = elems.into_boxed_slice();
    }
    if let (Some(code), Some(vmctx)) = (&module.inner.native, &mut vmctx) {
        let spaces = IndexSpaces {
            funcs: &funcs,
            tables: &tables,
            memories: &memories,
            globals: &globals,
        };
        vmctx::fill(
            vmctx,
            &code.offsets,
            &store.opaque,
            &module.inner.sigs,
            t.num_imported_funcs,
            &spaces,
        )?;
        vmctx.set(code.offsets.vmctx_tier_table(), code.tier_table());
    }
    store.opaque.push_instance(InstanceData {
        vm,
        _vmctx: vmctx,
        module: module.clone(),
        funcs: funcs.into_boxed_slice(),
        tables: tables.into_boxed_slice(),
        memories: memories.into_boxed_slice(),
        globals: globals.into_boxed_slice(),
        tags: tags.into_boxed_slice(),
    });

    apply_elem_segments(&mut store.opaque, module, instance_index)?;
    apply_data_segments(&mut store.opaque, module, instance_index)?;

    if let Some(start) = t.start {
        let func = store.opaque.instance(instance_index).funcs[start as usize];
        store.call_func(func, &mut [0u64; 1])?;
    }
    Ok(instance_index)
}

fn oob(code: TrapCode) -> anyhow::Error {
    anyhow::Error::new(Trap::new(code, Vec::new()))
}

/// Copies each active element segment into its table, in order, then drops
/// it (and every declared segment).
fn apply_elem_segments(store: &mut StoreOpaque, module: &Module, instance: u32) -> Result<()> {
    let t = module.translation();
    for (i, seg) in t.elems.iter().enumerate() {
        match &seg.kind {
            ElemSegmentKind::Passive => {}
            ElemSegmentKind::Declared => {
                store.instance_mut(instance).vm.get_mut().elems[i] = Box::new([]);
            }
            ElemSegmentKind::Active { table, offset } => {
                let data = store.instance(instance);
                let env = ConstEnv {
                    globals: &data.globals,
                    funcs: &data.funcs,
                    module: t,
                    type_ids: &[],
                };
                let offset = eval_offset(store, &env, offset)? as u64;
                let table = data.tables[*table as usize];
                let items =
                    core::mem::take(&mut store.instance_mut(instance).vm.get_mut().elems[i]);
                let dst = store.table_mut(table).elems_mut();
                let Some(dst) = usize::try_from(offset)
                    .ok()
                    .and_then(|start| dst.get_mut(start..start.checked_add(items.len())?))
                else {
                    return Err(oob(TrapCode::TableOutOfBounds));
                };
                dst.copy_from_slice(&items);
            }
        }
    }
    Ok(())
}

/// Copies each active data segment into its memory, in order, then drops it.
///
/// A native module may carry a copy-on-write image of a defined memory's
/// segments (`native/image.rs`): it is mapped where that memory's first
/// segment would be copied, and the memory's segments are then skipped.
/// Images exist only when none of their segments can trap, so the order of
/// effects (and any trap from another memory's segment before it) is the
/// same as copying.
fn apply_data_segments(store: &mut StoreOpaque, module: &Module, instance: u32) -> Result<()> {
    let t = module.translation();
    let images = module.inner.native.as_ref().map(|n| &n.images[..]);
    let image_of = |memory: u32| {
        let defined = memory.checked_sub(t.num_imported_memories)?;
        images?.get(defined as usize)?.as_ref()
    };
    // Memories whose image is mapped: their segments are already in place.
    let mut mapped = Vec::new();
    for (i, seg) in t.datas.iter().enumerate() {
        let DataSegmentKind::Active { memory, offset } = &seg.kind else {
            continue;
        };
        let data = store.instance(instance);
        let store_memory = data.memories[*memory as usize];
        if !mapped.contains(memory)
            && let Some(image) = image_of(*memory)
            && store.memory_mut(store_memory).map_image(image)
        {
            mapped.push(*memory);
        }
        if mapped.contains(memory) {
            store.instance_mut(instance).vm.get_mut().datas[i].1 = 0;
            continue;
        }
        let data = store.instance(instance);
        let env = ConstEnv {
            globals: &data.globals,
            funcs: &data.funcs,
            module: t,
            type_ids: &[],
        };
        let offset = eval_offset(store, &env, offset)? as u64;
        let bytes = t.data_bytes(i as u32);
        let dst = store.memory_mut(store_memory).data_mut();
        let Some(dst) = usize::try_from(offset)
            .ok()
            .and_then(|start| dst.get_mut(start..start.checked_add(bytes.len())?))
        else {
            return Err(oob(TrapCode::MemoryOutOfBounds));
        };
        dst.copy_from_slice(bytes);
        let datas = &mut store.instance_mut(instance).vm.get_mut().datas;
        datas[i].1 = 0;
    }
    Ok(())
}

/// Errors unless `item` can satisfy `import` (spec "import matching"):
/// equal function types (without the GC proposal function types have no
/// declared supertypes), equal table element types and limits subtyping
/// for tables and memories using their current sizes, and for globals a
/// subtype of an immutable global's type or exactly a mutable one's. The
/// module's types are compared in the engine's canonical form.
fn check_import(
    store: &StoreOpaque,
    module: &Module,
    import: &Import,
    item: &Extern,
) -> Result<()> {
    let ok = match (&import.ty, item) {
        (EntityType::Func(idx), Extern::Func(f)) => {
            // A function of a declared subtype of the wanted type will do.
            let have = store.func_type(f.index).id();
            kiln_environ::SubtypeOracle::is_subtype(
                &store.engine,
                have,
                module.inner.sigs[*idx as usize],
            )
        }
        (EntityType::Table(want), Extern::Table(t)) => {
            let want = module.canonical_table(*want);
            let have = store.table(t.index).current_type();
            want.element == have.element
                && want.table64 == have.table64
                && limits_match(want.minimum, want.maximum, have.minimum, have.maximum)
        }
        (EntityType::Memory(want), Extern::Memory(m)) => {
            let have = store.memory(m.index).current_type();
            want.memory64 == have.memory64
                && want.shared == have.shared
                && want.page_size_log2 == have.page_size_log2
                && limits_match(want.minimum, want.maximum, have.minimum, have.maximum)
        }
        (EntityType::Tag(want), Extern::Tag(x)) => {
            store.tag_type(x.index).id() == module.inner.sigs[*want as usize]
        }
        (EntityType::Global(want), Extern::Global(g)) => {
            let want = module.canonical_global(*want);
            let have = store.global(g.index).ty;
            want.mutable == have.mutable
                && if want.mutable {
                    want.content == have.content
                } else {
                    have.content.matches(want.content, &store.engine)
                }
        }
        _ => false,
    };
    if !ok {
        let actual = item.ty_in(store);
        let expected = module.entity_type_of(&import.ty);
        bail!(
            "incompatible import type for `{}::{}`: expected {expected}, found {actual}",
            import.module,
            import.field
        );
    }
    Ok(())
}

fn limits_match(
    want_min: u64,
    want_max: Option<u64>,
    have_min: u64,
    have_max: Option<u64>,
) -> bool {
    have_min >= want_min
        && match want_max {
            None => true,
            Some(want_max) => have_max.is_some_and(|have_max| have_max <= want_max),
        }
}

#[cfg(test)]
mod tests {
    use super::limits_match;

    #[test]
    fn limits_subtyping() {
        // (have_min >= want_min) and, when a maximum is required, one at
        // most that large is present.
        assert!(limits_match(1, None, 1, None));
        assert!(limits_match(1, None, 2, Some(3)));
        assert!(!limits_match(2, None, 1, None));
        assert!(limits_match(1, Some(4), 1, Some(4)));
        assert!(limits_match(1, Some(4), 2, Some(3)));
        assert!(!limits_match(1, Some(4), 1, None));
        assert!(!limits_match(1, Some(4), 1, Some(5)));
    }
}
