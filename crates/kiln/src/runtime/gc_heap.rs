//! A store's GC heap: where struct and array objects live, at the byte
//! offsets `kiln_environ::gc_layout` describes, and the copying
//! collector that frees them.
//!
//! Allocation bumps a pointer through one region (the *space*). When the
//! space's budget is used up, a collection copies every object reachable
//! from the roots the store names into a second space (Cheney's
//! breadth-first copy: the copied objects are themselves the scan queue),
//! and the spaces swap. Its cost follows the live data, never the
//! garbage: the workload of GC languages, which allocate short-lived
//! objects in loops. Objects are named by offsets from the space's start,
//! so a reference is the same bits wherever the space is mapped; a
//! collection rewrites every root and field to the survivors' new
//! offsets. The budget after a collection is a multiple of what survived
//! (at least [`MIN_BUDGET`]), so the work per allocated byte is bounded,
//! and the heap never exceeds
//! [`Config::max_gc_heap_size`](crate::Config::max_gc_heap_size):
//! running past it traps with `GcHeapOutOfMemory`. Nothing is allocated
//! until the first object, so a store whose modules allocate nothing pays
//! for a null pointer. `docs/gc.md` has the design and what comes next.

use crate::prelude::*;
use kiln_environ::TrapCode;
use kiln_environ::gc_layout::{
    self, ARRAY_LEN_OFFSET, FieldKind, HEADER_SIZE, KIND_ARRAY, KIND_MASK, KIND_STRUCT,
    OBJECT_ALIGN, StructLayout, is_host_value, is_object,
};
use kiln_environ::vm::VmGcHeap;
use kiln_environ::{CompositeType, SubType};

/// The smallest allocation budget between collections (bytes): small
/// enough to stay in the cache when little survives, big enough that
/// the fixed cost of a collection (walking the roots) is amortised.
pub(crate) const MIN_BUDGET: u32 = 16 << 20;

/// How many times the surviving bytes the next budget is.
const BUDGET_FACTOR: u32 = 3;

/// Set in a copied object's old header word 1; word 0 then holds the
/// object's new offset.
const FORWARDED: u32 = 1 << 2;

/// What a collection hands its roots to: called on each root, which it
/// rewrites.
pub(crate) type VisitRoot<'a> = &'a mut dyn FnMut(&mut u32);

/// What the collector needs to know about a type to copy and scan its
/// objects.
#[derive(Clone, Debug)]
pub(crate) enum TypeTrace {
    /// A struct: its size and the offsets of its traced reference fields.
    Struct { size: u32, refs: Box<[u32]> },
    /// An array: its element kind, and whether elements are traced
    /// references.
    Array { kind: FieldKind, refs: bool },
}

impl TypeTrace {
    /// The trace of a registered struct or array type (`None` for a
    /// function type, which has no objects).
    pub(crate) fn of(ty: &SubType) -> Option<TypeTrace> {
        match &ty.composite {
            CompositeType::Func(_) => None,
            CompositeType::Struct(s) => {
                let layout = StructLayout::of(s);
                let refs = s
                    .fields
                    .iter()
                    .zip(&layout.fields)
                    .filter(|(f, _)| f.storage.is_traced())
                    .map(|(_, &(offset, _))| offset)
                    .collect();
                Some(TypeTrace::Struct {
                    size: layout.size,
                    refs,
                })
            }
            CompositeType::Array(a) => Some(TypeTrace::Array {
                kind: gc_layout::array_elem_kind(a),
                refs: a.element.storage.is_traced(),
            }),
        }
    }
}

/// What a store's collector has done ([`Store::gc_stats`](crate::Store::gc_stats)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GcStats {
    /// Collections so far.
    pub collections: u64,
    /// Bytes that survived the last collection.
    pub live_bytes: u64,
    /// Bytes allocated over the store's life.
    pub allocated_bytes: u64,
    /// The longest collection, in nanoseconds (0 without `std`, which has
    /// the clock).
    pub longest_pause_ns: u64,
    /// The median collection of the last [`PAUSE_WINDOW`] ones, in
    /// nanoseconds (0 without `std`).
    pub median_pause_ns: u64,
}

