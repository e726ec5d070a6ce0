//! What the translator asks of an op after emitting it: its branch offset
//! (for patching), the slot its result goes to (for retargeting a
//! `local.set`), and whether it can trap or call (for the offset table).

use super::*;

impl Op {
    /// The relative target of a branch op, for patching.
    pub fn branch_offset_mut(&mut self) -> Option<&mut i32> {
        match self {
            Op::Br { offset } | Op::CopyBr { offset, .. } => Some(offset),
            _ => self.cond_branch_targets_mut().map(|(taken, _)| taken),
        }
    }

    /// The taken and fall-through targets of a conditional branch (every
    /// op [`Self::branch_offset_mut`] patches but `Br` and `CopyBr`): what
    /// jump threading rewrites when it copies one.
    pub fn cond_branch_targets_mut(&mut self) -> Option<(&mut i32, &mut i16)> {
        match self {
            Op::BrIfNez {
                offset,
                fallthrough,
                ..
            }
            | Op::BrIfEqz {
                offset,
                fallthrough,
                ..
            } => Some((offset, fallthrough)),
            Op::BrI32Eq(b)
            | Op::BrI32Ne(b)
            | Op::BrI32LtS(b)
            | Op::BrI32LtU(b)
            | Op::BrI32GtS(b)
            | Op::BrI32GtU(b)
            | Op::BrI32LeS(b)
            | Op::BrI32LeU(b)
            | Op::BrI32GeS(b)
            | Op::BrI32GeU(b) => Some((&mut b.offset, &mut b.fallthrough)),
            Op::BrI32EqImm(b)
            | Op::BrI32NeImm(b)
            | Op::BrI32LtSImm(b)
            | Op::BrI32LtUImm(b)
            | Op::BrI32GtSImm(b)
            | Op::BrI32GtUImm(b)
            | Op::BrI32LeSImm(b)
            | Op::BrI32LeUImm(b)
            | Op::BrI32GeSImm(b)
            | Op::BrI32GeUImm(b) => Some((&mut b.offset, &mut b.fallthrough)),
            _ => None,
        }
    }

    /// The first result slot of an op whose only effect is writing one
    /// `v128` (two slots, after reading all its inputs), for retargeting
    /// its result as [`Op::scalar_dst_mut`] does for scalars: a SIMD
    /// result stored to a local then needs no `Copy2`.
    #[cfg(feature = "simd")]
    pub fn vector_dst_mut(&mut self) -> Option<&mut Slot> {
        match self {
            Op::Copy2(Un { dst, .. })
            | Op::V128Unary { dst, .. }
            | Op::V128Binary { dst, .. }
            | Op::V128Ternary { dst, .. }
            | Op::V128Shift { dst, .. }
            | Op::V128Splat { dst, .. }
            | Op::V128Replace { dst, .. }
            | Op::V128Shuffle { dst, .. }
            | Op::V128Load { dst, .. }
            | Op::V128LoadLane { dst, .. } => Some(dst),
            _ => None,
        }
    }

    /// No `v128` ops in a build without the `simd` feature.
    #[cfg(not(feature = "simd"))]
    pub fn vector_dst_mut(&mut self) -> Option<&mut Slot> {
        None
    }

