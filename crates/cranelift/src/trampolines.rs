//! Glue code compiled next to a module's functions.
//!
//! - **array-to-wasm** (host → wasm), one per defined function the host can
//!   reach (exported, in a table or element segment, `ref.func`'d, or the
//!   start function): `extern "C" fn(callee_vmctx, caller_vmctx, values,
//!   len)`. It reads the arguments from `values` (16-byte slots), records
//!   its frame pointer as the store's innermost wasm entry, calls the
//!   function in the wasm convention and writes the results back into the
//!   slots from slot 0.
//! - **wasm-to-array** (wasm → host), one per distinct function type of the
//!   module: a wasm-convention function that spills its arguments into a
//!   stack array of 16-byte slots, records the exit frame for backtraces
//!   and calls the host function pointer found in the callee's host
//!   context as `extern "C" fn(host_vmctx, caller_vmctx, values, len)`,
//!   then loads the results from the same slots. Arguments are never boxed.
//! - **builtin** stubs, one per builtin a module uses: they record the exit
//!   frame and tail into the runtime's function from the builtin table.
//!
//! Value slot format (`ValRaw`): each value sits at the start of its slot in
//! the target's native byte order with its own width (`i32`/`f32` take 4
//! bytes, `i64`/`f64`/references 8); a `v128` fills the slot in wasm
//! (little-endian) byte order.

