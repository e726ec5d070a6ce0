//! The op list: every [`Op`] with its operands and meaning, in tag order,
//! given to `op_set!` (see the parent module), which makes [`Op`] and
//! [`OpCode`] from it.

use super::*;

op_set! {
/// One bytecode instruction.
///
/// "reads"/"writes" below name frame slots; `[s]` is slot `s`, `[s..s+2]`
/// a `v128` (low half first). An `i32` lives zero-extended in its slot.
pub enum Op {
    // ---- control -------------------------------------------------------
    /// Traps with `UnreachableCodeReached`.
    Unreachable,
    /// Jumps by `offset` ops (relative to the next op). Every taken branch
    /// with a negative offset (a loop back-edge) polls the interrupt flag.
    Br {
        /// Relative target.
        offset: i32,
    },
    /// Jumps if `[cond] as u32 != 0`.
    BrIfNez {
        /// Condition slot.
        cond: Slot,
        /// Relative target when the test fails, as in [`BrCmp`].
        fallthrough: i16,
        /// Relative target.
        offset: i32,
    },
    /// Jumps if `[cond] as u32 == 0`.
    BrIfEqz {
        /// Condition slot.
        cond: Slot,
        /// Relative target when the test fails, as in [`BrCmp`].
        fallthrough: i16,
        /// Relative target.
        offset: i32,
    },
    /// Followed by `len + 1` `Br` ops; executes the `min([index], len)`-th.
    BrTable {
        /// Index slot.
        index: Slot,
        /// Number of non-default targets.
        len: u32,
    },
    /// Returns; the results are already in slots `0..n` of the frame.
    Return,
    /// Returns the single one-slot result in `[src]` (copies it to slot 0).
    Return1 {
        /// Result slot.
        src: Slot,
    },
    /// Charges `amount` fuel (only emitted with fuel metering).
    Fuel {
        /// Wasm instructions in the straight-line region that starts here.
        amount: u32,
    },
    /// First op of every loop body when fuel is metered: checks the
    /// interrupt flag and charges `fuel` on entry and on every back-edge.
    /// (Without metering loops have no header; taken backward branches
    /// poll the interrupt flag themselves.)
    LoopHead {
        /// Fuel for the region starting here.
        fuel: u32,
    },
    /// Copies the function's constant pool into its slots (right after the
    /// locals). The first op of a function with a pool, and only there.
    InitConsts,
    /// Calls defined function `func` of this module; its frame starts at
    /// slot `base`, where the arguments are and the results will be.
    Call {
        /// Defined-function index.
        func: u32,
        /// First argument slot.
        base: Slot,
    },
    /// Calls `instance.funcs[func]` (an import: host or another instance).
    CallImport {
        /// Function index.
        func: u32,
        /// First argument slot.
        base: Slot,
    },
    /// `call_indirect`: calls `tables[table][[index]]` after checking its
    /// signature against `sigs[ty]`.
    CallIndirect {
        /// Module type index.
        ty: u32,
        /// Table index.
        table: u16,
        /// Slot holding the element index.
        index: Slot,
        /// First argument slot.
        base: Slot,
    },
    /// `call_ref`: calls the function whose reference is in `[func]`,
    /// trapping (`NullReference`) if it is null. Validation typed the
    /// reference, so there is no signature check.
    CallRef {
        /// Slot holding the function reference.
        func: Slot,
        /// First argument slot.
        base: Slot,
    },
    /// `return_call_ref`: [`Op::CallRef`] as a tail call.
    ReturnCallRef {
        /// Slot holding the function reference.
        func: Slot,
        /// First argument slot.
        base: Slot,
    },
    /// `throw`: raises an exception of tag `tag` (module tag index) whose
    /// payload is at `base..` (the tag's parameters, laid out as call
    /// arguments), and unwinds to the innermost matching handler.
    Throw {
        /// Module tag index.
        tag: u32,
        /// First payload slot.
        base: Slot,
        /// Payload slots.
        slots: u16,
    },
    /// `throw_ref` (and the legacy `rethrow`, whose exception is in a
    /// hidden slot): raises again the exception `[src]` refers to, or
    /// traps (`NullReference`) if it is null.
    ThrowRef {
        /// Slot holding the `exnref`.
        src: Slot,
    },
    /// The end of a legacy `catch` block: the exception it caught (in the
    /// hidden slot `slot`) is dead unless exposed.
    ExnRelease {
        /// The hidden slot holding the caught `exnref`.
        slot: Slot,
    },
    /// `ref.as_non_null`: traps (`NullReference`) if `[src]` is null; the
    /// reference stays where it is.
    RefAsNonNull {
        /// Slot holding the reference.
        src: Slot,
    },
    /// `return_call` of a defined function: arguments move from `base` to
    /// slot 0 and the callee replaces the current frame.
    ReturnCall {
        /// Defined-function index.
        func: u32,
        /// First argument slot.
        base: Slot,
    },
    /// `return_call` of an imported function.
    ReturnCallImport {
        /// Function index.
        func: u32,
        /// First argument slot.
        base: Slot,
    },
    /// `return_call_indirect`.
    ReturnCallIndirect {
        /// Module type index.
        ty: u32,
        /// Table index.
        table: u16,
        /// Slot holding the element index.
        index: Slot,
        /// First argument slot.
        base: Slot,
    },

    // ---- data movement -------------------------------------------------
    /// `[dst] = [src]`.
    Copy(Un),
    /// `[dst..dst+2] = [src..src+2]` (a `v128`; overlap-safe).
    Copy2(Un),
    /// `[dst0] = [src0]`, then `[dst1] = [src1]`: two consecutive
    /// `Copy` ops in one.
    CopyPair {
        /// First result slot.
        dst0: Slot,
        /// First input.
        src0: Slot,
        /// Second result slot.
        dst1: Slot,
        /// Second input.
        src1: Slot,
    },
    /// `[dst] = [src]`, then jumps by `offset`: a `Copy` and the `Br`
    /// after it (branch values moving to their label).
    CopyBr {
        /// Result slot.
        dst: Slot,
        /// Input slot.
        src: Slot,
        /// Relative target.
        offset: i32,
    },
    /// `[dst] = value` (zero-extended).
    Const32 {
        /// Result slot.
        dst: Slot,
        /// Value bits.
        value: u32,
    },
    /// `[dst] = value`.
    Const64 {
        /// Result slot.
        dst: Slot,
        /// Value bits.
        value: u64,
    },
    /// `[dst] = if [cond] as u32 != 0 { [a] } else { [b] }`.
    Select {
        /// Result slot.
        dst: Slot,
        /// Condition slot.
        cond: Slot,
        /// Value if true.
        a: Slot,
        /// Value if false.
        b: Slot,
    },
    /// `select` on `v128` (two slots each).
    Select2 {
        /// Result slot.
        dst: Slot,
        /// Condition slot.
        cond: Slot,
        /// Value if true.
        a: Slot,
        /// Value if false.
        b: Slot,
    },
    /// `[dst] = globals[global].lo`.
    GlobalGet {
        /// Result slot.
        dst: Slot,
        /// Global index.
        global: u32,
    },
    /// `globals[global].lo = [src]`.
    GlobalSet {
        /// Value slot.
        src: Slot,
        /// Global index.
        global: u32,
    },
    /// `[dst..dst+2] = globals[global]` (v128).
    GlobalGet2 {
        /// Result slot.
        dst: Slot,
        /// Global index.
        global: u32,
    },
    /// `globals[global] = [src..src+2]` (v128).
    GlobalSet2 {
        /// Value slot.
        src: Slot,
        /// Global index.
        global: u32,
    },
    /// `[dst] = instance.funcs[func]` as a reference.
    RefFunc {
        /// Result slot.
        dst: Slot,
        /// Function index.
        func: u32,
    },

    // ---- memory 0 ------------------------------------------------------
    /// 4-byte load, zero-extended (`i32.load`, `f32.load`, `i64.load32_u`).
    Load32(Mem),
    /// 8-byte load (`i64.load`, `f64.load`).
    Load64(Mem),
    /// `i32.load8_s`.
    Load8S32(Mem),
    /// `i64.load8_s`.
    Load8S64(Mem),
    /// 1-byte load, zero-extended (`i32.load8_u`, `i64.load8_u`).
    Load8U(Mem),
    /// `i32.load16_s`.
    Load16S32(Mem),
    /// `i64.load16_s`.
    Load16S64(Mem),
    /// 2-byte load, zero-extended (`i32.load16_u`, `i64.load16_u`).
    Load16U(Mem),
    /// `i64.load32_s`.
    Load32S64(Mem),
    /// Stores the low byte of `[val]`.
    Store8(Mem),
    /// Stores the low 2 bytes of `[val]`.
    Store16(Mem),
    /// Stores the low 4 bytes of `[val]`.
    Store32(Mem),
    /// Stores all 8 bytes of `[val]`.
    Store64(Mem),
    /// 4-byte load, zero-extended, from `([addr] + imm) mod 2^32 + offset`
    /// (an `i32.add` of a constant folded into the access).
    Load32AddImm {
        /// Result slot.
        val: Slot,
        /// Address operand slot.
        addr: Slot,
        /// Added to `[addr]` in 32 bits.
        imm: i32,
        /// Static offset.
        offset: u32,
    },
    /// 4-byte load, zero-extended, from `([a] + [b]) mod 2^32 + offset`.
    Load32Add {
        /// Result slot.
        val: Slot,
        /// Address operand slot.
        a: Slot,
        /// Address operand slot.
        b: Slot,
        /// Static offset.
        offset: u32,
    },
    /// 4-byte load, zero-extended, from `([base] + ([idx] << shift)) mod 2^32 + offset`
    /// (an [`Op::I32AddShl`] folded into the access).
    Load32Index {
        /// Result slot.
        val: Slot,
        /// The unshifted address operand.
        base: Slot,
        /// The shifted address operand.
        idx: Slot,
        /// Shift amount (below 32).
        shift: u16,
        /// Static offset.
        offset: u32,
    },
    /// 8-byte load, from `([addr] + imm) mod 2^32 + offset`
    /// (an `i32.add` of a constant folded into the access).
    Load64AddImm {
        /// Result slot.
        val: Slot,
        /// Address operand slot.
        addr: Slot,
        /// Added to `[addr]` in 32 bits.
        imm: i32,
        /// Static offset.
        offset: u32,
    },
    /// 8-byte load, from `([a] + [b]) mod 2^32 + offset`.
    Load64Add {
        /// Result slot.
        val: Slot,
        /// Address operand slot.
        a: Slot,
        /// Address operand slot.
        b: Slot,
        /// Static offset.
        offset: u32,
    },
    /// 8-byte load, from `([base] + ([idx] << shift)) mod 2^32 + offset`
    /// (an [`Op::I32AddShl`] folded into the access).
    Load64Index {
        /// Result slot.
        val: Slot,
        /// The unshifted address operand.
        base: Slot,
        /// The shifted address operand.
        idx: Slot,
        /// Shift amount (below 32).
        shift: u16,
        /// Static offset.
        offset: u32,
    },
    /// 1-byte load, zero-extended, from `([addr] + imm) mod 2^32 + offset`
    /// (an `i32.add` of a constant folded into the access).
    Load8UAddImm {
        /// Result slot.
        val: Slot,
        /// Address operand slot.
        addr: Slot,
        /// Added to `[addr]` in 32 bits.
        imm: i32,
        /// Static offset.
        offset: u32,
    },
    /// 1-byte load, zero-extended, from `([a] + [b]) mod 2^32 + offset`.
    Load8UAdd {
        /// Result slot.
        val: Slot,
        /// Address operand slot.
        a: Slot,
        /// Address operand slot.
        b: Slot,
        /// Static offset.
        offset: u32,
    },
    /// 1-byte load, zero-extended, from `([base] + ([idx] << shift)) mod 2^32 + offset`
    /// (an [`Op::I32AddShl`] folded into the access).
    Load8UIndex {
        /// Result slot.
        val: Slot,
        /// The unshifted address operand.
        base: Slot,
        /// The shifted address operand.
        idx: Slot,
        /// Shift amount (below 32).
        shift: u16,
        /// Static offset.
        offset: u32,
    },
    /// Stores the low byte of `value` (a constant stored: the `Const` op
    /// that produced it is folded in).
    Store8Imm {
        /// Address slot, as [`Mem::addr`].
        addr: Slot,
        /// The value.
        value: u32,
        /// Static offset.
        offset: u32,
    },
    /// Stores the low 2 bytes of `value`.
    Store16Imm {
        /// Address slot, as [`Mem::addr`].
        addr: Slot,
        /// The value.
        value: u32,
        /// Static offset.
        offset: u32,
    },
    /// Stores the 4 bytes of `value`.
    Store32Imm {
        /// Address slot, as [`Mem::addr`].
        addr: Slot,
        /// The value.
        value: u32,
        /// Static offset.
        offset: u32,
    },
    /// Stores `value` sign-extended to 8 bytes.
    Store64Imm {
        /// Address slot, as [`Mem::addr`].
        addr: Slot,
        /// The value, sign-extended when stored.
        value: i32,
        /// Static offset.
        offset: u32,
    },
    /// A scalar load from any memory, 32- or 64-bit addressed (the ops
    /// above are memory 0 with 32-bit addresses): `[m.val] = ty(memory
    /// mem at [m.addr] + m.offset)`, the address read as a whole slot (an
    /// `i32` is zero-extended there).
    LoadMem {
        /// What is loaded, and how it is extended.
        ty: LoadTy,
        /// Memory index.
        mem: u16,
        /// Slots and static offset.
        m: Mem,
    },
    /// A scalar store to any memory, as [`Op::LoadMem`].
    StoreMem {
        /// How many low bytes of `[m.val]` are stored.
        ty: StoreTy,
        /// Memory index.
        mem: u16,
        /// Slots and static offset.
        m: Mem,
    },
    /// `i64.add128` (wide-arithmetic): 128-bit sum, wrapping.
    Add128(Wide),
    /// `i64.sub128`: 128-bit difference, wrapping.
    Sub128(Wide),
    /// `i64.mul_wide_s`: the signed 128-bit product.
    MulWideS(MulWide),
    /// `i64.mul_wide_u`: the unsigned 128-bit product.
    MulWideU(MulWide),
    /// Makes memory `mem` the one the memory-0 access ops use, until the
    /// next `SelectMemory` (always `mem: 0` right after the one access
    /// the translator brackets this way: SIMD accesses to other memories).
    SelectMemory {
        /// Memory index.
        mem: u16,
    },
    /// `[dst] = [a] + [b]` as the effective address of a memory64 access
    /// whose static offset does not fit the access op's `u32`: traps
    /// (out of bounds) if the sum overflows 64 bits.
    AddAddress {
        /// Result slot.
        dst: Slot,
        /// Address slot.
        a: Slot,
        /// Offset slot.
        b: Slot,
    },
    /// `[dst] = memory `mem`'s size in pages`.
    MemorySize {
        /// Memory index.
        mem: u32,
        /// The base-2 logarithm of the memory's page size (16, or 0 for
        /// the custom-page-sizes proposal's one-byte pages).
        page_size_log2: u8,
        /// Result slot.
        dst: Slot,
    },
    /// `[x.dst] = memory.grow([x.src])` on memory `mem`, through
    /// `Host::memory_grow`; -1 (of the index type) on failure.
    MemoryGrow {
        /// Memory index.
        mem: u16,
        /// Whether the memory has 64-bit addresses (memory64).
        wide: bool,
        /// Delta and result slots.
        x: Un,
    },
    /// `memory.init data` on memory `mem`: reads `[dst]`, `[src]`, `[len]`.
    MemoryInit {
        /// Memory index.
        mem: u16,
        /// Data segment index.
        data: u32,
        /// Destination address slot.
        dst: Slot,
        /// Segment offset slot.
        src: Slot,
        /// Length slot.
        len: Slot,
    },
    /// `data.drop`.
    DataDrop {
        /// Data segment index.
        data: u32,
    },
    /// `memory.copy` from memory `src_mem` to `dst_mem`: reads `[dst]`,
    /// `[src]`, `[len]`.
    MemoryCopy {
        /// Destination memory index.
        dst_mem: u16,
        /// Source memory index.
        src_mem: u16,
        /// Destination address slot.
        dst: Slot,
        /// Source address slot.
        src: Slot,
        /// Length slot.
        len: Slot,
    },
    /// `memory.fill` on memory `mem`: reads `[dst]`, `[val]`, `[len]`.
    MemoryFill {
        /// Memory index.
        mem: u16,
        /// Destination address slot.
        dst: Slot,
        /// Byte value slot.
        val: Slot,
        /// Length slot.
        len: Slot,
    },

    // ---- GC objects (`docs/gc.md`) ---------------------------------------
    /// `ref.i31`: `[dst] = ([src] << 1 | 1) as u32`.
    RefI31 {
        /// Result slot.
        dst: Slot,
        /// Integer slot.
        src: Slot,
    },
    /// `i31.get_s`/`i31.get_u`: the i31 in `[src]`, sign- or
    /// zero-extended from 31 bits; traps on null.
    I31Get {
        /// Result slot.
        dst: Slot,
        /// Reference slot.
        src: Slot,
        /// Whether to sign-extend.
        signed: bool,
    },
    /// `struct.new`/`struct.new_default` of module type `ty`: the fields
    /// come from the slots at `base` (a `v128` takes two), or are zero.
    StructNew {
        /// Result slot.
        dst: Slot,
        /// First field slot (unused for the default form).
        base: Slot,
        /// Module type index.
        ty: u32,
        /// Whether every field is zero (`struct.new_default`).
        default: bool,
    },
    /// `struct.get*`: `[dst]` = the field at `offset` of the object in
    /// `[obj]`, of kind `kind` (`gc_layout::FieldKind`); traps on null.
    StructGet {
        /// Result slot (two for a `v128`).
        dst: Slot,
        /// Object slot.
        obj: Slot,
        /// The field's byte offset in the object.
        offset: u32,
        /// The field's kind.
        kind: u8,
        /// Whether a packed field is sign-extended.
        signed: bool,
    },
    /// `struct.set`: the field at `offset` of the object in `[obj]` =
    /// `[val]`; traps on null.
    StructSet {
        /// Object slot.
        obj: Slot,
        /// Value slot.
        val: Slot,
        /// The field's byte offset in the object.
        offset: u32,
        /// The field's kind.
        kind: u8,
    },
    /// `array.new`/`array.new_default` of module type `ty`: `[len]`
    /// elements, each `[init]` (or zero).
    ArrayNew {
        /// Result slot.
        dst: Slot,
        /// Initial value slot (unused for the default form).
        init: Slot,
        /// Length slot.
        len: Slot,
        /// Module type index.
        ty: u32,
        /// Whether the elements are zero (`array.new_default`).
        default: bool,
    },
    /// `array.new_fixed` of module type `ty`: `len` elements from the
    /// slots at `base`.
    ArrayNewFixed {
        /// Result slot.
        dst: Slot,
        /// First element slot.
        base: Slot,
        /// Module type index.
        ty: u32,
        /// Number of elements.
        len: u32,
    },
    /// `array.new_data`/`array.new_elem` of module type `ty`: `[len]`
    /// elements from segment `seg` starting at `[offset]`.
    ArrayNewSegment {
        /// Result slot.
        dst: Slot,
        /// Segment offset slot.
        offset: Slot,
        /// Length slot.
        len: Slot,
        /// Module type index.
        ty: u32,
        /// Data segment index, or element segment index with the top bit
        /// set.
        seg: u32,
    },
    /// `array.get*`: `[dst]` = element `[index]` of the array in `[arr]`.
    ArrayGet {
        /// Result slot (two for a `v128`).
        dst: Slot,
        /// Array slot.
        arr: Slot,
        /// Index slot.
        index: Slot,
        /// The element kind.
        kind: u8,
        /// Whether a packed element is sign-extended.
        signed: bool,
    },
    /// `array.set`: element `[index]` of the array in `[arr]` = `[val]`.
    ArraySet {
        /// Array slot.
        arr: Slot,
        /// Index slot.
        index: Slot,
        /// Value slot.
        val: Slot,
        /// The element kind.
        kind: u8,
    },
    /// `array.len`: `[dst]` = the length of the array in `[arr]`.
    ArrayLen {
        /// Result slot.
        dst: Slot,
        /// Array slot.
        arr: Slot,
    },
    /// `array.fill`: `[len]` elements from `[offset]` of `[arr]` = `[val]`.
    ArrayFill {
        /// Array slot.
        arr: Slot,
        /// First index slot.
        offset: Slot,
        /// Value slot.
        val: Slot,
        /// Count slot.
        len: Slot,
        /// The element kind.
        kind: u8,
    },
    /// `array.copy`: `[len]` elements of `[src]` from `[src_offset]` to
    /// `[dst]` from `[dst_offset]` (overlap-safe).
    ArrayCopy {
        /// Destination array slot.
        dst: Slot,
        /// Destination index slot.
        dst_offset: Slot,
        /// Source array slot.
        src: Slot,
        /// Source index slot.
        src_offset: Slot,
        /// Count slot.
        len: Slot,
        /// The element kind (both arrays').
        kind: u8,
    },
    /// `array.init_data`/`array.init_elem`: `[len]` elements of segment
    /// `seg` from `[src]` into `[arr]` from `[offset]`.
    ArrayInitSegment {
        /// Array slot.
        arr: Slot,
        /// First index slot.
        offset: Slot,
        /// Segment offset slot.
        src: Slot,
        /// Count slot.
        len: Slot,
        /// The element kind.
        kind: u8,
        /// Data segment index, or element segment index with the top bit
        /// set.
        seg: u32,
    },
    /// The write barrier after a store of traced references into the
    /// object in `[obj]` (`docs/gc.md`, "The collector"): when the object
    /// is old and `[val]` is a young object (or, after a bulk write,
    /// whenever the object is old), it joins the remembered set. `at`
    /// says where the store was: a struct field at byte `offset`, the
    /// array element `[index]` (of `offset` bytes), or anywhere.
    GcBarrier {
        /// Object slot.
        obj: Slot,
        /// Stored value slot (unused after a bulk write).
        val: Slot,
        /// Element index slot (for an array element).
        index: Slot,
        /// The field's offset, or the element's size.
        offset: u32,
        /// A `gc::BARRIER_*` constant.
        at: u8,
    },
    /// `ref.test`: `[dst]` = whether `[src]` is of the type `target` and
    /// `flags` name (`kiln_environ::gc_cast`).
    RefTest {
        /// Result slot.
        dst: Slot,
        /// Reference slot.
        src: Slot,
        /// Abstract heap type code, or module type index.
        target: u32,
        /// Nullable, concrete and hierarchy bits.
        flags: u8,
    },
    /// `ref.cast`: traps (`CastFailure`) unless `[src]` is of the type
    /// `target` and `flags` name; the reference stays where it is.
    RefCast {
        /// Reference slot.
        src: Slot,
        /// Abstract heap type code, or module type index.
        target: u32,
        /// Nullable, concrete and hierarchy bits.
        flags: u8,
    },

    // ---- tables --------------------------------------------------------
    /// `[dst] = tables[table][[index]]`.
    TableGet {
        /// Table index.
        table: u32,
        /// Result slot.
        dst: Slot,
        /// Element index slot.
        index: Slot,
    },
    /// `tables[table][[index]] = [val]`.
    TableSet {
        /// Table index.
        table: u32,
        /// Element index slot.
        index: Slot,
        /// Value slot.
        val: Slot,
    },
    /// `[dst] = table size`.
    TableSize {
        /// Table index.
        table: u32,
        /// Result slot.
        dst: Slot,
    },
    /// `[dst] = table.grow([init], [delta])`.
    TableGrow {
        /// Table index.
        table: u32,
        /// Whether the table is indexed by `i64` (table64): failure is
        /// then `-1` in 64 bits rather than 32.
        wide: bool,
        /// Result slot.
        dst: Slot,
        /// Fill value slot.
        init: Slot,
        /// Delta slot.
        delta: Slot,
    },
    /// `table.fill`: reads `[dst]`, `[val]`, `[len]`.
    TableFill {
        /// Table index.
        table: u32,
        /// Start index slot.
        dst: Slot,
        /// Value slot.
        val: Slot,
        /// Length slot.
        len: Slot,
    },
    /// `table.copy`: reads `[dst]`, `[src]`, `[len]`.
    TableCopy {
        /// Destination table.
        dst_table: u16,
        /// Source table.
        src_table: u16,
        /// Destination index slot.
        dst: Slot,
        /// Source index slot.
        src: Slot,
        /// Length slot.
        len: Slot,
    },
    /// `table.init`: reads `[dst]`, `[src]`, `[len]`.
    TableInit {
        /// Table index.
        table: u16,
        /// Element segment index.
        elem: u32,
        /// Destination index slot.
        dst: Slot,
        /// Segment offset slot.
        src: Slot,
        /// Length slot.
        len: Slot,
    },
    /// `elem.drop`.
    ElemDrop {
        /// Element segment index.
        elem: u32,
    },

    // ---- numeric: i32 --------------------------------------------------
    /// `i32.eqz`
    I32Eqz(Un),
    /// `i32.eq`
    I32Eq(Bin),
    /// `i32.ne`
    I32Ne(Bin),
    /// `i32.lt_s`
    I32LtS(Bin),
    /// `i32.lt_u`
    I32LtU(Bin),
    /// `i32.gt_s`
    I32GtS(Bin),
    /// `i32.gt_u`
    I32GtU(Bin),
    /// `i32.le_s`
    I32LeS(Bin),
    /// `i32.le_u`
    I32LeU(Bin),
    /// `i32.ge_s`
    I32GeS(Bin),
    /// `i32.ge_u`
    I32GeU(Bin),
    /// `i32.clz`
    I32Clz(Un),
    /// `i32.ctz`
    I32Ctz(Un),
    /// `i32.popcnt`
    I32Popcnt(Un),
    /// `i32.add`
    I32Add(Bin),
    /// `i32.sub`
    I32Sub(Bin),
    /// `i32.mul`
    I32Mul(Bin),
    /// `i32.div_s` (traps on zero and overflow)
    I32DivS(Bin),
    /// `i32.div_u` (traps on zero)
    I32DivU(Bin),
    /// `i32.rem_s` (traps on zero)
    I32RemS(Bin),
    /// `i32.rem_u` (traps on zero)
    I32RemU(Bin),
    /// `i32.and`
    I32And(Bin),
    /// `i32.or`
    I32Or(Bin),
    /// `i32.xor`
    I32Xor(Bin),
    /// `i32.shl`
    I32Shl(Bin),
    /// `i32.shr_s`
    I32ShrS(Bin),
    /// `i32.shr_u`
    I32ShrU(Bin),
    /// `i32.rotl`
    I32Rotl(Bin),
    /// `i32.rotr`
    I32Rotr(Bin),

    // ---- superinstructions: immediate right operand ---------------------
    /// `i32.add` (and `i32.sub` of a negated constant) with an immediate.
    I32AddImm(BinImm),
    /// `i32.mul` with an immediate.
    I32MulImm(BinImm),
    /// `i32.and` with an immediate.
    I32AndImm(BinImm),
    /// `i32.or` with an immediate.
    I32OrImm(BinImm),
    /// `i32.xor` with an immediate.
    I32XorImm(BinImm),
    /// `i32.shl` with an immediate.
    I32ShlImm(BinImm),
    /// `i32.shr_s` with an immediate.
    I32ShrSImm(BinImm),
    /// `i32.shr_u` with an immediate.
    I32ShrUImm(BinImm),
    /// `i32.rotl` with an immediate.
    I32RotlImm(BinImm),
    /// `i32.rotr` with an immediate.
    I32RotrImm(BinImm),
    /// `i32.eq` with an immediate.
    I32EqImm(BinImm),
    /// `i32.ne` with an immediate.
    I32NeImm(BinImm),
    /// `i32.lt_s` with an immediate.
    I32LtSImm(BinImm),
    /// `i32.lt_u` with an immediate.
    I32LtUImm(BinImm),
    /// `i32.gt_s` with an immediate.
    I32GtSImm(BinImm),
    /// `i32.gt_u` with an immediate.
    I32GtUImm(BinImm),
    /// `i32.le_s` with an immediate.
    I32LeSImm(BinImm),
    /// `i32.le_u` with an immediate.
    I32LeUImm(BinImm),
    /// `i32.ge_s` with an immediate.
    I32GeSImm(BinImm),
    /// `i32.ge_u` with an immediate.
    I32GeUImm(BinImm),
    /// `i64.add` (and `i64.sub`) with a sign-extended 32-bit immediate.
    I64AddImm(BinImm),
    /// `i64.and` with a 64-bit immediate.
    I64AndImm {
        /// Result slot.
        dst: Slot,
        /// Left input.
        lhs: Slot,
        /// Right operand.
        imm: u64,
    },
    /// `i64.or` with a 64-bit immediate.
    I64OrImm {
        /// Result slot.
        dst: Slot,
        /// Left input.
        lhs: Slot,
        /// Right operand.
        imm: u64,
    },
    /// `i64.xor` with a 64-bit immediate.
    I64XorImm {
        /// Result slot.
        dst: Slot,
        /// Left input.
        lhs: Slot,
        /// Right operand.
        imm: u64,
    },
    /// `i64.mul` with a 64-bit immediate.
    I64MulImm {
        /// Result slot.
        dst: Slot,
        /// Left input.
        lhs: Slot,
        /// Right operand.
        imm: u64,
    },
    /// `i64.shl` with a 64-bit immediate.
    I64ShlImm {
        /// Result slot.
        dst: Slot,
        /// Left input.
        lhs: Slot,
        /// Right operand.
        imm: u64,
    },
    /// `i64.shr_s` with a 64-bit immediate.
    I64ShrSImm {
        /// Result slot.
        dst: Slot,
        /// Left input.
        lhs: Slot,
        /// Right operand.
        imm: u64,
    },
    /// `i64.shr_u` with a 64-bit immediate.
    I64ShrUImm {
        /// Result slot.
        dst: Slot,
        /// Left input.
        lhs: Slot,
        /// Right operand.
        imm: u64,
    },
    /// `i64.rotl` with an immediate.
    I64RotlImm {
        /// Result slot.
        dst: Slot,
        /// Left input.
        lhs: Slot,
        /// Right operand.
        imm: u64,
    },
    /// `i64.rotr` with an immediate.
    I64RotrImm {
        /// Result slot.
        dst: Slot,
        /// Left input.
        lhs: Slot,
        /// Right operand.
        imm: u64,
    },
    /// Two `I32AddImm`s in one, run in order: `[dst0] = [src0] + imm0`,
    /// then `[dst1] = [src1] + imm1` (pointer and counter increments next
    /// to each other; immediates that fit in 16 bits).
    I32AddImmPair {
        /// First result slot.
        dst0: Slot,
        /// First input.
        src0: Slot,
        /// Second result slot.
        dst1: Slot,
        /// Second input.
        src1: Slot,
        /// First immediate.
        imm0: i16,
        /// Second immediate.
        imm1: i16,
    },
    /// `i32.add` of a shifted index (array addressing): `[dst] = [base] +
    /// ([idx] << (shift & 31))`, the `i32.shl` by a constant folded in.
    I32AddShl {
        /// Result slot.
        dst: Slot,
        /// The unshifted operand.
        base: Slot,
        /// The shifted operand.
        idx: Slot,
        /// Shift amount.
        shift: u16,
    },

    // ---- superinstructions: compare and branch --------------------------
    /// Jumps if `[lhs] == [rhs]` (i32).
    BrI32Eq(BrCmp),
    /// Jumps if `[lhs] != [rhs]`.
    BrI32Ne(BrCmp),
    /// Jumps if `[lhs] < [rhs]` (signed).
    BrI32LtS(BrCmp),
    /// Jumps if `[lhs] < [rhs]` (unsigned).
    BrI32LtU(BrCmp),
    /// Jumps if `[lhs] > [rhs]` (signed).
    BrI32GtS(BrCmp),
    /// Jumps if `[lhs] > [rhs]` (unsigned).
    BrI32GtU(BrCmp),
    /// Jumps if `[lhs] <= [rhs]` (signed).
    BrI32LeS(BrCmp),
    /// Jumps if `[lhs] <= [rhs]` (unsigned).
    BrI32LeU(BrCmp),
    /// Jumps if `[lhs] >= [rhs]` (signed).
    BrI32GeS(BrCmp),
    /// Jumps if `[lhs] >= [rhs]` (unsigned).
    BrI32GeU(BrCmp),
    /// Jumps if `[lhs] == imm`.
    BrI32EqImm(BrCmpImm),
    /// Jumps if `[lhs] != imm`.
    BrI32NeImm(BrCmpImm),
    /// Jumps if `[lhs] < imm` (signed).
    BrI32LtSImm(BrCmpImm),
    /// Jumps if `[lhs] < imm` (unsigned).
    BrI32LtUImm(BrCmpImm),
    /// Jumps if `[lhs] > imm` (signed).
    BrI32GtSImm(BrCmpImm),
    /// Jumps if `[lhs] > imm` (unsigned).
    BrI32GtUImm(BrCmpImm),
    /// Jumps if `[lhs] <= imm` (signed).
    BrI32LeSImm(BrCmpImm),
    /// Jumps if `[lhs] <= imm` (unsigned).
    BrI32LeUImm(BrCmpImm),
    /// Jumps if `[lhs] >= imm` (signed).
    BrI32GeSImm(BrCmpImm),
    /// Jumps if `[lhs] >= imm` (unsigned).
    BrI32GeUImm(BrCmpImm),

    // ---- numeric: i64 --------------------------------------------------
    /// `i64.eqz` (also `ref.is_null`)
    I64Eqz(Un),
    /// `i64.eq`
    I64Eq(Bin),
    /// `i64.ne`
    I64Ne(Bin),
    /// `i64.lt_s`
    I64LtS(Bin),
    /// `i64.lt_u`
    I64LtU(Bin),
    /// `i64.gt_s`
    I64GtS(Bin),
    /// `i64.gt_u`
    I64GtU(Bin),
    /// `i64.le_s`
    I64LeS(Bin),
    /// `i64.le_u`
    I64LeU(Bin),
    /// `i64.ge_s`
    I64GeS(Bin),
    /// `i64.ge_u`
    I64GeU(Bin),
    /// `i64.clz`
    I64Clz(Un),
    /// `i64.ctz`
    I64Ctz(Un),
    /// `i64.popcnt`
    I64Popcnt(Un),
    /// `i64.add`
    I64Add(Bin),
    /// `i64.sub`
    I64Sub(Bin),
    /// `i64.mul`
    I64Mul(Bin),
    /// `i64.div_s`
    I64DivS(Bin),
    /// `i64.div_u`
    I64DivU(Bin),
    /// `i64.rem_s`
    I64RemS(Bin),
    /// `i64.rem_u`
    I64RemU(Bin),
    /// `i64.and`
    I64And(Bin),
    /// `i64.or`
    I64Or(Bin),
    /// `i64.xor`
    I64Xor(Bin),
    /// `i64.shl`
    I64Shl(Bin),
    /// `i64.shr_s`
    I64ShrS(Bin),
    /// `i64.shr_u`
    I64ShrU(Bin),
    /// `i64.rotl`
    I64Rotl(Bin),
    /// `i64.rotr`
    I64Rotr(Bin),

    // ---- numeric: floats -----------------------------------------------
    /// `f32.eq`
    F32Eq(Bin),
    /// `f32.ne`
    F32Ne(Bin),
    /// `f32.lt`
    F32Lt(Bin),
    /// `f32.gt`
    F32Gt(Bin),
    /// `f32.le`
    F32Le(Bin),
    /// `f32.ge`
    F32Ge(Bin),
    /// `f64.eq`
    F64Eq(Bin),
    /// `f64.ne`
    F64Ne(Bin),
    /// `f64.lt`
    F64Lt(Bin),
    /// `f64.gt`
    F64Gt(Bin),
    /// `f64.le`
    F64Le(Bin),
    /// `f64.ge`
    F64Ge(Bin),
    /// `f32.abs`
    F32Abs(Un),
    /// `f32.neg`
    F32Neg(Un),
    /// `f32.ceil`
    F32Ceil(Un),
    /// `f32.floor`
    F32Floor(Un),
    /// `f32.trunc`
    F32Trunc(Un),
    /// `f32.nearest`
    F32Nearest(Un),
    /// `f32.sqrt`
    F32Sqrt(Un),
    /// `f32.add`
    F32Add(Bin),
    /// `f32.sub`
    F32Sub(Bin),
    /// `f32.mul`
    F32Mul(Bin),
    /// `f32.div`
    F32Div(Bin),
    /// `f32.min`
    F32Min(Bin),
    /// `f32.max`
    F32Max(Bin),
    /// `f32.copysign`
    F32Copysign(Bin),
    /// `f64.abs`
    F64Abs(Un),
    /// `f64.neg`
    F64Neg(Un),
    /// `f64.ceil`
    F64Ceil(Un),
    /// `f64.floor`
    F64Floor(Un),
    /// `f64.trunc`
    F64Trunc(Un),
    /// `f64.nearest`
    F64Nearest(Un),
    /// `f64.sqrt`
    F64Sqrt(Un),
    /// `f64.add`
    F64Add(Bin),
    /// `f64.sub`
    F64Sub(Bin),
    /// `f64.mul`
    F64Mul(Bin),
    /// `f64.div`
    F64Div(Bin),
    /// `f64.min`
    F64Min(Bin),
    /// `f64.max`
    F64Max(Bin),
    /// `f64.copysign`
    F64Copysign(Bin),
    /// `f32.mul` feeding `f32.add`, rounded after each as wasm requires
    /// (not a fused multiply-add): `[dst] = ([a] * [b]) + [c]`.
    F32MulAdd(MulAdd),
    /// `f64.mul` feeding `f64.add`, rounded after each:
    /// `[dst] = ([a] * [b]) + [c]`.
    F64MulAdd(MulAdd),

    // ---- conversions ---------------------------------------------------
    /// `i32.wrap_i64`
    I32WrapI64(Un),
    /// `i32.trunc_f32_s`
    I32TruncF32S(Un),
    /// `i32.trunc_f32_u`
    I32TruncF32U(Un),
    /// `i32.trunc_f64_s`
    I32TruncF64S(Un),
    /// `i32.trunc_f64_u`
    I32TruncF64U(Un),
    /// `i64.extend_i32_s`
    I64ExtendI32S(Un),
    /// `i64.trunc_f32_s`
    I64TruncF32S(Un),
    /// `i64.trunc_f32_u`
    I64TruncF32U(Un),
    /// `i64.trunc_f64_s`
    I64TruncF64S(Un),
    /// `i64.trunc_f64_u`
    I64TruncF64U(Un),
    /// `f32.convert_i32_s`
    F32ConvertI32S(Un),
    /// `f32.convert_i32_u`
    F32ConvertI32U(Un),
    /// `f32.convert_i64_s`
    F32ConvertI64S(Un),
    /// `f32.convert_i64_u`
    F32ConvertI64U(Un),
    /// `f32.demote_f64`
    F32DemoteF64(Un),
    /// `f64.convert_i32_s`
    F64ConvertI32S(Un),
    /// `f64.convert_i32_u`
    F64ConvertI32U(Un),
    /// `f64.convert_i64_s`
    F64ConvertI64S(Un),
    /// `f64.convert_i64_u`
    F64ConvertI64U(Un),
    /// `f64.promote_f32`
    F64PromoteF32(Un),
    /// `i32.extend8_s`
    I32Extend8S(Un),
    /// `i32.extend16_s`
    I32Extend16S(Un),
    /// `i64.extend8_s`
    I64Extend8S(Un),
    /// `i64.extend16_s`
    I64Extend16S(Un),
    /// `i64.extend32_s`
    I64Extend32S(Un),
    /// `i32.trunc_sat_f32_s`
    I32TruncSatF32S(Un),
    /// `i32.trunc_sat_f32_u`
    I32TruncSatF32U(Un),
    /// `i32.trunc_sat_f64_s`
    I32TruncSatF64S(Un),
    /// `i32.trunc_sat_f64_u`
    I32TruncSatF64U(Un),
    /// `i64.trunc_sat_f32_s`
    I64TruncSatF32S(Un),
    /// `i64.trunc_sat_f32_u`
    I64TruncSatF32U(Un),
    /// `i64.trunc_sat_f64_s`
    I64TruncSatF64S(Un),
    /// `i64.trunc_sat_f64_u`
    I64TruncSatF64U(Un),

    // ---- accumulator forms ---------------------------------------------
    // Each reads one operand from the value the op before it wrote (see
    // `docs/bytecode.md`, "The accumulator"); the translator picks them.
    #[acc(Copy.src)] CopyAcc(Un),
    #[acc(Load32.addr)] Load32Acc(Mem),
    #[acc(Load64.addr)] Load64Acc(Mem),
    #[acc(Load8S32.addr)] Load8S32Acc(Mem),
    #[acc(Load8S64.addr)] Load8S64Acc(Mem),
    #[acc(Load8U.addr)] Load8UAcc(Mem),
    #[acc(Load16S32.addr)] Load16S32Acc(Mem),
    #[acc(Load16S64.addr)] Load16S64Acc(Mem),
    #[acc(Load16U.addr)] Load16UAcc(Mem),
    #[acc(Load32S64.addr)] Load32S64Acc(Mem),
    #[acc(Store8.val)] Store8Acc(Mem),
    #[acc(Store16.val)] Store16Acc(Mem),
    #[acc(Store32.val)] Store32Acc(Mem),
    #[acc(Store64.val)] Store64Acc(Mem),
    #[acc(I32Eqz.src)] I32EqzAcc(Un),
    #[acc(I32Eq.rhs)] I32EqAcc(Bin),
    #[acc(I32Ne.rhs)] I32NeAcc(Bin),
    #[acc(I32LtS.rhs)] I32LtSAcc(Bin),
    #[acc(I32LtU.rhs)] I32LtUAcc(Bin),
    #[acc(I32GtS.rhs)] I32GtSAcc(Bin),
    #[acc(I32GtU.rhs)] I32GtUAcc(Bin),
    #[acc(I32LeS.rhs)] I32LeSAcc(Bin),
    #[acc(I32LeU.rhs)] I32LeUAcc(Bin),
    #[acc(I32GeS.rhs)] I32GeSAcc(Bin),
    #[acc(I32GeU.rhs)] I32GeUAcc(Bin),
    #[acc(I32Clz.src)] I32ClzAcc(Un),
    #[acc(I32Ctz.src)] I32CtzAcc(Un),
    #[acc(I32Popcnt.src)] I32PopcntAcc(Un),
    #[acc(I32Add.rhs)] I32AddAcc(Bin),
    #[acc(I32Sub.rhs)] I32SubAcc(Bin),
    #[acc(I32Mul.rhs)] I32MulAcc(Bin),
    #[acc(I32DivS.rhs)] I32DivSAcc(Bin),
    #[acc(I32DivU.rhs)] I32DivUAcc(Bin),
    #[acc(I32RemS.rhs)] I32RemSAcc(Bin),
    #[acc(I32RemU.rhs)] I32RemUAcc(Bin),
    #[acc(I32And.rhs)] I32AndAcc(Bin),
    #[acc(I32Or.rhs)] I32OrAcc(Bin),
    #[acc(I32Xor.rhs)] I32XorAcc(Bin),
    #[acc(I32Shl.rhs)] I32ShlAcc(Bin),
    #[acc(I32ShrS.rhs)] I32ShrSAcc(Bin),
    #[acc(I32ShrU.rhs)] I32ShrUAcc(Bin),
    #[acc(I32Rotl.rhs)] I32RotlAcc(Bin),
    #[acc(I32Rotr.rhs)] I32RotrAcc(Bin),
    #[acc(I32AddImm.lhs)] I32AddImmAcc(BinImm),
    #[acc(I32MulImm.lhs)] I32MulImmAcc(BinImm),
    #[acc(I32AndImm.lhs)] I32AndImmAcc(BinImm),
    #[acc(I32OrImm.lhs)] I32OrImmAcc(BinImm),
    #[acc(I32XorImm.lhs)] I32XorImmAcc(BinImm),
    #[acc(I32ShlImm.lhs)] I32ShlImmAcc(BinImm),
    #[acc(I32ShrSImm.lhs)] I32ShrSImmAcc(BinImm),
    #[acc(I32ShrUImm.lhs)] I32ShrUImmAcc(BinImm),
    #[acc(I32RotlImm.lhs)] I32RotlImmAcc(BinImm),
    #[acc(I32RotrImm.lhs)] I32RotrImmAcc(BinImm),
    #[acc(I32EqImm.lhs)] I32EqImmAcc(BinImm),
    #[acc(I32NeImm.lhs)] I32NeImmAcc(BinImm),
    #[acc(I32LtSImm.lhs)] I32LtSImmAcc(BinImm),
    #[acc(I32LtUImm.lhs)] I32LtUImmAcc(BinImm),
    #[acc(I32GtSImm.lhs)] I32GtSImmAcc(BinImm),
    #[acc(I32GtUImm.lhs)] I32GtUImmAcc(BinImm),
    #[acc(I32LeSImm.lhs)] I32LeSImmAcc(BinImm),
    #[acc(I32LeUImm.lhs)] I32LeUImmAcc(BinImm),
    #[acc(I32GeSImm.lhs)] I32GeSImmAcc(BinImm),
    #[acc(I32GeUImm.lhs)] I32GeUImmAcc(BinImm),
    #[acc(I64AddImm.lhs)] I64AddImmAcc(BinImm),
    #[acc(BrI32Eq.rhs)] BrI32EqAcc(BrCmp),
    #[acc(BrI32Ne.rhs)] BrI32NeAcc(BrCmp),
    #[acc(BrI32LtS.rhs)] BrI32LtSAcc(BrCmp),
    #[acc(BrI32LtU.rhs)] BrI32LtUAcc(BrCmp),
    #[acc(BrI32GtS.rhs)] BrI32GtSAcc(BrCmp),
    #[acc(BrI32GtU.rhs)] BrI32GtUAcc(BrCmp),
    #[acc(BrI32LeS.rhs)] BrI32LeSAcc(BrCmp),
    #[acc(BrI32LeU.rhs)] BrI32LeUAcc(BrCmp),
    #[acc(BrI32GeS.rhs)] BrI32GeSAcc(BrCmp),
    #[acc(BrI32GeU.rhs)] BrI32GeUAcc(BrCmp),
    #[acc(BrI32EqImm.lhs)] BrI32EqImmAcc(BrCmpImm),
    #[acc(BrI32NeImm.lhs)] BrI32NeImmAcc(BrCmpImm),
    #[acc(BrI32LtSImm.lhs)] BrI32LtSImmAcc(BrCmpImm),
    #[acc(BrI32LtUImm.lhs)] BrI32LtUImmAcc(BrCmpImm),
    #[acc(BrI32GtSImm.lhs)] BrI32GtSImmAcc(BrCmpImm),
    #[acc(BrI32GtUImm.lhs)] BrI32GtUImmAcc(BrCmpImm),
    #[acc(BrI32LeSImm.lhs)] BrI32LeSImmAcc(BrCmpImm),
    #[acc(BrI32LeUImm.lhs)] BrI32LeUImmAcc(BrCmpImm),
    #[acc(BrI32GeSImm.lhs)] BrI32GeSImmAcc(BrCmpImm),
    #[acc(BrI32GeUImm.lhs)] BrI32GeUImmAcc(BrCmpImm),
    #[acc(I64Eqz.src)] I64EqzAcc(Un),
    #[acc(I64Eq.rhs)] I64EqAcc(Bin),
    #[acc(I64Ne.rhs)] I64NeAcc(Bin),
    #[acc(I64LtS.rhs)] I64LtSAcc(Bin),
    #[acc(I64LtU.rhs)] I64LtUAcc(Bin),
    #[acc(I64GtS.rhs)] I64GtSAcc(Bin),
    #[acc(I64GtU.rhs)] I64GtUAcc(Bin),
    #[acc(I64LeS.rhs)] I64LeSAcc(Bin),
    #[acc(I64LeU.rhs)] I64LeUAcc(Bin),
    #[acc(I64GeS.rhs)] I64GeSAcc(Bin),
    #[acc(I64GeU.rhs)] I64GeUAcc(Bin),
    #[acc(I64Clz.src)] I64ClzAcc(Un),
    #[acc(I64Ctz.src)] I64CtzAcc(Un),
    #[acc(I64Popcnt.src)] I64PopcntAcc(Un),
    #[acc(I64Add.rhs)] I64AddAcc(Bin),
    #[acc(I64Sub.rhs)] I64SubAcc(Bin),
    #[acc(I64Mul.rhs)] I64MulAcc(Bin),
    #[acc(I64DivS.rhs)] I64DivSAcc(Bin),
    #[acc(I64DivU.rhs)] I64DivUAcc(Bin),
    #[acc(I64RemS.rhs)] I64RemSAcc(Bin),
    #[acc(I64RemU.rhs)] I64RemUAcc(Bin),
    #[acc(I64And.rhs)] I64AndAcc(Bin),
    #[acc(I64Or.rhs)] I64OrAcc(Bin),
    #[acc(I64Xor.rhs)] I64XorAcc(Bin),
    #[acc(I64Shl.rhs)] I64ShlAcc(Bin),
    #[acc(I64ShrS.rhs)] I64ShrSAcc(Bin),
    #[acc(I64ShrU.rhs)] I64ShrUAcc(Bin),
    #[acc(I64Rotl.rhs)] I64RotlAcc(Bin),
    #[acc(I64Rotr.rhs)] I64RotrAcc(Bin),
    #[acc(F32Eq.rhs)] F32EqAcc(Bin),
    #[acc(F32Ne.rhs)] F32NeAcc(Bin),
    #[acc(F32Lt.rhs)] F32LtAcc(Bin),
    #[acc(F32Gt.rhs)] F32GtAcc(Bin),
    #[acc(F32Le.rhs)] F32LeAcc(Bin),
    #[acc(F32Ge.rhs)] F32GeAcc(Bin),
    #[acc(F64Eq.rhs)] F64EqAcc(Bin),
    #[acc(F64Ne.rhs)] F64NeAcc(Bin),
    #[acc(F64Lt.rhs)] F64LtAcc(Bin),
    #[acc(F64Gt.rhs)] F64GtAcc(Bin),
    #[acc(F64Le.rhs)] F64LeAcc(Bin),
    #[acc(F64Ge.rhs)] F64GeAcc(Bin),
    #[acc(F32Abs.src)] F32AbsAcc(Un),
    #[acc(F32Neg.src)] F32NegAcc(Un),
    #[acc(F32Ceil.src)] F32CeilAcc(Un),
    #[acc(F32Floor.src)] F32FloorAcc(Un),
    #[acc(F32Trunc.src)] F32TruncAcc(Un),
    #[acc(F32Nearest.src)] F32NearestAcc(Un),
    #[acc(F32Sqrt.src)] F32SqrtAcc(Un),
    #[acc(F32Add.rhs)] F32AddAcc(Bin),
    #[acc(F32Sub.rhs)] F32SubAcc(Bin),
    #[acc(F32Mul.rhs)] F32MulAcc(Bin),
    #[acc(F32Div.rhs)] F32DivAcc(Bin),
    #[acc(F32Min.rhs)] F32MinAcc(Bin),
    #[acc(F32Max.rhs)] F32MaxAcc(Bin),
    #[acc(F32Copysign.rhs)] F32CopysignAcc(Bin),
    #[acc(F64Abs.src)] F64AbsAcc(Un),
    #[acc(F64Neg.src)] F64NegAcc(Un),
    #[acc(F64Ceil.src)] F64CeilAcc(Un),
    #[acc(F64Floor.src)] F64FloorAcc(Un),
    #[acc(F64Trunc.src)] F64TruncAcc(Un),
    #[acc(F64Nearest.src)] F64NearestAcc(Un),
    #[acc(F64Sqrt.src)] F64SqrtAcc(Un),
    #[acc(F64Add.rhs)] F64AddAcc(Bin),
    #[acc(F64Sub.rhs)] F64SubAcc(Bin),
    #[acc(F64Mul.rhs)] F64MulAcc(Bin),
    #[acc(F64Div.rhs)] F64DivAcc(Bin),
    #[acc(F64Min.rhs)] F64MinAcc(Bin),
    #[acc(F64Max.rhs)] F64MaxAcc(Bin),
    #[acc(F64Copysign.rhs)] F64CopysignAcc(Bin),
    #[acc(F32MulAdd.b)] F32MulAddAcc(MulAdd),
    #[acc(F64MulAdd.b)] F64MulAddAcc(MulAdd),
    #[acc(I32WrapI64.src)] I32WrapI64Acc(Un),
    #[acc(I32TruncF32S.src)] I32TruncF32SAcc(Un),
    #[acc(I32TruncF32U.src)] I32TruncF32UAcc(Un),
    #[acc(I32TruncF64S.src)] I32TruncF64SAcc(Un),
    #[acc(I32TruncF64U.src)] I32TruncF64UAcc(Un),
    #[acc(I64ExtendI32S.src)] I64ExtendI32SAcc(Un),
    #[acc(I64TruncF32S.src)] I64TruncF32SAcc(Un),
    #[acc(I64TruncF32U.src)] I64TruncF32UAcc(Un),
    #[acc(I64TruncF64S.src)] I64TruncF64SAcc(Un),
    #[acc(I64TruncF64U.src)] I64TruncF64UAcc(Un),
    #[acc(F32ConvertI32S.src)] F32ConvertI32SAcc(Un),
    #[acc(F32ConvertI32U.src)] F32ConvertI32UAcc(Un),
    #[acc(F32ConvertI64S.src)] F32ConvertI64SAcc(Un),
    #[acc(F32ConvertI64U.src)] F32ConvertI64UAcc(Un),
    #[acc(F32DemoteF64.src)] F32DemoteF64Acc(Un),
    #[acc(F64ConvertI32S.src)] F64ConvertI32SAcc(Un),
    #[acc(F64ConvertI32U.src)] F64ConvertI32UAcc(Un),
    #[acc(F64ConvertI64S.src)] F64ConvertI64SAcc(Un),
    #[acc(F64ConvertI64U.src)] F64ConvertI64UAcc(Un),
    #[acc(F64PromoteF32.src)] F64PromoteF32Acc(Un),
    #[acc(I32Extend8S.src)] I32Extend8SAcc(Un),
    #[acc(I32Extend16S.src)] I32Extend16SAcc(Un),
    #[acc(I64Extend8S.src)] I64Extend8SAcc(Un),
    #[acc(I64Extend16S.src)] I64Extend16SAcc(Un),
    #[acc(I64Extend32S.src)] I64Extend32SAcc(Un),
    #[acc(I32TruncSatF32S.src)] I32TruncSatF32SAcc(Un),
    #[acc(I32TruncSatF32U.src)] I32TruncSatF32UAcc(Un),
    #[acc(I32TruncSatF64S.src)] I32TruncSatF64SAcc(Un),
    #[acc(I32TruncSatF64U.src)] I32TruncSatF64UAcc(Un),
    #[acc(I64TruncSatF32S.src)] I64TruncSatF32SAcc(Un),
    #[acc(I64TruncSatF32U.src)] I64TruncSatF32UAcc(Un),
    #[acc(I64TruncSatF64S.src)] I64TruncSatF64SAcc(Un),
    #[acc(I64TruncSatF64U.src)] I64TruncSatF64UAcc(Un),

    /// [`Op::BrIfNez`] with `cond` taken from the accumulator.
    BrIfNezAcc {
        /// As in [`Op::BrIfNez`].
        cond: Slot,
        /// As in [`Op::BrIfNez`].
        fallthrough: i16,
        /// As in [`Op::BrIfNez`].
        offset: i32,
    },
    /// [`Op::BrIfEqz`] with `cond` taken from the accumulator.
    BrIfEqzAcc {
        /// As in [`Op::BrIfEqz`].
        cond: Slot,
        /// As in [`Op::BrIfEqz`].
        fallthrough: i16,
        /// As in [`Op::BrIfEqz`].
        offset: i32,
    },
    /// [`Op::BrTable`] with `index` taken from the accumulator.
    BrTableAcc {
        /// As in [`Op::BrTable`].
        index: Slot,
        /// As in [`Op::BrTable`].
        len: u32,
    },
    /// [`Op::Return1`] with `src` taken from the accumulator.
    Return1Acc {
        /// As in [`Op::Return1`].
        src: Slot,
    },
    /// [`Op::Load32AddImm`] with `addr` taken from the accumulator.
    Load32AddImmAcc {
        /// As in [`Op::Load32AddImm`].
        val: Slot,
        /// As in [`Op::Load32AddImm`].
        addr: Slot,
        /// As in [`Op::Load32AddImm`].
        imm: i32,
        /// As in [`Op::Load32AddImm`].
        offset: u32,
    },
    /// [`Op::Load64AddImm`] with `addr` taken from the accumulator.
    Load64AddImmAcc {
        /// As in [`Op::Load64AddImm`].
        val: Slot,
        /// As in [`Op::Load64AddImm`].
        addr: Slot,
        /// As in [`Op::Load64AddImm`].
        imm: i32,
        /// As in [`Op::Load64AddImm`].
        offset: u32,
    },
    /// [`Op::Load8UAddImm`] with `addr` taken from the accumulator.
    Load8UAddImmAcc {
        /// As in [`Op::Load8UAddImm`].
        val: Slot,
        /// As in [`Op::Load8UAddImm`].
        addr: Slot,
        /// As in [`Op::Load8UAddImm`].
        imm: i32,
        /// As in [`Op::Load8UAddImm`].
        offset: u32,
    },
    /// [`Op::Store8Imm`] with `addr` taken from the accumulator.
    Store8ImmAcc {
        /// As in [`Op::Store8Imm`].
        addr: Slot,
        /// As in [`Op::Store8Imm`].
        value: u32,
        /// As in [`Op::Store8Imm`].
        offset: u32,
    },
    /// [`Op::Store16Imm`] with `addr` taken from the accumulator.
    Store16ImmAcc {
        /// As in [`Op::Store16Imm`].
        addr: Slot,
        /// As in [`Op::Store16Imm`].
        value: u32,
        /// As in [`Op::Store16Imm`].
        offset: u32,
    },
    /// [`Op::Store32Imm`] with `addr` taken from the accumulator.
    Store32ImmAcc {
        /// As in [`Op::Store32Imm`].
        addr: Slot,
        /// As in [`Op::Store32Imm`].
        value: u32,
        /// As in [`Op::Store32Imm`].
        offset: u32,
    },
    /// [`Op::Store64Imm`] with `addr` taken from the accumulator.
    Store64ImmAcc {
        /// As in [`Op::Store64Imm`].
        addr: Slot,
        /// As in [`Op::Store64Imm`].
        value: i32,
        /// As in [`Op::Store64Imm`].
        offset: u32,
    },

    // ---- SIMD (every v128 operand is two slots; `simd` feature) ---------
    /// `[dst] = op([a])` for `v128 -> v128` ops.
    #[cfg(feature = "simd")]
    V128Unary {
        /// The operation.
        op: UnaryOp,
        /// Result slot.
        dst: Slot,
        /// Input slot.
        a: Slot,
    },
    /// `[dst] = op([a], [b])` for `v128 x v128 -> v128` ops.
    #[cfg(feature = "simd")]
    V128Binary {
        /// The operation.
        op: BinaryOp,
        /// Result slot.
        dst: Slot,
        /// Left input.
        a: Slot,
        /// Right input.
        b: Slot,
    },
    /// `[dst] = op([a], [b], [c])` (`v128.bitselect`).
    #[cfg(feature = "simd")]
    V128Ternary {
        /// The operation.
        op: TernaryOp,
        /// Result slot.
        dst: Slot,
        /// First input.
        a: Slot,
        /// Second input.
        b: Slot,
        /// Third input (the mask).
        c: Slot,
    },
    /// `[dst] = op([a], [b] as u32)` lane shifts.
    #[cfg(feature = "simd")]
    V128Shift {
        /// The operation.
        op: ShiftOp,
        /// Result slot.
        dst: Slot,
        /// Vector input.
        a: Slot,
        /// Shift amount slot (i32).
        b: Slot,
    },
    /// `[dst] = op([a])` for `v128 -> i32` reductions.
    #[cfg(feature = "simd")]
    V128Test {
        /// The operation.
        op: TestOp,
        /// Result slot (i32).
        dst: Slot,
        /// Vector input.
        a: Slot,
    },
    /// `[dst] = op([a])`: scalar broadcast.
    #[cfg(feature = "simd")]
    V128Splat {
        /// The operation.
        op: SplatOp,
        /// Result slot (v128).
        dst: Slot,
        /// Scalar input.
        a: Slot,
    },
    /// `[dst] = op([a], lane)`: lane read.
    #[cfg(feature = "simd")]
    V128Extract {
        /// The operation.
        op: ExtractOp,
        /// Lane index.
        lane: u8,
        /// Result slot (scalar).
        dst: Slot,
        /// Vector input.
        a: Slot,
    },
    /// `[dst] = op([a], lane, [b])`: lane write.
    #[cfg(feature = "simd")]
    V128Replace {
        /// The operation.
        op: ReplaceOp,
        /// Lane index.
        lane: u8,
        /// Result slot.
        dst: Slot,
        /// Vector input.
        a: Slot,
        /// Scalar input.
        b: Slot,
    },
    /// `i8x16.shuffle` with lane selectors `shuffles[idx]` of the function.
    #[cfg(feature = "simd")]
    V128Shuffle {
        /// Result slot.
        dst: Slot,
        /// First vector.
        a: Slot,
        /// Second vector.
        b: Slot,
        /// Index into the function's shuffle-mask table.
        idx: u32,
    },
    /// `v128.load*` producing a fresh vector.
    #[cfg(feature = "simd")]
    V128Load {
        /// Which load.
        kind: LoadKind,
        /// Result slot.
        dst: Slot,
        /// Address slot.
        addr: Slot,
        /// Static offset.
        offset: u32,
    },
    /// `v128.loadN_lane`: `[dst] = [src]` with lane replaced from memory.
    #[cfg(feature = "simd")]
    V128LoadLane {
        /// Lane width.
        width: LaneWidth,
        /// Lane index.
        lane: u8,
        /// Result slot.
        dst: Slot,
        /// Vector input.
        src: Slot,
        /// Address slot.
        addr: Slot,
        /// Static offset.
        offset: u32,
    },
    /// `v128.store`.
    #[cfg(feature = "simd")]
    V128Store {
        /// Address slot.
        addr: Slot,
        /// Vector slot.
        src: Slot,
        /// Static offset.
        offset: u32,
    },
    /// `v128.storeN_lane`.
    #[cfg(feature = "simd")]
    V128StoreLane {
        /// Lane width.
        width: LaneWidth,
        /// Lane index.
        lane: u8,
        /// Address slot.
        addr: Slot,
        /// Vector slot.
        src: Slot,
        /// Static offset.
        offset: u32,
    },
}
}
