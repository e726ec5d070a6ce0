//! The compiler's checks of code compiled without signals-based traps
//! (`Tunables::signals_based_traps` off, `docs/signal-free.md`): nothing in
//! it may fault, so nothing may need the trap table.
//!
//! Two checks, before and after Cranelift:
//!
//! 1. [`violation`] reads the CLIF the translator made. Trap instructions,
//!    trapping conversions, memory accesses whose flags name a trap code
//!    and a prologue stack-limit check are all refused: the translator
//!    must have gone through its trap helpers (`translate/traps.rs`).
//! 2. [`unreachable_site`] judges each trap site Cranelift still reports.
//!    Some come from lowering and cannot be avoided in CLIF, but can be
//!    shown never to fault; any other site fails the compilation.
//!
//! The sites of the second kind, per ISA, as Cranelift 0.135.8 lowers
//! them:
//!
//! - **Integer division and remainder**, every ISA: CLIF has no
//!   non-trapping form. x86-64 and s390x divide instructions fault on a
//!   zero divisor (and x86-64's `idiv` on `MIN / -1`); aarch64 and riscv64
//!   lower explicit checks ending in a trap instruction. Signal-free code
//!   emits them only behind its own checks (`Translator::division`), so
//!   those sites are unreachable: they are dropped when the function
//!   divides.
//! - **riscv64 float-to-int conversions**: Cranelift marks every `fcvt.*`
//!   to an integer register as a `BAD_CONVERSION_TO_INTEGER` site, even
//!   for the saturating conversions signal-free code uses, but RISC-V
//!   conversions never fault (they set `fflags`). Dropped when the
//!   instruction at the site decodes as one.
//! - **riscv64 inline constants**: a 64-bit constant Cranelift cannot build
//!   from immediates is loaded from the code stream (`auipc` + load) with
//!   default flags, so the load is a `HEAP_OUT_OF_BOUNDS` site. A load
//!   relative to the pc of the `auipc` just before it reads the function's
//!   own code and cannot fault. Dropped when the two instructions decode
//!   as such a pair.
//!
//! riscv64's `atomic_load` is another such load, with no way to tell it
//! apart by decoding; signal-free code polls the interrupt flag with a
//! plain load behind a sequence point instead (`translate/mod.rs`).

use cranelift_codegen::ir::{self, Opcode, TrapCode};
use target_lexicon::Architecture;

/// Why `func` could fault in a way only a signal handler could turn into
/// a trap, or `None` if it cannot (check 1 of the module docs). Integer
/// division and remainder pass; their sites are judged after compilation.
pub(crate) fn violation(func: &ir::Function) -> Option<String> {
    if func.stack_limit.is_some() {
        return Some("a prologue stack-limit check".into());
    }
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            let data = &func.dfg.insts[inst];
            let op = data.opcode();
            if (op.can_trap() && !is_division(op)) || op == Opcode::Debugtrap {
                return Some(format!("a `{op}` instruction"));
            }
            // `bitcast` has flags too (for byte order) but touches no
            // memory. Flags that do not say otherwise name the heap trap
            // code, so a forgotten `notrap` shows up here.
            let accesses = op.can_load() || op.can_store();
            if let Some(code) = data.memflags_trap_code(&func.dfg).filter(|_| accesses) {
                return Some(format!("a `{op}` that traps with `{code}` when it faults"));
            }
        }
    }
    None
}

/// How many integer divisions and remainders `func` has.
pub(crate) fn divisions(func: &ir::Function) -> usize {
    func.layout
        .blocks()
        .flat_map(|b| func.layout.block_insts(b))
        .filter(|i| is_division(func.dfg.insts[*i].opcode()))
        .count()
}

fn is_division(op: Opcode) -> bool {
    matches!(
        op,
        Opcode::Udiv | Opcode::Sdiv | Opcode::Urem | Opcode::Srem
    )
}

/// Whether the trap site of `code` at byte `offset` of a function's
/// machine `code_bytes` (compiled for `arch`, with `divisions` divisions
/// and remainders in its CLIF) can never be reached by a fault (check 2 of
/// the module docs).
pub(crate) fn unreachable_site(
    arch: Architecture,
    code: TrapCode,
    code_bytes: &[u8],
    offset: u32,
    divisions: usize,
) -> bool {
    if divisions > 0
        && (code == TrapCode::INTEGER_DIVISION_BY_ZERO || code == TrapCode::INTEGER_OVERFLOW)
    {
        return true;
    }
    if !matches!(arch, Architecture::Riscv64(_)) {
        return false;
    }
    let word = |at: Option<u32>| -> Option<u32> {
        let at = usize::try_from(at?).ok()?;
        let bytes = code_bytes.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes(bytes.try_into().ok()?))
    };
    let Some(inst) = word(Some(offset)) else {
        return false;
    };
    if code == TrapCode::BAD_CONVERSION_TO_INTEGER {
        return riscv::is_fcvt_to_int(inst);
    }
    if code == TrapCode::HEAP_OUT_OF_BOUNDS {
        return word(offset.checked_sub(4))
            .is_some_and(|prev| riscv::is_pc_relative_load(prev, inst));
    }
    false
}

/// The few RISC-V encodings [`unreachable_site`] recognizes (RISC-V
/// unprivileged ISA, chapters on the base integer ISA and the F and D
/// extensions). All are 32-bit instructions: Cranelift emits these
/// uncompressed.
mod riscv {
    /// The major opcode (bits 0–6).
    fn opcode(inst: u32) -> u32 {
        inst & 0x7f
    }

    fn rd(inst: u32) -> u32 {
        (inst >> 7) & 0x1f
    }

