//! Exception handling: `throw`, `throw_ref`, `try_table`, and the legacy
//! `try`/`catch`/`catch_all`/`delegate`/`rethrow`.
//!
//! Nothing runs on the path that throws nothing. Each handler is a *region*
//! of the function's bytecode (a `try_table` body, a legacy `try` body)
//! with what to do when an exception escapes an op inside it: a list of
//! catch clauses, or, for `delegate`, another region to hand it to. The
//! interpreter looks regions up by pc only when something throws.
//!
//! A clause lands on a *pad*: ops emitted out of line that branch to the
//! clause's label like `br` does, with the payload (and the `exnref` for
//! `catch_ref`/`catch_all_ref`) as the carried values. The unwinder writes
//! those values into the pad's slots first, so the pad is an ordinary
//! branch and needs no op of its own. A legacy `catch` block is itself the
//! landing code: its operand stack starts with a hidden slot, where the
//! caught exception waits for `rethrow` (and is released at the block's
//! end), then the payload. The hidden slot sits below every value the
//! block's body pushes, so no callee frame (which starts at its first
//! argument) and no temporary can overwrite it while the block runs.

use super::{CtrlKind, Entry, FuncTranslator, slot_size};
use crate::bytecode::{Op, Slot};
use alloc::boxed::Box;
use alloc::vec::Vec;
use wasmparser::{BlockType, Catch as WpCatch};

/// `Catch::tag` of a clause that catches every exception.
pub(crate) const CATCH_ALL: u32 = u32::MAX;
/// `Catch::exn` of a clause that does not keep the exception.
pub(crate) const NO_SLOT: Slot = Slot::MAX;
/// `Handler::parent`/`Handler::delegate` for "none: leave the function".
pub(crate) const NO_REGION: u32 = u32::MAX;

/// One catch clause of a region.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Catch {
    /// Module tag index, or [`CATCH_ALL`].
    pub tag: u32,
    /// Where execution resumes.
    pub pad: u32,
    /// First slot of the payload's values.
    pub payload: Slot,
    /// Slots the payload takes (0 for `catch_all`).
    pub payload_slots: u16,
    /// Where the `exnref` goes, or [`NO_SLOT`].
    pub exn: Slot,
    /// Whether the exception is dead once its payload is copied (a plain
    /// `catch`/`catch_all` of `try_table`).
    pub release: bool,
    /// Whether the `exnref` becomes a wasm value (`catch_ref`,
    /// `catch_all_ref`), which may live anywhere from then on.
    pub expose: bool,
}

/// A handler region: `start..end` in pc, and what to do with an exception
/// that escapes an op inside it.
#[derive(Debug, Clone)]
pub(crate) struct Handler {
    /// First pc of the region.
    pub start: u32,
    /// One past its last pc.
    pub end: u32,
    /// The region enclosing this one's code, or [`NO_REGION`].
    pub parent: u32,
    /// For `delegate`: the region to hand the exception to ([`NO_REGION`]:
    /// out of the function); else [`NO_REGION`] and `catches` apply.
    pub delegate: Option<u32>,
    /// Clauses, tried in order.
    pub catches: Box<[Catch]>,
}

impl Handler {
    /// The innermost region of `handlers` whose range holds `pc`.
    pub(crate) fn innermost(handlers: &[Handler], pc: u32) -> Option<u32> {
        let mut best: Option<u32> = None;
        for (i, h) in handlers.iter().enumerate() {
            if h.start <= pc && pc < h.end {
                // Regions nest: of those holding `pc`, the innermost starts
                // last (or, starting at the same pc, was opened last).
                if best.is_none_or(|b| handlers[b as usize].start <= h.start) {
                    best = Some(i as u32);
                }
            }
        }
        best
    }
}

/// Exception-handling state of one function's translation.
#[derive(Debug, Default)]
pub(super) struct HandlerBuilder {
    /// Every region by id (opening order); `end` is set when it closes.
    pub regions: Vec<Handler>,
    /// Regions whose body is being translated, innermost last.
    pub open: Vec<u32>,
}

impl HandlerBuilder {
    pub(super) fn clear(&mut self) {
        self.regions.clear();
        self.open.clear();
    }

