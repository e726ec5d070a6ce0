//! Constant expressions (global initializers, segment offsets, element
//! items), decoded into a small op list. Evaluation needs the values of
//! imported globals and function references, so it belongs to the runtime.

use crate::{RefType, TranslationError, TypeKind, ValType};
use alloc::vec::Vec;

/// One instruction of a constant expression (WebAssembly 2.0 plus
/// extended-const and the GC proposal's allocating instructions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstOp {
    /// `i32.const`.
    I32Const(i32),
    /// `i64.const`.
    I64Const(i64),
    /// `f32.const`, as its bit pattern.
    F32Const(u32),
    /// `f64.const`, as its bit pattern.
    F64Const(u64),
    /// `v128.const`, lane 0 in the low bits.
    V128Const(u128),
    /// `ref.null` of the given reference type.
    RefNull(ValType),
    /// `ref.func` of a function index.
    RefFunc(u32),
    /// `global.get` of a global index.
    GlobalGet(u32),
    /// `i32.add` (extended-const).
    I32Add,
    /// `i32.sub` (extended-const).
    I32Sub,
    /// `i32.mul` (extended-const).
    I32Mul,
    /// `i64.add` (extended-const).
    I64Add,
    /// `i64.sub` (extended-const).
    I64Sub,
    /// `i64.mul` (extended-const).
    I64Mul,
    /// `ref.i31`.
    RefI31,
    /// `struct.new` of a type index: pops the fields.
    StructNew(u32),
    /// `struct.new_default` of a type index.
    StructNewDefault(u32),
    /// `array.new` of a type index: pops the initial value and the length.
    ArrayNew(u32),
    /// `array.new_default` of a type index: pops the length.
    ArrayNewDefault(u32),
    /// `array.new_fixed` of a type index and a length: pops the elements.
    ArrayNewFixed(u32, u32),
    /// `any.convert_extern`.
    AnyConvertExtern,
    /// `extern.convert_any`.
    ExternConvertAny,
}

/// A validated constant expression: a short stack program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConstExpr {
    /// The ops, in order, without the final `end`.
    pub ops: Vec<ConstOp>,
}

impl ConstExpr {
    /// Decodes a (validated) wasmparser constant expression; `kind_of`
    /// says what each type index names.
    pub fn from_wasmparser(
        expr: &wasmparser::ConstExpr<'_>,
        kind_of: &dyn Fn(u32) -> TypeKind,
    ) -> Result<Self, TranslationError> {
        use wasmparser::Operator as O;
        let mut reader = expr.get_operators_reader();
        let mut ops = Vec::new();
        loop {
            let offset = reader.original_position();
            let op = match reader.read()? {
                O::End => break,
                O::I32Const { value } => ConstOp::I32Const(value),
                O::I64Const { value } => ConstOp::I64Const(value),
                O::F32Const { value } => ConstOp::F32Const(value.bits()),
                O::F64Const { value } => ConstOp::F64Const(value.bits()),
                #[cfg(feature = "simd")]
                O::V128Const { value } => ConstOp::V128Const(u128::from_le_bytes(*value.bytes())),
                O::RefNull { hty } => {
                    let ty = wasmparser::RefType::new(true, hty).ok_or_else(|| {
                        TranslationError::unsupported("unsupported heap type", offset)
                    })?;
                    ConstOp::RefNull(ValType::Ref(RefType::from_wasmparser(ty, kind_of, offset)?))
                }
                O::RefFunc { function_index } => ConstOp::RefFunc(function_index),
                O::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
                O::I32Add => ConstOp::I32Add,
                O::I32Sub => ConstOp::I32Sub,
                O::I32Mul => ConstOp::I32Mul,
                O::I64Add => ConstOp::I64Add,
                O::I64Sub => ConstOp::I64Sub,
                O::I64Mul => ConstOp::I64Mul,
                O::RefI31 => ConstOp::RefI31,
                O::StructNew { struct_type_index } => ConstOp::StructNew(struct_type_index),
                O::StructNewDefault { struct_type_index } => {
                    ConstOp::StructNewDefault(struct_type_index)
                }
                O::ArrayNew { array_type_index } => ConstOp::ArrayNew(array_type_index),
                O::ArrayNewDefault { array_type_index } => {
                    ConstOp::ArrayNewDefault(array_type_index)
                }
                O::ArrayNewFixed {
                    array_type_index,
                    array_size,
                } => ConstOp::ArrayNewFixed(array_type_index, array_size),
                O::AnyConvertExtern => ConstOp::AnyConvertExtern,
                O::ExternConvertAny => ConstOp::ExternConvertAny,
                other => {
                    return Err(TranslationError::unsupported(
                        alloc::format!(
                            "unsupported constant instruction {}",
                            crate::operator_name(&other)
                        ),
                        offset,
                    ));
                }
            };
            ops.push(op);
        }
        Ok(Self { ops })
    }

    /// Whether evaluating the expression allocates in the GC heap.
    pub fn allocates(&self) -> bool {
        self.ops.iter().any(|op| {
            matches!(
                op,
                ConstOp::StructNew(_)
                    | ConstOp::StructNewDefault(_)
                    | ConstOp::ArrayNew(_)
                    | ConstOp::ArrayNewDefault(_)
                    | ConstOp::ArrayNewFixed(..)
            )
        })
    }

    /// The constant `i32` or `i64` value when the expression is a single
    /// constant, so callers can skip evaluation.
    pub fn as_const_int(&self) -> Option<i64> {
        match self.ops.as_slice() {
            [ConstOp::I32Const(v)] => Some(i64::from(*v)),
            [ConstOp::I64Const(v)] => Some(*v),
            _ => None,
        }
    }
}
