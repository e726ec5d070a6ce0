//! Tiering: promoting hot baseline functions to optimized code while the
//! module runs, and moving looping baseline frames into it (on-stack
//! replacement). The code side is in `docs/native-abi.md`, "Tiering"; the
//! design in `docs/baseline.md`.
//!
//! A module compiled for tiering ([`CompiledModule::tier_entries`]) gets
//! a [`Tiering`]: its *tier table*, which every instance's `VMContext`
//! points at, holds one code address per defined function (where a call
//! of the function's baseline entry goes on) and one counter per defined
//! function. Baseline code counts calls and loop iterations down and calls
//! the `tier_up`/`tier_osr` builtins when a counter runs out; those queue
//! a [`Job`] with the engine's [`TierService`], whose background threads
//! compile with the optimizing compiler and [`Tiering::install`] the code:
//! a new executable blob, registered for traps, whose address goes into
//! the table (promotion) or into the map of loop entries (on-stack
//! replacement). Running frames keep running the code they are in; only
//! calls made after the table changed take the new code.
//!
//! Nothing here knows which compilers are involved: the baseline code's
//! contract is the table layout and the two builtins, the optimizing
//! compiler's is `Compiler::compile_function` and
//! `Compiler::compile_osr_entry`.

use crate::prelude::*;
use alloc::sync::{Arc, Weak};
use anyhow::{Result, anyhow};
use core::sync::atomic::{AtomicI64, Ordering};
use hashbrown::{HashMap, HashSet};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::super::sys::sync::Mutex;
use super::super::sys::{CodeMemory, CodeRegistration, register_code};
use crate::module::TierStats;
use kiln_environ::{
    Builtin, CompileError, CompiledFunction, Compiler, FuncKey, HandlerSite, ModuleTranslation,
    RelocationKind, StackMapSite, TrapSite,
};

/// One compilation for the background threads.
struct Job {
    tiering: Weak<Tiering>,
    /// Defined function index.
    defined: u32,
    /// For an on-stack-replacement entry: the loop's wasm byte offset.
    osr: Option<u32>,
    queued: Instant,
}

/// An engine's tiering: the optimizing compiler, the settings, and the
/// background threads (started on the first job). Dropping it (with the
/// engine and its modules) ends the threads once they finish their jobs.
pub(crate) struct TierService {
    compiler: Arc<dyn Compiler>,
    threshold: i64,
    threads: usize,
    /// Compile on the thread that found the code hot, before it goes on
    /// (`Config::tier_synchronously`).
    sync: bool,
    log: bool,
    epoch: Instant,
    /// The queue's sending end; `None` until the threads start.
    queue: Mutex<Option<mpsc::Sender<Job>>>,
}

impl TierService {
    /// Tiering for an engine whose code `compiler` optimizes.
    pub(crate) fn new(compiler: Arc<dyn Compiler>, config: &crate::Config) -> Arc<TierService> {
        let threads = match config.tier_threads {
            0 => std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).clamp(1, 4)),
            n => n,
        };
        Arc::new(TierService {
            compiler,
            threshold: i64::from(config.tier_threshold.max(1)),
            threads,
            sync: config.tier_sync,
            log: config.tier_log,
            epoch: Instant::now(),
            queue: Mutex::new(None),
        })
    }

    fn log(&self, what: core::fmt::Arguments<'_>) {
        if self.log {
            let ms = self.epoch.elapsed().as_secs_f64() * 1e3;
            std::eprintln!("[kiln tier {ms:9.2} ms] {what}");
        }
    }

    /// Queues `job`, starting the threads on first use. A job that cannot
    /// be queued (no thread could start) is dropped: its function stays
    /// baseline code.
    fn submit(&self, job: Job) {
        if self.sync {
            return run_job(&job, &*self.compiler);
        }
        let mut queue = self.queue.lock();
        if queue.is_none() {
            let (tx, rx) = mpsc::channel::<Job>();
            let rx = Arc::new(std::sync::Mutex::new(rx));
            for n in 0..self.threads {
                let (rx, compiler) = (rx.clone(), self.compiler.clone());
                let spawned = std::thread::Builder::new()
                    .name(format!("kiln-tier-{n}"))
                    .spawn(move || worker(&rx, &*compiler));
                if spawned.is_err() && n == 0 {
                    return;
                }
            }
            *queue = Some(tx);
        }
        if let Some(tx) = queue.as_ref() {
            let _ = tx.send(job);
        }
    }
}