/// How many recent pauses [`GcStats::median_pause_ns`] is the median of.
pub const PAUSE_WINDOW: usize = 1024;

/// The heap's storage and its record.
pub(crate) struct GcHeap {
    /// The space objects are allocated in, in 8-byte words so every
    /// object is 8-aligned.
    words: Vec<u64>,
    /// The other space: where the next collection copies to.
    spare: Vec<u64>,
    /// Where the current space's objects ended after the last collection
    /// (the allocation pointer itself is the record's `top`).
    survivors_end: u32,
    /// Allocation past this offset collects first (when allowed).
    budget: u32,
    /// The most bytes the heap may hold.
    limit: u32,
    /// The trace of each registry type id allocated so far.
    traces: Vec<Option<TypeTrace>>,
    /// Where type ids' traces come from.
    engine: crate::Engine,
    /// Collect at every allocation that may collect (a test mode that
    /// finds missing roots).
    pub(crate) stress: bool,
    /// Check every reference after each collection.
    pub(crate) verify: bool,
    pub(crate) stats: GcStats,
    /// The last [`PAUSE_WINDOW`] pauses (nanoseconds), a ring.
    pauses: Vec<u64>,
    /// The record code reads `base` from; at a stable address.
    vm: Box<VmGcHeap>,
}

impl GcHeap {
    /// An empty heap that may grow to `limit` bytes (at most 4 GiB less
    /// one object alignment: offsets are 32-bit).
    pub(crate) fn new(engine: &crate::Engine) -> GcHeap {
        let config = engine.config();
        GcHeap::with_limit(engine, config.max_gc_heap_size, config.gc_stress)
    }

    /// A heap of `limit` bytes at most, collecting at every chance when
    /// `stress`.
    fn with_limit(engine: &crate::Engine, limit: u64, stress: bool) -> GcHeap {
        GcHeap {
            engine: engine.clone(),
            words: Vec::new(),
            spare: Vec::new(),
            survivors_end: OBJECT_ALIGN,
            budget: MIN_BUDGET,
            limit: u32::try_from(limit).unwrap_or(u32::MAX - OBJECT_ALIGN),
            traces: Vec::new(),
            stress,
            verify: stress || cfg!(debug_assertions),
            stats: GcStats::default(),
            pauses: Vec::new(),
            vm: Box::new(VmGcHeap {
                base: core::ptr::NonNull::<u64>::dangling().as_ptr().cast(),
                len: 0,
                top: OBJECT_ALIGN,
                end: 0,
            }),
        }
    }

    /// The record compiled code reads (through a shared borrow: the
    /// record itself is written only by this heap).
    pub(crate) fn vm_ptr_const(&self) -> *const VmGcHeap {
        &*self.vm
    }

    /// The record instances point at.
    pub(crate) fn vm_ptr(&mut self) -> *mut VmGcHeap {
        &mut *self.vm
    }

    /// Whether an allocation of `size` bytes should collect first.
    pub(crate) fn wants_collection(&self, size: u32) -> bool {
        self.stress || self.top().saturating_add(size) > self.budget.min(self.limit)
    }

    /// Offset of the first free byte.
    fn top(&self) -> u32 {
        self.vm.top
    }

    /// What the collector has done so far.
    pub(crate) fn stats(&self) -> GcStats {
        let mut pauses = self.pauses.clone();
        pauses.sort_unstable();
        GcStats {
            allocated_bytes: self.stats.allocated_bytes
                + u64::from(self.top() - self.survivors_end),
            median_pause_ns: pauses.get(pauses.len() / 2).copied().unwrap_or(0),
            ..self.stats
        }
    }

    /// Records a collection's duration (with `std`, which has the clock).
    #[cfg(feature = "std")]
    pub(crate) fn record_pause(&mut self, ns: u64) {
        self.stats.longest_pause_ns = self.stats.longest_pause_ns.max(ns);
        if self.pauses.len() < PAUSE_WINDOW {
            self.pauses.push(ns);
        } else {
            self.pauses[(self.stats.collections as usize) % PAUSE_WINDOW] = ns;
        }
    }