use crate::translate::{
    ModuleEnv, NS_BUILTIN, NS_WASM_FUNC, builtin_signature, clif_type, stub_signature,
    wasm_signature,
};
use cranelift_codegen::ir::{
    self, AbiParam, Endianness, InstBuilder, MemFlagsData, Signature, StackSlotData, StackSlotKind,
    Value,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use kiln_environ::{Builtin, VAL_RAW_SIZE, ValType};

/// Namespace of trampoline function names (for diagnostics only).
const NS_ARRAY_TO_WASM: u32 = 2;
const NS_WASM_TO_ARRAY: u32 = 3;

/// The array calling convention's C signature:
/// `(callee_vmctx, caller_vmctx, values, len)`.
pub(crate) fn array_signature(env: &ModuleEnv<'_>) -> Signature {
    let p = env.pointer_type;
    let mut sig = Signature::new(env.host_call_conv);
    sig.params.extend([p, p, p, p].map(AbiParam::new));
    sig
}

fn slot_flags(ty: ValType) -> MemFlagsData {
    let f = MemFlagsData::trusted();
    if ty == ValType::V128 {
        f.with_endianness(Endianness::Little)
    } else {
        f
    }
}

fn load_slots(b: &mut FunctionBuilder<'_>, values: Value, tys: &[ValType]) -> Vec<Value> {
    tys.iter()
        .enumerate()
        .map(|(i, t)| {
            let off = (i as u32 * VAL_RAW_SIZE) as i32;
            b.ins().load(clif_type(*t), slot_flags(*t), values, off)
        })
        .collect()
}

fn store_slots(b: &mut FunctionBuilder<'_>, values: Value, tys: &[ValType], vals: &[Value]) {
    for (i, (t, v)) in tys.iter().zip(vals).enumerate() {
        let off = (i as u32 * VAL_RAW_SIZE) as i32;
        b.ins().store(slot_flags(*t), *v, values, off);
    }
}

fn load_ptr(env: &ModuleEnv<'_>, b: &mut FunctionBuilder<'_>, base: Value, off: u32) -> Value {
    b.ins()
        .load(env.pointer_type, MemFlagsData::trusted(), base, off as i32)
}

/// This frame's handle for the runtime's frame walks: its frame pointer,
/// or on s390x its stack pointer, where the backchain to the caller's frame
/// is stored (Cranelift's `get_frame_pointer` there loads the backchain,
/// i.e. the *caller's* handle).
fn frame_handle(env: &ModuleEnv<'_>, b: &mut FunctionBuilder<'_>) -> Value {
    if env.frame_handle_is_sp {
        b.ins().get_stack_pointer(env.pointer_type)
    } else {
        b.ins().get_frame_pointer(env.pointer_type)
    }
}

/// Stores this frame's handle and return address as the last wasm exit,
/// so the runtime can start a backtrace at the wasm frame that called out.
fn record_exit(env: &ModuleEnv<'_>, b: &mut FunctionBuilder<'_>, vmctx: Value) {
    let o = &env.offsets;
    let limits = load_ptr(env, b, vmctx, o.vmctx_runtime_limits());
    let fp = frame_handle(env, b);
    let pc = b.ins().get_return_address(env.pointer_type);
    let f = MemFlagsData::trusted();
    b.ins()
        .store(f, fp, limits, o.limits_last_wasm_exit_fp() as i32);
    b.ins()
        .store(f, pc, limits, o.limits_last_wasm_exit_pc() as i32);
}

fn start(b: &mut FunctionBuilder<'_>) -> Vec<Value> {
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    b.block_params(entry).to_vec()
}

/// The host → wasm trampoline of defined function `func_index`.
pub(crate) fn array_to_wasm(
    env: &ModuleEnv<'_>,
    func_index: u32,
    fb_ctx: &mut FunctionBuilderContext,
) -> ir::Function {
    let ty = env.module.func_type(func_index);
    let name = ir::UserFuncName::user(NS_ARRAY_TO_WASM, func_index);
    let mut func = ir::Function::with_name_signature(name, array_signature(env));
    let mut b = FunctionBuilder::new(&mut func, fb_ctx);
    let p = start(&mut b);
    let (callee_vmctx, caller_vmctx, values) = (p[0], p[1], p[2]);

    let o = &env.offsets;
    let limits = load_ptr(env, &mut b, callee_vmctx, o.vmctx_runtime_limits());
    let fp = frame_handle(env, &mut b);
    b.ins().store(
        MemFlagsData::trusted(),
        fp,
        limits,
        o.limits_last_wasm_entry_fp() as i32,
    );

    let mut args = vec![callee_vmctx, caller_vmctx];
    args.extend(load_slots(&mut b, values, &ty.params));
    let sig = b.import_signature(wasm_signature(env.pointer_type, ty));
    let callee = b
        .func
        .declare_imported_user_function(ir::UserExternalName::new(NS_WASM_FUNC, func_index));
    let fref = b.import_function(ir::ExtFuncData {
        name: ir::ExternalName::user(callee),
        signature: sig,
        colocated: true,
        patchable: false,
    });
    let call = b.ins().call(fref, &args);
    let results = b.inst_results(call).to_vec();
    store_slots(&mut b, values, &ty.results, &results);
    b.ins().return_(&[]);
    b.finalize(env.frontend_config);
    func
}

/// The wasm → host trampoline for function type `type_index`.
pub(crate) fn wasm_to_array(
    env: &ModuleEnv<'_>,
    type_index: u32,
    fb_ctx: &mut FunctionBuilderContext,
) -> ir::Function {
    let ty = env.module.signature(type_index);
    let name = ir::UserFuncName::user(NS_WASM_TO_ARRAY, type_index);
    let mut func = ir::Function::with_name_signature(name, wasm_signature(env.pointer_type, ty));
    let mut b = FunctionBuilder::new(&mut func, fb_ctx);
    let p = start(&mut b);
    let (host_ctx, caller_vmctx) = (p[0], p[1]);

    let nslots = ty.params.len().max(ty.results.len()).max(1) as u32;
    let slot = b.create_sized_stack_slot(StackSlotData::new(
        StackSlotKind::ExplicitSlot,
        nslots * VAL_RAW_SIZE,
        4, // 16-byte aligned, so a v128 slot is naturally aligned
    ));
    let values = b.ins().stack_addr(env.pointer_type, slot, 0);
    store_slots(&mut b, values, &ty.params, &p[2..]);
    record_exit(env, &mut b, caller_vmctx);

    let host_fn = load_ptr(env, &mut b, host_ctx, env.offsets.host_ctx_array_call());
    let len = b.ins().iconst(env.pointer_type, i64::from(nslots));
    let sig = b.import_signature(array_signature(env));
    b.ins()
        .call_indirect(sig, host_fn, &[host_ctx, caller_vmctx, values, len]);
    let results = load_slots(&mut b, values, &ty.results);
    b.ins().return_(&results);
    b.finalize(env.frontend_config);
    func
}

/// The stub compiled code calls for `builtin`.
pub(crate) fn builtin_stub(
    env: &ModuleEnv<'_>,
    builtin: Builtin,
    fb_ctx: &mut FunctionBuilderContext,
) -> ir::Function {
    let sig = builtin_signature(env, builtin);
    let name = ir::UserFuncName::user(NS_BUILTIN, builtin.index());
    let mut func = ir::Function::with_name_signature(name, stub_signature(env, builtin));
    let mut b = FunctionBuilder::new(&mut func, fb_ctx);
    let p = start(&mut b);
    let vmctx = p[0];
    record_exit(env, &mut b, vmctx);
    let table = load_ptr(env, &mut b, vmctx, env.offsets.vmctx_builtins());
    let ptr_size = u32::from(env.offsets.pointer_size);
    let target = load_ptr(env, &mut b, table, builtin.index() * ptr_size);
    let sig_ref = b.import_signature(sig);
    let call = b.ins().call_indirect(sig_ref, target, &p);
    let results = b.inst_results(call).to_vec();
    b.ins().return_(&results);
    b.finalize(env.frontend_config);
    func
}
