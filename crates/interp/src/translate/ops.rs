//! Translation of the non-control operators: each pops its operands (as
//! slots, possibly lazy) and pushes its result into its home slot.

use super::FuncTranslator;
use crate::bytecode::{Bin, LoadTy, Mem, MulWide, Op, Slot, StoreTy, Un, Wide};
#[cfg(feature = "simd")]
use crate::simd::{self, SimdOp};
use kiln_environ::TranslationError;
use wasmparser::{MemArg, Operator as O};

/// How a plain numeric operator maps to one op.
enum Simple {
    Un(fn(Un) -> Op),
    Bin(fn(Bin) -> Op),
    /// A no-op on the slot representation (reinterpretations, zero
    /// extension of an `i32` that is already zero-extended).
    Nop,
}

fn simple(op: &O<'_>) -> Option<Simple> {
    use Simple::{Bin as B, Nop, Un as U};
    Some(match op {
        O::I32Eqz => U(Op::I32Eqz),
        O::I32Eq => B(Op::I32Eq),
        O::I32Ne => B(Op::I32Ne),
        O::I32LtS => B(Op::I32LtS),
        O::I32LtU => B(Op::I32LtU),
        O::I32GtS => B(Op::I32GtS),
        O::I32GtU => B(Op::I32GtU),
        O::I32LeS => B(Op::I32LeS),
        O::I32LeU => B(Op::I32LeU),
        O::I32GeS => B(Op::I32GeS),
        O::I32GeU => B(Op::I32GeU),
        O::I64Eqz => U(Op::I64Eqz),
        O::I64Eq => B(Op::I64Eq),
        O::I64Ne => B(Op::I64Ne),
        O::I64LtS => B(Op::I64LtS),
        O::I64LtU => B(Op::I64LtU),
        O::I64GtS => B(Op::I64GtS),
        O::I64GtU => B(Op::I64GtU),
        O::I64LeS => B(Op::I64LeS),
        O::I64LeU => B(Op::I64LeU),
        O::I64GeS => B(Op::I64GeS),
        O::I64GeU => B(Op::I64GeU),
        O::F32Eq => B(Op::F32Eq),
        O::F32Ne => B(Op::F32Ne),
        O::F32Lt => B(Op::F32Lt),
        O::F32Gt => B(Op::F32Gt),
        O::F32Le => B(Op::F32Le),
        O::F32Ge => B(Op::F32Ge),
        O::F64Eq => B(Op::F64Eq),
        O::F64Ne => B(Op::F64Ne),
        O::F64Lt => B(Op::F64Lt),
        O::F64Gt => B(Op::F64Gt),
        O::F64Le => B(Op::F64Le),
        O::F64Ge => B(Op::F64Ge),
        O::I32Clz => U(Op::I32Clz),
        O::I32Ctz => U(Op::I32Ctz),
        O::I32Popcnt => U(Op::I32Popcnt),
        O::I32Add => B(Op::I32Add),
        O::I32Sub => B(Op::I32Sub),
        O::I32Mul => B(Op::I32Mul),
        O::I32DivS => B(Op::I32DivS),
        O::I32DivU => B(Op::I32DivU),
        O::I32RemS => B(Op::I32RemS),
        O::I32RemU => B(Op::I32RemU),
        O::I32And => B(Op::I32And),
        O::I32Or => B(Op::I32Or),
        O::I32Xor => B(Op::I32Xor),
        O::I32Shl => B(Op::I32Shl),
        O::I32ShrS => B(Op::I32ShrS),
        O::I32ShrU => B(Op::I32ShrU),
        O::I32Rotl => B(Op::I32Rotl),
        O::I32Rotr => B(Op::I32Rotr),
        O::I64Clz => U(Op::I64Clz),
        O::I64Ctz => U(Op::I64Ctz),
        O::I64Popcnt => U(Op::I64Popcnt),
        O::I64Add => B(Op::I64Add),
        O::I64Sub => B(Op::I64Sub),
        O::I64Mul => B(Op::I64Mul),
        O::I64DivS => B(Op::I64DivS),
        O::I64DivU => B(Op::I64DivU),
        O::I64RemS => B(Op::I64RemS),
        O::I64RemU => B(Op::I64RemU),
        O::I64And => B(Op::I64And),
        O::I64Or => B(Op::I64Or),
        O::I64Xor => B(Op::I64Xor),
        O::I64Shl => B(Op::I64Shl),
        O::I64ShrS => B(Op::I64ShrS),
        O::I64ShrU => B(Op::I64ShrU),
        O::I64Rotl => B(Op::I64Rotl),
        O::I64Rotr => B(Op::I64Rotr),
        O::F32Abs => U(Op::F32Abs),
        O::F32Neg => U(Op::F32Neg),
        O::F32Ceil => U(Op::F32Ceil),
        O::F32Floor => U(Op::F32Floor),
        O::F32Trunc => U(Op::F32Trunc),
        O::F32Nearest => U(Op::F32Nearest),
        O::F32Sqrt => U(Op::F32Sqrt),
        O::F32Add => B(Op::F32Add),
        O::F32Sub => B(Op::F32Sub),
        O::F32Mul => B(Op::F32Mul),
        O::F32Div => B(Op::F32Div),
        O::F32Min => B(Op::F32Min),
        O::F32Max => B(Op::F32Max),
        O::F32Copysign => B(Op::F32Copysign),
        O::F64Abs => U(Op::F64Abs),
        O::F64Neg => U(Op::F64Neg),
        O::F64Ceil => U(Op::F64Ceil),
        O::F64Floor => U(Op::F64Floor),
        O::F64Trunc => U(Op::F64Trunc),
        O::F64Nearest => U(Op::F64Nearest),
        O::F64Sqrt => U(Op::F64Sqrt),
        O::F64Add => B(Op::F64Add),
        O::F64Sub => B(Op::F64Sub),
        O::F64Mul => B(Op::F64Mul),
        O::F64Div => B(Op::F64Div),
        O::F64Min => B(Op::F64Min),
        O::F64Max => B(Op::F64Max),
        O::F64Copysign => B(Op::F64Copysign),
        O::I32WrapI64 => U(Op::I32WrapI64),
        O::I32TruncF32S => U(Op::I32TruncF32S),
        O::I32TruncF32U => U(Op::I32TruncF32U),
        O::I32TruncF64S => U(Op::I32TruncF64S),
        O::I32TruncF64U => U(Op::I32TruncF64U),
        O::I64ExtendI32S => U(Op::I64ExtendI32S),
        O::I64ExtendI32U => Nop,
        O::I64TruncF32S => U(Op::I64TruncF32S),
        O::I64TruncF32U => U(Op::I64TruncF32U),
        O::I64TruncF64S => U(Op::I64TruncF64S),
        O::I64TruncF64U => U(Op::I64TruncF64U),
        O::F32ConvertI32S => U(Op::F32ConvertI32S),
        O::F32ConvertI32U => U(Op::F32ConvertI32U),
        O::F32ConvertI64S => U(Op::F32ConvertI64S),
        O::F32ConvertI64U => U(Op::F32ConvertI64U),
        O::F32DemoteF64 => U(Op::F32DemoteF64),
        O::F64ConvertI32S => U(Op::F64ConvertI32S),
        O::F64ConvertI32U => U(Op::F64ConvertI32U),
        O::F64ConvertI64S => U(Op::F64ConvertI64S),
        O::F64ConvertI64U => U(Op::F64ConvertI64U),
        O::F64PromoteF32 => U(Op::F64PromoteF32),
        O::I32ReinterpretF32
        | O::I64ReinterpretF64
        | O::F32ReinterpretI32
        | O::F64ReinterpretI64 => Nop,
        O::I32Extend8S => U(Op::I32Extend8S),
        O::I32Extend16S => U(Op::I32Extend16S),
        O::I64Extend8S => U(Op::I64Extend8S),
        O::I64Extend16S => U(Op::I64Extend16S),
        O::I64Extend32S => U(Op::I64Extend32S),
        O::I32TruncSatF32S => U(Op::I32TruncSatF32S),
        O::I32TruncSatF32U => U(Op::I32TruncSatF32U),
        O::I32TruncSatF64S => U(Op::I32TruncSatF64S),
        O::I32TruncSatF64U => U(Op::I32TruncSatF64U),
        O::I64TruncSatF32S => U(Op::I64TruncSatF32S),
        O::I64TruncSatF32U => U(Op::I64TruncSatF32U),
        O::I64TruncSatF64S => U(Op::I64TruncSatF64S),
        O::I64TruncSatF64U => U(Op::I64TruncSatF64U),
        O::RefIsNull => U(Op::I64Eqz),
        _ => return None,
    })
}