    /// Allocates a zeroed object of `size` bytes (a multiple of
    /// [`OBJECT_ALIGN`], header included) of registry type `type_id` and
    /// kind `kind` (`KIND_STRUCT` or `KIND_ARRAY`); returns its offset.
    /// Never collects: the caller collects first when
    /// [`wants_collection`](Self::wants_collection) says so and it can
    /// name every root.
    pub(crate) fn alloc(&mut self, type_id: u32, kind: u32, size: u32) -> Result<u32, TrapCode> {
        debug_assert!(size >= HEADER_SIZE && size.is_multiple_of(OBJECT_ALIGN));
        let at = self.top();
        let end = at
            .checked_add(size)
            .filter(|&end| end <= self.limit)
            .ok_or(TrapCode::GcHeapOutOfMemory)?;
        let words = end.div_ceil(8) as usize;
        if words > self.words.len() {
            self.grow(words);
        }
        self.know_type(type_id);
        self.vm.top = end;
        // A space is reused after a collection: clear what it held.
        self.words[at as usize / 8..words].fill(0);
        self.write_u32(at, type_id);
        self.write_u32(at + 4, kind);
        Ok(at)
    }

    /// Makes the space at least `words` long: to the budget, or by
    /// doubling past it (when collecting is not allowed, or did not free
    /// enough), so that a run of allocations copies each byte a bounded
    /// number of times.
    fn grow(&mut self, words: usize) {
        let max = (self.limit as usize).div_ceil(8);
        let want = words
            .max(self.words.len() * 2)
            .max(self.budget as usize / 8)
            .max(512);
        self.words.resize(want.min(max).max(words), 0);
        self.sync_record();
    }

    /// Points the record compiled code reads at the current space, and
    /// sets where the allocation fast path stops: at the budget, or the
    /// space's end if that comes first, or at once in the stress mode.
    fn sync_record(&mut self) {
        self.vm.base = self.words.as_mut_ptr().cast();
        self.vm.len = self.words.len() * 8;
        let space_end = u32::try_from(self.vm.len).unwrap_or(u32::MAX);
        self.vm.end = if self.stress {
            0
        } else {
            self.budget.min(self.limit).min(space_end)
        };
    }

    /// Makes sure the collector knows registry type `id`'s layout, for
    /// objects allocated without the runtime (the fast paths): called for
    /// every struct and array type of a module when it is instantiated.
    pub(crate) fn know_type(&mut self, id: u32) {
        if self.traces.get(id as usize).is_none_or(Option::is_none) {
            let i = id as usize;
            if self.traces.len() <= i {
                self.traces.resize(i + 1, None);
            }
            self.traces[i] = TypeTrace::of(&self.engine.registered_type(id).sub);
        }
    }

    /// Bytes allocated in the current space (objects and garbage).
    #[cfg(test)]
    pub(crate) fn used(&self) -> u32 {
        self.top() - OBJECT_ALIGN
    }

