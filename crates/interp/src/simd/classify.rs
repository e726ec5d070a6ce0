//! Mapping from wasmparser's operators to [`SimdOp`] shapes.

use wasmparser::Operator;

use super::{
    BinaryOp, ExtractOp, LaneWidth, LoadKind, ReplaceOp, ShiftOp, SimdOp, SplatOp, TernaryOp,
    TestOp, UnaryOp,
};

/// Classifies a fixed-width SIMD operator, returning `None` for every other
/// operator (including the relaxed-SIMD ones, which Kiln does not support).
///
/// The translator calls this once per operator, so it can handle the whole
/// SIMD proposal with one `if let` instead of ~236 match arms.
pub fn classify(op: &Operator<'_>) -> Option<SimdOp> {
    use LaneWidth::{B8, B16, B32, B64};
    use Operator as O;
    use SimdOp::{ExtractLane, Load, LoadLane, ReplaceLane, Splat, StoreLane};
    Some(match *op {
        O::V128Const { value } => SimdOp::Const(value.into()),
        O::I8x16Shuffle { lanes } => SimdOp::Shuffle(lanes),

        O::V128Load { memarg } => Load(LoadKind::Full, memarg),
        O::V128Load8x8S { memarg } => Load(LoadKind::Load8x8S, memarg),
        O::V128Load8x8U { memarg } => Load(LoadKind::Load8x8U, memarg),
        O::V128Load16x4S { memarg } => Load(LoadKind::Load16x4S, memarg),
        O::V128Load16x4U { memarg } => Load(LoadKind::Load16x4U, memarg),
        O::V128Load32x2S { memarg } => Load(LoadKind::Load32x2S, memarg),
        O::V128Load32x2U { memarg } => Load(LoadKind::Load32x2U, memarg),
        O::V128Load8Splat { memarg } => Load(LoadKind::Load8Splat, memarg),
        O::V128Load16Splat { memarg } => Load(LoadKind::Load16Splat, memarg),
        O::V128Load32Splat { memarg } => Load(LoadKind::Load32Splat, memarg),
        O::V128Load64Splat { memarg } => Load(LoadKind::Load64Splat, memarg),
        O::V128Load32Zero { memarg } => Load(LoadKind::Load32Zero, memarg),
        O::V128Load64Zero { memarg } => Load(LoadKind::Load64Zero, memarg),
        O::V128Store { memarg } => SimdOp::Store(memarg),
        O::V128Load8Lane { memarg, lane } => LoadLane(B8, memarg, lane),
        O::V128Load16Lane { memarg, lane } => LoadLane(B16, memarg, lane),
        O::V128Load32Lane { memarg, lane } => LoadLane(B32, memarg, lane),
        O::V128Load64Lane { memarg, lane } => LoadLane(B64, memarg, lane),
        O::V128Store8Lane { memarg, lane } => StoreLane(B8, memarg, lane),
        O::V128Store16Lane { memarg, lane } => StoreLane(B16, memarg, lane),
        O::V128Store32Lane { memarg, lane } => StoreLane(B32, memarg, lane),
        O::V128Store64Lane { memarg, lane } => StoreLane(B64, memarg, lane),

        O::I8x16Splat => Splat(SplatOp::I8x16),
        O::I16x8Splat => Splat(SplatOp::I16x8),
        O::I32x4Splat => Splat(SplatOp::I32x4),
        O::I64x2Splat => Splat(SplatOp::I64x2),
        O::F32x4Splat => Splat(SplatOp::F32x4),
        O::F64x2Splat => Splat(SplatOp::F64x2),

        O::I8x16ExtractLaneS { lane } => ExtractLane(ExtractOp::I8x16S, lane),
        O::I8x16ExtractLaneU { lane } => ExtractLane(ExtractOp::I8x16U, lane),
        O::I16x8ExtractLaneS { lane } => ExtractLane(ExtractOp::I16x8S, lane),
        O::I16x8ExtractLaneU { lane } => ExtractLane(ExtractOp::I16x8U, lane),
        O::I32x4ExtractLane { lane } => ExtractLane(ExtractOp::I32x4, lane),
        O::I64x2ExtractLane { lane } => ExtractLane(ExtractOp::I64x2, lane),
        O::F32x4ExtractLane { lane } => ExtractLane(ExtractOp::F32x4, lane),
        O::F64x2ExtractLane { lane } => ExtractLane(ExtractOp::F64x2, lane),

        O::I8x16ReplaceLane { lane } => ReplaceLane(ReplaceOp::I8x16, lane),
        O::I16x8ReplaceLane { lane } => ReplaceLane(ReplaceOp::I16x8, lane),
        O::I32x4ReplaceLane { lane } => ReplaceLane(ReplaceOp::I32x4, lane),
        O::I64x2ReplaceLane { lane } => ReplaceLane(ReplaceOp::I64x2, lane),
        O::F32x4ReplaceLane { lane } => ReplaceLane(ReplaceOp::F32x4, lane),
        O::F64x2ReplaceLane { lane } => ReplaceLane(ReplaceOp::F64x2, lane),

        // Relaxed SIMD: the deterministic choice where it is an existing
        // operator (swizzle, truncation, min/max and q15mulr as their
        // non-relaxed versions, laneselect as bitselect); fused
        // multiply-add and the dot products have ops of their own.
        O::I8x16RelaxedSwizzle => SimdOp::Binary(BinaryOp::I8x16Swizzle),
        O::I32x4RelaxedTruncF32x4S => SimdOp::Unary(UnaryOp::I32x4TruncSatF32x4S),
        O::I32x4RelaxedTruncF32x4U => SimdOp::Unary(UnaryOp::I32x4TruncSatF32x4U),
        O::I32x4RelaxedTruncF64x2SZero => SimdOp::Unary(UnaryOp::I32x4TruncSatF64x2SZero),
        O::I32x4RelaxedTruncF64x2UZero => SimdOp::Unary(UnaryOp::I32x4TruncSatF64x2UZero),
        O::F32x4RelaxedMin => SimdOp::Binary(BinaryOp::F32x4Min),
        O::F32x4RelaxedMax => SimdOp::Binary(BinaryOp::F32x4Max),
        O::F64x2RelaxedMin => SimdOp::Binary(BinaryOp::F64x2Min),
        O::F64x2RelaxedMax => SimdOp::Binary(BinaryOp::F64x2Max),
        O::I16x8RelaxedQ15mulrS => SimdOp::Binary(BinaryOp::I16x8Q15MulrSatS),
        O::I8x16RelaxedLaneselect
        | O::I16x8RelaxedLaneselect
        | O::I32x4RelaxedLaneselect
        | O::I64x2RelaxedLaneselect => SimdOp::Ternary(TernaryOp::V128Bitselect),

        // The immediate-free operators: each enum knows its own variants.
        _ => {
            return UnaryOp::from_operator(op)
                .map(SimdOp::Unary)
                .or_else(|| BinaryOp::from_operator(op).map(SimdOp::Binary))
                .or_else(|| TernaryOp::from_operator(op).map(SimdOp::Ternary))
                .or_else(|| ShiftOp::from_operator(op).map(SimdOp::Shift))
                .or_else(|| TestOp::from_operator(op).map(SimdOp::Test));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmparser::{BinaryReader, MemArg, MemArgTarget};

    /// Decodes one operator from `0xfd <opcode> <zero immediates>`, or `None`
    /// if wasmparser does not know the opcode.
    fn decode_simd(opcode: u32, buf: &mut [u8; 40]) -> Option<Operator<'_>> {
        *buf = [0; 40];
        buf[0] = 0xfd;
        // Unsigned LEB128 of the sub-opcode.
        let (mut v, mut i) = (opcode, 1);
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                buf[i] = byte;
                break;
            }
            buf[i] = byte | 0x80;
            i += 1;
        }
        // All-zero immediates are valid for every SIMD immediate kind
        // (memarg, lane index, const, shuffle mask).
        let mut reader = wasmparser::OperatorsReader::new(BinaryReader::new(&buf[..], 0));
        reader.read().ok()
    }

    #[test]
    fn every_simd_opcode_is_classified() {
        let mut buf = [0u8; 40];
        let mut fixed = 0;
        for opcode in 0..0x100 {
            let Some(op) = decode_simd(opcode, &mut buf) else {
                continue;
            };
            assert!(
                classify(&op).is_some(),
                "opcode 0xfd {opcode:#x} ({op:?}) not classified"
            );
            fixed += 1;
        }
        // The fixed-width SIMD proposal defines 236 instructions.
        assert_eq!(fixed, 236);
        let mut relaxed = 0;
        for opcode in 0x100..0x200 {
            let Some(op) = decode_simd(opcode, &mut buf) else {
                continue;
            };
            assert!(classify(&op).is_some(), "relaxed {op:?} not classified");
            relaxed += 1;
        }
        // Relaxed SIMD defines 20 instructions.
        assert_eq!(relaxed, 20);
    }

    #[test]
    fn immediates_are_carried() {
        let memarg = MemArg {
            align: 2,
            max_align: 3,
            offset: 64,
            target: MemArgTarget::Memory(1),
            ordering: None,
        };
        assert_eq!(
            classify(&Operator::V128Load32Lane { memarg, lane: 3 }),
            Some(SimdOp::LoadLane(LaneWidth::B32, memarg, 3))
        );
        assert_eq!(
            classify(&Operator::V128Store8Lane { memarg, lane: 15 }),
            Some(SimdOp::StoreLane(LaneWidth::B8, memarg, 15))
        );
        assert_eq!(
            classify(&Operator::V128Load16Splat { memarg }),
            Some(SimdOp::Load(LoadKind::Load16Splat, memarg))
        );
        assert_eq!(
            classify(&Operator::V128Store { memarg }),
            Some(SimdOp::Store(memarg))
        );
        let lanes: [u8; 16] = core::array::from_fn(|i| 31 - i as u8);
        assert_eq!(
            classify(&Operator::I8x16Shuffle { lanes }),
            Some(SimdOp::Shuffle(lanes))
        );
        assert_eq!(
            classify(&Operator::V128Const {
                value: 0x0102_0304_u128.into()
            }),
            Some(SimdOp::Const(0x0102_0304))
        );
        assert_eq!(
            classify(&Operator::I16x8ExtractLaneS { lane: 7 }),
            Some(SimdOp::ExtractLane(ExtractOp::I16x8S, 7))
        );
        assert_eq!(
            classify(&Operator::F64x2ReplaceLane { lane: 1 }),
            Some(SimdOp::ReplaceLane(ReplaceOp::F64x2, 1))
        );
        assert_eq!(
            classify(&Operator::F32x4Splat),
            Some(SimdOp::Splat(SplatOp::F32x4))
        );
        assert_eq!(
            classify(&Operator::V128Bitselect),
            Some(SimdOp::Ternary(TernaryOp::V128Bitselect))
        );
        assert_eq!(
            classify(&Operator::I64x2ShrS),
            Some(SimdOp::Shift(ShiftOp::I64x2ShrS))
        );
        assert_eq!(
            classify(&Operator::I32x4Bitmask),
            Some(SimdOp::Test(TestOp::I32x4Bitmask))
        );
        assert_eq!(
            classify(&Operator::F64x2PMax),
            Some(SimdOp::Binary(BinaryOp::F64x2PMax))
        );
        assert_eq!(
            classify(&Operator::F64x2PromoteLowF32x4),
            Some(SimdOp::Unary(UnaryOp::F64x2PromoteLowF32x4))
        );
    }

    #[test]
    fn non_simd_operators_are_not_classified() {
        assert_eq!(classify(&Operator::I32Add), None);
        assert_eq!(classify(&Operator::Nop), None);
        assert_eq!(classify(&Operator::F32Sqrt), None);
    }

    #[test]
    fn relaxed_operators_take_their_deterministic_forms() {
        assert_eq!(
            classify(&Operator::I8x16RelaxedSwizzle),
            Some(SimdOp::Binary(BinaryOp::I8x16Swizzle))
        );
        assert_eq!(
            classify(&Operator::I64x2RelaxedLaneselect),
            Some(SimdOp::Ternary(TernaryOp::V128Bitselect))
        );
        assert_eq!(
            classify(&Operator::F32x4RelaxedMadd),
            Some(SimdOp::Ternary(TernaryOp::F32x4RelaxedMadd))
        );
    }

    #[test]
    fn enum_names_are_unique_and_well_formed() {
        let mut count = 0;
        let names = UnaryOp::ALL
            .iter()
            .map(|o| o.name())
            .chain(BinaryOp::ALL.iter().map(|o| o.name()))
            .chain(TernaryOp::ALL.iter().map(|o| o.name()))
            .chain(ShiftOp::ALL.iter().map(|o| o.name()))
            .chain(TestOp::ALL.iter().map(|o| o.name()));
        for (i, a) in names.clone().enumerate() {
            assert!(a.contains('.'), "{a}");
            assert_eq!(
                names.clone().skip(i + 1).filter(|b| *b == a).count(),
                0,
                "duplicate {a}"
            );
            count += 1;
        }
        // Everything except const, shuffle, the 22 memory instructions, the
        // 6 splats, 8 extracts and 6 replaces; plus the 6 relaxed operators
        // with ops of their own (4 multiply-adds, 2 dot products).
        assert_eq!(count, 236 - 2 - 22 - 6 - 8 - 6 + 6);
    }
}
