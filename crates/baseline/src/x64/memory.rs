//! Linear memory, globals and references.

use super::asm::{Mem, R11, Size, Src};
use super::{Codegen, HEAP, Kind, Loc, VMCTX, unsupported};
use crate::Env;
use kiln_environ::wasmparser::{MemArg, MemArgTarget, Operator};
use kiln_environ::{BoundsCheckStrategy, Builtin, CompileError, FuncKey, TrapCode};

/// Whether memory `index`'s base never moves, so `r15` can hold it for
/// the whole function: a 32-bit memory with 64 KiB pages in a
/// guard-page reservation.
pub(super) fn heap_base_is_fixed(env: &Env<'_>, index: u32) -> bool {
    let Some(m) = env.module.memories.get(index as usize) else {
        return false;
    };
    !m.memory64
        && m.page_size_log2 == 16
        && env.tunables.effective_bounds_checks() == BoundsCheckStrategy::GuardPages
}

/// How a load extends what it reads.
#[derive(Clone, Copy)]
enum Load {
    Int { size: Size, signed: bool },
    Float,
}

impl Codegen<'_, '_> {
    /// Handles memory, global and reference operators; `Ok(false)` for any
    /// other.
    pub(super) fn memory_op(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        use Kind::{F32, F64, I32, I64};
        use Operator as O;
        let int = |size, signed| Load::Int { size, signed };
        match *op {
            O::I32Load { memarg } => self.load(memarg, I32, int(Size::S32, false), 4)?,
            O::I64Load { memarg } => self.load(memarg, I64, int(Size::S64, false), 8)?,
            O::F32Load { memarg } => self.load(memarg, F32, Load::Float, 4)?,
            O::F64Load { memarg } => self.load(memarg, F64, Load::Float, 8)?,
            O::I32Load8S { memarg } => self.load(memarg, I32, int(Size::S8, true), 1)?,
            O::I32Load8U { memarg } => self.load(memarg, I32, int(Size::S8, false), 1)?,
            O::I32Load16S { memarg } => self.load(memarg, I32, int(Size::S16, true), 2)?,
            O::I32Load16U { memarg } => self.load(memarg, I32, int(Size::S16, false), 2)?,
            O::I64Load8S { memarg } => self.load(memarg, I64, int(Size::S8, true), 1)?,
            O::I64Load8U { memarg } => self.load(memarg, I64, int(Size::S8, false), 1)?,
            O::I64Load16S { memarg } => self.load(memarg, I64, int(Size::S16, true), 2)?,
            O::I64Load16U { memarg } => self.load(memarg, I64, int(Size::S16, false), 2)?,
            O::I64Load32S { memarg } => self.load(memarg, I64, int(Size::S32, true), 4)?,
            O::I64Load32U { memarg } => self.load(memarg, I64, int(Size::S32, false), 4)?,
            O::I32Store { memarg } | O::I64Store32 { memarg } => self.store(memarg, Size::S32)?,
            O::I64Store { memarg } => self.store(memarg, Size::S64)?,
            O::F32Store { memarg } => self.store(memarg, Size::S32)?,
            O::F64Store { memarg } => self.store(memarg, Size::S64)?,
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => self.store(memarg, Size::S8)?,
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => self.store(memarg, Size::S16)?,
            O::MemorySize { mem } => self.memory_size(mem)?,
            O::MemoryGrow { mem } => self.memory_grow(mem)?,
            O::GlobalGet { global_index } => self.global_get(global_index)?,
            O::GlobalSet { global_index } => self.global_set(global_index)?,
            O::RefNull { .. } => self.push(I64, Loc::Const(0)),
            O::RefIsNull => {
                let a = self.pop();
                let r = self.in_gpr(&a);
                self.buf.test(Size::S64, r, r);
                self.free(Loc::Gpr(r));
                self.push(I32, Loc::Flags(super::Cond::Eq));
            }
            O::RefFunc { function_index } => {
                let r = self.alloc_gpr();
                let off = self.env.offsets.vmctx_funcref(function_index) as i32;
                self.buf.load(Size::S64, r, Mem::at(VMCTX, off));
                self.push(I64, Loc::Gpr(r));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The address of an access of `bytes` bytes at `memarg` whose
    /// operand is in `addr` (owned; overwritten): checks it where the
    /// guard region does not, and returns the memory operand to use.
    fn heap_address(
        &mut self,
        memarg: MemArg,
        addr: super::Gpr,
        bytes: u64,
    ) -> Result<Mem, CompileError> {
        let m = match memarg.target {
            MemArgTarget::Memory(m) => m,
            MemArgTarget::Array(_) => return Err(unsupported("array accesses through a memarg")),
        };
        let mem = &self.env.module.memories[m as usize];
        if !mem.memory64 {
            self.buf.mov_rr(Size::S32, addr, addr);
        }
        let offset = memarg.offset;
        // A memory with one-byte pages may end mid-page, so the guard
        // region does not start at its end: every access is checked.
        let covered = !mem.memory64
            && mem.page_size_log2 == 16
            && self.env.tunables.access_is_covered_by_guard(offset, bytes);
        if m == 0 && self.heap_in_reg && covered {
            return Ok(Mem {
                base: HEAP,
                index: Some(addr),
                disp: offset as i32,
            });
        }
        // An explicit check: addr + offset + bytes <= len, in 64 bits
        // (with a carry check for memory64, whose sum may wrap).
        let Some(end) = offset.checked_add(bytes) else {
            // No address makes `offset + bytes` fit: the access always
            // traps (the instruction after the trap never runs).
            self.buf.ud2(TrapCode::MemoryOutOfBounds);
            return Ok(Mem::at(R11, 0));
        };
        let o = &self.env.offsets;
        let (rec, len, base) = (
            o.vmctx_memory(m) as i32,
            o.memory_len() as i32,
            o.memory_base() as i32,
        );
        let t = self.alloc_gpr();
        self.buf.mov_imm(Size::S64, t, end);
        self.buf
            .alu(super::asm::Alu::Add, Size::S64, t, Src::Reg(addr));
        if mem.memory64 {
            self.trap_if(super::Cond::B, TrapCode::MemoryOutOfBounds);
        }
        self.buf.load(Size::S64, R11, Mem::at(VMCTX, rec));
        self.buf.alu(
            super::asm::Alu::Cmp,
            Size::S64,
            t,
            Src::Mem(Mem::at(R11, len)),
        );
        self.trap_if(super::Cond::A, TrapCode::MemoryOutOfBounds);
        self.free(Loc::Gpr(t));
        self.buf.load(Size::S64, R11, Mem::at(R11, base));
        if offset > i32::MAX as u64 {
            let t = self.alloc_gpr();
            self.buf.mov_imm(Size::S64, t, offset);
            self.buf
                .alu(super::asm::Alu::Add, Size::S64, addr, Src::Reg(t));
            self.free(Loc::Gpr(t));
            return Ok(Mem {
                base: R11,
                index: Some(addr),
                disp: 0,
            });
        }
        Ok(Mem {
            base: R11,
            index: Some(addr),
            disp: offset as i32,
        })
    }

    fn load(
        &mut self,
        memarg: MemArg,
        kind: Kind,
        how: Load,
        bytes: u64,
    ) -> Result<(), CompileError> {
        let a = self.pop();
        let addr = self.in_gpr(&a);
        let m = self.heap_address(memarg, addr, bytes)?;
        match how {
            Load::Int { size, signed } => {
                self.buf.trap_here(TrapCode::MemoryOutOfBounds);
                if signed {
                    self.buf.load_sx(size, kind.size(), addr, m);
                } else {
                    self.buf.load(size, addr, m);
                }
                self.push(kind, Loc::Gpr(addr));
            }
            Load::Float => {
                let x = self.alloc_xmm();
                self.buf.trap_here(TrapCode::MemoryOutOfBounds);
                self.buf.fload(kind == Kind::F64, x, m);
                self.free(Loc::Gpr(addr));
                self.push(kind, Loc::Xmm(x));
            }
        }
        Ok(())
    }

    fn store(&mut self, memarg: MemArg, size: Size) -> Result<(), CompileError> {
        let v = self.pop();
        let a = self.pop();
        // The value first: loading it may need a register, and the
        // address's memory operand may use r11.
        enum Value {
            Gpr(super::Gpr),
            Xmm(super::Xmm),
            Imm(i32),
        }
        let value = match v.loc {
            Loc::Const(bits)
                if !v.kind.is_float()
                    && matches!(size, Size::S32 | Size::S64)
                    && (size == Size::S32 || i64::from(bits as i32) == bits as i64) =>
            {
                Value::Imm(bits as i32)
            }
            _ if v.kind.is_float() => Value::Xmm(self.in_xmm(&v)),
            _ => Value::Gpr(self.in_gpr(&v)),
        };
        let addr = self.in_gpr(&a);
        let bytes = match size {
            Size::S8 => 1,
            Size::S16 => 2,
            Size::S32 => 4,
            Size::S64 => 8,
        };
        let m = self.heap_address(memarg, addr, bytes)?;
        self.buf.trap_here(TrapCode::MemoryOutOfBounds);
        match value {
            Value::Imm(imm) => self.buf.store_imm(size, m, imm),
            Value::Gpr(r) => {
                self.buf.store(size, m, r);
                self.free(Loc::Gpr(r));
            }
            Value::Xmm(x) => {
                self.buf.fstore(size == Size::S64, m, x);
                self.free(Loc::Xmm(x));
            }
        }
        self.free(Loc::Gpr(addr));
        Ok(())
    }

    fn memory_size(&mut self, m: u32) -> Result<(), CompileError> {
        let mem = &self.env.module.memories[m as usize];
        let kind = if mem.memory64 { Kind::I64 } else { Kind::I32 };
        let shift = mem.page_size_log2;
        let o = &self.env.offsets;
        let (rec, len) = (o.vmctx_memory(m) as i32, o.memory_len() as i32);
        let r = self.alloc_gpr();
        self.buf.load(Size::S64, r, Mem::at(VMCTX, rec));
        self.buf.load(Size::S64, r, Mem::at(r, len));
        if shift > 0 {
            self.buf
                .shift(super::asm::Shift::Shr, Size::S64, r, Some(shift));
        }
        self.push(kind, Loc::Gpr(r));
        Ok(())
    }

    fn memory_grow(&mut self, m: u32) -> Result<(), CompileError> {
        let mem = &self.env.module.memories[m as usize];
        let kind = if mem.memory64 { Kind::I64 } else { Kind::I32 };
        self.builtin_op(Builtin::MemoryGrow, &[m], 1, Some(kind));
        Ok(())
    }

    /// Calls a builtin's stub, its arguments already in place.
    pub(super) fn call_builtin(&mut self, b: Builtin) {
        self.save_float_homes();
        self.buf.call_key(FuncKey::Builtin(b));
        self.restore_float_homes();
        self.builtins.push(b);
    }

    fn global_cell(&mut self, g: u32) -> Mem {
        let off = self.env.offsets.vmctx_global(g) as i32;
        self.buf.load(Size::S64, R11, Mem::at(VMCTX, off));
        Mem::at(R11, 0)
    }

    fn global_get(&mut self, g: u32) -> Result<(), CompileError> {
        let kind = Kind::of(self.env.module.globals[g as usize].content)?;
        if kind.is_float() {
            let x = self.alloc_xmm();
            let cell = self.global_cell(g);
            self.buf.fload(kind == Kind::F64, x, cell);
            self.push(kind, Loc::Xmm(x));
        } else {
            let r = self.alloc_gpr();
            let cell = self.global_cell(g);
            self.buf.load(kind.size(), r, cell);
            self.push(kind, Loc::Gpr(r));
        }
        Ok(())
    }

    fn global_set(&mut self, g: u32) -> Result<(), CompileError> {
        let v = self.pop();
        // The cell's whole 64-bit `lo` is written: a 32-bit value with
        // zeroed upper bytes.
        if v.kind.is_float() {
            let x = self.in_xmm(&v);
            let cell = self.global_cell(g);
            self.buf.fstore(v.kind == Kind::F64, cell, x);
            if v.kind == Kind::F32 {
                self.buf.store_imm(Size::S32, Mem::at(R11, 4), 0);
            }
            self.free(Loc::Xmm(x));
        } else {
            let r = self.in_gpr(&v);
            if v.kind == Kind::I32 {
                self.buf.mov_rr(Size::S32, r, r);
            }
            let cell = self.global_cell(g);
            self.buf.store(Size::S64, cell, r);
            self.free(Loc::Gpr(r));
        }
        Ok(())
    }
}
