//! A very large module: Cranelift's code generator with all of its backends
//! (x86_64, AArch64, RISC-V, s390x, Pulley). Measures compile time of a
//! big module and start-up; the run itself is short: it builds one small
//! function in Cranelift IR (a loop, a jump table, memory traffic, a call)
//! and compiles it for every backend, without executing the result.
//!
//! Self-check: the IR verifier runs on every compile, each backend must
//! produce non-empty code, a second compile must give identical bytes, and
//! the checksum over all machine code must match the recorded constant.

use cranelift_codegen::Context;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    AbiParam, ExtFuncData, ExternalName, Function, InstBuilder, JumpTableData, MemFlagsData,
    Signature, UserExternalName, UserFuncName, types,
};
use cranelift_codegen::isa::{self, TargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use kiln_bench_programs::{Checksum, check, fail, finish};
use std::sync::Arc;

const NAME: &str = "large_cranelift";
const TARGETS: &[&str] = &[
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "riscv64gc-unknown-linux-gnu",
    "s390x-unknown-linux-gnu",
    "pulley64",
];
const EXPECTED: u64 = 0xc5840944e8a66787;

fn make_isa(target: &str) -> Arc<dyn TargetIsa> {
    let mut flags = settings::builder();
    let set = |f: &mut settings::Builder, k: &str, v: &str| {
        f.set(k, v)
            .unwrap_or_else(|e| fail(NAME, &format!("setting {k}={v}: {e}")));
    };
    set(&mut flags, "opt_level", "speed");
    set(&mut flags, "enable_verifier", "true");
    let builder =
        isa::lookup_by_name(target).unwrap_or_else(|e| fail(NAME, &format!("{target}: {e}")));
    builder
        .finish(settings::Flags::new(flags))
        .unwrap_or_else(|e| fail(NAME, &format!("{target}: {e}")))
}

/// Builds `fn(ptr: i64, n: i64) -> i64` that walks `n` 64-bit words at
/// `ptr`, transforming each through a four-way jump table and calling an
/// external helper every iteration.
fn build_function(isa: &dyn TargetIsa) -> Function {
    let call_conv = isa.default_call_conv();
    let mut sig = Signature::new(call_conv);
    sig.params.push(AbiParam::new(types::I64));
    sig.params.push(AbiParam::new(types::I64));
    sig.returns.push(AbiParam::new(types::I64));
    let mut func = Function::with_name_signature(UserFuncName::user(0, 0), sig);

    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut fctx);

    let mut helper_sig = Signature::new(call_conv);
    helper_sig.params.push(AbiParam::new(types::I64));
    helper_sig.returns.push(AbiParam::new(types::I64));
    let helper_sig = b.import_signature(helper_sig);
    let helper_name = b
        .func
        .declare_imported_user_function(UserExternalName::new(0, 1));
    let helper = b.import_function(ExtFuncData {
        name: ExternalName::user(helper_name),
        signature: helper_sig,
        colocated: true,
        patchable: false,
    });

    let entry = b.create_block();
    let header = b.create_block();
    let body = b.create_block();
    let cases: Vec<_> = (0..4).map(|_| b.create_block()).collect();
    let join = b.create_block();
    let exit = b.create_block();

    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let ptr = b.block_params(entry)[0];
    let n = b.block_params(entry)[1];
    let i = b.declare_var(types::I64);
    let acc = b.declare_var(types::I64);
    let word = b.declare_var(types::I64);
    let zero = b.ins().iconst(types::I64, 0);
    b.def_var(i, zero);
    let seed = b.ins().iconst(types::I64, 0x9e37_79b9);
    b.def_var(acc, seed);
    b.ins().jump(header, &[]);

    b.switch_to_block(header);
    let iv = b.use_var(i);
    let more = b.ins().icmp(IntCC::SignedLessThan, iv, n);
    b.ins().brif(more, body, &[], exit, &[]);

    b.switch_to_block(body);
    let iv = b.use_var(i);
    let offset = b.ins().ishl_imm_u(iv, 3);
    let addr = b.ins().iadd(ptr, offset);
    let loaded = b.ins().load(types::I64, MemFlagsData::trusted(), addr, 0);
    b.def_var(word, loaded);
    let selector = b.ins().band_imm_u(loaded, 3);
    let selector = b.ins().ireduce(types::I32, selector);
    let default = b.func.dfg.block_call(join, &[]);
    let targets: Vec<_> = cases
        .iter()
        .map(|&c| b.func.dfg.block_call(c, &[]))
        .collect();
    let table = b.create_jump_table(JumpTableData::new(default, &targets));
    b.ins().br_table(selector, table);

    for (k, &case) in cases.iter().enumerate() {
        b.switch_to_block(case);
        let w = b.use_var(word);
        let a = b.use_var(acc);
        let mixed = match k {
            0 => {
                let t = b.ins().imul_imm_u(w, 0x5851_f42d);
                b.ins().iadd(a, t)
            }
            1 => {
                let t = b.ins().rotl_imm_u(a, 13);
                b.ins().bxor(t, w)
            }
            2 => {
                let t = b.ins().ushr_imm_u(w, 7);
                let u = b.ins().isub(a, t);
                b.ins().smax(u, w)
            }
            _ => {
                let called = b.ins().call(helper, &[w]);
                let r = b.inst_results(called)[0];
                b.ins().iadd(a, r)
            }
        };
        b.def_var(acc, mixed);
        b.ins().store(MemFlagsData::trusted(), mixed, addr, 0);
        b.ins().jump(join, &[]);
    }

    b.switch_to_block(join);
    let iv = b.use_var(i);
    let next = b.ins().iadd_imm_s(iv, 1);
    b.def_var(i, next);
    b.ins().jump(header, &[]);

    b.switch_to_block(exit);
    let result = b.use_var(acc);
    b.ins().return_(&[result]);

    b.seal_all_blocks();
    b.finalize(isa.frontend_config());
    func
}

fn compile(isa: &dyn TargetIsa) -> Vec<u8> {
    let mut ctx = Context::for_function(build_function(isa));
    match ctx.compile(isa, &mut ControlPlane::default()) {
        Ok(code) => code.code_buffer().to_vec(),
        Err(e) => fail(NAME, &format!("{}: {:?}", isa.triple(), e.inner)),
    }
}

fn main() {
    let mut sum = Checksum::new();
    for &target in TARGETS {
        let isa = make_isa(target);
        let code = compile(&*isa);
        check(NAME, !code.is_empty(), || format!("{target}: no code"));
        let again = compile(&*isa);
        check(NAME, code == again, || {
            format!("{target}: second compile differs")
        });
        sum.bytes(&code);
    }
    finish(NAME, sum.finish(), EXPECTED);
}
