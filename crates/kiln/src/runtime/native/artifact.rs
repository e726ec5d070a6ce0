//! Precompiled modules: the file `kiln compile` writes and
//! `Module::deserialize` loads.
//!
//! An artifact holds the module's wasm binary (its metadata is parsed
//! again on load, which is cheap; function bodies are neither validated
//! nor compiled again) and the compiler's position-independent text image
//! with the tables the runtime needs (function ranges, trap sites, address
//! map, trampolines). It is only loadable by an engine whose *fingerprint*
//! matches: the same Kiln version and artifact format, compiler backend,
//! target triple, code generator flags, CPU features, trap mode, tunables and wasm features. The layout is
//! in `docs/precompiled.md`.
//!
//! Parsing is careful (bad input is an error, never a panic or an
//! out-of-bounds access), but an artifact's machine code is run as is:
//! loading one is only as safe as the file is trustworthy, which is why
//! `Module::deserialize` is `unsafe`.

use crate::prelude::*;
use kiln_environ::{
    Builtin, CompiledModule, FuncKey, FunctionLocation, HandlerSite, StackMapSite, TrapCode,
    TrapSite,
};

/// The first bytes of every artifact (no wasm binary starts this way).
pub(crate) const MAGIC: &[u8; 8] = b"\0kilnaot";

/// Bumped whenever the layout below or the native ABI changes.
const FORMAT_VERSION: u32 = 7;

/// Whether `bytes` looks like an artifact (it may still fail to load).
pub(crate) fn is_artifact(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// A parsed artifact, borrowing from the file's bytes.
pub(crate) struct Artifact<'a> {
    /// The compatibility fingerprint of the engine that wrote it.
    pub(crate) fingerprint: &'a str,
    /// The module's wasm binary.
    pub(crate) wasm: &'a [u8],
    /// The compiled code's text image, in place in the file's bytes.
    pub(crate) text: &'a [u8],
    /// The compiled code's tables (its `text` is empty: see `text`).
    pub(crate) compiled: CompiledModule,
}

/// Writes an artifact for `wasm` compiled as `compiled`, whose text image
/// is `text` (`compiled.text` itself is ignored: a loaded module keeps
/// its text in executable memory, not in the metadata).
pub(crate) fn write(
    fingerprint: &str,
    wasm: &[u8],
    compiled: &CompiledModule,
    text: &[u8],
) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(wasm.len() + text.len() + 4096));
    w.0.extend_from_slice(MAGIC);
    w.u32(FORMAT_VERSION);
    w.bytes(env!("CARGO_PKG_VERSION").as_bytes());
    w.bytes(fingerprint.as_bytes());
    w.bytes(compiled.triple.as_bytes());
    w.bytes(wasm);
    w.bytes(text);
    w.u32(compiled.num_defined_funcs);
    w.len(compiled.functions.len());
    for f in &compiled.functions {
        w.key(f.key);
        w.u32(f.range.start);
        w.u32(f.range.end);
    }
    w.len(compiled.traps.len());
    for t in &compiled.traps {
        w.u32(t.offset);
        w.u8(trap_index(t.code));
    }
    w.len(compiled.handlers.len());
    for h in &compiled.handlers {
        w.u32(h.ret_offset);
        w.u32(h.handler_offset);
        w.u32(h.frame_offset);
    }
    w.len(compiled.stack_maps.len());
    for m in &compiled.stack_maps {
        w.u32(m.ret_offset);
        w.u32(m.frame_offset);
        w.len(m.slots.len());
        for &s in &m.slots {
            w.u32(s);
        }
    }
    w.len(compiled.address_map.len());
    for &(code, wasm) in &compiled.address_map {
        w.u32(code);
        w.u32(wasm);
    }
    w.len(compiled.wasm_to_array.len());
    for &k in &compiled.wasm_to_array {
        w.key(k);
    }
    w.0
}