/// The memory an access names. (GC array accesses are another target,
/// outside the features the interpreter accepts.)
fn memory_of(m: &MemArg) -> u32 {
    match m.target {
        wasmparser::MemArgTarget::Memory(mem) => mem,
        wasmparser::MemArgTarget::Array(_) => 0,
    }
}

/// Builds a scalar load or store op on memory 0.
type MemCtor = fn(Mem) -> Op;

/// Scalar loads: the memory-0 op, the generic op's kind, and the memarg.
fn load_op(op: &O<'_>) -> Option<(MemCtor, LoadTy, MemArg)> {
    Some(match *op {
        O::I32Load { memarg } | O::F32Load { memarg } | O::I64Load32U { memarg } => {
            (Op::Load32, LoadTy::U32, memarg)
        }
        O::I64Load { memarg } | O::F64Load { memarg } => (Op::Load64, LoadTy::U64, memarg),
        O::I32Load8S { memarg } => (Op::Load8S32, LoadTy::S8To32, memarg),
        O::I64Load8S { memarg } => (Op::Load8S64, LoadTy::S8To64, memarg),
        O::I32Load8U { memarg } | O::I64Load8U { memarg } => (Op::Load8U, LoadTy::U8, memarg),
        O::I32Load16S { memarg } => (Op::Load16S32, LoadTy::S16To32, memarg),
        O::I64Load16S { memarg } => (Op::Load16S64, LoadTy::S16To64, memarg),
        O::I32Load16U { memarg } | O::I64Load16U { memarg } => (Op::Load16U, LoadTy::U16, memarg),
        O::I64Load32S { memarg } => (Op::Load32S64, LoadTy::S32To64, memarg),
        _ => return None,
    })
}