    /// The result slot of an op whose only effect is writing one scalar
    /// slot (after reading all its inputs), for retargeting its result.
    pub fn scalar_dst_mut(&mut self) -> Option<&mut Slot> {
        match self {
            Op::Copy(x)
            | Op::MemoryGrow { x, .. }
            | Op::I32Eqz(x)
            | Op::I32Clz(x)
            | Op::I32Ctz(x)
            | Op::I32Popcnt(x)
            | Op::I64Eqz(x)
            | Op::I64Clz(x)
            | Op::I64Ctz(x)
            | Op::I64Popcnt(x)
            | Op::F32Abs(x)
            | Op::F32Neg(x)
            | Op::F32Ceil(x)
            | Op::F32Floor(x)
            | Op::F32Trunc(x)
            | Op::F32Nearest(x)
            | Op::F32Sqrt(x)
            | Op::F64Abs(x)
            | Op::F64Neg(x)
            | Op::F64Ceil(x)
            | Op::F64Floor(x)
            | Op::F64Trunc(x)
            | Op::F64Nearest(x)
            | Op::F64Sqrt(x)
            | Op::I32WrapI64(x)
            | Op::I32TruncF32S(x)
            | Op::I32TruncF32U(x)
            | Op::I32TruncF64S(x)
            | Op::I32TruncF64U(x)
            | Op::I64ExtendI32S(x)
            | Op::I64TruncF32S(x)
            | Op::I64TruncF32U(x)
            | Op::I64TruncF64S(x)
            | Op::I64TruncF64U(x)
            | Op::F32ConvertI32S(x)
            | Op::F32ConvertI32U(x)
            | Op::F32ConvertI64S(x)
            | Op::F32ConvertI64U(x)
            | Op::F32DemoteF64(x)
            | Op::F64ConvertI32S(x)
            | Op::F64ConvertI32U(x)
            | Op::F64ConvertI64S(x)
            | Op::F64ConvertI64U(x)
            | Op::F64PromoteF32(x)
            | Op::I32Extend8S(x)
            | Op::I32Extend16S(x)
            | Op::I64Extend8S(x)
            | Op::I64Extend16S(x)
            | Op::I64Extend32S(x)
            | Op::I32TruncSatF32S(x)
            | Op::I32TruncSatF32U(x)
            | Op::I32TruncSatF64S(x)
            | Op::I32TruncSatF64U(x)
            | Op::I64TruncSatF32S(x)
            | Op::I64TruncSatF32U(x)
            | Op::I64TruncSatF64S(x)
            | Op::I64TruncSatF64U(x) => Some(&mut x.dst),
            Op::I32Eq(x)
            | Op::I32Ne(x)
            | Op::I32LtS(x)
            | Op::I32LtU(x)
            | Op::I32GtS(x)
            | Op::I32GtU(x)
            | Op::I32LeS(x)
            | Op::I32LeU(x)
            | Op::I32GeS(x)
            | Op::I32GeU(x)
            | Op::I32Add(x)
            | Op::I32Sub(x)
            | Op::I32Mul(x)
            | Op::I32DivS(x)
            | Op::I32DivU(x)
            | Op::I32RemS(x)
            | Op::I32RemU(x)
            | Op::I32And(x)
            | Op::I32Or(x)
            | Op::I32Xor(x)
            | Op::I32Shl(x)
            | Op::I32ShrS(x)
            | Op::I32ShrU(x)
            | Op::I32Rotl(x)
            | Op::I32Rotr(x)
            | Op::I64Eq(x)
            | Op::I64Ne(x)
            | Op::I64LtS(x)
            | Op::I64LtU(x)
            | Op::I64GtS(x)
            | Op::I64GtU(x)
            | Op::I64LeS(x)
            | Op::I64LeU(x)
            | Op::I64GeS(x)
            | Op::I64GeU(x)
            | Op::I64Add(x)
            | Op::I64Sub(x)
            | Op::I64Mul(x)
            | Op::I64DivS(x)
            | Op::I64DivU(x)
            | Op::I64RemS(x)
            | Op::I64RemU(x)
            | Op::I64And(x)
            | Op::I64Or(x)
            | Op::I64Xor(x)
            | Op::I64Shl(x)
            | Op::I64ShrS(x)
            | Op::I64ShrU(x)
            | Op::I64Rotl(x)
            | Op::I64Rotr(x)
            | Op::F32Eq(x)
            | Op::F32Ne(x)
            | Op::F32Lt(x)
            | Op::F32Gt(x)
            | Op::F32Le(x)
            | Op::F32Ge(x)
            | Op::F64Eq(x)
            | Op::F64Ne(x)
            | Op::F64Lt(x)
            | Op::F64Gt(x)
            | Op::F64Le(x)
            | Op::F64Ge(x)
            | Op::F32Add(x)
            | Op::F32Sub(x)
            | Op::F32Mul(x)
            | Op::F32Div(x)
            | Op::F32Min(x)
            | Op::F32Max(x)
            | Op::F32Copysign(x)
            | Op::F64Add(x)
            | Op::F64Sub(x)
            | Op::F64Mul(x)
            | Op::F64Div(x)
            | Op::F64Min(x)
            | Op::F64Max(x)
            | Op::F64Copysign(x) => Some(&mut x.dst),
            Op::F32MulAdd(x) | Op::F64MulAdd(x) => Some(&mut x.dst),
            Op::I32AddImm(x)
            | Op::I32MulImm(x)
            | Op::I32AndImm(x)
            | Op::I32OrImm(x)
            | Op::I32XorImm(x)
            | Op::I32ShlImm(x)
            | Op::I32ShrSImm(x)
            | Op::I32ShrUImm(x)
            | Op::I32RotlImm(x)
            | Op::I32RotrImm(x)
            | Op::I32EqImm(x)
            | Op::I32NeImm(x)
            | Op::I32LtSImm(x)
            | Op::I32LtUImm(x)
            | Op::I32GtSImm(x)
            | Op::I32GtUImm(x)
            | Op::I32LeSImm(x)
            | Op::I32LeUImm(x)
            | Op::I32GeSImm(x)
            | Op::I32GeUImm(x)
            | Op::I64AddImm(x) => Some(&mut x.dst),
            Op::I64AndImm { dst, .. }
            | Op::I64OrImm { dst, .. }
            | Op::I64XorImm { dst, .. }
            | Op::I64MulImm { dst, .. }
            | Op::I64ShlImm { dst, .. }
            | Op::I64ShrSImm { dst, .. }
            | Op::I64ShrUImm { dst, .. }
            | Op::I64RotlImm { dst, .. }
            | Op::I64RotrImm { dst, .. }
            | Op::I32AddShl { dst, .. } => Some(dst),
            // The last write: retargeting it is retargeting a `Copy`.
            Op::CopyPair { dst1, .. } | Op::I32AddImmPair { dst1, .. } => Some(dst1),
            Op::Load32(x)
            | Op::Load64(x)
            | Op::Load8S32(x)
            | Op::Load8S64(x)
            | Op::Load8U(x)
            | Op::Load16S32(x)
            | Op::Load16S64(x)
            | Op::Load16U(x)
            | Op::Load32S64(x)
            | Op::LoadMem { m: x, .. } => Some(&mut x.val),
            Op::Load32AddImm { val, .. }
            | Op::Load64AddImm { val, .. }
            | Op::Load8UAddImm { val, .. }
            | Op::Load32Add { val, .. }
            | Op::Load64Add { val, .. }
            | Op::Load8UAdd { val, .. }
            | Op::Load32Index { val, .. }
            | Op::Load64Index { val, .. }
            | Op::Load8UIndex { val, .. } => Some(val),
            Op::Const32 { dst, .. }
            | Op::Const64 { dst, .. }
            | Op::Select { dst, .. }
            | Op::GlobalGet { dst, .. }
            | Op::RefFunc { dst, .. }
            | Op::MemorySize { dst, .. }
            | Op::TableGet { dst, .. }
            | Op::TableSize { dst, .. } => Some(dst),
            #[cfg(feature = "simd")]
            Op::V128Test { dst, .. } | Op::V128Extract { dst, .. } => Some(dst),
            _ => None,
        }
    }