/// Why an artifact could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ArtifactError {
    /// Not an artifact at all.
    #[error("not a Kiln precompiled module")]
    NotAnArtifact,
    /// Written by another Kiln or artifact format.
    #[error(
        "the precompiled module was written by Kiln {version} (artifact format {format}); this is Kiln {} (format {FORMAT_VERSION}): compile it again",
        env!("CARGO_PKG_VERSION")
    )]
    Version {
        /// The writer's Kiln version.
        version: String,
        /// The writer's format number.
        format: u32,
    },
    /// Cut short or internally inconsistent.
    #[error("the precompiled module is corrupt: {0}")]
    Corrupt(&'static str),
}

/// Parses an artifact. Checks its structure (every range inside the text,
/// tables sorted, counts consistent), not its code.
pub(crate) fn read(bytes: &[u8]) -> Result<Artifact<'_>, ArtifactError> {
    read_parts(bytes, None)
}

/// Parses the metadata of a statically linked module: an artifact whose
/// own text is empty, checked against `text`, the code the linker placed.
pub(crate) fn read_linked<'a>(
    meta: &'a [u8],
    text: &'a [u8],
) -> Result<Artifact<'a>, ArtifactError> {
    read_parts(meta, Some(text))
}

fn read_parts<'a>(
    bytes: &'a [u8],
    linked: Option<&'a [u8]>,
) -> Result<Artifact<'a>, ArtifactError> {
    let Some(rest) = bytes.strip_prefix(MAGIC) else {
        return Err(ArtifactError::NotAnArtifact);
    };
    let mut r = Reader(rest);
    let format = r.u32()?;
    let version = r.bytes()?;
    if format != FORMAT_VERSION || version != env!("CARGO_PKG_VERSION").as_bytes() {
        return Err(ArtifactError::Version {
            version: String::from_utf8_lossy(version).into_owned(),
            format,
        });
    }
    let fingerprint = r.str()?;
    let triple = r.str()?.to_string();
    let wasm = r.bytes()?;
    let text = match (r.bytes()?, linked) {
        (own, None) => own,
        ([], Some(linked)) => linked,
        (_, Some(_)) => return Err(corrupt("a linked module's metadata holds its own text")),
    };
    let num_defined_funcs = r.u32()?;
    let text_len = u32::try_from(text.len()).map_err(|_| corrupt("text too large"))?;

    let n = r.len(9)?;
    let mut functions = Vec::with_capacity(n);
    for _ in 0..n {
        let key = r.key()?;
        let (start, end) = (r.u32()?, r.u32()?);
        if start > end || end > text_len {
            return Err(corrupt("a function lies outside the text"));
        }
        if functions
            .last()
            .is_some_and(|f: &FunctionLocation| f.range.end > start)
        {
            return Err(corrupt("functions overlap or are out of order"));
        }
        functions.push(FunctionLocation {
            key,
            range: start..end,
        });
    }
    // The two big tables are read a fixed-size record at a time from one
    // checked slice: a large module has millions of entries.
    let n = r.len(5)?;
    let mut traps = Vec::with_capacity(n);
    for rec in r.take(n * 5)?.chunks_exact(5) {
        let offset = u32::from_le_bytes([rec[0], rec[1], rec[2], rec[3]]);
        let code = *TrapCode::ALL
            .get(usize::from(rec[4]))
            .ok_or(corrupt("unknown trap code"))?;
        if offset >= text_len || traps.last().is_some_and(|t: &TrapSite| t.offset >= offset) {
            return Err(corrupt("trap sites out of order or outside the text"));
        }
        traps.push(TrapSite { offset, code });
    }
    let n = r.len(12)?;
    let mut handlers = Vec::with_capacity(n);
    for rec in r.take(n * 12)?.chunks_exact(12) {
        let word = |i: usize| u32::from_le_bytes([rec[i], rec[i + 1], rec[i + 2], rec[i + 3]]);
        let h = HandlerSite {
            ret_offset: word(0),
            handler_offset: word(4),
            frame_offset: word(8),
        };
        if h.ret_offset > text_len
            || h.handler_offset >= text_len
            || handlers
                .last()
                .is_some_and(|l: &HandlerSite| l.ret_offset >= h.ret_offset)
        {
            return Err(corrupt("handler sites out of order or outside the text"));
        }
        handlers.push(h);
    }
    let n = r.len(16)?;
    let mut stack_maps = Vec::with_capacity(n);
    for _ in 0..n {
        let ret_offset = r.u32()?;
        let frame_offset = r.u32()?;
        let count = r.len(4)?;
        let slots = (0..count).map(|_| r.u32()).collect::<Result<Vec<_>, _>>()?;
        if ret_offset > text_len
            || stack_maps
                .last()
                .is_some_and(|l: &StackMapSite| l.ret_offset >= ret_offset)
        {
            return Err(corrupt("stack maps out of order or outside the text"));
        }
        stack_maps.push(StackMapSite {
            ret_offset,
            frame_offset,
            slots,
        });
    }
    let n = r.len(8)?;
    let mut address_map = Vec::with_capacity(n);
    for rec in r.take(n * 8)?.chunks_exact(8) {
        let entry = (
            u32::from_le_bytes([rec[0], rec[1], rec[2], rec[3]]),
            u32::from_le_bytes([rec[4], rec[5], rec[6], rec[7]]),
        );
        if address_map
            .last()
            .is_some_and(|last: &(u32, u32)| last.0 > entry.0)
        {
            return Err(corrupt("address map out of order"));
        }
        address_map.push(entry);
    }
    let n = r.len(5)?;
    let mut wasm_to_array = Vec::with_capacity(n);
    for _ in 0..n {
        wasm_to_array.push(r.key()?);
    }
    if !r.0.is_empty() {
        return Err(corrupt("trailing bytes"));
    }
    Ok(Artifact {
        fingerprint,
        wasm,
        text,
        compiled: CompiledModule {
            triple,
            text: Vec::new(),
            functions,
            traps,
            handlers,
            stack_maps,
            address_map,
            wasm_to_array,
            num_defined_funcs,
            tier_entries: Vec::new(),
        },
    })
}

