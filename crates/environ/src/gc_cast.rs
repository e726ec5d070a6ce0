//! How a cast's target type travels as two integers, a `target` (an
//! abstract heap type's code, or a module type index) and `flags`: the
//! interpreter's `RefTest`/`RefCast` operands, and the arguments of the
//! `GcRefTest` builtin compiled code calls.

use crate::{HeapType, RefType, TypeKind};

/// `flags` bit: null passes.
pub const NULLABLE: u8 = 1;
/// `flags` bit: `target` is a module type index.
pub const CONCRETE: u8 = 2;
/// `flags` bit: the value is a function reference (a `VmFuncRef`
/// address), not a 32-bit GC reference.
pub const FUNC: u8 = 4;

/// Abstract heap types' `target` codes.
pub mod code {
    /// `any`.
    pub const ANY: u32 = 0;
    /// `eq`.
    pub const EQ: u32 = 1;
    /// `i31`.
    pub const I31: u32 = 2;
    /// `struct`.
    pub const STRUCT: u32 = 3;
    /// `array`.
    pub const ARRAY: u32 = 4;
    /// A bottom type (`none`, `nofunc`, `noextern`, `noexn`): only null.
    pub const BOTTOM: u32 = 5;
    /// A top type other than `any` (`func`, `extern`, `exn`): any
    /// non-null value.
    pub const TOP: u32 = 6;
}

/// The `(target, flags)` of a cast to `ty`.
pub fn encode(ty: RefType) -> (u32, u8) {
    let mut flags = if ty.nullable { NULLABLE } else { 0 };
    if ty.is_func() {
        flags |= FUNC;
    }
    let target = match ty.heap {
        HeapType::Any => code::ANY,
        HeapType::Eq => code::EQ,
        HeapType::I31 => code::I31,
        HeapType::Struct => code::STRUCT,
        HeapType::Array => code::ARRAY,
        HeapType::None | HeapType::NoFunc | HeapType::NoExtern | HeapType::NoExn => code::BOTTOM,
        HeapType::Func | HeapType::Extern | HeapType::Exn => code::TOP,
        HeapType::Concrete(kind, index) => {
            flags |= CONCRETE;
            debug_assert_eq!(kind == TypeKind::Func, flags & FUNC != 0);
            index
        }
    };
    (target, flags)
}