/// Scalar stores, as [`load_op`].
fn store_op(op: &O<'_>) -> Option<(MemCtor, StoreTy, MemArg)> {
    Some(match *op {
        O::I32Store8 { memarg } | O::I64Store8 { memarg } => (Op::Store8, StoreTy::B8, memarg),
        O::I32Store16 { memarg } | O::I64Store16 { memarg } => (Op::Store16, StoreTy::B16, memarg),
        O::I32Store { memarg } | O::F32Store { memarg } | O::I64Store32 { memarg } => {
            (Op::Store32, StoreTy::B32, memarg)
        }
        O::I64Store { memarg } | O::F64Store { memarg } => (Op::Store64, StoreTy::B64, memarg),
        _ => return None,
    })
}

impl FuncTranslator<'_> {
    fn unsupported(&self, what: &str) -> TranslationError {
        TranslationError::unsupported(
            alloc::format!("unsupported operator: {what}"),
            self.offset as u64,
        )
    }

    fn local(&self, index: u32) -> (Slot, u8) {
        let (slot, size, _) = self.locals[index as usize];
        (slot, size)
    }

    /// Whether local `index` holds a traced reference.
    fn local_gc(&self, index: u32) -> bool {
        self.locals[index as usize].2
    }

    /// Whether memory `mem` has 64-bit addresses.
    fn is_memory64(&self, mem: u32) -> bool {
        self.t.memories[mem as usize].memory64
    }

    /// `None` when an access through `m` can use the memory-0 ops (memory
    /// 0, 32- or 64-bit addresses), else the memory index for the generic
    /// ops.
    fn memory_index(&self, m: &MemArg) -> Option<u16> {
        let mem = memory_of(m);
        (mem != 0).then_some(mem as u16)
    }

    /// The address slot and `u32` static offset of an access through `m`
    /// whose address is in `addr`. A memory64 offset too big for the op
    /// is added first, by an op that traps when the sum overflows.
    fn address(&mut self, addr: Slot, m: &MemArg) -> (Slot, u32) {
        match u32::try_from(m.offset) {
            Ok(offset) => (addr, offset),
            Err(_) => {
                let off = self.push_temp(1);
                self.emit(Op::Const64 {
                    dst: off,
                    value: m.offset,
                });
                self.emit(Op::AddAddress {
                    dst: off,
                    a: addr,
                    b: off,
                });
                self.pop();
                (off, 0)
            }
        }
    }

    /// Emits `op`, a memory-0 access op, for the memory `m` names: SIMD
    /// accesses have no generic form, so for another memory the op is
    /// bracketed by [`Op::SelectMemory`], which points the interpreter's
    /// cached memory at that memory and back at memory 0.
    #[cfg(feature = "simd")]
    fn emit_on_memory(&mut self, m: &MemArg, op: Op) {
        let mem = memory_of(m);
        if mem == 0 {
            self.emit(op);
            return;
        }
        self.emit(Op::SelectMemory { mem: mem as u16 });
        self.emit(op);
        self.emit(Op::SelectMemory { mem: 0 });
    }

    fn emit_un(&mut self, f: fn(Un) -> Op, size: u8) {
        let a = self.pop();
        let dst = self.push_temp(size);
        self.emit(f(Un { dst, src: a.src }));
    }

    fn emit_bin(&mut self, f: fn(Bin) -> Op) {
        let b = self.pop();
        let a = self.pop();
        let dst = self.push_temp(1);
        self.emit_bin_fused(
            f(Bin {
                dst,
                lhs: a.src,
                rhs: b.src,
            }),
            a,
            b,
        );
    }

    /// Translates one reachable operator.
    pub(super) fn visit(&mut self, op: &O<'_>) -> Result<(), TranslationError> {
        if let Some(s) = simple(op) {
            match s {
                Simple::Un(f) => self.emit_un(f, 1),
                Simple::Bin(f) => self.emit_bin(f),
                Simple::Nop => {}
            }
            return Ok(());
        }
        if let Some((f, ty, m)) = load_op(op) {
            let a = self.pop();
            if self.memory_index(&m).is_none()
                && !self.is_memory64(0)
                && let Ok(offset) = u32::try_from(m.offset)
                && self.emit_addressed_load(ty, a, offset)
            {
                return Ok(());
            }
            let (addr, offset) = self.address(a.src, &m);
            let dst = self.push_temp(1);
            let mem = Mem {
                val: dst,
                addr,
                offset,
            };
            self.emit(match self.memory_index(&m) {
                None => f(mem),
                Some(index) => Op::LoadMem {
                    ty,
                    mem: index,
                    m: mem,
                },
            });
            return Ok(());
        }
        if let Some((f, ty, m)) = store_op(op) {
            let v = self.pop();
            let a = self.pop();
            if self.memory_index(&m).is_none()
                && let Ok(offset) = u32::try_from(m.offset)
                && self.emit_store_imm(ty, a.src, v, offset)
            {
                return Ok(());
            }
            let (addr, offset) = self.address(a.src, &m);
            let mem = Mem {
                val: v.src,
                addr,
                offset,
            };
            self.emit(match self.memory_index(&m) {
                None => f(mem),
                Some(index) => Op::StoreMem {
                    ty,
                    mem: index,
                    m: mem,
                },
            });
            return Ok(());
        }
        match *op {
            O::Unreachable => self.visit_unreachable(),
            O::Nop => {}
            O::Block { blockty } => self.visit_block(blockty),
            O::Loop { blockty } => self.visit_loop(blockty),
            O::If { blockty } => self.visit_if(blockty),
            O::Else => self.visit_else(),
            O::End => self.visit_end(),
            O::Br { relative_depth } => self.visit_br(relative_depth),
            O::BrIf { relative_depth } => self.visit_br_if(relative_depth),
            O::BrTable { ref targets } => self.visit_br_table(targets)?,
            O::Return => self.visit_return(),
            O::Call { function_index } => self.visit_call(function_index, false),
            O::ReturnCall { function_index } => self.visit_call(function_index, true),
            O::CallIndirect {
                type_index,
                table_index,
            } => self.visit_call_indirect(type_index, table_index, false),
            O::ReturnCallIndirect {
                type_index,
                table_index,
            } => self.visit_call_indirect(type_index, table_index, true),
            O::Drop => {
                self.pop();
            }
            O::Select => self.visit_select(),
            O::TypedSelect { .. } => self.visit_select(),
            O::LocalGet { local_index } => {
                let (slot, size) = self.local(local_index);
                self.push_lazy(slot, size);
                self.set_top_gc(self.local_gc(local_index));
            }
            O::LocalSet { local_index } => {
                let (slot, size) = self.local(local_index);
                let e = self.pop();
                self.materialize_local(slot);
                if e.src != slot && !self.retarget_last(e.src, slot, size) {
                    self.emit_copy(slot, e.src, size);
                }
            }
            O::LocalTee { local_index } => {
                let (slot, size) = self.local(local_index);
                let e = self.pop();
                self.materialize_local(slot);
                if e.src != slot && !self.retarget_last(e.src, slot, size) {
                    self.emit_copy(slot, e.src, size);
                }
                // The value now lives in the local: keep reading it there.
                self.push_lazy(slot, size);
                self.set_top_gc(e.gc);
            }
            O::GlobalGet { global_index } => {
                let content = self.t.globals[global_index as usize].content;
                let size = super::slot_size(content);
                let dst = self.push_temp(size);
                self.set_top_gc(content.is_traced());
                let global = global_index;
                self.emit(if size == 2 {
                    Op::GlobalGet2 { dst, global }
                } else {
                    Op::GlobalGet { dst, global }
                });
            }
            O::GlobalSet { global_index } => {
                let e = self.pop();
                let global = global_index;
                let src = e.src;
                self.emit(if e.size == 2 {
                    Op::GlobalSet2 { src, global }
                } else {
                    Op::GlobalSet { src, global }
                });
            }
            O::I32Const { value } => self.push_const(u64::from(value as u32), false),
            O::I64Const { value } => self.push_const(value as u64, true),
            O::F32Const { value } => self.push_const(u64::from(value.bits()), false),
            O::F64Const { value } => self.push_const(value.bits(), true),
            O::Throw { tag_index } => self.visit_throw(tag_index),
            O::ThrowRef => self.visit_throw_ref(),
            O::TryTable { ref try_table } => self.visit_try_table(try_table.ty, &try_table.catches),
            O::Try { blockty } => self.visit_try(blockty),
            O::Catch { tag_index } => self.visit_catch(Some(tag_index)),
            O::CatchAll => self.visit_catch(None),
            O::Delegate { relative_depth } => self.visit_delegate(relative_depth),
            O::Rethrow { relative_depth } => self.visit_rethrow(relative_depth),
            O::CallRef { type_index } => self.visit_call_ref(type_index, false),
            O::ReturnCallRef { type_index } => self.visit_call_ref(type_index, true),
            O::RefAsNonNull => {
                let r = *self.stack.last().expect("validated: a reference");
                self.emit(Op::RefAsNonNull { src: r.src });
            }
            O::BrOnNull { relative_depth } => self.visit_br_on_null(relative_depth, true),
            O::BrOnNonNull { relative_depth } => self.visit_br_on_null(relative_depth, false),
            O::RefNull { hty } => {
                let dst = self.push_temp(1);
                // Null is never an object, but the slot's type is what the
                // collector's tables (and their debug check) go by.
                let traced = wasmparser::RefType::new(true, hty)
                    .is_some_and(|r| self.wp_traced(wasmparser::ValType::Ref(r)));
                self.set_top_gc(traced);
                self.emit(Op::Const64 { dst, value: 0 });
            }
            O::RefFunc { function_index } => {
                let dst = self.push_temp(1);
                self.emit(Op::RefFunc {
                    dst,
                    func: function_index,
                });
            }
            O::I64Add128 | O::I64Sub128 => {
                let (b_hi, b_lo) = (self.pop().src, self.pop().src);
                let (a_hi, a_lo) = (self.pop().src, self.pop().src);
                let lo = self.push_temp(1);
                let hi = self.push_temp(1);
                let w = Wide {
                    lo,
                    hi,
                    a_lo,
                    a_hi,
                    b_lo,
                    b_hi,
                };
                self.emit(if matches!(op, O::I64Add128) {
                    Op::Add128(w)
                } else {
                    Op::Sub128(w)
                });
            }
            O::I64MulWideS | O::I64MulWideU => {
                let (b, a) = (self.pop().src, self.pop().src);
                let lo = self.push_temp(1);
                let hi = self.push_temp(1);
                let m = MulWide { lo, hi, a, b };
                self.emit(if matches!(op, O::I64MulWideS) {
                    Op::MulWideS(m)
                } else {
                    Op::MulWideU(m)
                });
            }
            O::MemorySize { mem } => {
                let dst = self.push_temp(1);
                self.emit(Op::MemorySize {
                    mem,
                    page_size_log2: self.t.memories[mem as usize].page_size_log2,
                    dst,
                });
            }
            O::MemoryGrow { mem } => {
                let a = self.pop();
                let dst = self.push_temp(1);
                self.emit(Op::MemoryGrow {
                    mem: mem as u16,
                    wide: self.is_memory64(mem),
                    x: Un { dst, src: a.src },
                });
            }
            O::MemoryInit { data_index, mem } => {
                let (dst, src, len) = self.pop3();
                self.emit(Op::MemoryInit {
                    mem: mem as u16,
                    data: data_index,
                    dst,
                    src,
                    len,
                });
            }
            O::DataDrop { data_index } => {
                self.emit(Op::DataDrop { data: data_index });
            }
            O::MemoryCopy { dst_mem, src_mem } => {
                let (dst, src, len) = self.pop3();
                self.emit(Op::MemoryCopy {
                    dst_mem: dst_mem as u16,
                    src_mem: src_mem as u16,
                    dst,
                    src,
                    len,
                });
            }
            O::MemoryFill { mem } => {
                let (dst, val, len) = self.pop3();
                self.emit(Op::MemoryFill {
                    mem: mem as u16,
                    dst,
                    val,
                    len,
                });
            }
            O::TableGet { table } => {
                let i = self.pop();
                let dst = self.push_temp(1);
                self.set_top_gc(self.t.tables[table as usize].element.is_traced());
                self.emit(Op::TableGet {
                    table,
                    dst,
                    index: i.src,
                });
            }
            O::TableSet { table } => {
                let v = self.pop();
                let i = self.pop();
                self.emit(Op::TableSet {
                    table,
                    index: i.src,
                    val: v.src,
                });
            }
            O::TableSize { table } => {
                let dst = self.push_temp(1);
                self.emit(Op::TableSize { table, dst });
            }
            O::TableGrow { table } => {
                let delta = self.pop();
                let init = self.pop();
                let dst = self.push_temp(1);
                self.emit(Op::TableGrow {
                    table,
                    wide: self.t.tables[table as usize].table64,
                    dst,
                    init: init.src,
                    delta: delta.src,
                });
            }
            O::TableFill { table } => {
                let (dst, val, len) = self.pop3();
                self.emit(Op::TableFill {
                    table,
                    dst,
                    val,
                    len,
                });
            }
            O::TableCopy {
                dst_table,
                src_table,
            } => {
                let (dst, src, len) = self.pop3();
                self.emit(Op::TableCopy {
                    dst_table: dst_table as u16,
                    src_table: src_table as u16,
                    dst,
                    src,
                    len,
                });
            }
            O::TableInit { elem_index, table } => {
                let (dst, src, len) = self.pop3();
                self.emit(Op::TableInit {
                    table: table as u16,
                    elem: elem_index,
                    dst,
                    src,
                    len,
                });
            }
            O::ElemDrop { elem_index } => {
                self.emit(Op::ElemDrop { elem: elem_index });
            }
            // GC, then SIMD, last: the common scalar and control ops never
            // pay for classifying them.
            ref other if self.visit_gc(other)? => {}
            #[cfg(feature = "simd")]
            ref other => match simd::classify(other) {
                Some(s) => self.visit_simd(s),
                None => return Err(self.unsupported(kiln_environ::operator_name(other))),
            },
            #[cfg(not(feature = "simd"))]
            ref other => return Err(self.unsupported(kiln_environ::operator_name(other))),
        }
        Ok(())
    }

    /// Pops three operands, returning their slots in push order.
    fn pop3(&mut self) -> (Slot, Slot, Slot) {
        let c = self.pop();
        let b = self.pop();
        let a = self.pop();
        (a.src, b.src, c.src)
    }

    fn visit_select(&mut self) {
        let c = self.pop();
        let b = self.pop();
        let a = self.pop();
        let dst = self.push_temp(a.size);
        self.set_top_gc(a.gc);
        let (cond, a_s, b_s) = (c.src, a.src, b.src);
        self.emit(if a.size == 2 {
            Op::Select2 {
                dst,
                cond,
                a: a_s,
                b: b_s,
            }
        } else {
            Op::Select {
                dst,
                cond,
                a: a_s,
                b: b_s,
            }
        });
    }

    /// `local.set` of a value the previous op just computed into its home
    /// temp: rewrite that op to write the local directly. Only safe when no
    /// label sits between (nothing else may observe the temp) and the op's
    /// only output is `dst`, written after all its inputs are read.
    fn retarget_last(&mut self, temp: Slot, local: Slot, size: u8) -> bool {
        if self.code.len() <= self.last_label || temp < self.temps_base as Slot {
            return false;
        }
        let Some(last) = self.code.last_mut() else {
            return false;
        };
        let dst = if size == 2 {
            last.vector_dst_mut()
        } else {
            last.scalar_dst_mut()
        };
        let Some(dst) = dst else {
            return false;
        };
        if *dst != temp {
            return false;
        }
        *dst = local;
        true
    }

    #[cfg(feature = "simd")]
    fn visit_simd(&mut self, s: SimdOp) {
        match s {
            SimdOp::Const(v) => {
                let dst = self.push_temp(2);
                self.emit(Op::Const64 {
                    dst,
                    value: v as u64,
                });
                self.emit(Op::Const64 {
                    dst: dst + 1,
                    value: (v >> 64) as u64,
                });
            }
            SimdOp::Unary(op) => {
                let a = self.pop();
                let dst = self.push_temp(2);
                self.emit(Op::V128Unary { op, dst, a: a.src });
            }
            SimdOp::Binary(op) => {
                let b = self.pop();
                let a = self.pop();
                let dst = self.push_temp(2);
                self.emit(Op::V128Binary {
                    op,
                    dst,
                    a: a.src,
                    b: b.src,
                });
            }
            SimdOp::Ternary(op) => {
                let c = self.pop();
                let b = self.pop();
                let a = self.pop();
                let dst = self.push_temp(2);
                self.emit(Op::V128Ternary {
                    op,
                    dst,
                    a: a.src,
                    b: b.src,
                    c: c.src,
                });
            }
            SimdOp::Shift(op) => {
                let b = self.pop();
                let a = self.pop();
                let dst = self.push_temp(2);
                self.emit(Op::V128Shift {
                    op,
                    dst,
                    a: a.src,
                    b: b.src,
                });
            }
            SimdOp::Test(op) => {
                let a = self.pop();
                let dst = self.push_temp(1);
                self.emit(Op::V128Test { op, dst, a: a.src });
            }
            SimdOp::Splat(op) => {
                let a = self.pop();
                let dst = self.push_temp(2);
                self.emit(Op::V128Splat { op, dst, a: a.src });
            }
            SimdOp::ExtractLane(op, lane) => {
                let a = self.pop();
                let dst = self.push_temp(1);
                self.emit(Op::V128Extract {
                    op,
                    lane,
                    dst,
                    a: a.src,
                });
            }
            SimdOp::ReplaceLane(op, lane) => {
                let b = self.pop();
                let a = self.pop();
                let dst = self.push_temp(2);
                self.emit(Op::V128Replace {
                    op,
                    lane,
                    dst,
                    a: a.src,
                    b: b.src,
                });
            }
            SimdOp::Shuffle(lanes) => {
                let b = self.pop();
                let a = self.pop();
                let dst = self.push_temp(2);
                let idx = self.shuffles.len() as u32;
                self.shuffles.push(lanes);
                self.emit(Op::V128Shuffle {
                    dst,
                    a: a.src,
                    b: b.src,
                    idx,
                });
            }
            SimdOp::Load(kind, m) => {
                let a = self.pop();
                let (addr, offset) = self.address(a.src, &m);
                let dst = self.push_temp(2);
                self.emit_on_memory(
                    &m,
                    Op::V128Load {
                        kind,
                        dst,
                        addr,
                        offset,
                    },
                );
            }
            SimdOp::LoadLane(width, m, lane) => {
                let v = self.pop();
                let a = self.pop();
                let (addr, offset) = self.address(a.src, &m);
                let dst = self.push_temp(2);
                self.emit_on_memory(
                    &m,
                    Op::V128LoadLane {
                        width,
                        lane,
                        dst,
                        src: v.src,
                        addr,
                        offset,
                    },
                );
            }
            SimdOp::Store(m) => {
                let v = self.pop();
                let a = self.pop();
                let (addr, offset) = self.address(a.src, &m);
                self.emit_on_memory(
                    &m,
                    Op::V128Store {
                        addr,
                        src: v.src,
                        offset,
                    },
                );
            }
            SimdOp::StoreLane(width, m, lane) => {
                let v = self.pop();
                let a = self.pop();
                let (addr, offset) = self.address(a.src, &m);
                self.emit_on_memory(
                    &m,
                    Op::V128StoreLane {
                        width,
                        lane,
                        addr,
                        src: v.src,
                        offset,
                    },
                );
            }
        }
    }
}