    fn rs1(inst: u32) -> u32 {
        (inst >> 15) & 0x1f
    }

    /// `fcvt.{w,wu,l,lu}.{s,d}`: OP-FP (`1010011`) with funct5 `11000`
    /// (float to integer) and format `00` (S) or `01` (D).
    pub(super) fn is_fcvt_to_int(inst: u32) -> bool {
        let funct7 = inst >> 25;
        opcode(inst) == 0b101_0011 && (funct7 == 0b110_0000 || funct7 == 0b110_0001)
    }

    /// `auipc r, …` followed by a LOAD (`0000011`) or LOAD-FP (`0000111`)
    /// whose base register is `r`: a load relative to the `auipc`'s pc.
    pub(super) fn is_pc_relative_load(prev: u32, inst: u32) -> bool {
        let auipc = opcode(prev) == 0b001_0111 && rd(prev) != 0;
        let load = matches!(opcode(inst), 0b000_0011 | 0b000_0111);
        auipc && load && rs1(inst) == rd(prev)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranelift_codegen::ir::{InstBuilder, Value, types};

    #[test]
    fn riscv_encodings() {
        // fcvt.w.s a0, fa0, rtz; fcvt.lu.d a0, fa0, rtz
        assert!(riscv::is_fcvt_to_int(0xc0051553));
        assert!(riscv::is_fcvt_to_int(0xc2351553));
        // fcvt.s.w fa0, a0 (integer to float) and fadd.s are not.
        assert!(!riscv::is_fcvt_to_int(0xd0057553));
        assert!(!riscv::is_fcvt_to_int(0x00b57553));
        // auipc a0, 0; ld a0, 0(a0)
        assert!(riscv::is_pc_relative_load(0x00000517, 0x00053503));
        // auipc a0, 0; ld a0, 0(a1): another base register.
        assert!(!riscv::is_pc_relative_load(0x00000517, 0x0005b503));
        // addi a0, a0, 0; ld a0, 0(a0): no auipc.
        assert!(!riscv::is_pc_relative_load(0x00050513, 0x00053503));
        let rv = Architecture::Riscv64(target_lexicon::Riscv64Architecture::Riscv64gc);
        let code = [0x0000_0517u32, 0x0005_3503].map(u32::to_le_bytes).concat();
        assert!(unreachable_site(
            rv,
            TrapCode::HEAP_OUT_OF_BOUNDS,
            &code,
            4,
            0
        ));
        assert!(!unreachable_site(
            rv,
            TrapCode::HEAP_OUT_OF_BOUNDS,
            &code,
            0,
            0
        ));
        assert!(!unreachable_site(rv, TrapCode::STACK_OVERFLOW, &code, 4, 0));
        // Only riscv64's quirks are forgiven; a division site only where
        // the function divides.
        assert!(!unreachable_site(
            Architecture::X86_64,
            TrapCode::HEAP_OUT_OF_BOUNDS,
            &code,
            4,
            0
        ));
        assert!(!unreachable_site(
            Architecture::X86_64,
            TrapCode::INTEGER_OVERFLOW,
            &code,
            0,
            0
        ));
        assert!(unreachable_site(
            Architecture::X86_64,
            TrapCode::INTEGER_OVERFLOW,
            &code,
            0,
            1
        ));
    }

    #[test]
    fn the_check_rejects_trap_instructions_and_faulting_accesses() {
        use cranelift_codegen::ir::{Function, MemFlagsData, Signature, UserFuncName};
        use cranelift_codegen::isa::CallConv;
        use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

        // A function whose body is `emit(builder, param)`.
        let build = |emit: &dyn Fn(&mut FunctionBuilder<'_>, Value)| {
            let mut sig = Signature::new(CallConv::SystemV);
            sig.params.push(ir::AbiParam::new(types::I64));
            let mut func = Function::with_name_signature(UserFuncName::user(0, 0), sig);
            let mut ctx = FunctionBuilderContext::new();
            let mut b = FunctionBuilder::new(&mut func, &mut ctx);
            let entry = b.create_block();
            b.append_block_params_for_function_params(entry);
            b.switch_to_block(entry);
            b.seal_block(entry);
            let p = b.block_params(entry)[0];
            emit(&mut b, p);
            b.finalize(cranelift_codegen::isa::TargetFrontendConfig {
                default_call_conv: CallConv::SystemV,
                pointer_width: target_lexicon::PointerWidth::U64,
                page_size_align_log2: 12,
            });
            func
        };
        let clean = build(&|b, p| {
            let q = b.ins().udiv(p, p);
            let v = b.ins().load(types::I64, MemFlagsData::trusted(), q, 0);
            b.ins().fcvt_from_sint(types::F64, v);
            b.ins().return_(&[]);
        });
        assert_eq!(violation(&clean), None);

        let trapping = build(&|b, p| {
            b.ins().trapnz(p, ir::TrapCode::INTEGER_OVERFLOW);
            b.ins().return_(&[]);
        });
        let why = violation(&trapping).expect("rejected");
        assert!(why.contains("trapnz"), "{why}");

        let faulting_load = build(&|b, p| {
            let heap = MemFlagsData::new().with_trap_code(Some(ir::TrapCode::HEAP_OUT_OF_BOUNDS));
            b.ins().load(types::I64, heap, p, 0);
            b.ins().return_(&[]);
        });
        let why = violation(&faulting_load).expect("rejected");
        assert!(why.contains("load"), "{why}");

        let conversion = build(&|b, p| {
            let f = b.ins().fcvt_from_sint(types::F64, p);
            b.ins().fcvt_to_sint(types::I32, f);
            b.ins().return_(&[]);
        });
        assert!(violation(&conversion).is_some());
    }
}
