//! A tiny stand-in for the runtime: instantiates a module (imports may
//! only be host functions) with a fake `Host`, enough to exercise the
//! translator and the loop without the `kiln` crate.

#![allow(dead_code)]
// Boxes give the vm structures the stable addresses the interpreter needs.
#![allow(clippy::vec_box)]

use kiln_environ::vm::{VmFuncKind, VmFuncRef, VmGlobal, VmInstance, VmMemory, VmTable};
use kiln_environ::{
    ConstExpr, ConstOp, DataSegmentKind, ElemItems, ElemSegmentKind, EntityType, ExternKind,
    ModuleTranslation, TrapCode,
};
use kiln_interp::{
    ExecState, Host, InterpModule, Stack, TranslateConfig, Trap, TrapReason, invoke,
    translate_module,
};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// A host function: gets the host (for re-entry) and the slots.
pub type HostFn = fn(&mut TestHost, &mut [u64]) -> Result<(), Trap>;

fn ef_const(field: &str) -> Option<u64> {
    field.strip_prefix("ef")?.parse().ok()
}

fn noop(_: &mut TestHost, _: &mut [u64]) -> Result<(), Trap> {
    Ok(())
}

pub struct TestHost {
    pub state: ExecState,
    pub mem_bufs: Vec<Vec<u8>>,
    pub mem_max: Vec<Option<u64>>,
    pub table_bufs: Vec<Vec<u64>>,
    pub table_max: Vec<Option<u64>>,
    pub host_fns: Vec<HostFn>,
    /// Imports standing in for a registered module's `efN` functions
    /// (spec `table_copy`/`table_init`): they return the constant N.
    pub import_consts: Vec<Option<u64>>,
    /// A function the re-entrant host function calls back into.
    pub reentry: *const VmFuncRef,
    pub calls: u32,
    /// Exceptions raised so far: (tag id, payload); `exnref` bits are the
    /// index plus one. Never freed: the harness runs short scripts.
    pub exceptions: Vec<(u32, Vec<u64>)>,
}

impl Host for TestHost {
    fn exec_state(&mut self) -> &mut ExecState {
        &mut self.state
    }

    fn call_host(
        &mut self,
        id: u32,
        _caller: *const VmInstance,
        slots: &mut [u64],
    ) -> Result<(), Trap> {
        self.calls += 1;
        if let Some(v) = self.import_consts[id as usize] {
            slots[0] = v;
            return Ok(());
        }
        let f = self.host_fns[id as usize];
        f(self, slots)
    }

    fn memory_grow(
        &mut self,
        memory: *mut VmMemory,
        delta_pages: u64,
    ) -> Result<Option<u64>, Trap> {
        let id = unsafe { (*memory).id } as usize;
        let old = self.mem_bufs[id].len() as u64 / 65536;
        let new = old + delta_pages;
        if new > self.mem_max[id].unwrap_or(65536).min(65536) {
            return Ok(None);
        }
        self.mem_bufs[id].resize(new as usize * 65536, 0);
        unsafe {
            (*memory).base = self.mem_bufs[id].as_mut_ptr();
            (*memory).len = self.mem_bufs[id].len();
        }
        Ok(Some(old))
    }

    fn table_grow(
        &mut self,
        table: *mut VmTable,
        delta: u64,
        init: u64,
    ) -> Result<Option<u64>, Trap> {
        let id = unsafe { (*table).id } as usize;
        let old = self.table_bufs[id].len() as u64;
        let Some(new) = old.checked_add(delta) else {
            return Ok(None);
        };
        if new > self.table_max[id].unwrap_or(10_000_000).min(10_000_000) {
            return Ok(None);
        }
        self.table_bufs[id].resize(new as usize, init);
        unsafe {
            (*table).base = self.table_bufs[id].as_mut_ptr();
            (*table).len = new as u32;
        }
        Ok(Some(old))
    }

    fn new_exception(&mut self, tag: u32, payload: &[u64]) -> u64 {
        self.exceptions.push((tag, payload.to_vec()));
        self.exceptions.len() as u64
    }

    fn exception_tag(&self, exn: u64) -> u32 {
        self.exceptions[exn as usize - 1].0
    }

    fn exception_payload(&self, exn: u64, dst: &mut [u64]) {
        dst.copy_from_slice(&self.exceptions[exn as usize - 1].1);
    }

