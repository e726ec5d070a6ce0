//! The operand types of [`Op`](super::Op)'s variants: slots, the shapes
//! several ops share (`Un`, `Bin`, `Mem`, ...), and the kinds of the generic
//! memory ops.

/// Index of a 64-bit value slot in the current frame.
pub type Slot = u16;

/// Operands of a one-input, one-output op: `dst = f(src)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Un {
    /// Result slot.
    pub dst: Slot,
    /// Input slot.
    pub src: Slot,
}

/// Operands of a two-input, one-output op: `dst = f(lhs, rhs)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bin {
    /// Result slot.
    pub dst: Slot,
    /// Left (deeper on the wasm stack) input.
    pub lhs: Slot,
    /// Right (top of the wasm stack) input.
    pub rhs: Slot,
}

/// Operands of a multiply-add: `dst = (a * b) + c`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MulAdd {
    /// Result slot.
    pub dst: Slot,
    /// Left factor.
    pub a: Slot,
    /// Right factor.
    pub b: Slot,
    /// Addend.
    pub c: Slot,
}

/// Operands of an op with an immediate right operand: `dst = f(lhs, imm)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BinImm {
    /// Result slot.
    pub dst: Slot,
    /// Left input.
    pub lhs: Slot,
    /// Right operand (sign-extended for 64-bit ops).
    pub imm: i32,
}

/// A fused `i32` compare and branch: jumps by `offset` if `lhs OP rhs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrCmp {
    /// Left input.
    pub lhs: Slot,
    /// Right input.
    pub rhs: Slot,
    /// Relative target.
    pub offset: i32,
    /// Relative target when the test fails: 0 (the next op) unless a `Br`
    /// to this test was threaded into a copy of it (see `thread_jump`).
    pub fallthrough: i16,
}

/// A fused `i32` compare with an immediate and branch: jumps by `offset`
/// if `lhs OP imm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrCmpImm {
    /// Left input.
    pub lhs: Slot,
    /// Relative target when the test fails, as in [`BrCmp`].
    pub fallthrough: i16,
    /// Right operand.
    pub imm: i32,
    /// Relative target.
    pub offset: i32,
}

/// Operands of a scalar load or store on memory 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mem {
    /// Loads: the result slot. Stores: the value slot.
    pub val: Slot,
    /// The address slot: an `i32` (zero-extended in its slot) or, for a
    /// memory64, an `i64`.
    pub addr: Slot,
    /// The static offset, added to the address in 64-bit arithmetic.
    pub offset: u32,
}

/// Operands of the 128-bit arithmetic of wide-arithmetic: the value
/// `[a_hi]:[a_lo]` with `[b_hi]:[b_lo]` into `[hi]:[lo]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wide {
    /// Low half of the result.
    pub lo: Slot,
    /// High half of the result.
    pub hi: Slot,
    /// Low half of the first operand.
    pub a_lo: Slot,
    /// High half of the first operand.
    pub a_hi: Slot,
    /// Low half of the second operand.
    pub b_lo: Slot,
    /// High half of the second operand.
    pub b_hi: Slot,
}

/// Operands of a widening multiply: `[hi]:[lo] = [a] * [b]` in 128 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MulWide {
    /// Low half of the product.
    pub lo: Slot,
    /// High half of the product.
    pub hi: Slot,
    /// First factor.
    pub a: Slot,
    /// Second factor.
    pub b: Slot,
}

/// The kind of scalar load of [`Op::LoadMem`](super::Op::LoadMem): width
/// and extension (the same set as the memory-0 ops `Load32` ..
/// `Load32S64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadTy {
    /// 4 bytes, zero-extended (`i32`, `f32`, `i64.load32_u`).
    U32,
    /// 8 bytes.
    U64,
    /// 1 byte, sign-extended to 32 bits.
    S8To32,
    /// 1 byte, sign-extended to 64 bits.
    S8To64,
    /// 1 byte, zero-extended.
    U8,
    /// 2 bytes, sign-extended to 32 bits.
    S16To32,
    /// 2 bytes, sign-extended to 64 bits.
    S16To64,
    /// 2 bytes, zero-extended.
    U16,
    /// 4 bytes, sign-extended to 64 bits.
    S32To64,
}

/// The width of a scalar store of [`Op::StoreMem`](super::Op::StoreMem).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreTy {
    /// The low byte.
    B8,
    /// The low 2 bytes.
    B16,
    /// The low 4 bytes.
    B32,
    /// All 8 bytes.
    B64,
}
