//! Linear memory: loads, stores (scalar and SIMD), `memory.size`,
//! `memory.grow` and the bulk-memory operators.
//!
//! The effective address is `base + zext(addr) + offset`. Under
//! [`BoundsCheckStrategy::GuardPages`](kiln_environ::BoundsCheckStrategy)
//! an access the reservation and guard cover carries no check and the load
//! or store itself is the trap site (its `MemFlags` carry the heap trap
//! code, so its pc lands in the trap table). Otherwise the end of the
//! access is compared with the memory's current length first. Without
//! signals-based traps the strategy is always explicit and accesses carry
//! no trap code at all: nothing may fault.

use super::{Field, HeapField, Translator};
use crate::CompileError;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{Endianness, InstBuilder, MemFlagsData, Type, Value, types};
use kiln_environ::{BoundsCheckStrategy, Builtin, TrapCode};
use wasmparser::{MemArg, MemArgTarget, Operator};

/// The longest `memory.copy` done inline rather than by the builtin.
const INLINE_COPY_MAX: i64 = 64;

/// How a SIMD load fills the vector.
enum VecLoad {
    /// Load `lanes` narrow lanes of `ty` (8 bytes) and widen them.
    Extend { ty: Type, signed: bool },
    /// Load one lane and copy it to every lane.
    Splat(Type),
    /// Load one lane into lane 0, zero the rest.
    Zero(Type),
}

impl Translator<'_, '_> {
    /// Flags of a wasm heap access: little-endian whatever the target,
    /// possibly unaligned, trapping as out-of-bounds memory if it faults.
    /// Without signals-based traps every access was checked before, so it
    /// cannot fault and carries no trap code (which would put a site in
    /// the trap table).
    fn heap_flags(&self) -> MemFlagsData {
        let code = self
            .env
            .tunables
            .signals_based_traps
            .then_some(cranelift_codegen::ir::TrapCode::HEAP_OUT_OF_BOUNDS);
        MemFlagsData::new()
            .with_endianness(Endianness::Little)
            .with_trap_code(code)
            .with_alias_region(Some(self.regions.heap))
    }

    /// The address of memory `mem`'s `{ base, len }` record.
    fn memory_record(&mut self, mem: u32) -> Value {
        let off = self.env.offsets.vmctx_memory(mem);
        self.load_ptr(self.vmctx, off, Field::Const)
    }

    /// The current length in bytes of memory `mem`, whose record is at
    /// `record`.
    fn memory_len(&mut self, mem: u32, record: Value) -> Value {
        if let Some(len) = self.heap_cache.get(mem, HeapField::Len) {
            return len;
        }
        let len_off = self.env.offsets.memory_len();
        let len = self.load_ptr(record, len_off, Field::Record);
        self.remember(mem, HeapField::Len, len);
        len
    }

    /// Remembers a record field just loaded, where the cache is kept.
    fn remember(&mut self, mem: u32, field: HeapField, v: Value) {
        if !self.env.tunables.signals_based_traps {
            self.heap_cache.insert(mem, field, v);
        }
    }

    /// The base of memory `mem`, whose record is at `record`.
    fn memory_base(&mut self, mem: u32, record: Value) -> Value {
        if let Some(base) = self.heap_cache.get(mem, HeapField::Base) {
            return base;
        }
        let base_off = self.env.offsets.memory_base();
        // Under guard pages a 32-bit memory never moves (its reservation
        // covers every 32-bit length), so its base is as constant as the
        // record pointer and is loaded once per function; so is a
        // memory64's whose maximum fits the reservation. Otherwise growth
        // (a call) may move the memory.
        let ty = &self.env.module.memories[mem as usize];
        let never_moves = !ty.memory64
            || ty.maximum.is_some_and(|max| {
                max.saturating_mul(ty.page_size()) <= self.env.tunables.memory_reservation
            });
        let base_field = match self.env.tunables.effective_bounds_checks() {
            BoundsCheckStrategy::GuardPages if never_moves => Field::Const,
            _ => Field::Record,
        };
        let base = self.load_ptr(record, base_off, base_field);
        self.remember(mem, HeapField::Base, base);
        base
    }

