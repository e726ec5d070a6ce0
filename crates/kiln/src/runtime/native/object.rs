//! Relocatable objects for static linking (`kiln compile --emit-object`):
//! a module's code in a text section the system linker places, its
//! metadata (an artifact without text) in read-only data, and one exported
//! [`StaticModule`](crate::StaticModule) descriptor pointing at both, which
//! `Module::from_static` reads.
//!
//! The code is position-independent and has no relocations of its own
//! (calls out of it go through the `VMContext`), so the only relocations
//! are the descriptor's two pointers, resolved by the linker.

use crate::prelude::*;
use anyhow::{Result, bail};
use object::write::{Object, Relocation, StandardSegment, Symbol, SymbolSection};
use object::{
    Architecture, BinaryFormat, Endianness, FileFlags, RelocationEncoding, RelocationFlags,
    RelocationKind, SectionFlags, SectionKind, SymbolFlags, SymbolKind, SymbolScope,
};

/// Alignment of the code in the final program. The compiler lays code
/// out for a page-aligned base (its constant pools and function entries
/// need at most this), as `CodeMemory` gives it.
const TEXT_ALIGN: u64 = 4096;

/// Whether `name` can be a C identifier (and so a linker symbol a host
/// program can declare).
pub(crate) fn is_symbol_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// An ELF relocatable object for `triple` exporting `symbol`, a
/// descriptor of the code `text` and the metadata `meta`.
pub(crate) fn write(triple: &str, symbol: &str, text: &[u8], meta: &[u8]) -> Result<Vec<u8>> {
    if !is_symbol_name(symbol) {
        bail!(
            "`{symbol}` is not a valid symbol name (letters, digits and `_`, not starting with a digit)"
        );
    }
    let arch = triple.split('-').next().unwrap_or("");
    let (architecture, endian, e_flags) = match arch {
        "x86_64" => (Architecture::X86_64, Endianness::Little, 0),
        "aarch64" => (Architecture::Aarch64, Endianness::Little, 0),
        "s390x" => (Architecture::S390x, Endianness::Big, 0),
        // RVC + the double-float ABI: what riscv64gc-linux objects carry,
        // so the linker accepts the object beside them.
        "riscv64" | "riscv64gc" => (Architecture::Riscv64, Endianness::Little, 0x1 | 0x4),
        _ => bail!(
            "objects for static linking are written for x86_64, aarch64, s390x and riscv64 Linux, not `{triple}`"
        ),
    };
    let mut obj = Object::new(BinaryFormat::Elf, architecture, endian);
    obj.flags = FileFlags::Elf {
        os_abi: 0,
        abi_version: 0,
        e_flags,
    };

    let section = |obj: &mut Object<'_>, kind: StandardSegment, name: String, k: SectionKind| {
        obj.add_section(obj.segment_name(kind).to_vec(), name.into_bytes(), k)
    };
    let text_id = section(
        &mut obj,
        StandardSegment::Text,
        format!(".text.kiln.{symbol}"),
        SectionKind::Text,
    );
    obj.append_section_data(text_id, text, TEXT_ALIGN);
    let meta_id = section(
        &mut obj,
        StandardSegment::Data,
        format!(".rodata.kiln.{symbol}"),
        SectionKind::ReadOnlyData,
    );
    obj.append_section_data(meta_id, meta, 8);

    // The descriptor: magic, text pointer and length, metadata pointer
    // and length (`StaticModule`'s layout on a 64-bit target).
    let word = |v: u64| match endian {
        Endianness::Little => v.to_le_bytes(),
        Endianness::Big => v.to_be_bytes(),
    };
    let mut desc = Vec::with_capacity(40);
    desc.extend_from_slice(&crate::StaticModule::MAGIC);
    desc.extend_from_slice(&word(0));
    desc.extend_from_slice(&word(text.len() as u64));
    desc.extend_from_slice(&word(0));
    desc.extend_from_slice(&word(meta.len() as u64));
    let desc_id = section(
        &mut obj,
        StandardSegment::Data,
        format!(".data.rel.ro.kiln.{symbol}"),
        SectionKind::ReadOnlyDataWithRel,
    );
    obj.append_section_data(desc_id, &desc, 8);
    for (offset, target) in [(8, text_id), (24, meta_id)] {
        let target = obj.section_symbol(target);
        obj.add_relocation(
            desc_id,
            Relocation {
                offset,
                symbol: target,
                addend: 0,
                flags: RelocationFlags::Generic {
                    kind: RelocationKind::Absolute,
                    encoding: RelocationEncoding::Generic,
                    size: 64,
                },
            },
        )?;
    }
    obj.add_symbol(Symbol {
        name: symbol.as_bytes().to_vec(),
        value: 0,
        size: desc.len() as u64,
        kind: SymbolKind::Data,
        scope: SymbolScope::Linkage,
        weak: false,
        section: SymbolSection::Section(desc_id),
        flags: SymbolFlags::None,
    });

    // No executable stack: without this note GNU ld assumes the object
    // needs one and makes the program's stack executable.
    let note = section(
        &mut obj,
        StandardSegment::Data,
        ".note.GNU-stack".to_string(),
        SectionKind::ReadOnlyData,
    );
    obj.section_mut(note).flags = SectionFlags::Elf { sh_flags: 0 };

    Ok(obj.write()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_names_are_c_identifiers() {
        assert!(is_symbol_name("kiln_module_app"));
        assert!(is_symbol_name("_x1"));
        assert!(!is_symbol_name("1app"));
        assert!(!is_symbol_name("app-1"));
        assert!(!is_symbol_name(""));
    }

    #[test]
    fn objects_are_refused_for_other_targets_and_bad_names() {
        let err = write("wasm32-wasip1", "m", &[0; 4], &[1]).unwrap_err();
        assert!(err.to_string().contains("x86_64, aarch64"), "{err}");
        let err = write("x86_64-unknown-linux-gnu", "a b", &[0; 4], &[1]).unwrap_err();
        assert!(err.to_string().contains("not a valid symbol"), "{err}");
    }
}
