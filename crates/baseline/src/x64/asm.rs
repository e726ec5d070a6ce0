//! The x86-64 instruction emitter: a code buffer with labels, trap sites
//! and call relocations, whose instructions are encoded by Cranelift's
//! assembler crate (`cranelift-assembler-x64`).
//!
//! The assembler crate knows every encoding (legacy, REX, VEX) and is
//! tested by Cranelift's fuzzers against XED; this module only picks the
//! instruction for an operand size or condition, so the code generator
//! reads as `add(Size::S32, dst, src)` rather than as encoding tables.

use cranelift_assembler_x64 as asm;
use cranelift_assembler_x64::inst;
use kiln_environ::{FuncKey, Relocation, RelocationKind, TrapCode, TrapSite};

/// The register type the assembler crate is instantiated with: hardware
/// encodings, since the baseline compiler allocates registers itself.
pub struct Regs;

impl asm::Registers for Regs {
    type ReadGpr = u8;
    type ReadWriteGpr = u8;
    type WriteGpr = u8;
    type ReadXmm = u8;
    type ReadWriteXmm = u8;
    type WriteXmm = u8;
}

/// A general-purpose register, by hardware encoding.
pub type Gpr = u8;
/// An SSE register, by hardware encoding.
pub type Xmm = u8;

pub const RAX: Gpr = 0;
pub const RCX: Gpr = 1;
pub const RDX: Gpr = 2;
pub const RSP: Gpr = 4;
pub const RBP: Gpr = 5;
pub const RSI: Gpr = 6;
pub const RDI: Gpr = 7;
pub const R8: Gpr = 8;
pub const R9: Gpr = 9;
pub const R10: Gpr = 10;
pub const R11: Gpr = 11;
pub const R14: Gpr = 14;
pub const R15: Gpr = 15;

/// An operand width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    S8,
    S16,
    S32,
    S64,
}

/// A memory operand: `[base + index * scale + disp]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mem {
    pub base: Gpr,
    pub index: Option<Gpr>,
    pub disp: i32,
}

impl Mem {
    /// `[base + disp]`.
    pub fn at(base: Gpr, disp: i32) -> Mem {
        Mem {
            base,
            index: None,
            disp,
        }
    }

    fn amode(self) -> asm::Amode<u8> {
        match self.index {
            None => asm::Amode::ImmReg {
                base: self.base,
                simm32: asm::AmodeOffsetPlusKnownOffset {
                    simm32: self.disp.into(),
                    offset: None,
                },
                trap: None,
            },
            Some(index) => asm::Amode::ImmRegRegShift {
                base: self.base,
                index: asm::NonRspGpr::new(index),
                scale: asm::Scale::One,
                simm32: self.disp.into(),
                trap: None,
            },
        }
    }
}

/// A source operand of an integer instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Src {
    Reg(Gpr),
    Mem(Mem),
    /// A sign-extended 32-bit immediate.
    Imm(i32),
}

/// A condition code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cond {
    Eq,
    Ne,
    /// Signed less than, and so on.
    Lt,
    Le,
    Gt,
    Ge,
    /// Unsigned below, and so on.
    B,
    Be,
    A,
    Ae,
    /// Parity (unordered, after `ucomis*`).
    P,
    Np,
}

impl Cond {
    /// The condition that holds exactly when `self` does not.
    pub fn invert(self) -> Cond {
        use Cond::*;
        match self {
            Eq => Ne,
            Ne => Eq,
            Lt => Ge,
            Ge => Lt,
            Le => Gt,
            Gt => Le,
            B => Ae,
            Ae => B,
            Be => A,
            A => Be,
            P => Np,
            Np => P,
        }
    }
}

/// Two-operand integer ALU operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alu {
    Add,
    Sub,
    And,
    Or,
    Xor,
    Cmp,
    /// Add and subtract with the carry flag (128-bit arithmetic).
    Adc,
    Sbb,
}

/// Shifts and rotations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shift {
    Shl,
    Sar,
    Shr,
    Rol,
    Ror,
}

/// Scalar SSE arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sse {
    Add,
    Sub,
    Mul,
    Div,
    Min,
    Max,
    Sqrt,
}

/// A jump target inside the function being compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label(u32);

