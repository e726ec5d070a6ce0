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
    /// slot (after reading all its inputs), for retargeting its result;
    /// accumulator forms included, for the pass that makes them
    /// (`translate/accumulator.rs`).
    pub fn scalar_dst_mut(&mut self) -> Option<&mut Slot> {
        match self {
            Op::Copy(x)
            | Op::CopyAcc(x)
            | Op::MemoryGrow { x, .. }
            | Op::I32Eqz(x)
            | Op::I32EqzAcc(x)
            | Op::I32Clz(x)
            | Op::I32ClzAcc(x)
            | Op::I32Ctz(x)
            | Op::I32CtzAcc(x)
            | Op::I32Popcnt(x)
            | Op::I32PopcntAcc(x)
            | Op::I64Eqz(x)
            | Op::I64EqzAcc(x)
            | Op::I64Clz(x)
            | Op::I64ClzAcc(x)
            | Op::I64Ctz(x)
            | Op::I64CtzAcc(x)
            | Op::I64Popcnt(x)
            | Op::I64PopcntAcc(x)
            | Op::F32Abs(x)
            | Op::F32AbsAcc(x)
            | Op::F32Neg(x)
            | Op::F32NegAcc(x)
            | Op::F32Ceil(x)
            | Op::F32CeilAcc(x)
            | Op::F32Floor(x)
            | Op::F32FloorAcc(x)
            | Op::F32Trunc(x)
            | Op::F32TruncAcc(x)
            | Op::F32Nearest(x)
            | Op::F32NearestAcc(x)
            | Op::F32Sqrt(x)
            | Op::F32SqrtAcc(x)
            | Op::F64Abs(x)
            | Op::F64AbsAcc(x)
            | Op::F64Neg(x)
            | Op::F64NegAcc(x)
            | Op::F64Ceil(x)
            | Op::F64CeilAcc(x)
            | Op::F64Floor(x)
            | Op::F64FloorAcc(x)
            | Op::F64Trunc(x)
            | Op::F64TruncAcc(x)
            | Op::F64Nearest(x)
            | Op::F64NearestAcc(x)
            | Op::F64Sqrt(x)
            | Op::F64SqrtAcc(x)
            | Op::I32WrapI64(x)
            | Op::I32WrapI64Acc(x)
            | Op::I32TruncF32S(x)
            | Op::I32TruncF32SAcc(x)
            | Op::I32TruncF32U(x)
            | Op::I32TruncF32UAcc(x)
            | Op::I32TruncF64S(x)
            | Op::I32TruncF64SAcc(x)
            | Op::I32TruncF64U(x)
            | Op::I32TruncF64UAcc(x)
            | Op::I64ExtendI32S(x)
            | Op::I64ExtendI32SAcc(x)
            | Op::I64TruncF32S(x)
            | Op::I64TruncF32SAcc(x)
            | Op::I64TruncF32U(x)
            | Op::I64TruncF32UAcc(x)
            | Op::I64TruncF64S(x)
            | Op::I64TruncF64SAcc(x)
            | Op::I64TruncF64U(x)
            | Op::I64TruncF64UAcc(x)
            | Op::F32ConvertI32S(x)
            | Op::F32ConvertI32SAcc(x)
            | Op::F32ConvertI32U(x)
            | Op::F32ConvertI32UAcc(x)
            | Op::F32ConvertI64S(x)
            | Op::F32ConvertI64SAcc(x)
            | Op::F32ConvertI64U(x)
            | Op::F32ConvertI64UAcc(x)
            | Op::F32DemoteF64(x)
            | Op::F32DemoteF64Acc(x)
            | Op::F64ConvertI32S(x)
            | Op::F64ConvertI32SAcc(x)
            | Op::F64ConvertI32U(x)
            | Op::F64ConvertI32UAcc(x)
            | Op::F64ConvertI64S(x)
            | Op::F64ConvertI64SAcc(x)
            | Op::F64ConvertI64U(x)
            | Op::F64ConvertI64UAcc(x)
            | Op::F64PromoteF32(x)
            | Op::F64PromoteF32Acc(x)
            | Op::I32Extend8S(x)
            | Op::I32Extend8SAcc(x)
            | Op::I32Extend16S(x)
            | Op::I32Extend16SAcc(x)
            | Op::I64Extend8S(x)
            | Op::I64Extend8SAcc(x)
            | Op::I64Extend16S(x)
            | Op::I64Extend16SAcc(x)
            | Op::I64Extend32S(x)
            | Op::I64Extend32SAcc(x)
            | Op::I32TruncSatF32S(x)
            | Op::I32TruncSatF32SAcc(x)
            | Op::I32TruncSatF32U(x)
            | Op::I32TruncSatF32UAcc(x)
            | Op::I32TruncSatF64S(x)
            | Op::I32TruncSatF64SAcc(x)
            | Op::I32TruncSatF64U(x)
            | Op::I32TruncSatF64UAcc(x)
            | Op::I64TruncSatF32S(x)
            | Op::I64TruncSatF32SAcc(x)
            | Op::I64TruncSatF32U(x)
            | Op::I64TruncSatF32UAcc(x)
            | Op::I64TruncSatF64S(x)
            | Op::I64TruncSatF64SAcc(x)
            | Op::I64TruncSatF64U(x)
            | Op::I64TruncSatF64UAcc(x) => Some(&mut x.dst),
            Op::I32Eq(x)
            | Op::I32EqAcc(x)
            | Op::I32Ne(x)
            | Op::I32NeAcc(x)
            | Op::I32LtS(x)
            | Op::I32LtSAcc(x)
            | Op::I32LtU(x)
            | Op::I32LtUAcc(x)
            | Op::I32GtS(x)
            | Op::I32GtSAcc(x)
            | Op::I32GtU(x)
            | Op::I32GtUAcc(x)
            | Op::I32LeS(x)
            | Op::I32LeSAcc(x)
            | Op::I32LeU(x)
            | Op::I32LeUAcc(x)
            | Op::I32GeS(x)
            | Op::I32GeSAcc(x)
            | Op::I32GeU(x)
            | Op::I32GeUAcc(x)
            | Op::I32Add(x)
            | Op::I32AddAcc(x)
            | Op::I32Sub(x)
            | Op::I32SubAcc(x)
            | Op::I32Mul(x)
            | Op::I32MulAcc(x)
            | Op::I32DivS(x)
            | Op::I32DivSAcc(x)
            | Op::I32DivU(x)
            | Op::I32DivUAcc(x)
            | Op::I32RemS(x)
            | Op::I32RemSAcc(x)
            | Op::I32RemU(x)
            | Op::I32RemUAcc(x)
            | Op::I32And(x)
            | Op::I32AndAcc(x)
            | Op::I32Or(x)
            | Op::I32OrAcc(x)
            | Op::I32Xor(x)
            | Op::I32XorAcc(x)
            | Op::I32Shl(x)
            | Op::I32ShlAcc(x)
            | Op::I32ShrS(x)
            | Op::I32ShrSAcc(x)
            | Op::I32ShrU(x)
            | Op::I32ShrUAcc(x)
            | Op::I32Rotl(x)
            | Op::I32RotlAcc(x)
            | Op::I32Rotr(x)
            | Op::I32RotrAcc(x)
            | Op::I64Eq(x)
            | Op::I64EqAcc(x)
            | Op::I64Ne(x)
            | Op::I64NeAcc(x)
            | Op::I64LtS(x)
            | Op::I64LtSAcc(x)
            | Op::I64LtU(x)
            | Op::I64LtUAcc(x)
            | Op::I64GtS(x)
            | Op::I64GtSAcc(x)
            | Op::I64GtU(x)
            | Op::I64GtUAcc(x)
            | Op::I64LeS(x)
            | Op::I64LeSAcc(x)
            | Op::I64LeU(x)
            | Op::I64LeUAcc(x)
            | Op::I64GeS(x)
            | Op::I64GeSAcc(x)
            | Op::I64GeU(x)
            | Op::I64GeUAcc(x)
            | Op::I64Add(x)
            | Op::I64AddAcc(x)
            | Op::I64Sub(x)
            | Op::I64SubAcc(x)
            | Op::I64Mul(x)
            | Op::I64MulAcc(x)
            | Op::I64DivS(x)
            | Op::I64DivSAcc(x)
            | Op::I64DivU(x)
            | Op::I64DivUAcc(x)
            | Op::I64RemS(x)
            | Op::I64RemSAcc(x)
            | Op::I64RemU(x)
            | Op::I64RemUAcc(x)
            | Op::I64And(x)
            | Op::I64AndAcc(x)
            | Op::I64Or(x)
            | Op::I64OrAcc(x)
            | Op::I64Xor(x)
            | Op::I64XorAcc(x)
            | Op::I64Shl(x)
            | Op::I64ShlAcc(x)
            | Op::I64ShrS(x)
            | Op::I64ShrSAcc(x)
            | Op::I64ShrU(x)
            | Op::I64ShrUAcc(x)
            | Op::I64Rotl(x)
            | Op::I64RotlAcc(x)
            | Op::I64Rotr(x)
            | Op::I64RotrAcc(x)
            | Op::F32Eq(x)
            | Op::F32EqAcc(x)
            | Op::F32Ne(x)
            | Op::F32NeAcc(x)
            | Op::F32Lt(x)
            | Op::F32LtAcc(x)
            | Op::F32Gt(x)
            | Op::F32GtAcc(x)
            | Op::F32Le(x)
            | Op::F32LeAcc(x)
            | Op::F32Ge(x)
            | Op::F32GeAcc(x)
            | Op::F64Eq(x)
            | Op::F64EqAcc(x)
            | Op::F64Ne(x)
            | Op::F64NeAcc(x)
            | Op::F64Lt(x)
            | Op::F64LtAcc(x)
            | Op::F64Gt(x)
            | Op::F64GtAcc(x)
            | Op::F64Le(x)
            | Op::F64LeAcc(x)
            | Op::F64Ge(x)
            | Op::F64GeAcc(x)
            | Op::F32Add(x)
            | Op::F32AddAcc(x)
            | Op::F32Sub(x)
            | Op::F32SubAcc(x)
            | Op::F32Mul(x)
            | Op::F32MulAcc(x)
            | Op::F32Div(x)
            | Op::F32DivAcc(x)
            | Op::F32Min(x)
            | Op::F32MinAcc(x)
            | Op::F32Max(x)
            | Op::F32MaxAcc(x)
            | Op::F32Copysign(x)
            | Op::F32CopysignAcc(x)
            | Op::F64Add(x)
            | Op::F64AddAcc(x)
            | Op::F64Sub(x)
            | Op::F64SubAcc(x)
            | Op::F64Mul(x)
            | Op::F64MulAcc(x)
            | Op::F64Div(x)
            | Op::F64DivAcc(x)
            | Op::F64Min(x)
            | Op::F64MinAcc(x)
            | Op::F64Max(x)
            | Op::F64MaxAcc(x)
            | Op::F64Copysign(x)
            | Op::F64CopysignAcc(x) => Some(&mut x.dst),
            Op::F32MulAdd(x) | Op::F32MulAddAcc(x) | Op::F64MulAdd(x) | Op::F64MulAddAcc(x) => {
                Some(&mut x.dst)
            }
            Op::I32AddImm(x)
            | Op::I32AddImmAcc(x)
            | Op::I32MulImm(x)
            | Op::I32MulImmAcc(x)
            | Op::I32AndImm(x)
            | Op::I32AndImmAcc(x)
            | Op::I32OrImm(x)
            | Op::I32OrImmAcc(x)
            | Op::I32XorImm(x)
            | Op::I32XorImmAcc(x)
            | Op::I32ShlImm(x)
            | Op::I32ShlImmAcc(x)
            | Op::I32ShrSImm(x)
            | Op::I32ShrSImmAcc(x)
            | Op::I32ShrUImm(x)
            | Op::I32ShrUImmAcc(x)
            | Op::I32RotlImm(x)
            | Op::I32RotlImmAcc(x)
            | Op::I32RotrImm(x)
            | Op::I32RotrImmAcc(x)
            | Op::I32EqImm(x)
            | Op::I32EqImmAcc(x)
            | Op::I32NeImm(x)
            | Op::I32NeImmAcc(x)
            | Op::I32LtSImm(x)
            | Op::I32LtSImmAcc(x)
            | Op::I32LtUImm(x)
            | Op::I32LtUImmAcc(x)
            | Op::I32GtSImm(x)
            | Op::I32GtSImmAcc(x)
            | Op::I32GtUImm(x)
            | Op::I32GtUImmAcc(x)
            | Op::I32LeSImm(x)
            | Op::I32LeSImmAcc(x)
            | Op::I32LeUImm(x)
            | Op::I32LeUImmAcc(x)
            | Op::I32GeSImm(x)
            | Op::I32GeSImmAcc(x)
            | Op::I32GeUImm(x)
            | Op::I32GeUImmAcc(x)
            | Op::I64AddImm(x)
            | Op::I64AddImmAcc(x) => Some(&mut x.dst),
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
            | Op::Load32Acc(x)
            | Op::Load64(x)
            | Op::Load64Acc(x)
            | Op::Load8S32(x)
            | Op::Load8S32Acc(x)
            | Op::Load8S64(x)
            | Op::Load8S64Acc(x)
            | Op::Load8U(x)
            | Op::Load8UAcc(x)
            | Op::Load16S32(x)
            | Op::Load16S32Acc(x)
            | Op::Load16S64(x)
            | Op::Load16S64Acc(x)
            | Op::Load16U(x)
            | Op::Load16UAcc(x)
            | Op::Load32S64(x)
            | Op::Load32S64Acc(x)
            | Op::LoadMem { m: x, .. } => Some(&mut x.val),
            Op::Load32AddImm { val, .. }
            | Op::Load32AddImmAcc { val, .. }
            | Op::Load64AddImm { val, .. }
            | Op::Load64AddImmAcc { val, .. }
            | Op::Load8UAddImm { val, .. }
            | Op::Load8UAddImmAcc { val, .. }
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

    /// Whether the collector may run while this op executes (a call, which
    /// may reach the host or an allocation, or an allocation itself): the
    /// translator records the frame's reference slots at these ops.
    pub fn may_collect(&self) -> bool {
        matches!(
            self,
            Op::Call { .. }
                | Op::CallImport { .. }
                | Op::CallIndirect { .. }
                | Op::CallRef { .. }
                | Op::ReturnCall { .. }
                | Op::ReturnCallImport { .. }
                | Op::ReturnCallIndirect { .. }
                | Op::ReturnCallRef { .. }
                | Op::StructNew { .. }
                | Op::ArrayNew { .. }
                | Op::ArrayNewFixed { .. }
                | Op::ArrayNewSegment { .. }
        )
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

        impl OpCode {
            /// Whether ops with this tag have an accumulator form
            /// ([`Op::acc_form`] may return one): a cheap test on the tag
            /// before the full match.
            #[inline]
            pub fn has_acc_form(self) -> bool {
                matches!(self, $(OpCode::$base)|*) || self.tuple_has_acc_form()
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

impl OpCode {
    /// Whether ops with this tag branch within the function: exactly the
    /// ops [`Op::branch_offset_mut`] patches (a cheap test on the tag;
    /// debug builds of the translator check the two agree).
    pub fn is_branch(self) -> bool {
        use OpCode::*;
        matches!(
            self,
            Br | CopyBr
                | BrIfNez
                | BrIfEqz
                | BrI32Eq
                | BrI32Ne
                | BrI32LtS
                | BrI32LtU
                | BrI32GtS
                | BrI32GtU
                | BrI32LeS
                | BrI32LeU
                | BrI32GeS
                | BrI32GeU
                | BrI32EqImm
                | BrI32NeImm
                | BrI32LtSImm
                | BrI32LtUImm
                | BrI32GtSImm
                | BrI32GtUImm
                | BrI32LeSImm
                | BrI32LeUImm
                | BrI32GeSImm
                | BrI32GeUImm
        )
    }
}

impl OpCode {
    /// Whether ops with this tag write one slot, through `set!`, as their
    /// last write: the ops whose result the accumulator holds after them
    /// ([`Op::scalar_dst_mut`]'s ops but those writing out of line, and
    /// their accumulator forms). A cheap test on the tag; debug builds of
    /// the translator check it against the ops.
    #[inline]
    pub fn leaves_result_in_acc(self) -> bool {
        use OpCode::*;
        matches!(
            self,
            Copy | CopyAcc
                | I32Eqz
                | I32EqzAcc
                | I32Clz
                | I32ClzAcc
                | I32Ctz
                | I32CtzAcc
                | I32Popcnt
                | I32PopcntAcc
                | I64Eqz
                | I64EqzAcc
                | I64Clz
                | I64ClzAcc
                | I64Ctz
                | I64CtzAcc
                | I64Popcnt
                | I64PopcntAcc
                | F32Abs
                | F32AbsAcc
                | F32Neg
                | F32NegAcc
                | F32Ceil
                | F32CeilAcc
                | F32Floor
                | F32FloorAcc
                | F32Trunc
                | F32TruncAcc
                | F32Nearest
                | F32NearestAcc
                | F32Sqrt
                | F32SqrtAcc
                | F64Abs
                | F64AbsAcc
                | F64Neg
                | F64NegAcc
                | F64Ceil
                | F64CeilAcc
                | F64Floor
                | F64FloorAcc
                | F64Trunc
                | F64TruncAcc
                | F64Nearest
                | F64NearestAcc
                | F64Sqrt
                | F64SqrtAcc
                | I32WrapI64
                | I32WrapI64Acc
                | I32TruncF32S
                | I32TruncF32SAcc
                | I32TruncF32U
                | I32TruncF32UAcc
                | I32TruncF64S
                | I32TruncF64SAcc
                | I32TruncF64U
                | I32TruncF64UAcc
                | I64ExtendI32S
                | I64ExtendI32SAcc
                | I64TruncF32S
                | I64TruncF32SAcc
                | I64TruncF32U
                | I64TruncF32UAcc
                | I64TruncF64S
                | I64TruncF64SAcc
                | I64TruncF64U
                | I64TruncF64UAcc
                | F32ConvertI32S
                | F32ConvertI32SAcc
                | F32ConvertI32U
                | F32ConvertI32UAcc
                | F32ConvertI64S
                | F32ConvertI64SAcc
                | F32ConvertI64U
                | F32ConvertI64UAcc
                | F32DemoteF64
                | F32DemoteF64Acc
                | F64ConvertI32S
                | F64ConvertI32SAcc
                | F64ConvertI32U
                | F64ConvertI32UAcc
                | F64ConvertI64S
                | F64ConvertI64SAcc
                | F64ConvertI64U
                | F64ConvertI64UAcc
                | F64PromoteF32
                | F64PromoteF32Acc
                | I32Extend8S
                | I32Extend8SAcc
                | I32Extend16S
                | I32Extend16SAcc
                | I64Extend8S
                | I64Extend8SAcc
                | I64Extend16S
                | I64Extend16SAcc
                | I64Extend32S
                | I64Extend32SAcc
                | I32TruncSatF32S
                | I32TruncSatF32SAcc
                | I32TruncSatF32U
                | I32TruncSatF32UAcc
                | I32TruncSatF64S
                | I32TruncSatF64SAcc
                | I32TruncSatF64U
                | I32TruncSatF64UAcc
                | I64TruncSatF32S
                | I64TruncSatF32SAcc
                | I64TruncSatF32U
                | I64TruncSatF32UAcc
                | I64TruncSatF64S
                | I64TruncSatF64SAcc
                | I64TruncSatF64U
                | I64TruncSatF64UAcc
                | I32Eq
                | I32EqAcc
                | I32Ne
                | I32NeAcc
                | I32LtS
                | I32LtSAcc
                | I32LtU
                | I32LtUAcc
                | I32GtS
                | I32GtSAcc
                | I32GtU
                | I32GtUAcc
                | I32LeS
                | I32LeSAcc
                | I32LeU
                | I32LeUAcc
                | I32GeS
                | I32GeSAcc
                | I32GeU
                | I32GeUAcc
                | I32Add
                | I32AddAcc
                | I32Sub
                | I32SubAcc
                | I32Mul
                | I32MulAcc
                | I32DivS
                | I32DivSAcc
                | I32DivU
                | I32DivUAcc
                | I32RemS
                | I32RemSAcc
                | I32RemU
                | I32RemUAcc
                | I32And
                | I32AndAcc
                | I32Or
                | I32OrAcc
                | I32Xor
                | I32XorAcc
                | I32Shl
                | I32ShlAcc
                | I32ShrS
                | I32ShrSAcc
                | I32ShrU
                | I32ShrUAcc
                | I32Rotl
                | I32RotlAcc
                | I32Rotr
                | I32RotrAcc
                | I64Eq
                | I64EqAcc
                | I64Ne
                | I64NeAcc
                | I64LtS
                | I64LtSAcc
                | I64LtU
                | I64LtUAcc
                | I64GtS
                | I64GtSAcc
                | I64GtU
                | I64GtUAcc
                | I64LeS
                | I64LeSAcc
                | I64LeU
                | I64LeUAcc
                | I64GeS
                | I64GeSAcc
                | I64GeU
                | I64GeUAcc
                | I64Add
                | I64AddAcc
                | I64Sub
                | I64SubAcc
                | I64Mul
                | I64MulAcc
                | I64DivS
                | I64DivSAcc
                | I64DivU
                | I64DivUAcc
                | I64RemS
                | I64RemSAcc
                | I64RemU
                | I64RemUAcc
                | I64And
                | I64AndAcc
                | I64Or
                | I64OrAcc
                | I64Xor
                | I64XorAcc
                | I64Shl
                | I64ShlAcc
                | I64ShrS
                | I64ShrSAcc
                | I64ShrU
                | I64ShrUAcc
                | I64Rotl
                | I64RotlAcc
                | I64Rotr
                | I64RotrAcc
                | F32Eq
                | F32EqAcc
                | F32Ne
                | F32NeAcc
                | F32Lt
                | F32LtAcc
                | F32Gt
                | F32GtAcc
                | F32Le
                | F32LeAcc
                | F32Ge
                | F32GeAcc
                | F64Eq
                | F64EqAcc
                | F64Ne
                | F64NeAcc
                | F64Lt
                | F64LtAcc
                | F64Gt
                | F64GtAcc
                | F64Le
                | F64LeAcc
                | F64Ge
                | F64GeAcc
                | F32Add
                | F32AddAcc
                | F32Sub
                | F32SubAcc
                | F32Mul
                | F32MulAcc
                | F32Div
                | F32DivAcc
                | F32Min
                | F32MinAcc
                | F32Max
                | F32MaxAcc
                | F32Copysign
                | F32CopysignAcc
                | F64Add
                | F64AddAcc
                | F64Sub
                | F64SubAcc
                | F64Mul
                | F64MulAcc
                | F64Div
                | F64DivAcc
                | F64Min
                | F64MinAcc
                | F64Max
                | F64MaxAcc
                | F64Copysign
                | F64CopysignAcc
                | F32MulAdd
                | F32MulAddAcc
                | F64MulAdd
                | F64MulAddAcc
                | I32AddImm
                | I32AddImmAcc
                | I32MulImm
                | I32MulImmAcc
                | I32AndImm
                | I32AndImmAcc
                | I32OrImm
                | I32OrImmAcc
                | I32XorImm
                | I32XorImmAcc
                | I32ShlImm
                | I32ShlImmAcc
                | I32ShrSImm
                | I32ShrSImmAcc
                | I32ShrUImm
                | I32ShrUImmAcc
                | I32RotlImm
                | I32RotlImmAcc
                | I32RotrImm
                | I32RotrImmAcc
                | I32EqImm
                | I32EqImmAcc
                | I32NeImm
                | I32NeImmAcc
                | I32LtSImm
                | I32LtSImmAcc
                | I32LtUImm
                | I32LtUImmAcc
                | I32GtSImm
                | I32GtSImmAcc
                | I32GtUImm
                | I32GtUImmAcc
                | I32LeSImm
                | I32LeSImmAcc
                | I32LeUImm
                | I32LeUImmAcc
                | I32GeSImm
                | I32GeSImmAcc
                | I32GeUImm
                | I32GeUImmAcc
                | I64AddImm
                | I64AddImmAcc
                | I64AndImm
                | I64OrImm
                | I64XorImm
                | I64MulImm
                | I64ShlImm
                | I64ShrSImm
                | I64ShrUImm
                | I64RotlImm
                | I64RotrImm
                | I32AddShl
                | CopyPair
                | I32AddImmPair
                | Load32
                | Load32Acc
                | Load64
                | Load64Acc
                | Load8S32
                | Load8S32Acc
                | Load8S64
                | Load8S64Acc
                | Load8U
                | Load8UAcc
                | Load16S32
                | Load16S32Acc
                | Load16S64
                | Load16S64Acc
                | Load16U
                | Load16UAcc
                | Load32S64
                | Load32S64Acc
                | Load32AddImm
                | Load32AddImmAcc
                | Load64AddImm
                | Load64AddImmAcc
                | Load8UAddImm
                | Load8UAddImmAcc
                | Load32Add
                | Load64Add
                | Load8UAdd
                | Load32Index
                | Load64Index
                | Load8UIndex
                | Const32
                | Const64
                | Select
                | GlobalGet
        )
    }
}
