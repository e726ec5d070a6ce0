//! A store's GC heap: where struct and array objects live, at the byte
//! offsets `kiln_environ::gc_layout` describes, and the policy of the
//! generational copying collector that frees them (the copying itself is
//! in `gc_collect.rs`).
//!
//! The heap is one region of words: the old generation from its start to
//! `old_top`, a gap it grows into, and the nursery from `nursery_start`
//! on. Allocation bumps a pointer through the nursery. When the nursery
//! is full, a *minor* collection copies its objects that the roots, or
//! the old objects the write barrier remembered, reach to the end of the
//! old generation (Cheney's breadth-first copy: the copies are the scan
//! queue); its cost follows the young survivors, never the garbage nor
//! the old generation. When the gap cannot take a whole nursery's worth
//! of survivors, a *full* collection copies everything alive into a new
//! region and lays it out again, with a gap as large as what survived.
//! Objects are named by offsets from the region's start, so a reference
//! is the same bits wherever it is mapped; a collection rewrites every
//! root and field to the survivors' new offsets. The bytes held never
//! exceed [`Config::max_gc_heap_size`](crate::Config::max_gc_heap_size):
//! running past it traps with `GcHeapOutOfMemory`. Nothing is allocated
//! until the first object, so a store whose modules allocate nothing
//! pays for a null pointer. `docs/gc.md` has the design.

use crate::prelude::*;
use kiln_environ::TrapCode;
use kiln_environ::gc_layout::{
    self, CARD_SHIFT, CARDED, FieldKind, HEADER_SIZE, KIND_MASK, OBJECT_ALIGN, REMEMBERED,
    StructLayout, is_host_value, is_object,
};
use kiln_environ::vm::VmGcHeap;
use kiln_environ::{CompositeType, SubType};

/// The nursery's size when the heap limit allows it (bytes): big enough
/// that most objects die before their first collection, small enough to
/// stay near the cache.
pub(crate) const NURSERY_SIZE: u32 = 8 << 20;

/// The smallest nursery (a heap limited to a few hundred KiB gets one
/// eighth of it, at least this).
const MIN_NURSERY: u32 = 64 << 10;

/// Set in a copied object's old header word 1; word 0 then holds the
/// object's new offset.
#[cfg(feature = "gc")]
pub(super) const FORWARDED: u32 = 1 << 2;

/// What a collection hands its roots to: called on each root, which it
/// rewrites.
pub(crate) type VisitRoot<'a> = &'a mut dyn FnMut(&mut u32);

/// What the collector needs to know about a type to copy and scan its
/// objects.
// Without the `gc` feature the collector (`gc_collect.rs`), which reads
// these, is left out; no object is ever allocated then.
#[cfg_attr(not(feature = "gc"), allow(dead_code))]
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
    /// Collections so far, minor and full.
    pub collections: u64,
    /// Full collections so far (each copies everything alive; the others
    /// copy only the nursery's survivors).
    pub full_collections: u64,
    /// Bytes the heap held after the last collection (after a minor one,
    /// the old generation's garbage included).
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
// Without the `gc` feature the collector, which reads some of these, is
// left out.
#[cfg_attr(not(feature = "gc"), allow(dead_code))]
pub(crate) struct GcHeap {
    /// The old generation, the gap it grows into, and the nursery, in
    /// 8-byte words so every object is 8-aligned.
    pub(super) words: Vec<u64>,
    /// Where the old generation's objects end (the nursery's start and
    /// the allocation pointer are the record's).
    pub(super) old_top: u32,
    /// The nursery's size when the resource limiter allows it.
    pub(super) nursery_size: u32,
    /// The nursery's size now: the fast path stops this far past its
    /// start. Smaller than `nursery_size` when the limiter allows no more.
    pub(super) nursery_cap: u32,
    /// Old objects the write barrier recorded since the last collection:
    /// they may hold references into the nursery. Each has
    /// [`REMEMBERED`] set in its header, so it is here once.
    pub(super) remembered: Vec<u32>,
    /// One byte per card of the region: nonzero when the barrier saw a
    /// reference to a young object stored there in a carded array (only
    /// such arrays' cards are marked). Cleared by each collection.
    pub(super) cards: Vec<u8>,
    /// The region of the full collection before the last one, kept for
    /// the next (its pages are already mapped), unless far too big.
    pub(super) spare: Vec<u64>,
    /// The size the resource limiter last allowed (see
    /// [`reserved`](Self::reserved)).
    pub(super) granted: u64,
    /// Bytes the last minor collection promoted.
    pub(super) promoted: u32,
    /// Bytes that survived the last full collection.
    pub(super) full_live: u32,
    /// The most bytes the heap may hold.
    pub(super) limit: u32,
    /// The trace of each registry type id allocated so far.
    pub(super) traces: Vec<Option<TypeTrace>>,
    /// Where type ids' traces come from.
    engine: crate::Engine,
    /// Collect at every allocation that may collect (a test mode that
    /// finds missing roots and barriers).
    pub(crate) stress: bool,
    /// Check every reference after each collection, and the barrier's
    /// work before each minor one.
    pub(crate) verify: bool,
    pub(crate) stats: GcStats,
    /// The last [`PAUSE_WINDOW`] pauses (nanoseconds), a ring.
    pauses: Vec<u64>,
    /// The record code reads `base` from; at a stable address.
    pub(super) vm: Box<VmGcHeap>,
}