/// The code buffer of one function.
#[derive(Default)]
pub struct Buffer {
    pub code: Vec<u8>,
    labels: Vec<Option<u32>>,
    /// `(offset of a rel32 field, label)`: patched when the function ends.
    fixups: Vec<(u32, Label)>,
    /// `(offset of a rel32 field, label)`: a table entry holding the
    /// label's offset from the field's table start (`br_table`).
    table_fixups: Vec<(u32, u32, Label)>,
    pub relocations: Vec<Relocation>,
    pub traps: Vec<TrapSite>,
}

impl asm::CodeSink for Buffer {
    fn put1(&mut self, v: u8) {
        self.code.push(v);
    }
    fn put2(&mut self, v: u16) {
        self.code.extend_from_slice(&v.to_le_bytes());
    }
    fn put4(&mut self, v: u32) {
        self.code.extend_from_slice(&v.to_le_bytes());
    }
    fn put8(&mut self, v: u64) {
        self.code.extend_from_slice(&v.to_le_bytes());
    }
    fn add_trap(&mut self, _: asm::TrapCode) {
        // Trap sites are recorded by `Buffer::trap_here` with Kiln's codes.
    }
    fn use_target(&mut self, _: asm::DeferredTarget) {
        // Only RIP-relative operands use deferred targets; none are emitted.
    }
    fn known_offset(&self, offset: asm::KnownOffset) -> i32 {
        unreachable!("the baseline compiler uses no known offsets ({offset})")
    }
}

macro_rules! by_size {
    ($size:expr, $l:ident, $q:ident, $($arg:expr),*) => {
        match $size {
            Size::S64 => inst::$q::<Regs>::new($($arg),*).into(),
            _ => inst::$l::<Regs>::new($($arg),*).into(),
        }
    };
}

fn gm(src: Src) -> asm::GprMem<u8, u8> {
    match src {
        Src::Reg(r) => asm::GprMem::Gpr(r),
        Src::Mem(m) => asm::GprMem::Mem(m.amode()),
        Src::Imm(_) => unreachable!("immediates are handled by the caller"),
    }
}

fn xm(src: XSrc) -> asm::XmmMem<u8, u8> {
    match src {
        XSrc::Reg(r) => asm::XmmMem::Xmm(r),
        XSrc::Mem(m) => asm::XmmMem::Mem(m.amode()),
    }
}

/// A source operand of an SSE instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XSrc {
    Reg(Xmm),
    Mem(Mem),
}

impl Buffer {
    /// A buffer with room for `bytes` of code.
    pub fn with_capacity(bytes: usize) -> Buffer {
        Buffer {
            code: Vec::with_capacity(bytes),
            ..Buffer::default()
        }
    }

    /// The current code offset.
    pub fn offset(&self) -> u32 {
        self.code.len() as u32
    }

    fn emit(&mut self, i: asm::Inst<Regs>) {
        i.encode(self);
    }

    /// Records that the next instruction may trap with `code`.
    pub fn trap_here(&mut self, code: TrapCode) {
        let offset = self.offset();
        self.traps.push(TrapSite { offset, code });
    }

    // ---- labels -------------------------------------------------------