    /// Whether this op can trap or call (and so needs a wasm offset in the
    /// function's offset table for backtraces).
    pub fn needs_offset(&self) -> bool {
        matches!(
            self,
            Op::Unreachable
                | Op::Fuel { .. }
                | Op::LoopHead { .. }
                | Op::Call { .. }
                | Op::CallImport { .. }
                | Op::CallIndirect { .. }
                | Op::CallRef { .. }
                | Op::Throw { .. }
                | Op::ThrowRef { .. }
                | Op::ReturnCallRef { .. }
                | Op::RefAsNonNull { .. }
                | Op::ReturnCall { .. }
                | Op::ReturnCallImport { .. }
                | Op::ReturnCallIndirect { .. }
                | Op::Load32(_)
                | Op::Load64(_)
                | Op::Load8S32(_)
                | Op::Load8S64(_)
                | Op::Load8U(_)
                | Op::Load16S32(_)
                | Op::Load16S64(_)
                | Op::Load16U(_)
                | Op::Load32S64(_)
                | Op::Store8(_)
                | Op::Store16(_)
                | Op::Store32(_)
                | Op::Store64(_)
                | Op::Load32AddImm { .. }
                | Op::Load64AddImm { .. }
                | Op::Load8UAddImm { .. }
                | Op::Load32Add { .. }
                | Op::Load64Add { .. }
                | Op::Load8UAdd { .. }
                | Op::Load32Index { .. }
                | Op::Load64Index { .. }
                | Op::Load8UIndex { .. }
                | Op::Store8Imm { .. }
                | Op::Store16Imm { .. }
                | Op::Store32Imm { .. }
                | Op::Store64Imm { .. }
                | Op::LoadMem { .. }
                | Op::StoreMem { .. }
                | Op::AddAddress { .. }
                | Op::MemoryGrow { .. }
                | Op::MemoryInit { .. }
                | Op::MemoryCopy { .. }
                | Op::MemoryFill { .. }
                | Op::TableGet { .. }
                | Op::TableSet { .. }
                | Op::TableGrow { .. }
                | Op::TableFill { .. }
                | Op::TableCopy { .. }
                | Op::TableInit { .. }
                | Op::I32DivS(_)
                | Op::I32DivU(_)
                | Op::I32RemS(_)
                | Op::I32RemU(_)
                | Op::I64DivS(_)
                | Op::I64DivU(_)
                | Op::I64RemS(_)
                | Op::I64RemU(_)
                | Op::I32TruncF32S(_)
                | Op::I32TruncF32U(_)
                | Op::I32TruncF64S(_)
                | Op::I32TruncF64U(_)
                | Op::I64TruncF32S(_)
                | Op::I64TruncF32U(_)
                | Op::I64TruncF64S(_)
                | Op::I64TruncF64U(_)
        ) || self.is_simd_memory_access()
    }