    /// Copies every object reachable from the roots into the other space
    /// and makes it current. `roots` calls its argument on every root
    /// (which it rewrites to the object's new offset); `host_value` is
    /// told of every host-value reference reached (to free the others
    /// afterwards).
    pub(crate) fn collect(
        &mut self,
        roots: &mut dyn FnMut(VisitRoot<'_>),
        host_value: &mut dyn FnMut(u32),
    ) {
        if self.words.is_empty() {
            // No object was ever allocated: only host values can be
            // reached, and nothing moves.
            roots(&mut |r| {
                if is_host_value(*r) {
                    host_value(*r);
                }
            });
            self.stats.collections += 1;
            return;
        }
        // The other space needs room for everything, should all of it
        // survive. What it held before is overwritten as objects are
        // copied, never read: only growth costs a write per byte.
        let mut to = core::mem::take(&mut self.spare);
        let needed = (self.top() as usize).div_ceil(8);
        if to.len() < needed {
            to.resize(needed, 0);
        }
        self.stats.allocated_bytes += u64::from(self.top() - self.survivors_end);
        let mut copier = Copier {
            from: &mut self.words,
            to: &mut to,
            to_top: OBJECT_ALIGN,
            traces: &self.traces,
            host_value,
        };
        roots(&mut |r| *r = copier.forward(*r));
        copier.scan();
        let live = copier.to_top;
        self.spare = core::mem::replace(&mut self.words, to);
        self.vm.top = live;
        self.survivors_end = live;
        self.stats.collections += 1;
        self.stats.live_bytes = u64::from(live - OBJECT_ALIGN);
        self.budget = live
            .saturating_mul(BUDGET_FACTOR)
            .max(MIN_BUDGET)
            .min(self.limit);
        // The spare keeps its memory for the next collection unless it
        // is far bigger than the heap now needs.
        if self.spare.len() > 2 * (self.budget as usize / 8) {
            self.spare = Vec::new();
        }
        let words = (self.budget as usize / 8).max(self.words.len());
        self.words.resize(words, 0);
        self.sync_record();
    }

    /// Checks the heap after a collection: every object's header names a
    /// known struct or array type of the right kind, objects tile the
    /// space exactly, and every traced field, and every root `roots`
    /// names, is null, an `i31`, a host value, or the start of an object.
    /// Panics otherwise: a failure is a collector or root-map bug.
    pub(crate) fn verify_heap(&self, roots: &[u32]) {
        let mut starts = Vec::new();
        let mut at = OBJECT_ALIGN;
        while at < self.top() {
            starts.push(at);
            let id = self.read_u32(at);
            let kind = self.read_u32(at + 4);
            assert_eq!(kind & !KIND_MASK, 0, "object at {at:#x}: stray header bits");
            let trace = self
                .traces
                .get(id as usize)
                .and_then(Option::as_ref)
                .unwrap_or_else(|| panic!("object at {at:#x}: unknown type id {id}"));
            let size = match trace {
                TypeTrace::Struct { size, .. } => {
                    assert_eq!(kind, KIND_STRUCT, "object at {at:#x}: kind");
                    *size
                }
                TypeTrace::Array { kind: k, .. } => {
                    assert_eq!(kind, KIND_ARRAY, "object at {at:#x}: kind");
                    gc_layout::array_size(*k, self.read_u32(at + ARRAY_LEN_OFFSET))
                        .expect("array size")
                }
            };
            at += size;
        }
        assert_eq!(
            at,
            self.top(),
            "objects do not end at the allocation pointer"
        );
        let valid = |r: u32| !is_object(r) || starts.binary_search(&r).is_ok();
        for &r in roots {
            assert!(valid(r), "root {r:#x} is not an object");
        }
        for &obj in &starts {
            let id = self.read_u32(obj);
            match self.traces[id as usize].as_ref().expect("checked") {
                TypeTrace::Struct { refs, .. } => {
                    for &off in refs.iter() {
                        let r = self.read_u32(obj + off);
                        assert!(valid(r), "field {off} of {obj:#x} holds {r:#x}");
                    }
                }
                TypeTrace::Array { kind, refs: true } => {
                    let len = self.read_u32(obj + ARRAY_LEN_OFFSET);
                    for i in 0..len {
                        let r =
                            self.read_u32(obj + gc_layout::ARRAY_ELEMS_OFFSET + i * kind.size());
                        assert!(valid(r), "element {i} of {obj:#x} holds {r:#x}");
                    }
                }
                TypeTrace::Array { .. } => {}
            }
        }
    }

    /// The registry type id of object `obj`.
    pub(crate) fn type_of(&self, obj: u32) -> u32 {
        self.read_u32(obj)
    }

    /// The kind bits of object `obj`.
    pub(crate) fn kind_of(&self, obj: u32) -> u32 {
        self.read_u32(obj + 4) & KIND_MASK
    }

    /// Whether `r` names an object this heap allocated (a check for
    /// values the host hands in, which may be stale or from elsewhere).
    pub(crate) fn contains(&self, r: u32) -> bool {
        is_object(r) && r < self.top()
    }

    /// The bytes `at..at + len` of the heap, which must lie below the
    /// allocation pointer.
    pub(crate) fn bytes(&self, at: u32, len: u32) -> &[u8] {
        let (at, len) = (at as usize, len as usize);
        assert!(
            at + len <= self.top() as usize,
            "heap access past the last object"
        );
        // SAFETY: `words` owns at least `top` bytes (allocation grows it
        // first), and any byte pattern is a valid `u8`.
        unsafe { core::slice::from_raw_parts(self.words.as_ptr().cast::<u8>().add(at), len) }
    }

    /// The bytes `at..at + len` of the heap, mutably.
    pub(crate) fn bytes_mut(&mut self, at: u32, len: u32) -> &mut [u8] {
        let (at, len) = (at as usize, len as usize);
        assert!(
            at + len <= self.top() as usize,
            "heap access past the last object"
        );
        // SAFETY: as for `bytes`; `&mut self` makes the borrow unique.
        unsafe {
            core::slice::from_raw_parts_mut(self.words.as_mut_ptr().cast::<u8>().add(at), len)
        }
    }

    /// Writes `v` (truncated to the kind) as the field of `kind` at `at`,
    /// in the host's byte order (a `v128` little-endian).
    pub(crate) fn write_field(&mut self, at: u32, kind: FieldKind, v: u128) {
        let size = kind.size();
        let bytes = self.bytes_mut(at, size);
        match kind {
            FieldKind::I8 => bytes[0] = v as u8,
            FieldKind::I16 => bytes.copy_from_slice(&(v as u16).to_ne_bytes()),
            FieldKind::W32 => bytes.copy_from_slice(&(v as u32).to_ne_bytes()),
            FieldKind::W64 => bytes.copy_from_slice(&(v as u64).to_ne_bytes()),
            // Little-endian on every host, as compiled code stores it.
            FieldKind::V128 => bytes.copy_from_slice(&v.to_le_bytes()),
        }
    }

    /// Reads the field of `kind` at `at` (a packed one zero-extended), in
    /// the host's byte order (a `v128` little-endian).
    pub(crate) fn read_field(&self, at: u32, kind: FieldKind) -> u128 {
        let bytes = self.bytes(at, kind.size());
        match kind {
            FieldKind::I8 => u128::from(bytes[0]),
            FieldKind::I16 => u128::from(u16::from_ne_bytes([bytes[0], bytes[1]])),
            FieldKind::W32 => u128::from(u32::from_ne_bytes(bytes.try_into().expect("4 bytes"))),
            FieldKind::W64 => u128::from(u64::from_ne_bytes(bytes.try_into().expect("8 bytes"))),
            FieldKind::V128 => u128::from_le_bytes(bytes.try_into().expect("16 bytes")),
        }
    }

    /// The native-endian `u32` at `at`.
    pub(crate) fn read_u32(&self, at: u32) -> u32 {
        u32::from_ne_bytes(self.bytes(at, 4).try_into().expect("4 bytes"))
    }

    /// Writes the native-endian `u32` `v` at `at`.
    pub(crate) fn write_u32(&mut self, at: u32, v: u32) {
        self.bytes_mut(at, 4).copy_from_slice(&v.to_ne_bytes());
    }
}

/// One collection's copying state: Cheney's algorithm over two spaces.
struct Copier<'a> {
    from: &'a mut [u64],
    to: &'a mut [u64],
    /// First free byte of `to`; also the end of the scan queue.
    to_top: u32,
    traces: &'a [Option<TypeTrace>],
    host_value: &'a mut dyn FnMut(u32),
}