    fn open(&mut self, start: usize) -> u32 {
        let id = self.regions.len() as u32;
        self.regions.push(Handler {
            start: start as u32,
            end: start as u32,
            parent: self.open.last().copied().unwrap_or(NO_REGION),
            delegate: None,
            catches: Box::new([]),
        });
        self.open.push(id);
        id
    }

    fn close(&mut self, id: u32, end: usize) {
        let popped = self.open.pop();
        debug_assert_eq!(popped, Some(id));
        self.regions[id as usize].end = end as u32;
    }
}

impl FuncTranslator<'_> {
    /// Which values of tag `tag`'s payload are traced references.
    fn tag_gc(&self, tag: u32) -> Vec<bool> {
        let ty = self.t.tags[tag as usize];
        self.t
            .signature(ty)
            .params
            .iter()
            .map(|p| p.is_traced())
            .collect()
    }

    /// The slot sizes of tag `tag`'s payload.
    fn tag_sizes(&self, tag: u32) -> Vec<u8> {
        let ty = self.t.tags[tag as usize];
        self.t
            .signature(ty)
            .params
            .iter()
            .map(|&p| slot_size(p))
            .collect()
    }

    pub(super) fn visit_throw(&mut self, tag: u32) {
        let sizes = self.tag_sizes(tag);
        let n = sizes.len();
        let slots = sizes.iter().map(|&s| u16::from(s)).sum();
        let base = self.pop_consecutive(n);
        self.emit(Op::Throw { tag, base, slots });
        self.set_unreachable();
    }

    pub(super) fn visit_throw_ref(&mut self) {
        let r = self.pop();
        self.emit(Op::ThrowRef { src: r.src });
        self.set_unreachable();
    }

    /// `try_table`: the clauses' pads first (jumped over), then the body as
    /// a block, whose range becomes the region.
    pub(super) fn visit_try_table(&mut self, bt: BlockType, catches: &[WpCatch]) {
        self.materialize_all();
        let (params, _) = self.block_sizes(bt);
        // The pads run with the try_table's parameters gone: their values
        // go where those were.
        let saved: Vec<Entry> = self.stack.split_off(self.stack.len() - params.len());
        let skip = self.emit(Op::Br { offset: 0 });
        let mut clauses = Vec::with_capacity(catches.len());
        for c in catches {
            let (tag, label, with_exn) = match *c {
                WpCatch::One { tag, label } => (tag, label, false),
                WpCatch::OneRef { tag, label } => (tag, label, true),
                WpCatch::All { label } => (CATCH_ALL, label, false),
                WpCatch::AllRef { label } => (CATCH_ALL, label, true),
            };
            self.finish_region();
            self.start_region();
            let pad = self.pc();
            let height = self.stack.len();
            let payload = self.next_home() as Slot;
            if tag != CATCH_ALL {
                for (size, gc) in self.tag_sizes(tag).into_iter().zip(self.tag_gc(tag)) {
                    self.push_temp(size);
                    self.set_top_gc(gc);
                }
            }
            let payload_slots = (self.next_home() - payload as u32) as u16;
            let exn = if with_exn { self.push_temp(1) } else { NO_SLOT };
            self.emit_br(label);
            self.stack.truncate(height);
            clauses.push(Catch {
                tag,
                pad: pad as u32,
                payload,
                payload_slots,
                exn,
                release: !with_exn,
                expose: with_exn,
            });
        }
        self.stack.extend(saved);
        let here = self.pc();
        self.patch(skip, here);
        self.push_ctrl(CtrlKind::TryTable, bt);
        self.start_region();
        let start = self.pc();
        let region = self.handlers.open(start);
        self.handlers.regions[region as usize].catches = clauses.into_boxed_slice();
        self.ctrl.last_mut().unwrap().region = Some(region);
    }

    /// Legacy `try`: a block whose body is a region; its clauses come with
    /// the `catch`es that follow.
    pub(super) fn visit_try(&mut self, bt: BlockType) {
        self.materialize_all();
        self.push_ctrl(CtrlKind::Try, bt);
        self.start_region();
        let start = self.pc();
        let region = self.handlers.open(start);
        self.ctrl.last_mut().unwrap().region = Some(region);
    }

    /// Legacy `catch $tag` (`Some`) or `catch_all` (`None`): ends the body
    /// (or the previous catch block) and starts this clause's block, whose
    /// operand stack begins with the payload.
    pub(super) fn visit_catch(&mut self, tag: Option<u32>) {
        let reachable = !self.is_unreachable();
        if reachable {
            self.settle_results();
            let br = self.emit_jump();
            self.ctrl.last_mut().unwrap().patches.push(br);
        }
        let here = self.pc();
        let frame = self.ctrl.last_mut().unwrap();
        let region = frame.region.expect("a legacy try has a region");
        if frame.kind == CtrlKind::Try {
            // The first clause ends the body.
            self.handlers.close(region, here);
        }
        let frame = self.ctrl.last_mut().unwrap();
        frame.kind = CtrlKind::Catch;
        frame.unreachable = false;
        let (height, base) = (frame.height, frame.base);
        // The hidden slot first, at the block's base, then the payload.
        let hidden = base as Slot;
        let mut sizes = alloc::vec![1];
        let mut gc = alloc::vec![false];
        if let Some(t) = tag {
            sizes.extend(self.tag_sizes(t));
            gc.extend(self.tag_gc(t));
        }
        self.reset_stack(height, base, &sizes, &gc);
        self.start_region();
        let pad = self.pc();
        let r = &mut self.handlers.regions[region as usize];
        let mut catches = core::mem::take(&mut r.catches).into_vec();
        let payload_slots = sizes[1..].iter().map(|&s| u16::from(s)).sum();
        catches.push(Catch {
            tag: tag.unwrap_or(CATCH_ALL),
            pad: pad as u32,
            payload: hidden.saturating_add(1),
            payload_slots,
            exn: hidden,
            release: false,
            expose: false,
        });
        r.catches = catches.into_boxed_slice();
    }

    /// Legacy `delegate $l`: ends the try, whose region hands exceptions to
    /// the handler region in force at label `l` (the nearest enclosing try
    /// body, or none: out of the function).
    pub(super) fn visit_delegate(&mut self, depth: u32) {
        let here = self.pc();
        let region = self
            .ctrl
            .last()
            .unwrap()
            .region
            .expect("a legacy try has a region");
        self.handlers.close(region, here);
        // `depth` counts from outside the try being ended.
        let outer = self.ctrl.len() - 2;
        let target_idx = outer.saturating_sub(depth as usize);
        let target = self.ctrl[..=target_idx]
            .iter()
            .rev()
            .find_map(|c| match c.kind {
                CtrlKind::Try | CtrlKind::TryTable => c.region,
                _ => None,
            })
            .unwrap_or(NO_REGION);
        self.handlers.regions[region as usize].delegate = Some(target);
        self.ctrl.last_mut().unwrap().kind = CtrlKind::Block;
        self.visit_end();
    }

    /// Legacy `rethrow $l`: raises again the exception caught by the catch
    /// block `l` out.
    pub(super) fn visit_rethrow(&mut self, depth: u32) {
        let idx = self.ctrl.len() - 1 - depth as usize;
        // Validated: a catch block, whose hidden slot is at its base.
        let src = self.ctrl[idx].base as Slot;
        self.emit(Op::ThrowRef { src });
        self.set_unreachable();
    }

    /// Called by `end` for the try kinds, before the block itself ends:
    /// closes a region still open, releases a legacy catch's exception (in
    /// the hidden slot at the block's `base`) on the way out.
    pub(super) fn end_try(&mut self, kind: CtrlKind, region: Option<u32>, base: u32) {
        let here = self.pc();
        match kind {
            CtrlKind::TryTable | CtrlKind::Try => {
                if let Some(region) = region {
                    self.handlers.close(region, here);
                }
            }
            CtrlKind::Catch if !self.is_unreachable() => {
                // The hidden slot is at the catch block's base.
                self.emit(Op::ExnRelease { slot: base as Slot });
            }
            _ => {}
        }
    }
}
