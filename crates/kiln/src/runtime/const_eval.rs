//! Evaluation of constant expressions: global initializers, segment
//! offsets and element items (WebAssembly 2.0 plus extended-const, and the
//! GC proposal's allocating instructions).

use super::StoreOpaque;
use super::gc_ops::{self, TypeSpace};
use crate::prelude::*;
use anyhow::{Result, bail};
use kiln_environ::gc_layout;
use kiln_environ::{CompositeType, ConstExpr, ConstOp, ModuleTranslation};

/// What a constant expression may refer to: the instance's globals (those
/// initialized so far) and functions, as store indices, and the module's
/// types with their registry ids (for the allocating instructions).
pub(crate) struct ConstEnv<'a> {
    pub(crate) globals: &'a [u32],
    pub(crate) funcs: &'a [u32],
    pub(crate) module: &'a ModuleTranslation,
    pub(crate) type_ids: &'a [u32],
}

impl ConstEnv<'_> {
    fn types(&self) -> TypeSpace<'_> {
        TypeSpace {
            module: self.module,
            ids: self.type_ids,
        }
    }
}

/// Evaluates `expr` to the raw bits of its value (scalars zero-extended,
/// references as `funcref` addresses or GC reference bits), allocating
/// the objects it makes in the store's GC heap.
pub(crate) fn eval(store: &mut StoreOpaque, env: &ConstEnv<'_>, expr: &ConstExpr) -> Result<u128> {
    let mut stack: Vec<u128> = Vec::with_capacity(4);
    for op in &expr.ops {
        let v = match *op {
            ConstOp::StructNew(ty) | ConstOp::StructNewDefault(ty) => {
                let CompositeType::Struct(s) = &env.module.types[ty as usize].composite else {
                    bail!("struct.new of type {ty}, which is not a struct type");
                };
                let fields = match op {
                    ConstOp::StructNew(_) => Some(pop_n(&mut stack, s.fields.len())?),
                    _ => None,
                };
                let types = env.types();
                let obj = gc_ops::struct_new(&mut store.gc_heap, &types, ty, fields.as_deref())
                    .map_err(trap)?;
                u128::from(obj)
            }
            ConstOp::ArrayNew(ty) | ConstOp::ArrayNewDefault(ty) => {
                let len = pop(&mut stack)? as u32;
                // One value repeated (none: zeros); the size is checked
                // against the heap's limit before anything is written.
                let init = match op {
                    ConstOp::ArrayNew(_) => vec![pop(&mut stack)?],
                    _ => Vec::new(),
                };
                let types = env.types();
                let arr =
                    gc_ops::array_new(&mut store.gc_heap, &types, ty, &init, len).map_err(trap)?;
                u128::from(arr)
            }
            ConstOp::ArrayNewFixed(ty, len) => {
                let elems = pop_n(&mut stack, len as usize)?;
                let types = env.types();
                let arr =
                    gc_ops::array_new(&mut store.gc_heap, &types, ty, &elems, len).map_err(trap)?;
                u128::from(arr)
            }
            _ => eval_scalar(store, env, op, &mut stack)?,
        };
        stack.push(v);
    }
    single(&stack)
}

/// Evaluates `expr`, which allocates nothing (a segment offset: validation
/// gives it an integer type, which no allocating instruction produces).
pub(crate) fn eval_offset(
    store: &StoreOpaque,
    env: &ConstEnv<'_>,
    expr: &ConstExpr,
) -> Result<u128> {
    let mut stack: Vec<u128> = Vec::with_capacity(4);
    for op in &expr.ops {
        let v = eval_scalar(store, env, op, &mut stack)?;
        stack.push(v);
    }
    single(&stack)
}

/// A trap raised while instantiating (no wasm frames).
fn trap(code: kiln_environ::TrapCode) -> anyhow::Error {
    crate::Trap::new(code, Vec::new()).into()
}

/// The one value a finished constant expression leaves.
fn single(stack: &[u128]) -> Result<u128> {
    match stack {
        [v] => Ok(*v),
        _ => bail!("constant expression must produce exactly one value"),
    }
}

fn pop(stack: &mut Vec<u128>) -> Result<u128> {
    stack
        .pop()
        .ok_or_else(|| anyhow::anyhow!("constant expression pops an empty stack"))
}

/// The top `n` values, in push order.
fn pop_n(stack: &mut Vec<u128>, n: usize) -> Result<Vec<u128>> {
    let Some(at) = stack.len().checked_sub(n) else {
        bail!("constant expression pops an empty stack");
    };
    Ok(stack.split_off(at))
}

/// One instruction that allocates nothing.
fn eval_scalar(
    store: &StoreOpaque,
    env: &ConstEnv<'_>,
    op: &ConstOp,
    stack: &mut Vec<u128>,
) -> Result<u128> {
    Ok(match *op {
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
            let b = pop(stack)? as u32;
            let a = pop(stack)? as u32;
            u128::from(match op {
                ConstOp::I32Add => a.wrapping_add(b),
                ConstOp::I32Sub => a.wrapping_sub(b),
                _ => a.wrapping_mul(b),
            })
        }
        ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
            let b = pop(stack)? as u64;
            let a = pop(stack)? as u64;
            u128::from(match op {
                ConstOp::I64Add => a.wrapping_add(b),
                ConstOp::I64Sub => a.wrapping_sub(b),
                _ => a.wrapping_mul(b),
            })
        }
        ConstOp::RefI31 => u128::from(gc_layout::i31_ref(pop(stack)? as u32)),
        // The `any` and `extern` hierarchies share one representation.
        ConstOp::AnyConvertExtern | ConstOp::ExternConvertAny => pop(stack)?,
        ConstOp::StructNew(_)
        | ConstOp::StructNewDefault(_)
        | ConstOp::ArrayNew(_)
        | ConstOp::ArrayNewDefault(_)
        | ConstOp::ArrayNewFixed(..) => {
            bail!("a segment offset cannot allocate")
        }
    })
}