    pub fn new_label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() as u32 - 1)
    }

    pub fn bind(&mut self, l: Label) {
        debug_assert!(self.labels[l.0 as usize].is_none(), "label bound twice");
        self.labels[l.0 as usize] = Some(self.offset());
    }

    pub fn jmp(&mut self, l: Label) {
        self.emit(inst::jmp_d32::new(0).into());
        self.fixups.push((self.offset() - 4, l));
    }

    pub fn jcc(&mut self, c: Cond, l: Label) {
        use Cond::*;
        let i: asm::Inst<Regs> = match c {
            Eq => inst::je_d32::new(0).into(),
            Ne => inst::jne_d32::new(0).into(),
            Lt => inst::jl_d32::new(0).into(),
            Le => inst::jle_d32::new(0).into(),
            Gt => inst::jg_d32::new(0).into(),
            Ge => inst::jge_d32::new(0).into(),
            B => inst::jb_d32::new(0).into(),
            Be => inst::jbe_d32::new(0).into(),
            A => inst::ja_d32::new(0).into(),
            Ae => inst::jae_d32::new(0).into(),
            P => inst::jp_d32::new(0).into(),
            Np => inst::jnp_d32::new(0).into(),
        };
        self.emit(i);
        self.fixups.push((self.offset() - 4, l));
    }

    /// `lea dst, [rip + label]` (dst must be r8-r15).
    pub fn lea_rip(&mut self, dst: Gpr, l: Label) {
        debug_assert!(dst >= 8);
        self.code
            .extend_from_slice(&[0x4c, 0x8d, 0x05 | ((dst & 7) << 3)]);
        self.fixups.push((self.offset(), l));
        self.code.extend_from_slice(&[0; 4]);
    }

    /// A 32-bit entry of a jump table starting at `table`: the label's
    /// offset from the table's start.
    pub fn table_entry(&mut self, table: u32, l: Label) {
        self.table_fixups.push((self.offset(), table, l));
        self.code.extend_from_slice(&[0; 4]);
    }

    /// Resolves every jump; `false` if a label was never bound.
    pub fn finish(&mut self) -> bool {
        for &(at, l) in &self.fixups {
            let Some(target) = self.labels[l.0 as usize] else {
                return false;
            };
            let rel = target as i32 - (at as i32 + 4);
            self.code[at as usize..at as usize + 4].copy_from_slice(&rel.to_le_bytes());
        }
        for &(at, table, l) in &self.table_fixups {
            let Some(target) = self.labels[l.0 as usize] else {
                return false;
            };
            let rel = target as i32 - table as i32;
            self.code[at as usize..at as usize + 4].copy_from_slice(&rel.to_le_bytes());
        }
        true
    }

    // ---- calls and frames ---------------------------------------------

    /// `call rel32` to another piece of the module's code.
    pub fn call_key(&mut self, target: FuncKey) {
        self.emit(inst::callq_d::new(0).into());
        self.relocations.push(Relocation {
            offset: self.offset() - 4,
            kind: RelocationKind::X86CallPcRel4,
            target,
            addend: -4,
        });
    }

    pub fn call_mem(&mut self, m: Mem) {
        self.emit(inst::callq_m::<Regs>::new(gm(Src::Mem(m))).into());
    }

    /// `jmp rel32` to another piece of the module's code (a tail call).
    pub fn jmp_key(&mut self, target: FuncKey) {
        self.emit(inst::jmp_d32::new(0).into());
        self.relocations.push(Relocation {
            offset: self.offset() - 4,
            kind: RelocationKind::X86CallPcRel4,
            target,
            addend: -4,
        });
    }

    /// `jmp [m]`: an indirect jump through memory.
    pub fn jmp_mem(&mut self, m: Mem) {
        self.emit(inst::jmpq_m::<Regs>::new(gm(Src::Mem(m))).into());
    }

    /// `call r`: an indirect call through a register.
    pub fn call_reg(&mut self, r: Gpr) {
        self.emit(inst::callq_m::<Regs>::new(gm(Src::Reg(r))).into());
    }

    /// Pads the code with `int3` up to offset `to` (never executed: it
    /// follows an unconditional jump).
    pub fn pad_to(&mut self, to: u32) {
        while self.offset() < to {
            self.code.push(0xcc);
        }
    }

    pub fn jmp_reg(&mut self, r: Gpr) {
        self.emit(inst::jmpq_m::<Regs>::new(gm(Src::Reg(r))).into());
    }

    pub fn push(&mut self, r: Gpr) {
        self.emit(inst::pushq_o::<Regs>::new(r).into());
    }

    pub fn pop(&mut self, r: Gpr) {
        self.emit(inst::popq_o::<Regs>::new(r).into());
    }

    pub fn ret(&mut self, pop: u16) {
        if pop == 0 {
            self.emit(inst::retq_zo::new().into());
        } else {
            self.emit(inst::retq_i::new(pop).into());
        }
    }

    pub fn ud2(&mut self, code: TrapCode) {
        self.trap_here(code);
        let trap = asm::TrapCode(core::num::NonZeroU8::new(1).expect("non-zero"));
        self.emit(inst::ud2_zo::new(trap).into());
    }

    // ---- integer moves ------------------------------------------------

    pub fn mov_rr(&mut self, size: Size, dst: Gpr, src: Gpr) {
        if dst != src || size != Size::S64 {
            let i = by_size!(size, movl_rm, movq_rm, dst, gm(Src::Reg(src)));
            self.emit(i);
        }
    }

    /// Loads `size` bytes, zero-extended to 64 bits for S8/S16/S32.
    pub fn load(&mut self, size: Size, dst: Gpr, m: Mem) {
        let src = gm(Src::Mem(m));
        let i: asm::Inst<Regs> = match size {
            Size::S8 => inst::movzbl_rm::new(dst, src).into(),
            Size::S16 => inst::movzwl_rm::new(dst, src).into(),
            Size::S32 => inst::movl_rm::new(dst, src).into(),
            Size::S64 => inst::movq_rm::new(dst, src).into(),
        };
        self.emit(i);
    }

    /// Loads `from` bytes sign-extended to `to` (S32 or S64).
    pub fn load_sx(&mut self, from: Size, to: Size, dst: Gpr, m: Mem) {
        let src = gm(Src::Mem(m));
        let i: asm::Inst<Regs> = match (from, to) {
            (Size::S8, Size::S32) => inst::movsbl_rm::new(dst, src).into(),
            (Size::S8, _) => inst::movsbq_rm::new(dst, src).into(),
            (Size::S16, Size::S32) => inst::movswl_rm::new(dst, src).into(),
            (Size::S16, _) => inst::movswq_rm::new(dst, src).into(),
            _ => inst::movslq_rm::new(dst, src).into(),
        };
        self.emit(i);
    }

    /// Sign- or zero-extends the low `from` bits of `r` in place.
    pub fn extend(&mut self, signed: bool, from: Size, to: Size, dst: Gpr, src: Gpr) {
        let s = gm(Src::Reg(src));
        let i: asm::Inst<Regs> = match (signed, from, to) {
            (false, Size::S8, _) => inst::movzbl_rm::new(dst, s).into(),
            (false, Size::S16, _) => inst::movzwl_rm::new(dst, s).into(),
            (false, _, _) => inst::movl_rm::new(dst, s).into(),
            (true, Size::S8, Size::S32) => inst::movsbl_rm::new(dst, s).into(),
            (true, Size::S8, _) => inst::movsbq_rm::new(dst, s).into(),
            (true, Size::S16, Size::S32) => inst::movswl_rm::new(dst, s).into(),
            (true, Size::S16, _) => inst::movswq_rm::new(dst, s).into(),
            (true, _, _) => inst::movslq_rm::new(dst, s).into(),
        };
        self.emit(i);
    }

    pub fn store(&mut self, size: Size, m: Mem, src: Gpr) {
        let dst = gm(Src::Mem(m));
        let i: asm::Inst<Regs> = match size {
            Size::S8 => inst::movb_mr::new(dst, src).into(),
            Size::S16 => inst::movw_mr::new(dst, src).into(),
            Size::S32 => inst::movl_mr::new(dst, src).into(),
            Size::S64 => inst::movq_mr::new(dst, src).into(),
        };
        self.emit(i);
    }

    /// Stores a sign-extended 32-bit immediate (S32 or S64 wide).
    pub fn store_imm(&mut self, size: Size, m: Mem, imm: i32) {
        let dst = gm(Src::Mem(m));
        let i: asm::Inst<Regs> = match size {
            Size::S64 => inst::movq_mi_sxl::new(dst, imm).into(),
            _ => inst::movl_mi::new(dst, imm as u32).into(),
        };
        self.emit(i);
    }

    pub fn mov_imm(&mut self, size: Size, dst: Gpr, imm: u64) {
        // Never `xor r, r` for zero: a constant may be loaded between a
        // comparison and the branch that reads its flags.
        if size != Size::S64 || imm <= u64::from(u32::MAX) {
            self.emit(inst::movl_oi::<Regs>::new(dst, imm as u32).into());
        } else if imm as i64 >= i64::from(i32::MIN) && (imm as i64) < 0 {
            let i = inst::movq_mi_sxl::<Regs>::new(gm(Src::Reg(dst)), imm as i32);
            self.emit(i.into());
        } else {
            self.emit(inst::movabsq_oi::<Regs>::new(dst, imm).into());
        }
    }

    pub fn lea(&mut self, dst: Gpr, m: Mem) {
        self.emit(inst::leaq_rm::<Regs>::new(dst, m.amode()).into());
    }

    // ---- integer arithmetic -------------------------------------------

    pub fn alu(&mut self, op: Alu, size: Size, dst: Gpr, src: Src) {
        let i: asm::Inst<Regs> = match src {
            Src::Imm(imm) => {
                let d = gm(Src::Reg(dst));
                match op {
                    Alu::Add => by_size!(size, addl_mi, addq_mi_sxl, d, imm),
                    Alu::Sub => by_size!(size, subl_mi, subq_mi_sxl, d, imm),
                    Alu::And => by_size!(size, andl_mi, andq_mi_sxl, d, imm),
                    Alu::Or => by_size!(size, orl_mi, orq_mi_sxl, d, imm),
                    Alu::Xor => by_size!(size, xorl_mi, xorq_mi_sxl, d, imm),
                    Alu::Cmp => by_size!(size, cmpl_mi, cmpq_mi, d, imm),
                    Alu::Adc => by_size!(size, adcl_mi, adcq_mi_sxl, d, imm),
                    Alu::Sbb => by_size!(size, sbbl_mi, sbbq_mi_sxl, d, imm),
                }
            }
            src => {
                let s = gm(src);
                match op {
                    Alu::Add => by_size!(size, addl_rm, addq_rm, dst, s),
                    Alu::Sub => by_size!(size, subl_rm, subq_rm, dst, s),
                    Alu::And => by_size!(size, andl_rm, andq_rm, dst, s),
                    Alu::Or => by_size!(size, orl_rm, orq_rm, dst, s),
                    Alu::Xor => by_size!(size, xorl_rm, xorq_rm, dst, s),
                    Alu::Cmp => by_size!(size, cmpl_rm, cmpq_rm, dst, s),
                    Alu::Adc => by_size!(size, adcl_rm, adcq_rm, dst, s),
                    Alu::Sbb => by_size!(size, sbbl_rm, sbbq_rm, dst, s),
                }
            }
        };
        self.emit(i);
    }

    /// `op [m], imm` (S32 or S64) for add and sub.
    pub fn alu_mem_imm(&mut self, op: Alu, size: Size, m: Mem, imm: i32) {
        let d = gm(Src::Mem(m));
        let i = match op {
            Alu::Add => by_size!(size, addl_mi, addq_mi_sxl, d, imm),
            _ => by_size!(size, subl_mi, subq_mi_sxl, d, imm),
        };
        self.emit(i);
    }

    /// `cmp [m], imm` (S32 or S64).
    pub fn cmp_mem_imm(&mut self, size: Size, m: Mem, imm: i32) {
        let d = gm(Src::Mem(m));
        let i = by_size!(size, cmpl_mi, cmpq_mi, d, imm);
        self.emit(i);
    }

    pub fn test(&mut self, size: Size, a: Gpr, b: Gpr) {
        let i = by_size!(size, testl_mr, testq_mr, gm(Src::Reg(a)), b);
        self.emit(i);
    }

    pub fn imul(&mut self, size: Size, dst: Gpr, src: Src) {
        let i = match src {
            Src::Imm(imm) => by_size!(size, imull_rmi, imulq_rmi_sxl, dst, gm(Src::Reg(dst)), imm),
            src => by_size!(size, imull_rm, imulq_rm, dst, gm(src)),
        };
        self.emit(i);
    }

    pub fn neg(&mut self, size: Size, r: Gpr) {
        let i = by_size!(size, negl_m, negq_m, gm(Src::Reg(r)));
        self.emit(i);
    }

    /// Sign-extends rax into rdx (`cdq`/`cqo`).
    pub fn sign_extend_rax(&mut self, size: Size) {
        let i: asm::Inst<Regs> = match size {
            Size::S64 => inst::cqto_zo::new(asm::Fixed(RDX), asm::Fixed(RAX)).into(),
            _ => inst::cltd_zo::new(asm::Fixed(RDX), asm::Fixed(RAX)).into(),
        };
        self.emit(i);
    }

    /// `rdx:rax / src`, signed or not.
    /// `mul`/`imul` of `rax` by `src`: the 128-bit product in rdx:rax.
    pub fn mul_wide(&mut self, signed: bool, src: Src) {
        let (a, d, s) = (asm::Fixed(RAX), asm::Fixed(RDX), gm(src));
        let i: asm::Inst<Regs> = if signed {
            inst::imulq_m::new(a, d, s).into()
        } else {
            inst::mulq_m::new(a, d, s).into()
        };
        self.emit(i);
    }

    pub fn div(&mut self, signed: bool, size: Size, src: Gpr) {
        let (a, d, s) = (asm::Fixed(RAX), asm::Fixed(RDX), gm(Src::Reg(src)));
        let trap = asm::TrapCode(core::num::NonZeroU8::new(1).expect("non-zero"));
        let i: asm::Inst<Regs> = match (signed, size) {
            (true, Size::S64) => inst::idivq_m::new(a, d, s, trap).into(),
            (true, _) => inst::idivl_m::new(a, d, s, trap).into(),
            (false, Size::S64) => inst::divq_m::new(a, d, s, trap).into(),
            (false, _) => inst::divl_m::new(a, d, s, trap).into(),
        };
        self.emit(i);
    }

    /// Shifts or rotates `dst` by `cl` (`amount == None`) or an immediate.
    pub fn shift(&mut self, op: Shift, size: Size, dst: Gpr, amount: Option<u8>) {
        let d = gm(Src::Reg(dst));
        let i: asm::Inst<Regs> = match amount {
            None => {
                let cl = asm::Fixed(RCX);
                match op {
                    Shift::Shl => by_size!(size, shll_mc, shlq_mc, d, cl),
                    Shift::Sar => by_size!(size, sarl_mc, sarq_mc, d, cl),
                    Shift::Shr => by_size!(size, shrl_mc, shrq_mc, d, cl),
                    Shift::Rol => by_size!(size, roll_mc, rolq_mc, d, cl),
                    Shift::Ror => by_size!(size, rorl_mc, rorq_mc, d, cl),
                }
            }
            Some(n) => match op {
                Shift::Shl => by_size!(size, shll_mi, shlq_mi, d, n),
                Shift::Sar => by_size!(size, sarl_mi, sarq_mi, d, n),
                Shift::Shr => by_size!(size, shrl_mi, shrq_mi, d, n),
                Shift::Rol => by_size!(size, roll_mi, rolq_mi, d, n),
                Shift::Ror => by_size!(size, rorl_mi, rorq_mi, d, n),
            },
        };
        self.emit(i);
    }

    /// `lzcnt`, `tzcnt` or `popcnt` (which = 0, 1, 2).
    pub fn bit_count(&mut self, which: u8, size: Size, dst: Gpr, src: Gpr) {
        let s = gm(Src::Reg(src));
        let i = match which {
            0 => by_size!(size, lzcntl_rm, lzcntq_rm, dst, s),
            1 => by_size!(size, tzcntl_a, tzcntq_a, dst, s),
            _ => by_size!(size, popcntl_rm, popcntq_rm, dst, s),
        };
        self.emit(i);
    }

    /// `bsr` (reverse = true) or `bsf`.
    pub fn bit_scan(&mut self, reverse: bool, size: Size, dst: Gpr, src: Gpr) {
        let s = gm(Src::Reg(src));
        let i = if reverse {
            by_size!(size, bsrl_rm, bsrq_rm, dst, s)
        } else {
            by_size!(size, bsfl_rm, bsfq_rm, dst, s)
        };
        self.emit(i);
    }

    /// `setcc` into the low byte of `dst`, then zero-extends it.
    pub fn set_cond(&mut self, c: Cond, dst: Gpr) {
        use Cond::*;
        let d = gm(Src::Reg(dst));
        let i: asm::Inst<Regs> = match c {
            Eq => inst::sete_m::new(d).into(),
            Ne => inst::setne_m::new(d).into(),
            Lt => inst::setl_m::new(d).into(),
            Le => inst::setle_m::new(d).into(),
            Gt => inst::setg_m::new(d).into(),
            Ge => inst::setge_m::new(d).into(),
            B => inst::setb_m::new(d).into(),
            Be => inst::setbe_m::new(d).into(),
            A => inst::seta_m::new(d).into(),
            Ae => inst::setae_m::new(d).into(),
            P => inst::setp_m::new(d).into(),
            Np => inst::setnp_m::new(d).into(),
        };
        self.emit(i);
        self.emit(inst::movzbl_rm::<Regs>::new(dst, gm(Src::Reg(dst))).into());
    }

    /// `cmovcc dst, src` (S32 or S64).
    pub fn cmov(&mut self, c: Cond, size: Size, dst: Gpr, src: Gpr) {
        use Cond::*;
        let s = gm(Src::Reg(src));
        let i = match c {
            Eq => by_size!(size, cmovel_rm, cmoveq_rm, dst, s),
            Ne => by_size!(size, cmovnel_rm, cmovneq_rm, dst, s),
            Lt => by_size!(size, cmovll_rm, cmovlq_rm, dst, s),
            Le => by_size!(size, cmovlel_rm, cmovleq_rm, dst, s),
            Gt => by_size!(size, cmovgl_rm, cmovgq_rm, dst, s),
            Ge => by_size!(size, cmovgel_rm, cmovgeq_rm, dst, s),
            B => by_size!(size, cmovbl_rm, cmovbq_rm, dst, s),
            Be => by_size!(size, cmovbel_rm, cmovbeq_rm, dst, s),
            A => by_size!(size, cmoval_rm, cmovaq_rm, dst, s),
            Ae => by_size!(size, cmovael_rm, cmovaeq_rm, dst, s),
            P => by_size!(size, cmovpl_rm, cmovpq_rm, dst, s),
            Np => by_size!(size, cmovnpl_rm, cmovnpq_rm, dst, s),
        };
        self.emit(i);
    }

    // ---- SSE ----------------------------------------------------------

    /// Loads an f32 (`double == false`) or f64 into `dst`.
    pub fn fload(&mut self, double: bool, dst: Xmm, m: Mem) {
        let i: asm::Inst<Regs> = if double {
            inst::movsd_a_m::new(dst, m.amode()).into()
        } else {
            inst::movss_a_m::new(dst, m.amode()).into()
        };
        self.emit(i);
    }

    pub fn fstore(&mut self, double: bool, m: Mem, src: Xmm) {
        let i: asm::Inst<Regs> = if double {
            inst::movsd_c_m::new(m.amode(), src).into()
        } else {
            inst::movss_c_m::new(m.amode(), src).into()
        };
        self.emit(i);
    }

    /// Copies a whole register.
    pub fn fmov(&mut self, dst: Xmm, src: Xmm) {
        if dst != src {
            self.emit(inst::movaps_a::<Regs>::new(dst, xm(XSrc::Reg(src))).into());
        }
    }

    /// Moves a GPR's low 32 or 64 bits into an XMM register (zeroing the
    /// rest).
    pub fn gpr_to_xmm(&mut self, size: Size, dst: Xmm, src: Gpr) {
        let s = gm(Src::Reg(src));
        let i: asm::Inst<Regs> = match size {
            Size::S64 => inst::movq_a::new(dst, s).into(),
            _ => inst::movd_a::new(dst, s).into(),
        };
        self.emit(i);
    }

    pub fn xmm_to_gpr(&mut self, size: Size, dst: Gpr, src: Xmm) {
        let d = gm(Src::Reg(dst));
        let i: asm::Inst<Regs> = match size {
            Size::S64 => inst::movq_b::new(d, src).into(),
            _ => inst::movd_b::new(d, src).into(),
        };
        self.emit(i);
    }

    pub fn sse(&mut self, op: Sse, double: bool, dst: Xmm, src: XSrc) {
        let s = xm(src);
        macro_rules! pick {
            ($ss:ident, $sd:ident) => {
                if double {
                    inst::$sd::<Regs>::new(dst, s).into()
                } else {
                    inst::$ss::<Regs>::new(dst, s).into()
                }
            };
        }
        let i: asm::Inst<Regs> = match op {
            Sse::Add => pick!(addss_a, addsd_a),
            Sse::Sub => pick!(subss_a, subsd_a),
            Sse::Mul => pick!(mulss_a, mulsd_a),
            Sse::Div => pick!(divss_a, divsd_a),
            Sse::Min => pick!(minss_a, minsd_a),
            Sse::Max => pick!(maxss_a, maxsd_a),
            Sse::Sqrt => pick!(sqrtss_a, sqrtsd_a),
        };
        self.emit(i);
    }

    /// Bitwise `and`/`or`/`xor`/`andn` (which = 0..=3) of whole registers.
    pub fn fbits(&mut self, which: u8, dst: Xmm, src: Xmm) {
        let s = xm(XSrc::Reg(src));
        let i: asm::Inst<Regs> = match which {
            0 => inst::andps_a::new(dst, s).into(),
            1 => inst::orps_a::new(dst, s).into(),
            2 => inst::xorps_a::new(dst, s).into(),
            _ => inst::andnps_a::new(dst, s).into(),
        };
        self.emit(i);
    }

    pub fn ucomis(&mut self, double: bool, a: Xmm, b: Xmm) {
        let s = xm(XSrc::Reg(b));
        let i: asm::Inst<Regs> = if double {
            inst::ucomisd_a::new(a, s).into()
        } else {
            inst::ucomiss_a::new(a, s).into()
        };
        self.emit(i);
    }

    /// `roundss`/`roundsd` with the SSE4.1 rounding mode `mode`.
    pub fn round(&mut self, double: bool, dst: Xmm, src: Xmm, mode: u8) {
        let s = xm(XSrc::Reg(src));
        let i: asm::Inst<Regs> = if double {
            inst::roundsd_rmi::new(dst, s, mode).into()
        } else {
            inst::roundss_rmi::new(dst, s, mode).into()
        };
        self.emit(i);
    }

    /// f32 <-> f64 (`to_double`: f32 -> f64).
    pub fn fconvert(&mut self, to_double: bool, dst: Xmm, src: Xmm) {
        let s = xm(XSrc::Reg(src));
        let i: asm::Inst<Regs> = if to_double {
            inst::cvtss2sd_a::new(dst, s).into()
        } else {
            inst::cvtsd2ss_a::new(dst, s).into()
        };
        self.emit(i);
    }

    /// Signed integer (`size` wide) to float.
    pub fn cvt_int_to_float(&mut self, double: bool, size: Size, dst: Xmm, src: Gpr) {
        let s = gm(Src::Reg(src));
        let i: asm::Inst<Regs> = match (double, size) {
            (false, Size::S64) => inst::cvtsi2ssq_a::new(dst, s).into(),
            (false, _) => inst::cvtsi2ssl_a::new(dst, s).into(),
            (true, Size::S64) => inst::cvtsi2sdq_a::new(dst, s).into(),
            (true, _) => inst::cvtsi2sdl_a::new(dst, s).into(),
        };
        self.emit(i);
    }

    /// Truncating float to signed integer (`size` wide).
    pub fn cvt_float_to_int(&mut self, double: bool, size: Size, dst: Gpr, src: Xmm) {
        let s = xm(XSrc::Reg(src));
        let i: asm::Inst<Regs> = match (double, size) {
            (false, Size::S64) => inst::cvttss2si_aq::new(dst, s).into(),
            (false, _) => inst::cvttss2si_a::new(dst, s).into(),
            (true, Size::S64) => inst::cvttsd2si_aq::new(dst, s).into(),
            (true, _) => inst::cvttsd2si_a::new(dst, s).into(),
        };
        self.emit(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A few encodings checked by hand against the Intel manual, so a
    /// wrong operand order in a wrapper shows up here rather than as a
    /// wrong result far away.
    #[test]
    fn wrappers_encode_the_expected_bytes() {
        let mut b = Buffer::default();
        b.alu(Alu::Add, Size::S32, RAX, Src::Reg(RCX));
        assert_eq!(b.code, [0x03, 0xc1]); // add eax, ecx
        b.code.clear();
        b.load(Size::S64, R11, Mem::at(R14, 8));
        assert_eq!(b.code, [0x4d, 0x8b, 0x5e, 0x08]); // mov r11, [r14+8]
        b.code.clear();
        b.store(Size::S32, Mem::at(RBP, -24), RDX);
        assert_eq!(b.code, [0x89, 0x55, 0xe8]); // mov [rbp-24], edx
        b.code.clear();
        b.mov_imm(Size::S64, RAX, u64::MAX);
        assert_eq!(b.code, [0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff]);
        b.code.clear();
        let l = b.new_label();
        b.jcc(Cond::Ne, l);
        b.bind(l);
        assert!(b.finish());
        assert_eq!(b.code, [0x0f, 0x85, 0, 0, 0, 0]);
    }
}