impl GcHeap {
    /// An empty heap, limited as the engine's configuration says.
    pub(crate) fn new(engine: &crate::Engine) -> GcHeap {
        let config = engine.config();
        GcHeap::with_limit(engine, config.max_gc_heap_size, config.gc_stress)
    }

    /// A heap holding `limit` bytes at most (and at most 4 GiB less one
    /// object alignment: offsets are 32-bit), collecting at every chance
    /// when `stress`.
    pub(super) fn with_limit(engine: &crate::Engine, limit: u64, stress: bool) -> GcHeap {
        let limit = u32::try_from(limit).unwrap_or(u32::MAX - OBJECT_ALIGN);
        GcHeap {
            engine: engine.clone(),
            words: Vec::new(),
            old_top: OBJECT_ALIGN,
            nursery_size: (limit / 8).clamp(MIN_NURSERY, NURSERY_SIZE) & !(OBJECT_ALIGN - 1),
            nursery_cap: 0,
            remembered: Vec::new(),
            cards: Vec::new(),
            spare: Vec::new(),
            promoted: 0,
            full_live: 0,
            granted: 0,
            limit,
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
                nursery_start: OBJECT_ALIGN,
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

    /// Offset of the first free byte.
    pub(super) fn top(&self) -> u32 {
        self.vm.top
    }

    /// Where the nursery starts: objects below it are old.
    pub(super) fn nursery_start(&self) -> u32 {
        self.vm.nursery_start
    }

    /// Bytes held: the old generation's (garbage included) and the
    /// nursery's.
    pub(super) fn held(&self) -> u64 {
        u64::from(self.old_top - OBJECT_ALIGN) + u64::from(self.top() - self.nursery_start())
    }

    /// Bytes in the old generation (garbage included).
    fn old_bytes(&self) -> u64 {
        u64::from(self.old_top - OBJECT_ALIGN)
    }

    /// Bytes in the nursery.
    fn young(&self) -> u64 {
        u64::from(self.top() - self.nursery_start())
    }

    /// Sizes the nursery for an allocation of `size` bytes within what the
    /// resource limiter allows (`grow` asks it) and the heap's limit. The
    /// heap's size, as the limiter sees it, is the old generation's bytes
    /// plus the nursery's capacity, which compiled code fills without
    /// asking. The nursery gets its full size if the limiter allows
    /// (asked for an eighth more than that when it must be asked, so that
    /// it is asked rarely), else what is left of the last size it
    /// allowed. `false` if that is not room for the object, or leaves a
    /// nursery under an eighth of its size: the heap is full, and
    /// collecting every few objects would only put off the trap.
    pub(crate) fn fit(
        &mut self,
        size: u32,
        grow: &mut dyn FnMut(usize, usize, usize) -> bool,
    ) -> bool {
        let old = self.old_bytes();
        let limit = u64::from(self.limit);
        let used = self.young() + u64::from(size);
        let want = (old + used.max(u64::from(self.nursery_size))).min(limit);
        let need = old + used;
        if need > limit {
            return false;
        }
        let as_usize = |b: u64| usize::try_from(b).unwrap_or(usize::MAX);
        let mut ask = |heap: &mut GcHeap, desired: u64| {
            let ok = grow(as_usize(heap.granted), as_usize(desired), as_usize(limit));
            if ok {
                heap.granted = desired;
            }
            ok
        };
        let stepped = want.max(self.granted + self.granted / 8).min(limit);
        let allowed = self.granted >= want
            || ask(self, stepped)
            || ask(self, want)
            || self.granted >= need
            || ask(self, need);
        if !allowed {
            return false;
        }
        let cap = self.granted.min(want) - old;
        let min_cap = u64::from(self.nursery_size / 8);
        if cap < want - old && cap < min_cap {
            return false;
        }
        self.nursery_cap = u32::try_from(cap).unwrap_or(u32::MAX) & !(OBJECT_ALIGN - 1);
        self.sync_record();
        true
    }

    /// Whether an allocation of `size` bytes should collect first: the
    /// nursery is full, or the heap would pass its limit.
    pub(crate) fn wants_collection(&self, size: u32) -> bool {
        if self.stress {
            return true;
        }
        let (top, start) = (self.top(), self.nursery_start());
        let full_nursery = top > start && u64::from(top) + u64::from(size) > self.nursery_end();
        full_nursery || self.held() + u64::from(size) > u64::from(self.limit)
    }

    /// Where the fast path stops: the nursery's end.
    fn nursery_end(&self) -> u64 {
        u64::from(self.nursery_start()) + u64::from(self.nursery_cap)
    }

    /// What the collector has done so far.
    pub(crate) fn stats(&self) -> GcStats {
        let mut pauses = self.pauses.clone();
        pauses.sort_unstable();
        GcStats {
            allocated_bytes: self.stats.allocated_bytes
                + u64::from(self.top() - self.nursery_start()),
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
    /// kind `kind` (`KIND_STRUCT` or `KIND_ARRAY`) in the nursery; returns
    /// its offset. An object bigger than what is left of the nursery
    /// still goes there, past the fast path's end (the region grows).
    /// Never collects: the caller collects first when
    /// [`wants_collection`](Self::wants_collection) says so and it can
    /// name every root.
    pub(crate) fn alloc(&mut self, type_id: u32, kind: u32, size: u32) -> Result<u32, TrapCode> {
        debug_assert!(size >= HEADER_SIZE && size.is_multiple_of(OBJECT_ALIGN));
        let at = self.top();
        let end = at
            .checked_add(size)
            .filter(|_| self.held() + u64::from(size) <= u64::from(self.limit))
            .ok_or(TrapCode::GcHeapOutOfMemory)?;
        let words = end.div_ceil(8) as usize;
        if words > self.words.len() {
            self.grow(words);
        }
        self.know_type(type_id);
        self.vm.top = end;
        // The nursery is reused after a collection: clear what it held.
        self.words[at as usize / 8..words].fill(0);
        self.write_u32(at, type_id);
        self.write_u32(at + 4, kind);
        Ok(at)
    }

    /// Makes the region at least `words` long, and long enough for a whole
    /// nursery. The first region comes zeroed from the allocator, so the
    /// pages of its gap and nursery are only touched when used.
    fn grow(&mut self, words: usize) {
        let want = words.max(self.nursery_end().div_ceil(8) as usize);
        if self.words.is_empty() {
            self.words = vec![0; want];
        } else {
            self.words.resize(want, 0);
        }
        self.sync_record();
    }

    /// Points the record code reads at the region, and sets where the
    /// allocation fast path stops: at the nursery's end (or the region's,
    /// if that comes first), or at once in the stress mode.
    pub(super) fn sync_record(&mut self) {
        self.vm.base = self.words.as_mut_ptr().cast();
        self.vm.len = self.words.len() * 8;
        let region_end = u64::try_from(self.vm.len).unwrap_or(u64::MAX);
        self.vm.end = if self.stress {
            0
        } else {
            u32::try_from(self.nursery_end().min(region_end)).unwrap_or(u32::MAX)
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

    /// Bytes held (objects and garbage), for tests.
    #[cfg(all(test, feature = "gc"))]
    pub(crate) fn used(&self) -> u64 {
        self.held()
    }

    /// The write barrier, after reference `v` was stored at heap offset
    /// `field` of object `obj`: an old object given a reference to a young
    /// one joins the remembered set, so the next minor collection finds
    /// that reference. Compiled code and the interpreter test the same
    /// inline and call [`remember`](Self::remember) only then.
    #[cfg(feature = "gc")]
    pub(crate) fn write_barrier(&mut self, obj: u32, field: u32, v: u32) {
        let start = self.nursery_start();
        if obj < start && is_object(v) && v >= start {
            self.remember(obj, field, field + 4);
        }
    }

    /// The barrier of a write the runtime cannot cheaply check value by
    /// value (the array bulk instructions), to the bytes `from..to` of
    /// `obj`: remembers `obj` if it is old.
    pub(crate) fn remember_if_old(&mut self, obj: u32, from: u32, to: u32) {
        if obj < self.nursery_start() {
            self.remember(obj, from, to);
        }
    }

    /// Puts old object `obj` in the remembered set, once (its header bit
    /// says whether it is there), after a store of young references to
    /// its bytes `from..to`: for a carded array, the cards those bytes
    /// touch are marked too. Anything else is ignored: the values come
    /// from compiled code or the interpreter, which checked them, but a
    /// stray offset must not corrupt the heap.
    pub(crate) fn remember(&mut self, obj: u32, from: u32, to: u32) {
        if !is_object(obj) || obj >= self.old_top {
            return;
        }
        let word = self.read_u32(obj + 4);
        if word & CARDED != 0 && from < to {
            let (first, last) = (
                (from >> CARD_SHIFT) as usize,
                ((to - 1) >> CARD_SHIFT) as usize,
            );
            if self.cards.len() <= last {
                self.cards.resize(last + 1, 0);
            }
            self.cards[first..=last].fill(1);
        }
        if word & REMEMBERED == 0 {
            self.write_u32(obj + 4, word | REMEMBERED);
            self.remembered.push(obj);
        }
    }

    /// [`remember`](Self::remember) for the interpreter's and compiled
    /// code's barrier: the reference stored at `field`, or with `field`
    /// `u32::MAX` (a bulk instruction) anywhere in the object.
    pub(crate) fn remember_store(&mut self, obj: u32, field: u32) {
        if field != u32::MAX {
            self.remember(obj, field, field.saturating_add(4));
        } else if is_object(obj) && obj < self.old_top {
            let id = self.read_u32(obj);
            let size = match self.traces.get(id as usize).and_then(Option::as_ref) {
                Some(TypeTrace::Array { kind, .. }) => {
                    gc_layout::array_size(*kind, self.read_u32(obj + gc_layout::ARRAY_LEN_OFFSET))
                        .unwrap_or(0)
                }
                Some(TypeTrace::Struct { size, .. }) => *size,
                None => 0,
            };
            self.remember(obj, obj, obj + size);
        }
    }

    /// Collects: a minor collection, unless `full` asks for a full one or
    /// a minor one could fail (the gap cannot take all of the nursery, or
    /// an allocation of `pending` bytes would still pass the limit).
    /// `roots` calls its argument on every root (which it rewrites to the
    /// object's new offset); after a full collection, `host_value` has
    /// been told of every host-value reference reached (to free the
    /// others). Returns whether the collection was full.
    pub(crate) fn collect(
        &mut self,
        roots: &mut dyn FnMut(VisitRoot<'_>),
        host_value: &mut dyn FnMut(u32),
        full: bool,
        pending: u32,
    ) -> bool {
        if self.words.is_empty() {
            // No object was ever allocated: only host values can be
            // reached, and nothing moves.
            roots(&mut |r| {
                if is_host_value(*r) {
                    host_value(*r);
                }
            });
            self.stats.collections += 1;
            self.stats.full_collections += 1;
            return true;
        }
        #[cfg(not(feature = "gc"))]
        {
            let _ = (full, pending);
            unreachable!("without the `gc` feature no module can allocate an object");
        }
        #[cfg(feature = "gc")]
        self.collect_objects(roots, host_value, full, pending)
    }

    /// [`collect`](Self::collect) once objects exist.
    #[cfg(feature = "gc")]
    fn collect_objects(
        &mut self,
        roots: &mut dyn FnMut(VisitRoot<'_>),
        host_value: &mut dyn FnMut(u32),
        full: bool,
        pending: u32,
    ) -> bool {
        let young = self.top() - self.nursery_start();
        let gap = self.nursery_start() - self.old_top;
        // The stress mode makes every fourth collection full, so both
        // kinds run under it.
        // A full collection when a minor one might not fit or free enough,
        // and when the last minor one promoted a good part of the nursery,
        // more than a full one would copy: the generational guess fails
        // for a queue, whose dead old cells keep every young cell after
        // them alive (see `docs/gc.md`).
        let full = full
            || gap < young
            || self.held() + u64::from(pending) > u64::from(self.limit)
            || self.promoted > self.full_live.max(self.nursery_size / 8)
            || (self.stress && self.stats.collections % 4 == 3);
        self.stats.allocated_bytes += u64::from(young);
        if full {
            self.collect_full(roots, host_value);
            self.stats.full_collections += 1;
        } else {
            self.collect_minor(roots);
        }
        self.stats.collections += 1;
        self.stats.live_bytes = self.held();
        self.sync_record();
        full
    }

    /// The gap to leave after `live` bytes of old objects: as much again
    /// (so full collections come when the old generation has doubled),
    /// at least two nurseries' worth, never past the limit; a multiple of
    /// [`OBJECT_ALIGN`].
    #[cfg(feature = "gc")]
    pub(super) fn gap_after(&self, live: u32) -> u32 {
        live.max(2 * self.nursery_size)
            .min(self.limit.saturating_sub(live))
            & !(OBJECT_ALIGN - 1)
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
        is_object(r) && (r < self.old_top || (r >= self.nursery_start() && r < self.top()))
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

    /// Writes `v` as `n` consecutive fields of `kind` from `at` (an array's
    /// elements): the value's bytes are made once and stored by a loop of
    /// fixed-size copies, where [`write_field`](Self::write_field) per
    /// element would check and encode each.
    pub(crate) fn fill_fields(&mut self, at: u32, kind: FieldKind, v: u128, n: u32) {
        let dst = self.bytes_mut(at, n * kind.size());
        match kind {
            FieldKind::I8 => dst.fill(v as u8),
            FieldKind::I16 => fill_with(dst, (v as u16).to_ne_bytes()),
            FieldKind::W32 => fill_with(dst, (v as u32).to_ne_bytes()),
            FieldKind::W64 => fill_with(dst, (v as u64).to_ne_bytes()),
            // Little-endian on every host, as compiled code stores it.
            FieldKind::V128 => fill_with(dst, v.to_le_bytes()),
        }
    }

    #[cfg(feature = "gc")]
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

/// Fills `dst` with copies of `bytes` (its length is a multiple of `N`).
fn fill_with<const N: usize>(dst: &mut [u8], bytes: [u8; N]) {
    for chunk in dst.chunks_exact_mut(N) {
        chunk.copy_from_slice(&bytes);
    }
}

#[cfg(all(test, feature = "gc"))]
mod tests {
    use super::*;
    use kiln_environ::gc_layout::CARDED as CARDED_BIT;
    use kiln_environ::gc_layout::{ARRAY_LEN_OFFSET, KIND_ARRAY, KIND_STRUCT};
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
        let full = heap.collect(
            &mut |visit| roots.iter_mut().for_each(&mut *visit),
            &mut |h| hosts.push(h),
            true,
            0,
        );
        assert!(full);
        heap.verify_heap(&roots);
        let [arr2, a2, i31, blob2] = roots;
        assert_eq!(i31, gc_layout::i31_ref(9));
        assert_eq!(heap.used(), u64::from(2 * pair_size + 24 + 24));
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
        heap.collect(&mut |_| {}, &mut |_| {}, true, 0);
        assert_eq!(heap.used(), 0);
    }

    /// Old `holder` and young `y`, in a heap of `pair` structs: `holder`
    /// is rooted by `roots[0]` and survived a full collection.
    fn old_holder(heap: &mut GcHeap, pair: u32, roots: &mut [u32; 1]) -> u32 {
        roots[0] = heap.alloc(pair, KIND_STRUCT, 16).unwrap();
        heap.collect(
            &mut |v| roots.iter_mut().for_each(&mut *v),
            &mut |_| {},
            true,
            0,
        );
        let holder = roots[0];
        assert!(holder < heap.nursery_start());
        heap.alloc(pair, KIND_STRUCT, 16).unwrap()
    }

    /// A minor collection promotes the young objects that only an old
    /// object reaches, when the write barrier remembered it, rewrites the
    /// old object's field, and frees the other young objects; the old
    /// generation is not copied.
    #[test]
    fn minor_collection_promotes_what_remembered_objects_reach() {
        let engine = crate::Engine::default();
        let (pair, _, _) = types(&engine);
        let mut heap = GcHeap::with_limit(&engine, 1 << 20, false);
        let mut roots = [0];
        let y = old_holder(&mut heap, pair, &mut roots);
        let holder = roots[0];
        heap.write_u32(y + 12, 42);
        for _ in 0..5 {
            heap.alloc(pair, KIND_STRUCT, 16).unwrap();
        }
        heap.write_u32(holder + 8, y);
        heap.write_barrier(holder, holder + 8, y);
        // A second store remembers nothing twice.
        heap.write_barrier(holder, holder + 8, y);
        assert_eq!(heap.remembered, [holder]);
        let held = heap.used();
        let full = heap.collect(
            &mut |v| roots.iter_mut().for_each(&mut *v),
            &mut |_| {},
            false,
            0,
        );
        assert!(!full);
        heap.verify_heap(&roots);
        assert_eq!(roots[0], holder, "old objects do not move");
        let y2 = heap.read_u32(holder + 8);
        assert!(y2 != y && y2 < heap.nursery_start());
        assert_eq!(heap.read_u32(y2 + 12), 42);
        assert_eq!(heap.used(), 32);
        assert!(heap.used() < held);
        assert_eq!(
            (heap.stats.collections, heap.stats.full_collections),
            (2, 1)
        );
    }

    /// The barrier check finds an old object given a young reference
    /// without the barrier (the bug it is there to catch).
    #[test]
    #[should_panic(expected = "is not remembered")]
    fn a_missing_barrier_is_found_before_the_minor_collection() {
        let engine = crate::Engine::default();
        let (pair, _, _) = types(&engine);
        let mut heap = GcHeap::with_limit(&engine, 1 << 20, false);
        heap.verify = true;
        let mut roots = [0];
        let y = old_holder(&mut heap, pair, &mut roots);
        heap.write_u32(roots[0] + 8, y);
        heap.collect(
            &mut |v| roots.iter_mut().for_each(&mut *v),
            &mut |_| {},
            false,
            0,
        );
    }

    /// An old array of `len` references (rooted by `roots[0]`) and a young
    /// struct: the array is carded when it is big enough.
    fn old_array(heap: &mut GcHeap, len: u32, roots: &mut [u32; 1]) -> u32 {
        let engine = heap.engine.clone();
        let (pair, refs, _) = types(&engine);
        roots[0] = heap.alloc(refs, KIND_ARRAY, 16 + len * 4).unwrap();
        heap.write_u32(roots[0] + ARRAY_LEN_OFFSET, len);
        heap.collect(
            &mut |v| roots.iter_mut().for_each(&mut *v),
            &mut |_| {},
            true,
            0,
        );
        heap.alloc(pair, KIND_STRUCT, 16).unwrap()
    }

    /// A big old array is carded: a young object stored into it survives
    /// the minor collection through its card alone, and the collection
    /// clears the card and the remembered bit.
    #[test]
    fn a_carded_array_is_scanned_by_its_marked_cards() {
        let engine = crate::Engine::default();
        let mut heap = GcHeap::with_limit(&engine, 1 << 20, false);
        let mut roots = [0];
        let y = old_array(&mut heap, 2000, &mut roots);
        let arr = roots[0];
        assert_eq!(heap.read_u32(arr + 4), KIND_ARRAY | CARDED_BIT);
        heap.write_u32(y + 12, 5);
        let at = arr + 16 + 1500 * 4;
        heap.write_u32(at, y);
        heap.write_barrier(arr, at, y);
        assert_eq!(heap.cards.iter().filter(|&&c| c != 0).count(), 1);
        heap.collect(
            &mut |v| roots.iter_mut().for_each(&mut *v),
            &mut |_| {},
            false,
            0,
        );
        heap.verify_heap(&roots);
        let y2 = heap.read_u32(at);
        assert!(y2 != y && y2 < heap.nursery_start());
        assert_eq!(heap.read_u32(y2 + 12), 5);
        assert_eq!(heap.read_u32(arr + 4), KIND_ARRAY | CARDED_BIT);
        assert!(heap.cards.iter().all(|&c| c == 0));
    }

    /// The barrier check finds a young reference in a carded array's
    /// unmarked card, though the array is remembered.
    #[test]
    #[should_panic(expected = "in an unmarked card")]
    fn a_missing_card_mark_is_found_before_the_minor_collection() {
        let engine = crate::Engine::default();
        let mut heap = GcHeap::with_limit(&engine, 1 << 20, false);
        heap.verify = true;
        let mut roots = [0];
        let y = old_array(&mut heap, 2000, &mut roots);
        let arr = roots[0];
        heap.write_u32(arr + 16 + 40, y);
        heap.write_barrier(arr, arr + 16 + 1500 * 4, y);
        heap.collect(
            &mut |v| roots.iter_mut().for_each(&mut *v),
            &mut |_| {},
            false,
            0,
        );
    }

    /// When the gap left after the old generation cannot take the whole
    /// nursery, the collection is a full one, which lays the heap out
    /// again with a bigger gap.
    #[test]
    fn a_full_gap_makes_the_collection_full() {
        let engine = crate::Engine::default();
        let (_, _, bytes) = types(&engine);
        let mut heap = GcHeap::with_limit(&engine, 16 << 20, false);
        let mut roots = [0u32; 1];
        let mut fulls = 0u64;
        // Keep one big array alive at a time: each minor collection
        // promotes it, until the gap is full.
        for _ in 0..64 {
            if heap.wants_collection(1 << 20) {
                let full = heap.collect(
                    &mut |v| roots.iter_mut().for_each(&mut *v),
                    &mut |_| {},
                    false,
                    1 << 20,
                );
                fulls += u64::from(full);
                heap.verify_heap(&roots);
            }
            roots[0] = heap.alloc(bytes, KIND_ARRAY, 1 << 20).unwrap();
            heap.write_u32(roots[0] + ARRAY_LEN_OFFSET, (1 << 20) - 16);
        }
        assert!(
            heap.stats.collections > fulls && fulls > 1,
            "{:?}",
            heap.stats
        );
        assert_eq!(fulls, heap.stats.full_collections);
    }

    /// `fill_fields` writes what `write_field` would, element by element,
    /// for every kind.
    #[test]
    fn filling_fields_matches_writing_them_one_by_one() {
        let engine = crate::Engine::default();
        let (_, _, bytes) = types(&engine);
        let mut heap = GcHeap::with_limit(&engine, 1 << 20, false);
        let a = heap.alloc(bytes, KIND_ARRAY, 16 + 5 * 16).unwrap();
        let b = heap.alloc(bytes, KIND_ARRAY, 16 + 5 * 16).unwrap();
        let v = 0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10u128;
        for kind in [
            FieldKind::I8,
            FieldKind::I16,
            FieldKind::W32,
            FieldKind::W64,
            FieldKind::V128,
        ] {
            heap.fill_fields(a + 16, kind, v, 5);
            for i in 0..5 {
                heap.write_field(b + 16 + i * kind.size(), kind, v);
            }
            let n = 5 * kind.size();
            assert_eq!(heap.bytes(a + 16, n), heap.bytes(b + 16, n), "{kind:?}");
            assert_eq!(
                heap.read_field(a + 16 + 4 * kind.size(), kind),
                v & kind_mask(kind)
            );
        }
    }

    /// The bits of a value of `kind`.
    fn kind_mask(kind: FieldKind) -> u128 {
        match kind.size() {
            16 => u128::MAX,
            n => (1u128 << (8 * n)) - 1,
        }
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
            false,
            0,
        );
        assert!(heap.words.is_empty());
        assert_eq!(hosts, [gc_layout::host_value_ref(3)]);
        assert_eq!(heap.stats.collections, 1);
    }
}