/// A background thread: compiles jobs until the queue's sender is gone.
fn worker(rx: &std::sync::Mutex<mpsc::Receiver<Job>>, compiler: &dyn Compiler) {
    loop {
        let job = {
            let rx = rx.lock().unwrap_or_else(|e| e.into_inner());
            match rx.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        run_job(&job, compiler);
    }
}

/// Compiles `job` and installs the code, unless its module is gone.
fn run_job(job: &Job, compiler: &dyn Compiler) {
    // Hold the module only while reading it: one dropped meanwhile is
    // simply not installed into.
    let Some(module) = job.tiering.upgrade().map(|t| t.module.clone()) else {
        return;
    };
    let started = Instant::now();
    let index = module.num_imported_funcs + job.defined;
    let compiled = match job.osr {
        None => compiler.compile_function(&module, FuncKey::Wasm(index)),
        Some(at) => compiler.compile_osr_entry(&module, index, at),
    };
    let took = started.elapsed();
    if let Some(tiering) = job.tiering.upgrade() {
        tiering.install(job, compiled, compiler, took);
    }
}

/// Optimized code installed at run time, with its tables (offsets from
/// `start`).
///
/// Field order matters: the registration goes before the memory.
struct Blob {
    _registration: CodeRegistration,
    memory: CodeMemory,
    start: usize,
    /// Bytes of the wasm function at the blob's start (builtin stubs and
    /// veneers follow).
    func_len: usize,
    /// The wasm function's index.
    index: u32,
    handlers: Vec<HandlerSite>,
    stack_maps: Vec<StackMapSite>,
    address_map: Vec<(u32, u32)>,
}

impl Blob {
    fn offset_of(&self, pc: usize) -> Option<u32> {
        let off = pc.checked_sub(self.start)?;
        (off < self.memory.as_slice().len()).then_some(off as u32)
    }
}

/// What has been queued and installed for a module.
struct Progress {
    /// By defined function: queued for promotion (or done, or failed).
    queued: Box<[bool]>,
    osr_queued: HashSet<(u32, u32)>,
    /// On-stack-replacement entries by (defined function, loop offset).
    osr: HashMap<(u32, u32), usize>,
    /// Loop entries that failed to compile.
    osr_failed: HashSet<(u32, u32)>,
    /// Installed code, sorted by address.
    blobs: Vec<Blob>,
    stats: TierStats,
}

impl Progress {
    /// The blob holding `pc`, and `pc`'s offset in it.
    fn blob_at(&self, pc: usize) -> Option<(&Blob, u32)> {
        let i = self
            .blobs
            .partition_point(|b| b.start <= pc)
            .checked_sub(1)?;
        let blob = &self.blobs[i];
        Some((blob, blob.offset_of(pc)?))
    }
}

/// A module's tiering state (see the module docs).
pub(crate) struct Tiering {
    /// The tier table: `defined` code addresses, then `defined` counters.
    /// Compiled code reads and writes it through the `VMContext`.
    table: Box<[AtomicI64]>,
    defined: u32,
    service: Arc<TierService>,
    module: Arc<ModuleTranslation>,
    /// Address of each defined function's entry in the module's image.
    image_entries: Box<[usize]>,
    /// The tier table's first entries (where baseline code continues).
    initial: Box<[usize]>,
    /// Address of each builtin stub in the module's image.
    image_stubs: HashMap<Builtin, usize>,
    state: Mutex<Progress>,
    me: Weak<Tiering>,
}

impl Tiering {
    /// Tiering for `module`, loaded as `code`, whose table entries start
    /// at the image offsets `entries` (`CompiledModule::tier_entries`).
    pub(crate) fn new(
        service: Arc<TierService>,
        module: Arc<ModuleTranslation>,
        code: &super::NativeCode,
        entries: &[u32],
    ) -> Arc<Tiering> {
        let base = code.base();
        let wasm_offsets = &code.wasm_offsets;
        let stubs = (code.meta.functions.iter())
            .filter_map(|f| match f.key {
                FuncKey::Builtin(b) => Some((b, base + f.range.start as usize)),
                _ => None,
            })
            .collect();
        let n = entries.len();
        let threshold = service.threshold;
        let table = entries
            .iter()
            .map(|&e| AtomicI64::new((base + e as usize) as i64))
            .chain((0..n).map(|_| AtomicI64::new(threshold)))
            .collect();
        Arc::new_cyclic(|me| Tiering {
            table,
            defined: n as u32,
            service,
            image_entries: wasm_offsets.iter().map(|&o| base + o as usize).collect(),
            initial: entries.iter().map(|&e| base + e as usize).collect(),
            image_stubs: stubs,
            module,
            state: Mutex::new(Progress {
                queued: vec![false; n].into_boxed_slice(),
                osr_queued: HashSet::new(),
                osr: HashMap::new(),
                osr_failed: HashSet::new(),
                blobs: Vec::new(),
                stats: TierStats::default(),
            }),
            me: me.clone(),
        })
    }

    /// The tier table's address, for the `VMContext`.
    pub(crate) fn table(&self) -> usize {
        self.table.as_ptr() as usize
    }

    /// What tiering has done so far.
    pub(crate) fn stats(&self) -> TierStats {
        self.state.lock().stats
    }

    fn counter(&self, defined: u32) -> Option<&AtomicI64> {
        self.table.get((self.defined + defined) as usize)
    }

    fn name(&self, defined: u32) -> String {
        let index = self.module.num_imported_funcs + defined;
        match self.module.func_name(index) {
            // Shown as backtraces show it (`trap.rs`).
            #[cfg(feature = "demangle")]
            Some(name) => format!("function {index} `{:#}`", rustc_demangle::demangle(name)),
            #[cfg(not(feature = "demangle"))]
            Some(name) => format!("function {index} `{name}`"),
            None => format!("function {index}"),
        }
    }

    /// The `tier_up` builtin: function `defined`'s counter ran out at its
    /// entry.
    pub(crate) fn hot(&self, defined: u32) {
        let Some(counter) = self.counter(defined) else {
            return;
        };
        counter.store(self.service.threshold, Ordering::Relaxed);
        self.queue_promotion(defined);
    }

    fn queue_promotion(&self, defined: u32) {
        {
            let mut state = self.state.lock();
            if core::mem::replace(&mut state.queued[defined as usize], true) {
                return;
            }
            state.stats.queued += 1;
        }
        self.service
            .log(format_args!("queued {} for Cranelift", self.name(defined)));
        self.service.submit(Job {
            tiering: self.me.clone(),
            defined,
            osr: None,
            queued: Instant::now(),
        });
    }

    /// The `tier_osr` builtin: function `defined`'s counter ran out at the
    /// header of the loop at wasm offset `at`. The entry into optimized
    /// code there if it is ready (0 if not: it is queued, with the
    /// function's promotion).
    pub(crate) fn osr_entry(&self, defined: u32, at: u32) -> usize {
        let entry = self.osr_entry_once(defined, at);
        if entry == 0 && self.service.sync {
            // Compiled just now, if it could be.
            return self.osr_entry_once(defined, at);
        }
        entry
    }

    fn osr_entry_once(&self, defined: u32, at: u32) -> usize {
        let Some(counter) = self.counter(defined) else {
            return 0;
        };
        counter.store(self.service.threshold, Ordering::Relaxed);
        let key = (defined, at);
        let queue = {
            let mut state = self.state.lock();
            if let Some(&entry) = state.osr.get(&key) {
                state.stats.osr_transfers += 1;
                drop(state);
                self.service.log(format_args!(
                    "on-stack replacement into {} at the loop at offset {at:#x}",
                    self.name(defined)
                ));
                return entry;
            }
            if state.osr_failed.contains(&key) {
                // It will not get better: stop asking.
                counter.store(i64::MAX / 2, Ordering::Relaxed);
                return 0;
            }
            state.osr_queued.insert(key)
        };
        self.queue_promotion(defined);
        if queue {
            self.service.log(format_args!(
                "queued an on-stack-replacement entry into {} at the loop at offset {at:#x}",
                self.name(defined)
            ));
            self.service.submit(Job {
                tiering: self.me.clone(),
                defined,
                osr: Some(at),
                queued: Instant::now(),
            });
        }
        0
    }

    /// Installs what a background thread compiled for `job`.
    fn install(
        &self,
        job: &Job,
        compiled: Result<CompiledFunction, CompileError>,
        compiler: &dyn Compiler,
        took: Duration,
    ) {
        let what = match job.osr {
            None => self.name(job.defined),
            Some(at) => format!(
                "the on-stack-replacement entry into {} at offset {at:#x}",
                self.name(job.defined)
            ),
        };
        let blob = compiled
            .map_err(|e| e.to_string())
            .and_then(|f| self.load(f, job, compiler).map_err(|e| e.to_string()));
        let mut state = self.state.lock();
        let blob = match blob {
            Ok(blob) => blob,
            Err(e) => {
                state.stats.failed += 1;
                match job.osr {
                    Some(at) => {
                        state.osr_failed.insert((job.defined, at));
                    }
                    // It will not get better: stop counting its calls.
                    None => {
                        if let Some(counter) = self.counter(job.defined) {
                            counter.store(i64::MAX / 2, Ordering::Relaxed);
                        }
                    }
                }
                drop(state);
                self.service
                    .log(format_args!("could not optimize {what}: {e}"));
                return;
            }
        };
        let addr = blob.start;
        let at = state.blobs.partition_point(|b| b.start < addr);
        state.blobs.insert(at, blob);
        match job.osr {
            None => {
                state.stats.promoted += 1;
                self.table[job.defined as usize].store(addr as i64, Ordering::Release);
            }
            Some(at) => {
                state.stats.osr_entries += 1;
                state.osr.insert((job.defined, at), addr);
            }
        }
        drop(state);
        let waited = job.queued.elapsed().saturating_sub(took);
        self.service.log(format_args!(
            "installed {what}: compiled in {:.2} ms after {:.2} ms in the queue",
            took.as_secs_f64() * 1e3,
            waited.as_secs_f64() * 1e3,
        ));
    }

    /// Lays `f` out in a new executable blob with the builtin stubs it
    /// needs that the image lacks, resolving its calls.
    fn load(&self, f: CompiledFunction, job: &Job, compiler: &dyn Compiler) -> Result<Blob> {
        if !cfg!(target_arch = "x86_64") {
            anyhow::bail!("tiering installs x86-64 code only");
        }
        let mut pieces = vec![f];
        for &b in &pieces[0].builtins.clone() {
            if !self.image_stubs.contains_key(&b) {
                pieces.push(
                    compiler
                        .compile_function(&self.module, FuncKey::Builtin(b))
                        .map_err(|e| anyhow!("{e}"))?,
                );
            }
        }
        let mut text: Vec<u8> = Vec::new();
        let mut at = Vec::with_capacity(pieces.len());
        for p in &pieces {
            let align = p.alignment.max(16) as usize;
            text.resize(text.len().next_multiple_of(align), 0xcc);
            at.push(text.len());
            text.extend_from_slice(&p.code);
        }
        let in_blob: HashMap<FuncKey, usize> =
            pieces.iter().zip(&at).map(|(p, &o)| (p.key, o)).collect();
        let this = FuncKey::Wasm(self.module.num_imported_funcs + job.defined);
        // Calls out of the blob go through veneers (`jmp [rip]; .quad
        // target`), which reach anywhere.
        let mut veneers: HashMap<usize, usize> = HashMap::new();
        let mut patches = Vec::new();
        for (p, &base) in pieces.iter().zip(&at) {
            for r in &p.relocations {
                if r.kind != RelocationKind::X86CallPcRel4 {
                    anyhow::bail!("unexpected relocation {:?}", r.kind);
                }
                let local = match r.target {
                    // A promoted function calls itself directly; an
                    // on-stack-replacement entry through its entry.
                    k if k == this && job.osr.is_none() => Some(0),
                    k @ FuncKey::Builtin(_) => in_blob.get(&k).copied(),
                    _ => None,
                };
                let target = match local {
                    Some(off) => off,
                    None => {
                        let addr = self.call_target(r.target)?;
                        *veneers.entry(addr).or_insert_with(|| {
                            text.resize(text.len().next_multiple_of(8), 0xcc);
                            let off = text.len();
                            text.extend_from_slice(&[0xff, 0x25, 0, 0, 0, 0]);
                            text.extend_from_slice(&(addr as u64).to_le_bytes());
                            off
                        })
                    }
                };
                patches.push((base + r.offset as usize, target, r.addend));
            }
        }
        for (site, target, addend) in patches {
            let rel = target as i64 + addend - site as i64;
            let rel = i32::try_from(rel).map_err(|_| anyhow!("a call out of range"))?;
            text[site..site + 4].copy_from_slice(&rel.to_le_bytes());
        }
        let mut traps: Vec<TrapSite> = Vec::new();
        for (p, &base) in pieces.iter().zip(&at) {
            traps.extend(p.traps.iter().map(|t| TrapSite {
                offset: t.offset + base as u32,
                code: t.code,
            }));
        }
        traps.sort_by_key(|t| t.offset);
        let memory = CodeMemory::new(&text).map_err(|e| anyhow!("failed to map code: {e}"))?;
        let (start, len) = (memory.as_slice().as_ptr() as usize, memory.as_slice().len());
        let lookup = super::trap_lookup(traps);
        let registration =
            register_code(start, len, lookup).map_err(|e| anyhow!("failed to register: {e}"))?;
        let f = pieces.swap_remove(0);
        Ok(Blob {
            _registration: registration,
            memory,
            start,
            func_len: f.code.len(),
            index: self.module.num_imported_funcs + job.defined,
            handlers: f.handlers,
            stack_maps: f.stack_maps,
            address_map: f.address_map,
        })
    }

    /// Where a call of `key` from optimized code goes: a promoted
    /// function's optimized code, else the function's (or builtin stub's)
    /// place in the image.
    fn call_target(&self, key: FuncKey) -> Result<usize> {
        match key {
            FuncKey::Wasm(i) => {
                let d = i
                    .checked_sub(self.module.num_imported_funcs)
                    .filter(|&d| d < self.defined)
                    .ok_or_else(|| anyhow!("a call of unknown function {i}"))?;
                // Optimized code is called directly; baseline code through
                // its tiering entry, so a later promotion is seen.
                let current = self.table[d as usize].load(Ordering::Acquire) as usize;
                let promoted = current != self.initial[d as usize];
                Ok(if promoted {
                    current
                } else {
                    self.image_entries[d as usize]
                })
            }
            FuncKey::Builtin(b) => self
                .image_stubs
                .get(&b)
                .copied()
                .ok_or_else(|| anyhow!("no stub for builtin `{}`", b.name())),
            other => Err(anyhow!("a call of {other}")),
        }
    }

    /// The function index and wasm offset of optimized code at `pc`.
    pub(crate) fn lookup_pc(&self, pc: usize) -> Option<(u32, Option<u32>)> {
        let state = self.state.lock();
        let (blob, off) = state.blob_at(pc)?;
        if off as usize >= blob.func_len {
            return None;
        }
        let j = blob.address_map.partition_point(|(o, _)| *o <= off);
        let wasm = j.checked_sub(1).map(|j| blob.address_map[j].1);
        Some((blob.index, wasm))
    }

    /// The exception handler of a call in optimized code returning to
    /// `ret`: its address and the call's frame offset.
    pub(crate) fn handler_at(&self, ret: usize) -> Option<(usize, u32)> {
        let state = self.state.lock();
        let (blob, off) = state.blob_at(ret)?;
        let i = (blob.handlers)
            .binary_search_by_key(&off, |h| h.ret_offset)
            .ok()?;
        let h = blob.handlers[i];
        Some((blob.start + h.handler_offset as usize, h.frame_offset))
    }

    /// The stack map of a call in optimized code returning to `ret`.
    pub(crate) fn stack_map_at(&self, ret: usize) -> Option<(u32, Vec<u32>)> {
        let state = self.state.lock();
        let (blob, off) = state.blob_at(ret)?;
        let maps = &blob.stack_maps;
        let i = maps.binary_search_by_key(&off, |m| m.ret_offset).ok()?;
        Some((maps[i].frame_offset, maps[i].slots.clone()))
    }
}