    /// Whether this is a SIMD load or store (which can trap).
    #[cfg(feature = "simd")]
    fn is_simd_memory_access(&self) -> bool {
        matches!(
            self,
            Op::V128Load { .. }
                | Op::V128LoadLane { .. }
                | Op::V128Store { .. }
                | Op::V128StoreLane { .. }
        )
    }

    /// No SIMD ops in a build without the `simd` feature.
    #[cfg(not(feature = "simd"))]
    fn is_simd_memory_access(&self) -> bool {
        false
    }
}

/// Maps the ops with named operands to and from their accumulator forms
/// (the op list generates the tuple ones): `$base { fields } <-> $acc`,
/// `$field` the operand taken from the accumulator.
macro_rules! named_acc_forms {
    ($( $base:ident / $acc:ident { $($f:ident),* } . $field:ident ),* $(,)?) => {
        impl Op {
            /// The accumulator form of this op, if it has one, and the
            /// operand slot that form takes from the accumulator.
            pub fn acc_form(&self) -> Option<(Slot, Op)> {
                match *self {
                    $( Op::$base { $($f),* } => Some(($field, Op::$acc { $($f),* })), )*
                    _ => self.tuple_acc_form(),
                }
            }

            /// The op an accumulator form stands for; any other op itself.
            pub fn base_form(&self) -> Op {
                match *self {
                    $( Op::$acc { $($f),* } => Op::$base { $($f),* }, )*
                    _ => self.tuple_base_form(),
                }
            }
        }
    };
}

named_acc_forms! {
    BrIfNez / BrIfNezAcc { cond, fallthrough, offset }.cond,
    BrIfEqz / BrIfEqzAcc { cond, fallthrough, offset }.cond,
    BrTable / BrTableAcc { index, len }.index,
    Return1 / Return1Acc { src }.src,
    Load32AddImm / Load32AddImmAcc { val, addr, imm, offset }.addr,
    Load64AddImm / Load64AddImmAcc { val, addr, imm, offset }.addr,
    Load8UAddImm / Load8UAddImmAcc { val, addr, imm, offset }.addr,
    Store8Imm / Store8ImmAcc { addr, value, offset }.addr,
    Store16Imm / Store16ImmAcc { addr, value, offset }.addr,
    Store32Imm / Store32ImmAcc { addr, value, offset }.addr,
    Store64Imm / Store64ImmAcc { addr, value, offset }.addr,
}