    fn expose_exception(&mut self, _exn: u64) {}

    fn release_exception(&mut self, _exn: u64) {}

    // The harness gives each type index its own id, without the
    // registry's supertype chains: only equal ids match.
    fn is_subtype(&self, sub: u32, sup: u32) -> bool {
        sub == sup
    }

    fn gc_alloc(&mut self, _type_id: u32, _kind: u32, _size: u32) -> Result<u32, TrapCode> {
        // The harness's instances have no GC heap record; GC code runs
        // through the runtime's tests and `kiln wast`.
        Err(TrapCode::GcHeapOutOfMemory)
    }

    fn gc_remember(&mut self, _obj: u32, _field: u32) {
        unreachable!("the harness allocates no objects, so none is old")
    }
}

pub struct Instance {
    pub host: TestHost,
    pub translation: ModuleTranslation,
    /// The bytecode `inst.code` points at.
    pub module: Arc<InterpModule>,
    pub inst: Box<VmInstance>,
    pub funcrefs: Vec<Box<VmFuncRef>>,
    pub mems: Vec<Box<VmMemory>>,
    pub tables: Vec<Box<VmTable>>,
    pub globals: Vec<Box<VmGlobal>>,
}

fn slots_of(tys: &[kiln_environ::ValType]) -> u32 {
    tys.iter()
        .map(|&t| {
            if t == kiln_environ::ValType::V128 {
                2
            } else {
                1
            }
        })
        .sum()
}

impl Instance {
    pub fn new(wat: &str) -> Self {
        Self::with(wat, TranslateConfig::default(), 1 << 20, &[])
    }

    pub fn with(
        wat: &str,
        config: TranslateConfig,
        stack_bytes: usize,
        host_fns: &[HostFn],
    ) -> Self {
        let wasm = wat::parse_str(wat).expect("valid wat");
        Self::from_binary(&wasm, config, stack_bytes, host_fns).unwrap()
    }

