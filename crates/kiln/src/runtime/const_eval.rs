//! Evaluation of constant expressions: global initializers, segment
//! offsets and element items (WebAssembly 2.0 plus extended-const).

use super::StoreOpaque;
use crate::prelude::*;
use anyhow::{Result, bail};
use kiln_environ::{ConstExpr, ConstOp};

/// What a constant expression may refer to: the instance's globals (those
/// initialized so far) and functions, as store indices.
pub(crate) struct ConstEnv<'a> {
    pub(crate) globals: &'a [u32],
    pub(crate) funcs: &'a [u32],
}

/// Evaluates `expr` to the raw bits of its value (scalars zero-extended,
/// references as `funcref` addresses or `externref` ids).
pub(crate) fn eval(store: &StoreOpaque, env: &ConstEnv<'_>, expr: &ConstExpr) -> Result<u128> {
    let mut stack: Vec<u128> = Vec::with_capacity(4);
    let pop = |stack: &mut Vec<u128>| stack.pop().unwrap_or_default();
    for op in &expr.ops {
        let v = match *op {
            ConstOp::I32Const(v) => u128::from(v as u32),
            ConstOp::I64Const(v) => u128::from(v as u64),
            ConstOp::F32Const(bits) => u128::from(bits),
            ConstOp::F64Const(bits) => u128::from(bits),
            ConstOp::V128Const(bits) => bits,
            ConstOp::RefNull(_) => 0,
            ConstOp::RefFunc(index) => match env.funcs.get(index as usize) {
                Some(&f) => u128::from(store.func_bits(f)),
                None => bail!("constant expression refers to unknown function {index}"),
            },
            ConstOp::GlobalGet(index) => match env.globals.get(index as usize) {
                Some(&g) => store.global_bits(g),
                None => bail!("constant expression refers to uninitialized global {index}"),
            },
            ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                let b = pop(&mut stack) as u32;
                let a = pop(&mut stack) as u32;
                u128::from(match op {
                    ConstOp::I32Add => a.wrapping_add(b),
                    ConstOp::I32Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                })
            }
            ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                let b = pop(&mut stack) as u64;
                let a = pop(&mut stack) as u64;
                u128::from(match op {
                    ConstOp::I64Add => a.wrapping_add(b),
                    ConstOp::I64Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                })
            }
            // An i31 is unboxed: the integer above a set low bit.
            ConstOp::RefI31 => u128::from(((pop(&mut stack) as u32) << 1) | 1),
            ConstOp::StructNew(_)
            | ConstOp::StructNewDefault(_)
            | ConstOp::ArrayNew(_)
            | ConstOp::ArrayNewDefault(_)
            | ConstOp::ArrayNewFixed(..)
            | ConstOp::AnyConvertExtern
            | ConstOp::ExternConvertAny => {
                bail!("constant expressions that allocate GC objects are not supported yet")
            }
        };
        stack.push(v);
    }
    match stack.as_slice() {
        [v] => Ok(*v),
        _ => bail!("constant expression must produce exactly one value"),
    }
}
