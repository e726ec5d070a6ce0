//! The copying itself, for [`GcHeap::collect`]: a minor collection
//! promotes the nursery's survivors to the end of the old generation, in
//! place; a full one copies everything alive into a new region. Both are
//! Cheney's breadth-first copy, the copied objects being the scan queue,
//! and both leave forwarding addresses in the headers they copied from.
//! A minor collection scans a remembered carded array (a big array of
//! references) only in the cards the write barrier marked.
//! Also the checks the heap verifier makes (`Config::gc_stress`, debug
//! builds).

use super::gc_heap::{FORWARDED, GcHeap, TypeTrace, VisitRoot};
use crate::prelude::*;
use kiln_environ::gc_layout::{
    self, ARRAY_ELEMS_OFFSET, ARRAY_LEN_OFFSET, CARD_SHIFT, CARDED, CARDED_ARRAY_MIN, KIND_ARRAY,
    KIND_MASK, KIND_STRUCT, OBJECT_ALIGN, REMEMBERED, is_host_value, is_object,
};

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

/// Where an object's traced references are.
enum Refs<'t> {
    /// A struct's traced fields, at these offsets.
    Fields(&'t [u32]),
    /// An array of `len` traced elements, `step` bytes apart.
    Elems { len: u32, step: u32 },
    /// None.
    Nothing,
}

impl Refs<'_> {
    /// The byte offset of each reference of the object at `at`.
    fn offsets(&self, at: u32) -> impl Iterator<Item = u32> + '_ {
        let (fields, elems): (&[u32], u32) = match *self {
            Refs::Fields(f) => (f, 0),
            Refs::Elems { len, .. } => (&[], len),
            Refs::Nothing => (&[], 0),
        };
        let step = match *self {
            Refs::Elems { step, .. } => step,
            _ => 0,
        };
        fields
            .iter()
            .map(move |&f| at + f)
            .chain((0..elems).map(move |i| at + ARRAY_ELEMS_OFFSET + i * step))
    }
}

/// The size of the object at byte `at` of `words`, and where its
/// references are.
fn layout<'t>(traces: &'t [Option<TypeTrace>], words: &[u64], at: u32) -> (u32, Refs<'t>) {
    let id = get32(words, at);
    match traces
        .get(id as usize)
        .and_then(Option::as_ref)
        .unwrap_or_else(|| panic!("object at {at:#x}: unknown type id {id}"))
    {
        TypeTrace::Struct { size, refs } => (*size, Refs::Fields(refs)),
        TypeTrace::Array { kind, refs } => {
            let len = get32(words, at + ARRAY_LEN_OFFSET);
            let size = gc_layout::array_size(*kind, len).expect("an allocated array's size fits");
            let refs = if *refs {
                Refs::Elems {
                    len,
                    step: kind.size(),
                }
            } else {
                Refs::Nothing
            };
            (size, refs)
        }
    }
}

/// The header bit an old copy of an object of `size` bytes with `refs`
/// gets: [`CARDED`] for a big array of traced references.
fn card_bit(size: u32, refs: &Refs<'_>) -> u32 {
    if matches!(refs, Refs::Elems { .. }) && size >= CARDED_ARRAY_MIN {
        CARDED
    } else {
        0
    }
}

/// A minor collection's state: the nursery's survivors are copied to
/// `to_top` and on, in the same region.
struct Promoter<'a> {
    words: &'a mut [u64],
    nursery_start: u32,
    to_top: u32,
    traces: &'a [Option<TypeTrace>],
}

