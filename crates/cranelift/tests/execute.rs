//! Runs compiled code on the host through the ABI of `docs/native-abi.md`,
//! with a minimal hand-built instance: a `VMContext` laid out by
//! `VMOffsets`, a runtime limits record, one memory, one table, globals,
//! an imported host function called through a wasm-to-array trampoline,
//! and entry through array-to-wasm trampolines. Only code paths that do
//! not trap run here (trapping needs the runtime's signal handler).

#![cfg(all(unix, any(target_arch = "x86_64", target_arch = "aarch64")))]

use kiln_cranelift::{CompiledModule, CraneliftCompiler, FuncKey, IsaBuilder};
use kiln_environ::{
    BoundsCheckStrategy, Builtin, Tunables, VMCONTEXT_MAGIC, VMHOST_CONTEXT_MAGIC, VMOffsets,
    default_features,
};
use rustix::mm::{MapFlags, MprotectFlags, ProtFlags, mmap_anonymous, mprotect};
use std::sync::atomic::{AtomicUsize, Ordering};

const WAT: &str = r#"
(module
  (import "host" "double" (func $double (param i32) (result i32)))
  (type $binop (func (param i32 i32) (result i32)))
  (memory 1)
  (table 4 funcref)
  (elem (i32.const 0) $add $sub)
  (global $counter (mut i32) (i32.const 0))
  (global $wide (mut i64) (i64.const 0))
  (func $add (export "add") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.add)
  (func $sub (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.sub)
  (func $fib (export "fib") (param i32) (result i32)
    local.get 0 i32.const 2 i32.lt_u
    if (result i32) local.get 0
    else
      local.get 0 i32.const 1 i32.sub call $fib
      local.get 0 i32.const 2 i32.sub call $fib
      i32.add
    end)
  (func (export "apply") (param i32 i32 i32) (result i32)
    local.get 1 local.get 2 local.get 0 call_indirect (type $binop))
  (func (export "via_host") (param i32) (result i32)
    local.get 0 call $double i32.const 1 i32.add)
  (func (export "memory") (param i32 i64) (result i64)
    local.get 0 local.get 1 i64.store offset=8
    local.get 0 i64.load offset=8
    local.get 0 i32.load8_u offset=8 i64.extend_i32_u
    i64.add)
  (func (export "count") (result i32)
    global.get $counter i32.const 1 i32.add global.set $counter
    global.get $counter)
  (func $spin (export "spin") (param i64 i64) (result i64)
    local.get 0 i64.eqz
    if (result i64) local.get 1
    else
      local.get 0 i64.const 1 i64.sub
      local.get 1 i64.const 3 i64.add
      return_call $spin
    end)
  (func (export "loop_sum") (param i32) (result i64)
    (local i64)
    block
      loop
        local.get 0 i32.eqz br_if 1
        local.get 1 local.get 0 i64.extend_i32_u i64.add local.set 1
        local.get 0 i32.const 1 i32.sub local.set 0
        br 0
      end
    end
    local.get 1)
  (func (export "grow") (param i32) (result i32)
    local.get 0 memory.grow)
  (func (export "multi") (param i32) (result i32 i64 f64)
    local.get 0 local.get 0 i64.extend_i32_s local.get 0 f64.convert_i32_s)
)"#;

#[repr(C)]
struct Memory {
    base: *mut u8,
    len: usize,
    id: u32,
}

#[repr(C)]
struct Table {
    base: *mut u64,
    len: u32,
    id: u32,
}

#[repr(C, align(16))]
#[derive(Default)]
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
struct HostCtx {
    magic: u32,
    array_call: usize,
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

type ArrayCall = unsafe extern "C" fn(*mut u8, *mut u8, *mut [u64; 2], usize);

unsafe extern "C" fn host_double(_ctx: *mut u8, _caller: *mut u8, v: *mut [u64; 2], len: usize) {
    assert!(len >= 1);
    // SAFETY: the trampoline passes `len` valid slots.
    unsafe {
        let x = (*v)[0] as u32 as i32;
        (*v)[0] = (x * 2) as u32 as u64;
    }
}

unsafe extern "C" fn memory_grow(_vmctx: *mut u8, _mem: u32, _delta: u64) -> i64 {
    // This instance's memory never grows.
    -1
}

struct Instance {
    limits: *mut Limits,
    _text: *mut u8,
    code: usize,
    vmctx: Vec<u64>,
    module: CompiledModule,
    _keep: Vec<Box<dyn std::any::Any>>,
}

impl Instance {
    fn call(&mut self, func: u32, args: &[u64], nresults: usize) -> Vec<u64> {
        let r = self.module.range_of(FuncKey::ArrayToWasm(func)).unwrap();
        // SAFETY: the image is executable and the entry is an array-to-wasm
        // trampoline of this signature.
        let f: ArrayCall = unsafe { std::mem::transmute(self.code + r.start as usize) };
        let mut slots = vec![[0u64; 2]; args.len().max(nresults).max(1)];
        for (s, a) in slots.iter_mut().zip(args) {
            s[0] = *a;
        }
        let vmctx = self.vmctx.as_mut_ptr().cast::<u8>();
        unsafe { f(vmctx, vmctx, slots.as_mut_ptr(), slots.len()) };
        slots[..nresults].iter().map(|s| s[0]).collect()
    }
}

static OUT_OF_FUEL_CALLS: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn out_of_fuel(vmctx: *mut u8) {
    OUT_OF_FUEL_CALLS.fetch_add(1, Ordering::SeqCst);
    // Refill through the VMContext, as the runtime would.
    let offsets = VMOffsets::from_counts(8, 0, 0, 0, 0, 0);
    unsafe {
        let limits = *vmctx
            .add(offsets.vmctx_runtime_limits() as usize)
            .cast::<*mut Limits>();
        (*limits).fuel = -1_000_000;
    }
}

fn instantiate(tunables: Tunables) -> Instance {
    let wasm = wat::parse_str(WAT).unwrap();
    let module = kiln_environ::translate_module(&wasm, default_features()).unwrap();
    let isa = IsaBuilder::host().verifier(true).build().unwrap();
    let compiler = CraneliftCompiler::new(isa, tunables);
    let offsets: VMOffsets = compiler.offsets(&module);
    let compiled = compiler.compile_module(&module).unwrap();

    // Map the image: writable first, then executable (never both).
    let len = compiled.text.len().next_multiple_of(1 << 16);
    let text = unsafe {
        let p = mmap_anonymous(
            std::ptr::null_mut(),
            len,
            ProtFlags::READ | ProtFlags::WRITE,
            MapFlags::PRIVATE,
        )
        .unwrap()
        .cast::<u8>();
        std::ptr::copy_nonoverlapping(compiled.text.as_ptr(), p, compiled.text.len());
        mprotect(p.cast(), len, MprotectFlags::READ | MprotectFlags::EXEC).unwrap();
        p
    };
    let code = text as usize;
    let at = |k: FuncKey| code + compiled.range_of(k).unwrap().start as usize;

    let mut keep: Vec<Box<dyn std::any::Any>> = Vec::new();
    let mut vmctx = vec![0u64; (offsets.size_of_vmctx() as usize).div_ceil(8)];
    let vm = vmctx.as_mut_ptr() as usize;
    let put = |vmctx: &mut Vec<u64>, off: u32, v: usize| vmctx[off as usize / 8] = v as u64;

    // Header.
    let here = 0u8;
    let limits = Box::new(Limits {
        // Leave 1 MiB of this thread's stack to wasm.
        stack_limit: &here as *const u8 as usize - (1 << 20),
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
    builtins[Builtin::OutOfFuel.index() as usize] = out_of_fuel as *const () as usize;
    put(
        &mut vmctx,
        offsets.vmctx_builtins(),
        builtins.as_ptr() as usize,
    );
    // Signature ids: the type index itself (wat gives equal types one index).
    let sigs: Box<[u32]> = (0..module.types.len() as u32).collect();
    put(
        &mut vmctx,
        offsets.vmctx_signature_ids(),
        sigs.as_ptr() as usize,
    );

    // The imported host function.
    let host = Box::new(HostCtx {
        magic: VMHOST_CONTEXT_MAGIC,
        array_call: host_double as *const () as usize,
    });
    let host_type = module.functions[0];
    let host_ref = Box::new(FuncRef {
        wasm_call: at(compiled.wasm_to_array[host_type as usize]),
        array_call: host_double as *const () as usize,
        vmctx: &*host as *const _ as usize,
        sig: host_type,
    });
    put(
        &mut vmctx,
        offsets.vmctx_imported_func_wasm_call(0),
        host_ref.wasm_call,
    );
    put(
        &mut vmctx,
        offsets.vmctx_imported_func_vmctx(0),
        host_ref.vmctx,
    );
    put(
        &mut vmctx,
        offsets.vmctx_imported_func_funcref(0),
        &*host_ref as *const _ as usize,
    );

    // Funcref records of the defined functions.
    let mut refs = Vec::new();
    for f in 1..module.functions.len() as u32 {
        refs.push(Box::new(FuncRef {
            wasm_call: at(FuncKey::Wasm(f)),
            array_call: compiled
                .range_of(FuncKey::ArrayToWasm(f))
                .map_or(0, |r| code + r.start as usize),
            vmctx: vm,
            sig: module.functions[f as usize],
        }));
    }
    put(
        &mut vmctx,
        offsets.vmctx_funcref(0),
        &*host_ref as *const _ as usize,
    );
    for (i, r) in refs.iter().enumerate() {
        put(
            &mut vmctx,
            offsets.vmctx_funcref(i as u32 + 1),
            &**r as *const _ as usize,
        );
    }

    // Memory, table (elements 0 and 1 are $add and $sub), globals.
    let mut bytes = vec![0u8; 1 << 16].into_boxed_slice();
    let memory = Box::new(Memory {
        base: bytes.as_mut_ptr(),
        len: bytes.len(),
        id: 0,
    });
    put(
        &mut vmctx,
        offsets.vmctx_memory(0),
        &*memory as *const _ as usize,
    );
    let mut elems = vec![0u64; 4].into_boxed_slice();
    elems[0] = &*refs[0] as *const _ as u64;
    elems[1] = &*refs[1] as *const _ as u64;
    let table = Box::new(Table {
        base: elems.as_mut_ptr(),
        len: 4,
        id: 0,
    });
    put(
        &mut vmctx,
        offsets.vmctx_table(0),
        &*table as *const _ as usize,
    );
    let globals: Vec<Box<Global>> = (0..2).map(|_| Box::default()).collect();
    for (i, g) in globals.iter().enumerate() {
        put(
            &mut vmctx,
            offsets.vmctx_global(i as u32),
            &**g as *const _ as usize,
        );
    }

    keep.push(Box::new(builtins));
    keep.push(Box::new(sigs));
    keep.push(host);
    keep.push(host_ref);
    keep.push(Box::new(refs));
    keep.push(Box::new(bytes));
    keep.push(memory);
    keep.push(Box::new(elems));
    keep.push(table);
    keep.push(Box::new(globals));
    let limits_ptr = &*limits as *const Limits as *mut Limits;
    keep.push(limits);
    Instance {
        limits: limits_ptr,
        _text: text,
        code,
        vmctx,
        module: compiled,
        _keep: keep,
    }
}

fn explicit() -> Tunables {
    Tunables {
        bounds_checks: BoundsCheckStrategy::Explicit,
        ..Tunables::default_for_pointer_size(8)
    }
}

#[test]
fn compiled_code_runs_through_the_documented_abi() {
    for t in [explicit(), Tunables::default_for_pointer_size(8)] {
        run_all(instantiate(t));
    }
}

fn run_all(mut i: Instance) {
    // Function indices: 0 is the import, then $add=1, $sub=2, $fib=3,
    // apply=4, via_host=5, memory=6, count=7, $spin=8, loop_sum=9,
    // grow=10, multi=11.
    assert_eq!(i.call(1, &[40, 2], 1), [42]);
    assert_eq!(i.call(3, &[20], 1), [6765]);
    assert_eq!(i.call(4, &[0, 7, 5], 1), [12], "call_indirect to $add");
    assert_eq!(i.call(4, &[1, 7, 5], 1), [2], "call_indirect to $sub");
    assert_eq!(i.call(5, &[20], 1), [41], "wasm → host → wasm");
    assert_eq!(i.call(6, &[100, 0x1_0000_0005], 1), [0x1_0000_000a]);
    assert_eq!(i.call(7, &[], 1), [1]);
    assert_eq!(i.call(7, &[], 1), [2]);
    // A million tail calls in 1 MiB of stack: frames are reused.
    assert_eq!(i.call(8, &[1_000_000, 0], 1), [3_000_000]);
    assert_eq!(i.call(9, &[100], 1), [5050]);
    assert_eq!(i.call(10, &[1], 1), [u32::MAX as u64], "growth refused");
    let r = i.call(11, &[(-3i32) as u32 as u64], 3);
    assert_eq!(r[0] as u32 as i32, -3);
    assert_eq!(r[1] as i64, -3);
    assert_eq!(f64::from_bits(r[2]), -3.0);
}

#[test]
fn fuel_is_charged_and_the_slow_path_refills() {
    let mut i = instantiate(Tunables {
        consume_fuel: true,
        interruptible: true,
        ..explicit()
    });
    let limits = i.limits;
    unsafe { (*limits).fuel = -1_000_000 };
    assert_eq!(i.call(9, &[100], 1), [5050]);
    let after = unsafe { (*limits).fuel };
    assert!(after > -1_000_000 && after < 0, "charged: {after}");
    assert_eq!(OUT_OF_FUEL_CALLS.load(Ordering::SeqCst), 0);

    // Too little fuel: the loop header calls the builtin, which refills.
    unsafe { (*limits).fuel = -10 };
    assert_eq!(i.call(9, &[100], 1), [5050]);
    assert!(OUT_OF_FUEL_CALLS.load(Ordering::SeqCst) >= 1);
    // The builtin stub recorded the wasm exit for backtraces.
    let exit_pc = unsafe { (*limits).exit_pc };
    let (key, _) = i
        .module
        .lookup_pc((exit_pc - i.code) as u32)
        .expect("exit pc inside the image");
    assert_eq!(key, FuncKey::Wasm(9));
    assert_ne!(unsafe { (*limits).exit_fp }, 0);
    assert_ne!(unsafe { (*limits).entry_fp }, 0);
}