fn corrupt(what: &'static str) -> ArtifactError {
    ArtifactError::Corrupt(what)
}

fn trap_index(code: TrapCode) -> u8 {
    let i = TrapCode::ALL.iter().position(|c| *c == code);
    // `ALL` lists every code (checked by a test in kiln-environ).
    i.map_or(u8::MAX, |i| i as u8)
}

/// Little-endian output.
struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }

    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    /// A count; artifacts come from `u32`-indexed tables.
    fn len(&mut self, n: usize) {
        self.0.extend_from_slice(&(n as u64).to_le_bytes());
    }

    fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.0.extend_from_slice(b);
    }

    fn key(&mut self, k: FuncKey) {
        let (tag, index) = match k {
            FuncKey::Wasm(i) => (0, i),
            FuncKey::ArrayToWasm(i) => (1, i),
            FuncKey::WasmToArray(i) => (2, i),
            FuncKey::Builtin(b) => (3, b.index()),
        };
        self.u8(tag);
        self.u32(index);
    }
}

/// Little-endian input that fails instead of reading past the end.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ArtifactError> {
        if n > self.0.len() {
            return Err(corrupt("cut short"));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, ArtifactError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, ArtifactError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A count of items of at least `item_size` bytes each, checked
    /// against what is left so that a corrupt count cannot make the
    /// reader allocate more than the file's size.
    fn len(&mut self, item_size: usize) -> Result<usize, ArtifactError> {
        let b = self.take(8)?;
        let n = u64::from_le_bytes(b.try_into().map_err(|_| corrupt("cut short"))?);
        let n = usize::try_from(n).map_err(|_| corrupt("count too large"))?;
        if n.checked_mul(item_size.max(1))
            .is_none_or(|bytes| bytes > self.0.len())
        {
            return Err(corrupt("count larger than the file"));
        }
        Ok(n)
    }

    fn bytes(&mut self) -> Result<&'a [u8], ArtifactError> {
        let n = self.len(1)?;
        self.take(n)
    }

    fn str(&mut self) -> Result<&'a str, ArtifactError> {
        core::str::from_utf8(self.bytes()?).map_err(|_| corrupt("a string is not UTF-8"))
    }

    fn key(&mut self) -> Result<FuncKey, ArtifactError> {
        let tag = self.u8()?;
        let index = self.u32()?;
        Ok(match tag {
            0 => FuncKey::Wasm(index),
            1 => FuncKey::ArrayToWasm(index),
            2 => FuncKey::WasmToArray(index),
            3 => FuncKey::Builtin(Builtin::from_index(index).ok_or(corrupt("unknown builtin"))?),
            _ => return Err(corrupt("unknown code kind")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (CompiledModule, Vec<u8>) {
        let text = vec![0xcc; 64];
        let compiled = CompiledModule {
            triple: "x86_64-unknown-linux-gnu".into(),
            text: Vec::new(),
            functions: vec![
                FunctionLocation {
                    key: FuncKey::Wasm(1),
                    range: 0..16,
                },
                FunctionLocation {
                    key: FuncKey::ArrayToWasm(1),
                    range: 16..32,
                },
                FunctionLocation {
                    key: FuncKey::WasmToArray(0),
                    range: 32..48,
                },
                FunctionLocation {
                    key: FuncKey::Builtin(Builtin::ALL[0]),
                    range: 48..64,
                },
            ],
            stack_maps: vec![StackMapSite {
                ret_offset: 12,
                frame_offset: 32,
                slots: vec![0, 8],
            }],
            handlers: vec![HandlerSite {
                ret_offset: 5,
                handler_offset: 12,
                frame_offset: 32,
            }],
            traps: vec![
                TrapSite {
                    offset: 3,
                    code: TrapCode::MemoryOutOfBounds,
                },
                TrapSite {
                    offset: 9,
                    code: TrapCode::NullReference,
                },
            ],
            address_map: vec![(0, 40), (5, 44)],
            wasm_to_array: vec![FuncKey::WasmToArray(0)],
            num_defined_funcs: 1,
            tier_entries: Vec::new(),
        };
        (compiled, text)
    }

    #[test]
    fn round_trips() {
        let (compiled, text) = sample();
        let bytes = write("fp", b"\0asm\x01\0\0\0", &compiled, &text);
        assert!(is_artifact(&bytes));
        let a = read(&bytes).unwrap();
        assert_eq!(a.fingerprint, "fp");
        assert_eq!(a.wasm, b"\0asm\x01\0\0\0");
        assert_eq!(a.text, &text[..]);
        assert_eq!(a.compiled.functions, compiled.functions);
        assert_eq!(a.compiled.traps, compiled.traps);
        assert_eq!(a.compiled.address_map, compiled.address_map);
        assert_eq!(a.compiled.wasm_to_array, compiled.wasm_to_array);
        assert_eq!(a.compiled.num_defined_funcs, 1);
        assert_eq!(a.compiled.triple, compiled.triple);
    }

    #[test]
    fn every_truncation_and_bit_flip_is_an_error_or_consistent() {
        let (compiled, text) = sample();
        let bytes = write("fp", b"\0asm\x01\0\0\0", &compiled, &text);
        for len in 0..bytes.len() {
            assert!(read(&bytes[..len]).is_err(), "truncated to {len}");
        }
        // A flipped byte may still parse (it may sit in the code), but
        // never panics, and what parses keeps its ranges inside the text.
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0xa5;
            if let Ok(a) = read(&b) {
                let len = a.text.len() as u32;
                assert!(a.compiled.functions.iter().all(|f| f.range.end <= len));
                assert!(a.compiled.traps.iter().all(|t| t.offset < len));
            }
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(read(&longer), Err(ArtifactError::Corrupt(_))));
    }

    #[test]
    fn foreign_files_and_versions_are_named() {
        assert!(matches!(
            read(b"\0asm\x01\0\0\0"),
            Err(ArtifactError::NotAnArtifact)
        ));
        let (compiled, text) = sample();
        let mut bytes = write("fp", b"", &compiled, &text);
        bytes[MAGIC.len()] = 99; // format version
        let err = read(&bytes).err().unwrap();
        assert!(matches!(err, ArtifactError::Version { format: 99, .. }));
        assert!(err.to_string().contains("compile it again"), "{err}");
    }
}