    /// Instantiates a binary; imports other than host functions and the
    /// `spectest` globals/table/memory are refused.
    pub fn from_binary(
        wasm: &[u8],
        config: TranslateConfig,
        stack_bytes: usize,
        host_fns: &[HostFn],
    ) -> Result<Self, String> {
        let t = kiln_environ::translate_module(wasm, kiln_environ::default_features())
            .map_err(|e| e.to_string())?;
        let module =
            Arc::new(translate_module(&t, &config).map_err(|e| format!("translate: {e}"))?);
        for imp in &t.imports {
            let ok = match imp.ty {
                EntityType::Func(_) => {
                    imp.module == "spectest"
                        || imp.module == "env"
                        || ef_const(&imp.field).is_some()
                }
                _ => imp.module == "spectest",
            };
            if !ok {
                return Err(format!("unsupported import {}.{}", imp.module, imp.field));
            }
        }
        let mut host = TestHost {
            state: ExecState {
                suspended: Default::default(),
                stack: Stack::new(stack_bytes),
                fuel: u64::MAX,
                interrupt: Arc::new(AtomicBool::new(false)),
            },
            mem_bufs: Vec::new(),
            mem_max: Vec::new(),
            table_bufs: Vec::new(),
            table_max: Vec::new(),
            host_fns: (0..t.num_imported_funcs as usize)
                .map(|i| host_fns.get(i).copied().unwrap_or(noop as HostFn))
                .collect(),
            import_consts: t
                .imports
                .iter()
                .filter(|i| matches!(i.ty, EntityType::Func(_)))
                .map(|i| {
                    if i.module == "spectest" || i.module == "env" {
                        None
                    } else {
                        ef_const(&i.field)
                    }
                })
                .collect(),
            reentry: std::ptr::null(),
            calls: 0,
            exceptions: Vec::new(),
        };
        let sigs: Vec<u32> = t
            .types
            .iter()
            .map(|ty| t.types.iter().position(|u| u == ty).unwrap() as u32)
            .collect();
        let mut inst = Box::new(VmInstance {
            code: Arc::as_ptr(&module).cast(),
            memories: Box::new([]),
            tables: Box::new([]),
            globals: Box::new([]),
            funcs: Box::new([]),
            sigs: sigs.clone().into_boxed_slice(),
            // Tags get ids by index: the harness has one instance.
            tags: (0..t.tags.len() as u32).collect(),
            datas: Box::new([]),
            elems: Box::new([]),
            id: 7,
            gc_heap: core::ptr::null_mut(),
        });
        let inst_ptr: *const VmInstance = &*inst;
        // Functions: imports are host functions, in order.
        let mut funcrefs = Vec::new();
        for (i, &ty) in t.functions.iter().enumerate() {
            let fty = t.signature(ty);
            let kind = if (i as u32) < t.num_imported_funcs {
                VmFuncKind::Host { id: i as u32 }
            } else {
                VmFuncKind::Wasm {
                    instance: inst_ptr,
                    defined_index: i as u32 - t.num_imported_funcs,
                }
            };
            funcrefs.push(Box::new(VmFuncRef {
                wasm_call: 0,
                array_call: 0,
                vmctx: 0,
                sig: sigs[ty as usize],
                kind,
                param_slots: slots_of(&fty.params),
                result_slots: slots_of(&fty.results),
            }));
        }
        let func_ptrs: Vec<*const VmFuncRef> = funcrefs.iter().map(|f| &**f as *const _).collect();
        // Memories.
        let mut mems = Vec::new();
        for (i, m) in t.memories.iter().enumerate() {
            host.mem_bufs.push(vec![0u8; m.minimum as usize * 65536]);
            host.mem_max.push(m.maximum);
            let buf = &mut host.mem_bufs[i];
            mems.push(Box::new(VmMemory {
                base: buf.as_mut_ptr(),
                len: buf.len(),
                id: i as u32,
            }));
        }
        // Globals.
        let eval = |e: &ConstExpr, globals: &[Box<VmGlobal>]| -> u128 {
            let mut st: Vec<u128> = Vec::new();
            for op in &e.ops {
                match *op {
                    ConstOp::I32Const(v) => st.push(v as u32 as u128),
                    ConstOp::I64Const(v) => st.push(v as u64 as u128),
                    ConstOp::F32Const(v) => st.push(v as u128),
                    ConstOp::F64Const(v) => st.push(v as u128),
                    ConstOp::V128Const(v) => st.push(v),
                    ConstOp::RefNull(_) => st.push(0),
                    ConstOp::RefFunc(f) => st.push(func_ptrs[f as usize] as usize as u128),
                    ConstOp::GlobalGet(g) => {
                        let g = &globals[g as usize];
                        st.push(g.lo as u128 | ((g.hi as u128) << 64))
                    }
                    ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                        let b = st.pop().unwrap() as u32;
                        let a = st.pop().unwrap() as u32;
                        st.push(match *op {
                            ConstOp::I32Add => a.wrapping_add(b),
                            ConstOp::I32Sub => a.wrapping_sub(b),
                            _ => a.wrapping_mul(b),
                        } as u128)
                    }
                    ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                        let b = st.pop().unwrap() as u64;
                        let a = st.pop().unwrap() as u64;
                        st.push(match *op {
                            ConstOp::I64Add => a.wrapping_add(b),
                            ConstOp::I64Sub => a.wrapping_sub(b),
                            _ => a.wrapping_mul(b),
                        } as u128)
                    }
                    other => panic!("the harness has no GC heap for {other:?}"),
                }
            }
            st.pop().unwrap()
        };
        let mut globals: Vec<Box<VmGlobal>> = Vec::new();
        for imp in &t.imports {
            if let EntityType::Global(g) = imp.ty {
                let lo = match g.content {
                    kiln_environ::ValType::F32 => 666.6f32.to_bits() as u64,
                    kiln_environ::ValType::F64 => 666.6f64.to_bits(),
                    _ => 666,
                };
                globals.push(Box::new(VmGlobal { lo, hi: 0 }));
            }
        }
        for init in &t.global_inits {
            let v = eval(init, &globals);
            globals.push(Box::new(VmGlobal {
                lo: v as u64,
                hi: (v >> 64) as u64,
            }));
        }
        // Tables.
        let mut tables = Vec::new();
        for (i, tt) in t.tables.iter().enumerate() {
            let defined = i.checked_sub(t.num_imported_tables as usize);
            let init = defined
                .and_then(|d| t.table_inits.get(d).cloned().flatten())
                .map(|e| eval(&e, &globals) as u64)
                .unwrap_or(0);
            host.table_bufs.push(vec![init; tt.minimum as usize]);
            host.table_max.push(tt.maximum);
            let buf = &mut host.table_bufs[i];
            tables.push(Box::new(VmTable {
                base: buf.as_mut_ptr(),
                len: buf.len() as u32,
                id: i as u32,
            }));
        }
        // Segments.
        let mut elems: Vec<Box<[u64]>> = Vec::new();
        for seg in &t.elems {
            let items: Vec<u64> = match &seg.items {
                ElemItems::Functions(fs) => fs
                    .iter()
                    .map(|&f| func_ptrs[f as usize] as usize as u64)
                    .collect(),
                ElemItems::Expressions(es) => es.iter().map(|e| eval(e, &globals) as u64).collect(),
            };
            match &seg.kind {
                ElemSegmentKind::Active { table, offset } => {
                    let off = eval(offset, &globals) as usize;
                    host.table_bufs[*table as usize]
                        .get_mut(off..off + items.len())
                        .ok_or("elem oob")?
                        .copy_from_slice(&items);
                    elems.push(Box::new([]));
                }
                ElemSegmentKind::Declared => elems.push(Box::new([])),
                ElemSegmentKind::Passive => elems.push(items.into_boxed_slice()),
            }
        }
        let mut datas = Vec::new();
        for (i, seg) in t.datas.iter().enumerate() {
            let bytes = t.data_bytes(i as u32);
            match &seg.kind {
                DataSegmentKind::Active { memory, offset } => {
                    let off = eval(offset, &globals) as usize;
                    host.mem_bufs[*memory as usize]
                        .get_mut(off..off + bytes.len())
                        .ok_or("data oob")?
                        .copy_from_slice(bytes);
                    datas.push((bytes.as_ptr(), 0));
                }
                DataSegmentKind::Passive => datas.push((bytes.as_ptr(), bytes.len())),
            }
        }
        inst.funcs = func_ptrs.into_boxed_slice();
        inst.memories = mems.iter_mut().map(|m| &mut **m as *mut VmMemory).collect();
        inst.tables = tables
            .iter_mut()
            .map(|m| &mut **m as *mut VmTable)
            .collect();
        inst.globals = globals
            .iter_mut()
            .map(|m| &mut **m as *mut VmGlobal)
            .collect();
        inst.datas = datas.into_boxed_slice();
        inst.elems = elems.into_boxed_slice();
        let start = t.start;
        let mut i = Instance {
            host,
            translation: t,
            module,
            inst,
            funcrefs,
            mems,
            tables,
            globals,
        };
        if let Some(f) = start {
            let f = i.inst.funcs[f as usize];
            unsafe { invoke(&mut i.host, f, &mut []) }
                .map_err(|t| format!("start trapped: {t:?}"))?;
        }
        Ok(i)
    }

    pub fn has_func(&self, name: &str) -> bool {
        self.translation
            .exports
            .iter()
            .any(|e| e.name == name && e.kind == ExternKind::Func)
    }

    pub fn func(&self, name: &str) -> *const VmFuncRef {
        let e = self
            .translation
            .exports
            .iter()
            .find(|e| e.name == name && e.kind == ExternKind::Func)
            .unwrap_or_else(|| panic!("no export {name}"));
        self.inst.funcs[e.index as usize]
    }

    pub fn call(&mut self, name: &str, args: &[u64]) -> Result<Vec<u64>, Trap> {
        let f = self.func(name);
        let (p, r) = unsafe { ((*f).param_slots as usize, (*f).result_slots as usize) };
        assert_eq!(p, args.len());
        let mut slots = vec![0u64; p.max(r)];
        slots[..p].copy_from_slice(args);
        unsafe { invoke(&mut self.host, f, &mut slots) }?;
        slots.truncate(r);
        Ok(slots)
    }

    pub fn call1(&mut self, name: &str, args: &[u64]) -> u64 {
        self.call(name, args)
            .unwrap_or_else(|t| panic!("{name} trapped: {t:?}"))[0]
    }

    pub fn trap(&mut self, name: &str, args: &[u64]) -> TrapCode {
        match self.call(name, args) {
            Ok(v) => panic!("{name} returned {v:?} instead of trapping"),
            Err(Trap {
                reason: TrapReason::Wasm(c),
                ..
            }) => c,
            Err(t) => panic!("{name}: unexpected trap {t:?}"),
        }
    }

    pub fn mem(&self) -> &[u8] {
        &self.host.mem_bufs[0]
    }
}