    /// `memory.copy`, its addresses and length already `i64`. Copies of at
    /// most [`INLINE_COPY_MAX`] bytes (most of the `memcpy`s compilers
    /// emit for small structs and slices) are done inline: the builtin's
    /// fixed cost (trampoline, store lookup, unwind guard) is several times
    /// that of the copy. Longer ones, and every copy on 32-bit targets,
    /// call the builtin.
    fn memory_copy(&mut self, dst_mem: u32, src_mem: u32, dst: Value, src: Value, len: Value) {
        use types::{I8, I16, I32, I64};
        if self.env.pointer_type != I64 {
            let d = self.builder.ins().iconst(I32, i64::from(dst_mem));
            let s = self.builder.ins().iconst(I32, i64::from(src_mem));
            self.call_builtin(Builtin::MemoryCopy, &[d, s, dst, src, len]);
            return;
        }
        let small = self.builder.create_block();
        let big = self.builder.create_block();
        let done = self.builder.create_block();
        let is_big =
            self.builder
                .ins()
                .icmp_imm_u(IntCC::UnsignedGreaterThan, len, INLINE_COPY_MAX);
        self.builder.ins().brif(is_big, big, &[], small, &[]);
        self.builder.seal_block(small);
        self.builder.seal_block(big);

        self.switch_to(big);
        let d = self.builder.ins().iconst(I32, i64::from(dst_mem));
        let s = self.builder.ins().iconst(I32, i64::from(src_mem));
        self.call_builtin(Builtin::MemoryCopy, &[d, s, dst, src, len]);
        self.builder.ins().jump(done, &[]);

        // Both ranges are checked before anything is written, as the spec
        // asks (a fault on a guard page halfway would leave a partial
        // copy). `len` is at most INLINE_COPY_MAX here, so `addr + len`
        // overflows only for a memory64 address near 2^64, which is out of
        // bounds anyway: the check traps on the overflow too.
        self.switch_to(small);
        let ends = [(src_mem, src), (dst_mem, dst)].map(|(mem, addr)| {
            let record = self.memory_record(mem);
            let mem_len = self.memory_len(mem, record);
            let end = if self.env.module.memories[mem as usize].memory64 {
                self.uadd_or_trap(addr, len, TrapCode::MemoryOutOfBounds)
            } else {
                self.builder.ins().iadd(addr, len)
            };
            let oob = self
                .builder
                .ins()
                .icmp(IntCC::UnsignedGreaterThan, end, mem_len);
            self.trap_if(oob, TrapCode::MemoryOutOfBounds);
            let base = self.memory_base(mem, record);
            let start = self.builder.ins().iadd(base, addr);
            let end = self.builder.ins().iadd(start, len);
            (start, end)
        });
        let [(src_start, src_end), (dst_start, dst_end)] = ends;

        // Size classes, largest first: `count` chunks of `ty` from the
        // start and `count` ending at the end cover any length from
        // `min` to twice the head. Every chunk is loaded before the first
        // store, so overlapping ranges copy as `memmove` does.
        let classes: [(i64, Type, i32); 6] = [
            (32, I64, 4),
            (16, I64, 2),
            (8, I64, 1),
            (4, I32, 1),
            (2, I16, 1),
            (1, I8, 1),
        ];
        let flags = self.heap_flags();
        for (min, ty, count) in classes {
            let this = self.builder.create_block();
            let next = self.builder.create_block();
            let fits = self
                .builder
                .ins()
                .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, len, min);
            self.builder.ins().brif(fits, this, &[], next, &[]);
            self.builder.seal_block(this);
            self.builder.seal_block(next);
            self.switch_to(this);
            let size = ty.bytes() as i32;
            let mut chunks = Vec::with_capacity(2 * count as usize);
            for i in 0..count {
                chunks.push((false, i * size));
                chunks.push((true, -(count - i) * size));
            }
            let values: Vec<Value> = chunks
                .iter()
                .map(|&(from_end, off)| {
                    let at = if from_end { src_end } else { src_start };
                    self.builder.ins().load(ty, flags, at, off)
                })
                .collect();
            for (&(from_end, off), v) in chunks.iter().zip(values) {
                let at = if from_end { dst_end } else { dst_start };
                self.builder.ins().store(flags, v, at, off);
            }
            self.builder.ins().jump(done, &[]);
            self.switch_to(next);
        }
        // Zero bytes: only the bounds checks.
        self.builder.ins().jump(done, &[]);
        self.builder.seal_block(done);
        self.switch_to(done);
    }

    /// Traps with `code` unconditionally, but as a conditional trap, so
    /// that translation goes on in the same block (an access whose static
    /// offset alone is out of bounds still has to produce a value).
    fn trap_always(&mut self, code: TrapCode) {
        let one = self.builder.ins().iconst(types::I32, 1);
        self.trap_if(one, code);
    }

    /// Whether memory `memory`'s inaccessible bytes start right at its
    /// length, as guard-page checks assume. Not for one-byte pages
    /// (custom-page-sizes): the length need not be a multiple of the host
    /// page, and the rest of the last host page is accessible, so every
    /// access to such a memory is checked explicitly.
    fn guard_applies(&self, memory: u32) -> bool {
        self.env.module.memories[memory as usize].page_size_log2 >= 16
    }

    /// Whether `index`, an `i64` address, is known to be below 2^32: a
    /// zero-extended `i32` (`i64.extend_i32_u`, the usual way compilers
    /// index a memory64 with a 32-bit value) or a small constant. Such an
    /// access is bounded like a 32-bit one.
    fn fits_u32(&self, index: Value) -> bool {
        use cranelift_codegen::ir::{InstructionData, Opcode, ValueDef};
        let dfg = &self.builder.func.dfg;
        let ValueDef::Result(inst, _) = dfg.value_def(index) else {
            return false;
        };
        match dfg.insts[inst] {
            InstructionData::Unary {
                opcode: Opcode::Uextend,
                arg,
            } => dfg.value_type(arg).bits() <= 32,
            InstructionData::UnaryImm {
                opcode: Opcode::Iconst,
                imm,
            } => u64::try_from(imm.bits()).is_ok_and(|v| v <= u64::from(u32::MAX)),
            _ => false,
        }
    }

    /// Computes the native address of an access of `size` bytes at wasm
    /// address `index` plus `memarg.offset`, with the bounds check the
    /// strategy needs. Returns the address and a static offset to fold into
    /// the access instruction.
    fn heap_address(&mut self, memarg: &MemArg, index: Value, size: u32) -> (Value, i32) {
        let ptr = self.env.pointer_type;
        let memory = match memarg.target {
            MemArgTarget::Memory(m) => m,
            // GC array accesses are not part of the accepted feature set.
            MemArgTarget::Array(_) => 0,
        };
        let record = self.memory_record(memory);
        let base = self.memory_base(memory, record);
        let offset = memarg.offset;
        let access_end = offset.checked_add(u64::from(size));
        let mut index = index;
        let memory64 = self.env.module.memories[memory as usize].memory64;
        // A memory64 address known to fit 32 bits is bounded as a 32-bit
        // one (the guard region covers it); on a 32-bit host any memory64
        // address must: a memory there cannot reach 4 GiB.
        let mut wide = memory64;
        if memory64 && ptr == types::I32 {
            let high = self.builder.ins().ushr_imm_u(index, 32);
            self.trap_if(high, TrapCode::MemoryOutOfBounds);
            index = self.builder.ins().ireduce(types::I32, index);
            wide = false;
        } else if memory64 && self.fits_u32(index) {
            wide = false;
        }
        let ext = if ptr == types::I64 && self.builder.func.dfg.value_type(index) == types::I32 {
            self.builder.ins().uextend(types::I64, index)
        } else {
            index
        };
        if wide {
            self.check_wide_access(memory, record, ext, access_end);
        } else if !(self.guard_applies(memory)
            && self
                .env
                .tunables
                .access_is_covered_by_guard(offset, u64::from(size)))
        {
            let len = self.memory_len(memory, record);
            let end = match access_end {
                // zext(addr) < 2^32 and offset + size < 2^65: the sum fits
                // 64 bits unless the access end itself does not.
                Some(end_const) if ptr == types::I64 => {
                    let c = self.builder.ins().iconst(types::I64, end_const as i64);
                    if end_const < 1 << 63 {
                        self.builder.ins().iadd(ext, c)
                    } else {
                        self.uadd_or_trap(ext, c, TrapCode::MemoryOutOfBounds)
                    }
                }
                Some(end_const) if end_const <= u64::from(u32::MAX) => {
                    let c = self.builder.ins().iconst(types::I32, end_const as i64);
                    self.uadd_or_trap(ext, c, TrapCode::MemoryOutOfBounds)
                }
                // Cannot fit the address space: always out of bounds.
                _ => {
                    self.trap_always(TrapCode::MemoryOutOfBounds);
                    ext
                }
            };
            let oob = self
                .builder
                .ins()
                .icmp(IntCC::UnsignedGreaterThan, end, len);
            self.trap_if(oob, TrapCode::MemoryOutOfBounds);
        }
        let addr = self.builder.ins().iadd(base, ext);
        match i32::try_from(offset) {
            Ok(o) => (addr, o),
            Err(_) => {
                let a = self.builder.ins().iadd_imm_u(addr, offset as i64);
                (a, 0)
            }
        }
    }

    /// Bounds-checks an access to memory64 `memory` at the full 64-bit
    /// address `index` (on a 64-bit host) ending `access_end` bytes past
    /// it, with the cheapest check that holds:
    /// - guard pages, and an access end within the guard: `index < len`
    ///   suffices, since everything from `len` to the end of the guard
    ///   faults;
    /// - an access end within the memory's minimum size: `index <= len -
    ///   end`, which cannot wrap;
    /// - otherwise `index + end <= len`, trapping if the sum overflows.
    fn check_wide_access(
        &mut self,
        memory: u32,
        record: Value,
        index: Value,
        access_end: Option<u64>,
    ) {
        let Some(end) = access_end else {
            self.trap_always(TrapCode::MemoryOutOfBounds);
            return;
        };
        let len = self.memory_len(memory, record);
        let tunables = &self.env.tunables;
        let guarded = tunables.effective_bounds_checks() == BoundsCheckStrategy::GuardPages
            && end <= tunables.memory_guard_size
            && self.guard_applies(memory);
        let ty = &self.env.module.memories[memory as usize];
        let min_bytes = ty.minimum.saturating_mul(ty.page_size());
        let oob = if guarded {
            self.builder
                .ins()
                .icmp(IntCC::UnsignedGreaterThanOrEqual, index, len)
        } else if end <= min_bytes {
            let bound = self.builder.ins().iadd_imm_s(len, -(end as i64));
            self.builder
                .ins()
                .icmp(IntCC::UnsignedGreaterThan, index, bound)
        } else {
            let c = self.builder.ins().iconst(types::I64, end as i64);
            let sum = self.uadd_or_trap(index, c, TrapCode::MemoryOutOfBounds);
            self.builder
                .ins()
                .icmp(IntCC::UnsignedGreaterThan, sum, len)
        };
        self.trap_if(oob, TrapCode::MemoryOutOfBounds);
    }

    /// The value type of memory `mem`'s addresses.
    fn memory_index_type(&self, mem: u32) -> Type {
        if self.env.module.memories[mem as usize].memory64 {
            types::I64
        } else {
            types::I32
        }
    }

    fn load(
        &mut self,
        memarg: &MemArg,
        size: u32,
        f: impl FnOnce(&mut Self, MemFlagsData, Value, i32) -> Value,
    ) {
        let index = self.pop();
        let (addr, off) = self.heap_address(memarg, index, size);
        let flags = self.heap_flags();
        let v = f(self, flags, addr, off);
        self.push(v);
    }

    fn store(
        &mut self,
        memarg: &MemArg,
        size: u32,
        f: impl FnOnce(&mut Self, MemFlagsData, Value, Value, i32),
    ) {
        let value = self.pop();
        let index = self.pop();
        let (addr, off) = self.heap_address(memarg, index, size);
        let flags = self.heap_flags();
        f(self, flags, value, addr, off);
    }

    fn plain_load(&mut self, memarg: &MemArg, ty: Type) {
        self.load(memarg, ty.bytes(), |t, fl, a, o| {
            t.builder.ins().load(ty, fl, a, o)
        });
    }

    /// Reinterprets a `v128` (`I8X16`) as `ty` lanes, in wasm lane order.
    pub fn vec_as(&mut self, v: Value, ty: Type) -> Value {
        if ty == types::I8X16 {
            return v;
        }
        let le = MemFlagsData::new().with_endianness(Endianness::Little);
        self.builder.ins().bitcast(ty, le, v)
    }

    fn vec_load(&mut self, memarg: &MemArg, kind: VecLoad) {
        let index = self.pop();
        let size = match kind {
            VecLoad::Extend { .. } => 8,
            VecLoad::Splat(ty) | VecLoad::Zero(ty) => ty.bytes(),
        };
        let (addr, off) = self.heap_address(memarg, index, size);
        let flags = self.heap_flags();
        let v = match kind {
            VecLoad::Extend { ty, signed } => {
                let raw = self.builder.ins().load(types::I64, flags, addr, off);
                let v2 = self.builder.ins().scalar_to_vector(types::I64X2, raw);
                let narrow = self.vec_as_from(v2, types::I64X2, ty);
                if signed {
                    self.builder.ins().swiden_low(narrow)
                } else {
                    self.builder.ins().uwiden_low(narrow)
                }
            }
            VecLoad::Splat(ty) => {
                let s = self.builder.ins().load(ty, flags, addr, off);
                let vty = ty.by(128 / ty.bits()).expect("lane count");
                self.builder.ins().splat(vty, s)
            }
            VecLoad::Zero(ty) => {
                let s = self.builder.ins().load(ty, flags, addr, off);
                let vty = ty.by(128 / ty.bits()).expect("lane count");
                self.builder.ins().scalar_to_vector(vty, s)
            }
        };
        let ty = self.builder.func.dfg.value_type(v);
        let le = MemFlagsData::new().with_endianness(Endianness::Little);
        let out = if ty == types::I8X16 {
            v
        } else {
            self.builder.ins().bitcast(types::I8X16, le, v)
        };
        self.push(out);
    }

    /// Bitcasts a vector of type `from` to `to`, in wasm lane order.
    fn vec_as_from(&mut self, v: Value, from: Type, to: Type) -> Value {
        if from == to {
            return v;
        }
        let le = MemFlagsData::new().with_endianness(Endianness::Little);
        self.builder.ins().bitcast(to, le, v)
    }

    fn load_lane(&mut self, memarg: &MemArg, lane: u8, ty: Type) {
        let vec = self.pop();
        let index = self.pop();
        let (addr, off) = self.heap_address(memarg, index, ty.bytes());
        let flags = self.heap_flags();
        let s = self.builder.ins().load(ty, flags, addr, off);
        let vty = ty.by(128 / ty.bits()).expect("lane count");
        let lanes = self.vec_as(vec, vty);
        let updated = self.builder.ins().insertlane(lanes, s, lane);
        let out = self.vec_as_from(updated, vty, types::I8X16);
        self.push(out);
    }

    fn store_lane(&mut self, memarg: &MemArg, lane: u8, ty: Type) {
        let vec = self.pop();
        let index = self.pop();
        let (addr, off) = self.heap_address(memarg, index, ty.bytes());
        let flags = self.heap_flags();
        let vty = ty.by(128 / ty.bits()).expect("lane count");
        let lanes = self.vec_as(vec, vty);
        let s = self.builder.ins().extractlane(lanes, lane);
        self.builder.ins().store(flags, s, addr, off);
    }

    /// Handles the memory operators; `Ok(false)` if `op` is not one.
    pub(super) fn translate_memory_op(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        use Operator as O;
        use types::{F32, F64, I8, I16, I32, I64};
        match op {
            O::I32Load { memarg } => self.plain_load(memarg, I32),
            O::I64Load { memarg } => self.plain_load(memarg, I64),
            O::F32Load { memarg } => self.plain_load(memarg, F32),
            O::F64Load { memarg } => self.plain_load(memarg, F64),
            O::V128Load { memarg } => self.plain_load(memarg, types::I8X16),
            O::I32Load8S { memarg } => {
                self.load(memarg, 1, |t, f, a, o| t.builder.ins().sload8(I32, f, a, o))
            }
            O::I32Load8U { memarg } => {
                self.load(memarg, 1, |t, f, a, o| t.builder.ins().uload8(I32, f, a, o))
            }
            O::I32Load16S { memarg } => self.load(memarg, 2, |t, f, a, o| {
                t.builder.ins().sload16(I32, f, a, o)
            }),
            O::I32Load16U { memarg } => self.load(memarg, 2, |t, f, a, o| {
                t.builder.ins().uload16(I32, f, a, o)
            }),
            O::I64Load8S { memarg } => {
                self.load(memarg, 1, |t, f, a, o| t.builder.ins().sload8(I64, f, a, o))
            }
            O::I64Load8U { memarg } => {
                self.load(memarg, 1, |t, f, a, o| t.builder.ins().uload8(I64, f, a, o))
            }
            O::I64Load16S { memarg } => self.load(memarg, 2, |t, f, a, o| {
                t.builder.ins().sload16(I64, f, a, o)
            }),
            O::I64Load16U { memarg } => self.load(memarg, 2, |t, f, a, o| {
                t.builder.ins().uload16(I64, f, a, o)
            }),
            O::I64Load32S { memarg } => {
                self.load(memarg, 4, |t, f, a, o| t.builder.ins().sload32(f, a, o))
            }
            O::I64Load32U { memarg } => {
                self.load(memarg, 4, |t, f, a, o| t.builder.ins().uload32(f, a, o))
            }
            O::I32Store { memarg } | O::F32Store { memarg } => {
                self.store(memarg, 4, |t, f, v, a, o| {
                    t.builder.ins().store(f, v, a, o);
                })
            }
            O::I64Store { memarg } | O::F64Store { memarg } => {
                self.store(memarg, 8, |t, f, v, a, o| {
                    t.builder.ins().store(f, v, a, o);
                })
            }
            O::V128Store { memarg } => self.store(memarg, 16, |t, f, v, a, o| {
                t.builder.ins().store(f, v, a, o);
            }),
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => {
                self.store(memarg, 1, |t, f, v, a, o| {
                    t.builder.ins().istore8(f, v, a, o);
                })
            }
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => {
                self.store(memarg, 2, |t, f, v, a, o| {
                    t.builder.ins().istore16(f, v, a, o);
                })
            }
            O::I64Store32 { memarg } => self.store(memarg, 4, |t, f, v, a, o| {
                t.builder.ins().istore32(f, v, a, o);
            }),
            O::V128Load8x8S { memarg } => self.vec_load(
                memarg,
                VecLoad::Extend {
                    ty: types::I8X16,
                    signed: true,
                },
            ),
            O::V128Load8x8U { memarg } => self.vec_load(
                memarg,
                VecLoad::Extend {
                    ty: types::I8X16,
                    signed: false,
                },
            ),
            O::V128Load16x4S { memarg } => self.vec_load(
                memarg,
                VecLoad::Extend {
                    ty: types::I16X8,
                    signed: true,
                },
            ),
            O::V128Load16x4U { memarg } => self.vec_load(
                memarg,
                VecLoad::Extend {
                    ty: types::I16X8,
                    signed: false,
                },
            ),
            O::V128Load32x2S { memarg } => self.vec_load(
                memarg,
                VecLoad::Extend {
                    ty: types::I32X4,
                    signed: true,
                },
            ),
            O::V128Load32x2U { memarg } => self.vec_load(
                memarg,
                VecLoad::Extend {
                    ty: types::I32X4,
                    signed: false,
                },
            ),
            O::V128Load8Splat { memarg } => self.vec_load(memarg, VecLoad::Splat(I8)),
            O::V128Load16Splat { memarg } => self.vec_load(memarg, VecLoad::Splat(I16)),
            O::V128Load32Splat { memarg } => self.vec_load(memarg, VecLoad::Splat(I32)),
            O::V128Load64Splat { memarg } => self.vec_load(memarg, VecLoad::Splat(I64)),
            O::V128Load32Zero { memarg } => self.vec_load(memarg, VecLoad::Zero(I32)),
            O::V128Load64Zero { memarg } => self.vec_load(memarg, VecLoad::Zero(I64)),
            O::V128Load8Lane { memarg, lane } => self.load_lane(memarg, *lane, I8),
            O::V128Load16Lane { memarg, lane } => self.load_lane(memarg, *lane, I16),
            O::V128Load32Lane { memarg, lane } => self.load_lane(memarg, *lane, I32),
            O::V128Load64Lane { memarg, lane } => self.load_lane(memarg, *lane, I64),
            O::V128Store8Lane { memarg, lane } => self.store_lane(memarg, *lane, I8),
            O::V128Store16Lane { memarg, lane } => self.store_lane(memarg, *lane, I16),
            O::V128Store32Lane { memarg, lane } => self.store_lane(memarg, *lane, I32),
            O::V128Store64Lane { memarg, lane } => self.store_lane(memarg, *lane, I64),
            O::MemorySize { mem } => {
                let record = self.memory_record(*mem);
                let len_off = self.env.offsets.memory_len();
                let len = self.load_ptr(record, len_off, Field::Record);
                let log2 = self.env.module.memories[*mem as usize].page_size_log2;
                let pages = self.builder.ins().ushr_imm_u(len, i64::from(log2));
                let v = self.int_as(pages, self.memory_index_type(*mem));
                self.push(v);
            }
            O::MemoryGrow { mem } => {
                let delta = self.pop();
                self.fuel_flush();
                let m = self.builder.ins().iconst(I32, i64::from(*mem));
                let delta = self.int_as(delta, types::I64);
                let old = self
                    .call_builtin(Builtin::MemoryGrow, &[m, delta])
                    .expect("result");
                let v = self.int_as(old, self.memory_index_type(*mem));
                self.push(v);
            }
            O::MemoryFill { mem } => {
                let (dst, val, len) = self.pop3();
                self.fuel_flush();
                let m = self.builder.ins().iconst(I32, i64::from(*mem));
                let (dst, len) = (self.int_as(dst, types::I64), self.int_as(len, types::I64));
                self.call_builtin(Builtin::MemoryFill, &[m, dst, val, len]);
            }
            O::MemoryCopy { dst_mem, src_mem } => {
                let (dst, src, len) = self.pop3();
                self.fuel_flush();
                let [dst, src, len] = [dst, src, len].map(|v| self.int_as(v, types::I64));
                self.memory_copy(*dst_mem, *src_mem, dst, src, len);
            }
            O::MemoryInit { data_index, mem } => {
                let (dst, src, len) = self.pop3();
                self.fuel_flush();
                let m = self.builder.ins().iconst(I32, i64::from(*mem));
                let d = self.builder.ins().iconst(I32, i64::from(*data_index));
                let dst = self.int_as(dst, types::I64);
                self.call_builtin(Builtin::MemoryInit, &[m, d, dst, src, len]);
            }
            O::DataDrop { data_index } => {
                self.fuel_flush();
                let d = self.builder.ins().iconst(I32, i64::from(*data_index));
                self.call_builtin(Builtin::DataDrop, &[d]);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