impl Promoter<'_> {
    /// The new offset of the young object `r` names (promoting it on
    /// first sight); anything else is returned unchanged.
    fn forward(&mut self, r: u32) -> u32 {
        if !is_object(r) || r < self.nursery_start {
            return r;
        }
        if get32(self.words, r + 4) & FORWARDED != 0 {
            return get32(self.words, r);
        }
        let (size, refs) = layout(self.traces, self.words, r);
        let card = card_bit(size, &refs);
        let (src, dst, n) = (r as usize / 8, self.to_top as usize / 8, size as usize / 8);
        // The gap below the nursery has room for every young byte (the
        // collector checked), so the ranges never overlap.
        self.words.copy_within(src..src + n, dst);
        let new = self.to_top;
        self.to_top += size;
        let kind = get32(self.words, r + 4);
        set32(self.words, new + 4, kind | card);
        set32(self.words, r + 4, kind | FORWARDED);
        set32(self.words, r, new);
        new
    }

    /// Forwards the references of the object at `at`; returns its size.
    fn scan(&mut self, at: u32) -> u32 {
        let (size, refs) = layout(self.traces, self.words, at);
        match refs {
            Refs::Fields(fields) => {
                for &f in fields {
                    self.visit(at + f);
                }
            }
            // A remembered old array may be long: a plain loop.
            Refs::Elems { len, step } => {
                let first = at + ARRAY_ELEMS_OFFSET;
                for i in 0..len {
                    self.visit(first + i * step);
                }
            }
            Refs::Nothing => {}
        }
        size
    }

    /// Forwards the references in the marked cards of the carded array at
    /// `at` (the barrier marked the card of every element it was told of).
    fn scan_cards(&mut self, at: u32, cards: &[u8]) {
        let (_, refs) = layout(self.traces, self.words, at);
        let Refs::Elems { len, step } = refs else {
            unreachable!("only arrays of references are carded")
        };
        let first = at + ARRAY_ELEMS_OFFSET;
        let end = first + len * step;
        if len == 0 {
            return;
        }
        for card in first >> CARD_SHIFT..=(end - 1) >> CARD_SHIFT {
            if cards.get(card as usize).is_none_or(|&c| c == 0) {
                continue;
            }
            let lo = (card << CARD_SHIFT).max(first);
            let hi = ((card + 1) << CARD_SHIFT).min(end);
            let mut field = lo;
            while field < hi {
                self.visit(field);
                field += step;
            }
        }
    }

    /// Forwards the reference at byte `field`. Most references of an old
    /// object point to old objects: the field is left alone (and its
    /// cache line clean) unless it names a young one.
    #[inline]
    fn visit(&mut self, field: u32) {
        let r = get32(self.words, field);
        if is_object(r) && r >= self.nursery_start {
            let new = self.forward(r);
            set32(self.words, field, new);
        }
    }
}

/// A full collection's state: everything reachable is copied from `from`
/// into `to`.
struct Copier<'a> {
    from: &'a mut [u64],
    to: &'a mut [u64],
    /// First free byte of `to`; also the end of the scan queue.
    to_top: u32,
    traces: &'a [Option<TypeTrace>],
    host_value: &'a mut dyn FnMut(u32),
}

impl Copier<'_> {
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
        let (size, refs) = layout(self.traces, self.from, r);
        let card = card_bit(size, &refs);
        let (src, dst, n) = (r as usize / 8, self.to_top as usize / 8, size as usize / 8);
        self.to[dst..dst + n].copy_from_slice(&self.from[src..src + n]);
        let new = self.to_top;
        self.to_top += size;
        let kind = get32(self.from, r + 4);
        // The copy starts out of the remembered set.
        set32(self.to, new + 4, (kind & KIND_MASK) | card);
        set32(self.from, r + 4, kind | FORWARDED);
        set32(self.from, r, new);
        new
    }

    /// Scans the copied objects in order, forwarding their references,
    /// until no new object was copied.
    fn scan(&mut self) {
        let mut at = OBJECT_ALIGN;
        while at < self.to_top {
            let (size, refs) = layout(self.traces, self.to, at);
            for field in refs.offsets(at) {
                let r = get32(self.to, field);
                let new = self.forward(r);
                set32(self.to, field, new);
            }
            at += size;
        }
    }
}

