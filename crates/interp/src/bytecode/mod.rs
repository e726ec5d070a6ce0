//! The register bytecode: one [`Op`] enum, documented op by op here and in
//! `docs/bytecode.md`.
//!
//! Every operand is a [`Slot`]: an index into the current function's frame
//! (params, then locals, then operand-stack temporaries). Immediates are
//! `u32`/`u64`/`i32`; nothing is `usize`, so the encoding means the same on
//! every host. Branch offsets are relative to the op *after* the branch.

#[cfg(feature = "simd")]
use crate::simd::{
    BinaryOp, ExtractOp, LaneWidth, LoadKind, ReplaceOp, ShiftOp, SplatOp, TernaryOp, TestOp,
    UnaryOp,
};

mod operands;
pub use operands::*;

/// Defines the op set once: [`Op`] (each op with its operands) and
/// [`OpCode`] (its tag alone, in the same order). The interpreter's handler
/// table is indexed by `OpCode`, and its dispatch reads an op's tag straight
/// from memory, so the two must agree; generating both from one list makes
/// that true by construction.
macro_rules! op_set {
    (
        $(#[$enum_attr:meta])*
        pub enum Op {
            $(
                $(#[doc = $doc:literal])*
                $(#[cfg($cfg:meta)])?
                $(#[acc($base:ident . $acc_field:ident)])?
                $name:ident
                $(( $tuple:ty ))?
                $({ $( $(#[doc = $field_doc:literal])* $field:ident : $field_ty:ty ),* $(,)? })?
            ),* $(,)?
        }
    ) => {
        $(#[$enum_attr])*
        #[repr(u16)]
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub enum Op {
            $(
                $(#[doc = $doc])*
                $(#[doc = concat!(
                    "[`Op::", stringify!($base), "`] with `", stringify!($acc_field),
                    "` taken from the accumulator."
                )])?
                $(#[cfg($cfg)])?
                $name
                $(( $tuple ))?
                $({ $( $(#[doc = $field_doc])* $field : $field_ty ),* })?
            ),*
        }

        /// The tag of each [`Op`], without operands: `OpCode::X as u16` is
        /// the `u16` an `Op::X` starts with in memory (both are
        /// `#[repr(u16)]` and list the same ops in the same order).
        #[repr(u16)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum OpCode {
            $(
                $(#[doc = $doc])*
                $(#[cfg($cfg)])?
                $name,
            )*
            /// Not an op: the number of ops in this build.
            Count,
        }

        impl OpCode {
            /// The op's name, as in [`Op`] and `docs/bytecode.md`.
            pub const fn name(self) -> &'static str {
                match self {
                    $(
                        $(#[cfg($cfg)])?
                        OpCode::$name => stringify!($name),
                    )*
                    OpCode::Count => "Count",
                }
            }

            /// The op's operands as declared: `(Type)`, `{ field: Type, .. }`,
            /// or empty.
            pub const fn operands(self) -> &'static str {
                match self {
                    $(
                        $(#[cfg($cfg)])?
                        OpCode::$name => concat!(
                            $("(", stringify!($tuple), ")",)?
                            $("{ ", $(stringify!($field), ": ", stringify!($field_ty), ", ",)* "}",)?
                        ),
                    )*
                    OpCode::Count => "",
                }
            }

            /// Whether the op exists only with the `simd` feature.
            pub const fn is_simd(self) -> bool {
                match self {
                    $(
                        $(#[cfg($cfg)])?
                        OpCode::$name => false $(|| { let _ = stringify!($cfg); true })?,
                    )*
                    OpCode::Count => false,
                }
            }

            /// Whether the op list generates an accumulator form of this op
            /// (see [`OpCode::has_acc_form`]).
            #[inline]
            pub(super) const fn tuple_has_acc_form(self) -> bool {
                match self {
                    $( $( OpCode::$base => true, )? )*
                    _ => false,
                }
            }

            /// Every op of this build, in tag order.
            pub const ALL: [OpCode; OpCode::Count as usize] = [
                $( $(#[cfg($cfg)])? OpCode::$name, )*
            ];
        }

        impl Op {
            /// [`Op::acc_form`] for the ops with a tuple operand, whose
            /// forms the op list generates.
            pub(super) fn tuple_acc_form(&self) -> Option<(Slot, Op)> {
                match *self {
                    $( $( Op::$base(x) => Some((x.$acc_field, Op::$name(x))), )? )*
                    _ => None,
                }
            }

            /// [`Op::base_form`] for the ops with a tuple operand.
            pub(super) fn tuple_base_form(&self) -> Op {
                match *self {
                    $( $( Op::$name(x) => Op::$base(x), )? )*
                    other => other,
                }
            }
        }
    };
}

impl Op {
    /// This op's tag.
    #[inline(always)]
    pub fn code(&self) -> OpCode {
        // SAFETY: `Op` is `#[repr(u16)]`, so it starts with its `u16` tag
        // (the primitive-representation layout of enums with fields), and
        // `OpCode` is a `#[repr(u16)]` enum whose discriminants are exactly
        // those tags (`op_set!`).
        unsafe { core::mem::transmute::<u16, OpCode>(*(self as *const Op).cast::<u16>()) }
    }
}

mod inspect;

// The op list itself, one entry per op (its own file: it is most of the
// module, and the machinery above is what reviews of it need).
mod op_list;
pub use op_list::{Op, OpCode};

#[cfg(test)]
mod tests;