/// The native-endian `u32` at byte `at` of `words`.
fn get32(words: &[u64], at: u32) -> u32 {
    let w = words[at as usize / 8];
    if cfg!(target_endian = "little") == at.is_multiple_of(8) {
        w as u32
    } else {
        (w >> 32) as u32
    }
}

/// Writes the native-endian `u32` `v` at byte `at` of `words`.
fn set32(words: &mut [u64], at: u32, v: u32) {
    let w = &mut words[at as usize / 8];
    if cfg!(target_endian = "little") == at.is_multiple_of(8) {
        *w = (*w & !0xffff_ffff) | u64::from(v);
    } else {
        *w = (*w & 0xffff_ffff) | (u64::from(v) << 32);
    }
}

impl Copier<'_> {
    /// The size of the object at byte `at` of `words`.
    fn size_of(&self, words: &[u64], at: u32) -> u32 {
        let id = get32(words, at);
        match self.traces[id as usize]
            .as_ref()
            .expect("traced before copying")
        {
            TypeTrace::Struct { size, .. } => *size,
            TypeTrace::Array { kind, .. } => {
                gc_layout::array_size(*kind, get32(words, at + ARRAY_LEN_OFFSET))
                    .expect("an allocated array's size fits")
            }
        }
    }

    /// The new offset of the object `r` names (copying it on first
    /// sight); non-object references are returned unchanged.
    fn forward(&mut self, r: u32) -> u32 {
        if !is_object(r) {
            if is_host_value(r) {
                (self.host_value)(r);
            }
            return r;
        }
        if get32(self.from, r + 4) & FORWARDED != 0 {
            return get32(self.from, r);
        }
        let size = self.size_of(self.from, r);
        let (src, dst, n) = (r as usize / 8, self.to_top as usize / 8, size as usize / 8);
        self.to[dst..dst + n].copy_from_slice(&self.from[src..src + n]);
        let new = self.to_top;
        self.to_top += size;
        let kind = get32(self.from, r + 4);
        set32(self.from, r + 4, kind | FORWARDED);
        set32(self.from, r, new);
        new
    }

    /// Scans the copied objects in order, forwarding their references,
    /// until no new object was copied.
    fn scan(&mut self) {
        let mut at = OBJECT_ALIGN;
        while at < self.to_top {
            let id = get32(self.to, at);
            let size = self.size_of(self.to, at);
            let traces = self.traces;
            match traces[id as usize].as_ref().expect("traced before copying") {
                TypeTrace::Struct { refs, .. } => {
                    for i in 0..refs.len() {
                        let field = at + refs[i];
                        let r = get32(self.to, field);
                        let new = self.forward(r);
                        set32(self.to, field, new);
                    }
                }
                TypeTrace::Array { kind, refs: true } => {
                    let len = get32(self.to, at + ARRAY_LEN_OFFSET);
                    let step = kind.size();
                    for i in 0..len {
                        let field = at + gc_layout::ARRAY_ELEMS_OFFSET + i * step;
                        let r = get32(self.to, field);
                        let new = self.forward(r);
                        set32(self.to, field, new);
                    }
                }
                TypeTrace::Array { .. } => {}
            }
            at += size;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_environ::{ArrayType, FieldType, StorageType, StructType, ValType};

    fn field(v: ValType) -> FieldType {
        FieldType {
            storage: StorageType::Val(v),
            mutable: true,
        }
    }

    /// Registry ids of `struct (field anyref) (field i32)`,
    /// `array (mut anyref)` and `array (mut i8)`.
    fn types(engine: &crate::Engine) -> (u32, u32, u32) {
        let sub = |composite| SubType {
            is_final: true,
            supertype: None,
            composite,
        };
        let pair = engine
            .register_type(sub(CompositeType::Struct(StructType {
                fields: Box::new([field(ValType::ANYREF), field(ValType::I32)]),
            })))
            .unwrap();
        let refs = engine
            .register_type(sub(CompositeType::Array(ArrayType {
                element: field(ValType::ANYREF),
            })))
            .unwrap();
        let bytes = engine
            .register_type(sub(CompositeType::Array(ArrayType {
                element: FieldType {
                    storage: StorageType::I8,
                    mutable: true,
                },
            })))
            .unwrap();
        (pair, refs, bytes)
    }

    #[test]
    fn allocation_bumps_grows_and_stops_at_the_limit() {
        let engine = crate::Engine::default();
        let (pair, _, bytes) = types(&engine);
        let mut heap = GcHeap::with_limit(&engine, 4096, false);
        let a = heap.alloc(pair, KIND_STRUCT, 16).unwrap();
        let b = heap.alloc(bytes, KIND_ARRAY, 24).unwrap();
        assert_eq!((a, b), (8, 24));
        assert_eq!((heap.type_of(a), heap.kind_of(a)), (pair, KIND_STRUCT));
        assert_eq!((heap.type_of(b), heap.kind_of(b)), (bytes, KIND_ARRAY));
        assert!(heap.contains(b) && !heap.contains(48) && !heap.contains(0));
        // Growth keeps the contents.
        let big = heap.alloc(bytes, KIND_ARRAY, 2048).unwrap();
        assert_eq!(heap.type_of(a), pair);
        assert_eq!(heap.type_of(big), bytes);
        assert_eq!(
            heap.alloc(pair, KIND_STRUCT, 4096),
            Err(TrapCode::GcHeapOutOfMemory)
        );
        // A failed allocation leaves the heap usable.
        assert!(heap.alloc(pair, KIND_STRUCT, 16).is_ok());
    }

    /// A collection keeps exactly what the roots reach (through struct
    /// fields and array elements, cycles included), rewrites roots and
    /// fields to the new offsets, reports host values reached, and frees
    /// the rest.
    #[test]
    fn collection_copies_what_is_reachable_and_nothing_else() {
        let engine = crate::Engine::default();
        let (pair, refs, bytes) = types(&engine);
        let mut heap = GcHeap::with_limit(&engine, 1 << 20, false);
        let pair_size = 16;
        // Garbage first, so survivors move.
        for _ in 0..10 {
            heap.alloc(pair, KIND_STRUCT, pair_size).unwrap();
        }
        let a = heap.alloc(pair, KIND_STRUCT, pair_size).unwrap();
        let b = heap.alloc(pair, KIND_STRUCT, pair_size).unwrap();
        let arr = heap.alloc(refs, KIND_ARRAY, 24).unwrap();
        let blob = heap.alloc(bytes, KIND_ARRAY, 24).unwrap();
        heap.write_u32(arr + ARRAY_LEN_OFFSET, 2);
        heap.write_u32(blob + ARRAY_LEN_OFFSET, 3);
        heap.bytes_mut(blob + 16, 3).copy_from_slice(b"abc");
        // a -> b -> a (a cycle); a.1 = 7; arr = [b, host value 5].
        heap.write_u32(a + 8, b);
        heap.write_u32(a + 12, 7);
        heap.write_u32(b + 8, a);
        heap.write_u32(arr + 16, b);
        heap.write_u32(arr + 20, gc_layout::host_value_ref(5));
        let garbage_before = heap.used();
        let mut roots = [arr, a, gc_layout::i31_ref(9), blob];
        let mut hosts = Vec::new();
        heap.collect(
            &mut |visit| roots.iter_mut().for_each(&mut *visit),
            &mut |h| hosts.push(h),
        );
        heap.verify_heap(&roots);
        let [arr2, a2, i31, blob2] = roots;
        assert_eq!(i31, gc_layout::i31_ref(9));
        assert_eq!(heap.used(), 2 * pair_size + 24 + 24);
        assert!(heap.used() < garbage_before);
        let b2 = heap.read_u32(arr2 + 16);
        assert_eq!(heap.read_u32(a2 + 8), b2);
        assert_eq!(heap.read_u32(b2 + 8), a2);
        assert_eq!(heap.read_u32(a2 + 12), 7);
        assert_eq!(heap.bytes(blob2 + 16, 3), b"abc");
        assert_eq!(hosts, [gc_layout::host_value_ref(5)]);
        assert_eq!(heap.stats.collections, 1);
        // Allocation goes on after the survivors, zeroed though the space
        // was used before.
        let c = heap.alloc(pair, KIND_STRUCT, pair_size).unwrap();
        assert_eq!(heap.read_u32(c + 8), 0);
        // A second collection from nothing frees everything.
        heap.collect(&mut |_| {}, &mut |_| {});
        assert_eq!(heap.used(), 0);
    }

    /// A store that never allocated an object collects without creating
    /// a heap (`Store::gc` in a module that only uses `externref`s), and
    /// still reports the host values its roots reach.
    #[test]
    fn collecting_an_empty_heap_allocates_nothing() {
        let engine = crate::Engine::default();
        let mut heap = GcHeap::with_limit(&engine, 1 << 20, false);
        let mut roots = [gc_layout::host_value_ref(3), gc_layout::i31_ref(1)];
        let mut hosts = Vec::new();
        heap.collect(
            &mut |visit| roots.iter_mut().for_each(&mut *visit),
            &mut |h| hosts.push(h),
        );
        assert!(heap.words.is_empty() && heap.spare.is_empty());
        assert_eq!(hosts, [gc_layout::host_value_ref(3)]);
        assert_eq!(heap.stats.collections, 1);
    }
}