impl GcHeap {
    /// A minor collection: promotes the young objects the roots and the
    /// remembered old objects reach to the end of the old generation
    /// (the caller checked the gap can take them all), and empties the
    /// nursery. Host values are not looked at: an old object the
    /// collection does not scan may hold one.
    pub(super) fn collect_minor(&mut self, roots: &mut dyn FnMut(VisitRoot<'_>)) {
        if self.verify {
            self.verify_barriers();
        }
        let start = self.old_top;
        let mut p = Promoter {
            words: &mut self.words,
            nursery_start: self.vm.nursery_start,
            to_top: start,
            traces: &self.traces,
        };
        roots(&mut |r| *r = p.forward(*r));
        for &obj in &self.remembered {
            let word = get32(p.words, obj + 4);
            set32(p.words, obj + 4, word & !REMEMBERED);
            if word & CARDED != 0 {
                p.scan_cards(obj, &self.cards);
            } else {
                p.scan(obj);
            }
        }
        let mut at = start;
        while at < p.to_top {
            at += p.scan(at);
        }
        // Every marked card belongs to a remembered carded array.
        for &obj in &self.remembered {
            if get32(p.words, obj + 4) & CARDED != 0 {
                let (size, _) = layout(p.traces, p.words, obj);
                let from = (obj >> CARD_SHIFT) as usize;
                let to = (((obj + size - 1) >> CARD_SHIFT) as usize + 1).min(self.cards.len());
                if from < to {
                    self.cards[from..to].fill(0);
                }
            }
        }
        self.promoted = p.to_top - start;
        self.old_top = p.to_top;
        self.remembered.clear();
        self.vm.top = self.vm.nursery_start;
    }

    /// A full collection: copies everything reachable into a new region,
    /// the old generation first, then a gap ([`GcHeap::gap_after`]) and
    /// an empty nursery. The new region comes zeroed from the allocator,
    /// so its pages are touched only as they are used.
    pub(super) fn collect_full(
        &mut self,
        roots: &mut dyn FnMut(VisitRoot<'_>),
        host_value: &mut dyn FnMut(u32),
    ) {
        // Room for everything held, should all of it survive: the region
        // of the last full collection if it is big enough (its pages are
        // already there; what it held is overwritten, never read), else a
        // new one with room for the layout after it too, which comes
        // zeroed from the allocator and is touched only where used.
        let worst = u32::try_from(self.held()).unwrap_or(u32::MAX) + OBJECT_ALIGN;
        let worst_words = worst.div_ceil(8) as usize;
        let mut to = core::mem::take(&mut self.spare);
        if to.len() < worst_words {
            let len =
                u64::from(worst) + u64::from(self.gap_after(worst)) + u64::from(self.nursery_size);
            to = vec![0u64; len.div_ceil(8) as usize];
        }
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
        let start = live + self.gap_after(live);
        let len = (start + self.nursery_size) as usize / 8;
        if to.len() < len {
            to.resize(len, 0);
        }
        self.spare = core::mem::replace(&mut self.words, to);
        // A region far bigger than the heap now needs goes back to the
        // system.
        if self.spare.len() > 2 * len {
            self.spare = Vec::new();
        }
        self.old_top = live;
        self.remembered.clear();
        self.cards.clear();
        self.vm.nursery_start = start;
        self.vm.top = start;
        self.full_live = live - OBJECT_ALIGN;
        // What the last minor collection promoted says less as time goes
        // on: after a few full collections, a minor one is tried again.
        self.promoted -= self.promoted / 8;
    }

    /// The objects from `from` to `to`, in order, with their sizes.
    fn objects(&self, from: u32, to: u32) -> Vec<(u32, u32)> {
        let mut all = Vec::new();
        let mut at = from;
        while at < to {
            let (size, _) = layout(&self.traces, &self.words, at);
            all.push((at, size));
            at += size;
        }
        assert_eq!(at, to, "objects do not end at {to:#x}");
        all
    }

    /// Checks the heap after a collection: the nursery is empty and the
    /// remembered set too; every object's header names a known struct
    /// or array type of the right kind with no other bit set, objects
    /// tile the old generation exactly, and every traced field, and
    /// every root `roots` names, is null, an `i31`, a host value, or the
    /// start of an object. Panics otherwise: a failure is a collector or
    /// root-map bug.
    pub(crate) fn verify_heap(&self, roots: &[u32]) {
        assert_eq!(self.top(), self.nursery_start(), "the nursery is not empty");
        assert!(
            self.remembered.is_empty(),
            "the remembered set is not empty"
        );
        let objects = self.objects(OBJECT_ALIGN, self.old_top);
        let starts: Vec<u32> = objects.iter().map(|&(at, _)| at).collect();
        let valid = |r: u32| !is_object(r) || starts.binary_search(&r).is_ok();
        for &r in roots {
            assert!(valid(r), "root {r:#x} is not an object");
        }
        for &(obj, _) in &objects {
            let kind = get32(&self.words, obj + 4);
            let (size, refs) = layout(&self.traces, &self.words, obj);
            let want = match self.traces[get32(&self.words, obj) as usize] {
                Some(TypeTrace::Struct { .. }) => KIND_STRUCT,
                _ => KIND_ARRAY | card_bit(size, &refs),
            };
            assert_eq!(kind, want, "object at {obj:#x}: header word {kind:#x}");
            for field in refs.offsets(obj) {
                let r = get32(&self.words, field);
                assert!(valid(r), "field at {field:#x} of {obj:#x} holds {r:#x}");
            }
        }
    }

    /// Checks the write barrier's work before a minor collection: every
    /// old object holding a reference to a young one is in the remembered
    /// set (its header bit set), and every entry of the set has the bit.
    /// Panics otherwise: a failure is a missing barrier.
    pub(super) fn verify_barriers(&self) {
        let start = self.nursery_start();
        for &(obj, _) in &self.objects(OBJECT_ALIGN, self.old_top) {
            let word = get32(&self.words, obj + 4);
            let remembered = word & REMEMBERED != 0;
            let (_, refs) = layout(&self.traces, &self.words, obj);
            for field in refs.offsets(obj) {
                let r = get32(&self.words, field);
                if !is_object(r) || r < start {
                    continue;
                }
                assert!(
                    remembered,
                    "old object {obj:#x} holds young {r:#x} at {field:#x} but is not remembered"
                );
                let card = self.cards.get((field >> CARD_SHIFT) as usize);
                assert!(
                    word & CARDED == 0 || card.is_some_and(|&c| c != 0),
                    "carded array {obj:#x} holds young {r:#x} at {field:#x} in an unmarked card"
                );
            }
        }
        for &obj in &self.remembered {
            assert!(get32(&self.words, obj + 4) & REMEMBERED != 0);
        }
    }
}
