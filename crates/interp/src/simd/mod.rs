//! Portable semantics of the WebAssembly 2.0 fixed-width SIMD (`v128`) instructions.
//!
//! This module owns two things:
//!
//! * [`classify`], which sorts every SIMD [`wasmparser::Operator`] into a small
//!   number of shapes ([`SimdOp`]) so the translator only needs one bytecode
//!   instruction per shape instead of one per opcode;
//! * the pure value semantics of each shape (`eval` methods, [`shuffle`],
//!   [`LoadKind::finish`], [`load_lane`], [`store_lane`]). On x86_64 the
//!   common lane-wise operations run as their SSE2 instruction (`sse2`),
//!   bit for bit as the portable code (`eval_portable`) computes them.
//!
//! It deliberately does not touch linear memory, registers or the dispatch
//! loop: bounds checks, alignment hints and trapping belong to the
//! interpreter, which reads or writes the raw little-endian bytes and hands
//! them to this module. Nothing here can trap, which keeps it trivially
//! testable in isolation.
//!
//! Values are plain `u128`s with lane 0 in the least significant bits, which
//! is exactly `u128::from_le_bytes` of the wasm memory image. Lanes are only
//! ever accessed with shifts and masks, never by reinterpreting memory, so the
//! code behaves identically on big-endian hosts. Floats are carried as bit
//! patterns so NaN payloads survive the pure bit operations (`neg`, `abs`,
//! `pmin`, `bitselect`, ...).
//!
//! Relaxed SIMD takes one deterministic choice on every host (big-endian
//! included): each relaxed operator behaves as its non-relaxed twin where
//! there is one (swizzle, `trunc_sat`, `min`/`max`, `q15mulr_sat_s`,
//! `bitselect`), multiply-add rounds once (`fma`), and the dot products
//! read both operands as signed with 16-bit wrapping pair sums.

// Declared before the submodules so they can use it (textual macro scoping).
/// Declares an operation enum whose variants carry their wasm text name.
///
/// With the `mirror` marker the variant names must equal the immediate-free
/// [`wasmparser::Operator`] variants, and a `from_operator` mapping is
/// generated, so a typo or a missing opcode becomes a compile error rather
/// than a silently unclassified instruction.
macro_rules! op_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $variant:ident = $text:literal ),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name {
            $( #[doc = concat!("`", $text, "`")] $variant, )*
        }

        impl $name {
            /// The instruction's name in the WebAssembly text format, for
            /// disassembly and diagnostics.
            pub fn name(self) -> &'static str {
                match self {
                    $( Self::$variant => $text, )*
                }
            }

            #[cfg(test)]
            pub(crate) const ALL: &'static [Self] = &[$( Self::$variant ),*];
        }
    };
    (
        mirror
        $(#[$meta:meta])*
        pub enum $name:ident { $( $variant:ident = $text:literal ),* $(,)? }
    ) => {
        op_enum! {
            $(#[$meta])*
            pub enum $name { $( $variant = $text ),* }
        }

        impl $name {
            pub(crate) fn from_operator(op: &wasmparser::Operator<'_>) -> Option<Self> {
                match op {
                    $( wasmparser::Operator::$variant => Some(Self::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

mod classify;
mod float;
mod lanes;
mod ops;
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2;

pub use classify::classify;
pub use lanes::{
    ExtractOp, LaneWidth, LoadKind, ReplaceOp, SplatOp, load_lane, shuffle, store_lane,
};
pub use ops::{BinaryOp, ShiftOp, TernaryOp, TestOp, UnaryOp};

/// A 128-bit SIMD value; lane 0 lives in the least significant bits, matching
/// the little-endian byte order of wasm linear memory.
pub type V128 = u128;

/// The shape of a SIMD instruction, as produced by [`classify`].
///
/// Each shape corresponds to one operand/result signature, so the translator
/// can emit one generic bytecode instruction per shape and carry the concrete
/// operation as a small immediate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimdOp {
    /// `v128.const`: pushes the given value.
    Const(V128),
    /// `v128 -> v128`.
    Unary(UnaryOp),
    /// `v128 x v128 -> v128`.
    Binary(BinaryOp),
    /// `v128 x v128 x v128 -> v128` (`v128.bitselect`).
    Ternary(TernaryOp),
    /// `v128 x i32 -> v128` lane shifts.
    Shift(ShiftOp),
    /// `v128 -> i32` reductions (`any_true`, `all_true`, `bitmask`).
    Test(TestOp),
    /// Scalar to `v128` broadcast; the scalar is passed as its raw bits.
    Splat(SplatOp),
    /// `v128 -> scalar` lane read with the given lane index.
    ExtractLane(ExtractOp, u8),
    /// `v128 x scalar -> v128` lane write with the given lane index.
    ReplaceLane(ReplaceOp, u8),
    /// `i8x16.shuffle` with its 16 byte-lane selectors (each `< 32`).
    Shuffle([u8; 16]),
    /// One of the `v128.load*` instructions that produce a fresh vector.
    Load(LoadKind, wasmparser::MemArg),
    /// `v128.loadN_lane`: reads `LaneWidth::bytes` bytes into the given lane.
    LoadLane(LaneWidth, wasmparser::MemArg, u8),
    /// `v128.store`.
    Store(wasmparser::MemArg),
    /// `v128.storeN_lane`: writes the given lane to memory.
    StoreLane(LaneWidth, wasmparser::MemArg, u8),
}
