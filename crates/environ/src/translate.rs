//! The single pass over a binary: every payload goes through the validator
//! and, once accepted, into the [`ModuleTranslation`].

use crate::{
    ConstExpr, DataSegment, DataSegmentKind, ElemItems, ElemSegment, ElemSegmentKind, EntityType,
    Export, ExternKind, FunctionBody, GlobalType, Import, MemoryType, ModuleTranslation, RefType,
    SubType, TableType, TranslationError, TypeKind, ValType,
};
use alloc::string::ToString;
use alloc::vec::Vec;
use wasmparser::{FuncValidatorAllocations, Parser, Payload, Validator, WasmFeatures};

/// The proposals Kiln implements, all on by default: WebAssembly 3.0 (SIMD,
/// tail calls, extended constant expressions, multiple memories, relaxed
/// SIMD, memory64, typed function references, exceptions and GC), plus
/// wide arithmetic and the legacy exception instructions.
pub fn default_features() -> WasmFeatures {
    WasmFeatures::WASM2
        | WasmFeatures::TAIL_CALL
        | WasmFeatures::EXTENDED_CONST
        | WasmFeatures::MULTI_MEMORY
        | WasmFeatures::RELAXED_SIMD
        | WasmFeatures::WIDE_ARITHMETIC
        | WasmFeatures::MEMORY64
        | WasmFeatures::FUNCTION_REFERENCES
        | WasmFeatures::EXCEPTIONS
        | WasmFeatures::LEGACY_EXCEPTIONS
        | WasmFeatures::GC
}

/// A defined function whose body has not been validated yet, as
/// [`translate_module_deferred`] hands it out: the backend validates it
/// operator by operator while translating, so the body is decoded once.
pub type FuncToValidate = wasmparser::FuncToValidate<wasmparser::ValidatorResources>;

/// Decodes and validates `wasm` under `features`, producing its translation.
///
/// Function bodies are fully validated here, so backends may assume every
/// body is valid.
pub fn translate_module(
    wasm: &[u8],
    features: WasmFeatures,
) -> Result<ModuleTranslation, TranslationError> {
    let mut allocs = FuncValidatorAllocations::default();
    translate(wasm, features, |func, body| {
        let mut v = func.into_validator(core::mem::take(&mut allocs));
        v.validate(body)?;
        allocs = v.into_allocations();
        Ok(())
    })
}

/// Like [`translate_module`], but validates everything except the function
/// bodies, which it returns in order (one per entry of
/// [`ModuleTranslation::bodies`]) for the caller to validate.
///
/// A backend that decodes every body anyway (the interpreter's eager
/// translator) validates as it goes and so decodes each body once instead
/// of twice. Until every body has been validated, the module must be
/// treated as unvalidated.
pub fn translate_module_deferred(
    wasm: &[u8],
    features: WasmFeatures,
) -> Result<(ModuleTranslation, Vec<FuncToValidate>), TranslationError> {
    let mut funcs = Vec::new();
    let t = translate(wasm, features, |func, _| {
        funcs.push(func);
        Ok(())
    })?;
    Ok((t, funcs))
}

/// The one pass over `wasm` both entry points share; `on_body` gets each
/// function body once the validator has accepted everything before it.
fn translate(
    wasm: &[u8],
    features: WasmFeatures,
    mut on_body: impl FnMut(
        FuncToValidate,
        &wasmparser::FunctionBody<'_>,
    ) -> Result<(), TranslationError>,
) -> Result<ModuleTranslation, TranslationError> {
    let mut validator = Validator::new_with_features(features);
    let mut t = ModuleTranslation {
        wasm: wasm.to_vec(),
        ..Default::default()
    };
    // The parser decodes some encodings differently per feature (e.g. 64-bit
    // limits under memory64), so it must see the same set as the validator.
    let mut parser = Parser::new(0);
    parser.set_features(features);
    for payload in parser.parse_all(wasm) {
        let payload = payload?;
        match validator.payload(&payload)? {
            wasmparser::ValidPayload::Func(func, body) => on_body(func, &body)?,
            wasmparser::ValidPayload::End(_) => {}
            wasmparser::ValidPayload::Ok => {}
            wasmparser::ValidPayload::Parser(_) => {
                return Err(TranslationError::unsupported(
                    "nested modules are not supported",
                    0,
                ));
            }
        }
        translate_payload(&mut t, payload)?;
    }
    Ok(t)
}

fn translate_payload(
    t: &mut ModuleTranslation,
    payload: Payload<'_>,
) -> Result<(), TranslationError> {
    match payload {
        Payload::TypeSection(reader) => {
            for group in reader.into_iter_with_offsets() {
                let (offset, group) = group?;
                let start = t.types.len() as u32;
                // A group's types may name each other, so their kinds are
                // known before any of them is converted.
                let kinds: Vec<TypeKind> = t
                    .types
                    .iter()
                    .map(SubType::kind)
                    .chain(group.types().map(crate::composite::wasmparser_kind))
                    .collect();
                let kind_of = |i: u32| kinds[i as usize];
                for sub in group.types() {
                    t.types
                        .push(SubType::from_wasmparser(sub, &kind_of, offset)?);
                }
                t.rec_groups.push(start..t.types.len() as u32);
            }
        }
        Payload::ImportSection(reader) => {
            for import in reader.into_imports_with_offsets() {
                let (offset, import) = import?;

                let ty = match import.ty {
                    wasmparser::TypeRef::Func(idx) => {
                        t.functions.push(idx);
                        t.num_imported_funcs += 1;
                        EntityType::Func(idx)
                    }
                    wasmparser::TypeRef::Table(tt) => {
                        let tt = TableType::from_wasmparser(&tt, &kind_of(t), offset)?;
                        t.tables.push(tt);
                        t.num_imported_tables += 1;
                        EntityType::Table(tt)
                    }
                    wasmparser::TypeRef::Memory(m) => {
                        let m = MemoryType::from_wasmparser(&m);
                        t.memories.push(m);
                        t.num_imported_memories += 1;
                        EntityType::Memory(m)
                    }
                    wasmparser::TypeRef::Global(g) => {
                        let g = GlobalType::from_wasmparser(&g, &kind_of(t), offset)?;
                        t.globals.push(g);
                        t.num_imported_globals += 1;
                        EntityType::Global(g)
                    }
                    wasmparser::TypeRef::Tag(tag) => {
                        t.tags.push(tag.func_type_idx);
                        t.num_imported_tags += 1;
                        EntityType::Tag(tag.func_type_idx)
                    }
                    _ => {
                        return Err(TranslationError::unsupported(
                            "unsupported import kind",
                            offset,
                        ));
                    }
                };
                t.imports.push(Import {
                    module: import.module.to_string(),
                    field: import.name.to_string(),
                    ty,
                });
            }
        }
        Payload::FunctionSection(reader) => {
            for ty in reader {
                t.functions.push(ty?);
            }
        }
        Payload::TableSection(reader) => {
            for table in reader.into_iter_with_offsets() {
                let (offset, table) = table?;
                let ty = TableType::from_wasmparser(&table.ty, &kind_of(t), offset)?;
                let init = match table.init {
                    wasmparser::TableInit::RefNull => None,
                    wasmparser::TableInit::Expr(e) => {
                        Some(ConstExpr::from_wasmparser(&e, &kind_of(t))?)
                    }
                };
                t.tables.push(ty);
                t.table_inits.push(init);
            }
        }
        Payload::MemorySection(reader) => {
            for m in reader {
                t.memories.push(MemoryType::from_wasmparser(&m?));
            }
        }
        Payload::GlobalSection(reader) => {
            for g in reader.into_iter_with_offsets() {
                let (offset, g) = g?;
                let ty = GlobalType::from_wasmparser(&g.ty, &kind_of(t), offset)?;
                let init = ConstExpr::from_wasmparser(&g.init_expr, &kind_of(t))?;
                t.globals.push(ty);
                t.global_inits.push(init);
            }
        }
        Payload::ExportSection(reader) => {
            for e in reader.into_iter_with_offsets() {
                let (offset, e) = e?;
                let kind = match e.kind {
                    wasmparser::ExternalKind::Func => ExternKind::Func,
                    wasmparser::ExternalKind::Table => ExternKind::Table,
                    wasmparser::ExternalKind::Memory => ExternKind::Memory,
                    wasmparser::ExternalKind::Global => ExternKind::Global,
                    wasmparser::ExternalKind::Tag => ExternKind::Tag,
                    _ => {
                        return Err(TranslationError::unsupported(
                            "unsupported export kind",
                            offset,
                        ));
                    }
                };
                t.exports.push(Export {
                    name: e.name.to_string(),
                    kind,
                    index: e.index,
                });
            }
        }
        Payload::TagSection(reader) => {
            for tag in reader {
                t.tags.push(tag?.func_type_idx);
            }
        }
        Payload::StartSection { func, .. } => t.start = Some(func),
        Payload::ElementSection(reader) => {
            for elem in reader.into_iter_with_offsets() {
                let (offset, elem) = elem?;
                let kind = match elem.kind {
                    wasmparser::ElementKind::Passive => ElemSegmentKind::Passive,
                    wasmparser::ElementKind::Declared => ElemSegmentKind::Declared,
                    wasmparser::ElementKind::Active {
                        table_index,
                        offset_expr,
                    } => ElemSegmentKind::Active {
                        table: table_index.unwrap_or(0),
                        offset: ConstExpr::from_wasmparser(&offset_expr, &kind_of(t))?,
                    },
                };
                let (ty, items) = match elem.items {
                    wasmparser::ElementItems::Functions(funcs) => (
                        ValType::FUNCREF,
                        ElemItems::Functions(funcs.into_iter().collect::<Result<_, _>>()?),
                    ),
                    wasmparser::ElementItems::Expressions(rt, exprs) => {
                        let ty = ValType::Ref(RefType::from_wasmparser(rt, &kind_of(t), offset)?);
                        let mut items = Vec::new();
                        for e in exprs {
                            items.push(ConstExpr::from_wasmparser(&e?, &kind_of(t))?);
                        }
                        (ty, ElemItems::Expressions(items))
                    }
                };
                t.elems.push(ElemSegment { kind, ty, items });
            }
        }
        Payload::DataSection(reader) => {
            for d in reader {
                let d = d?;
                let kind = match d.kind {
                    wasmparser::DataKind::Passive => DataSegmentKind::Passive,
                    wasmparser::DataKind::Active {
                        memory_index,
                        offset_expr,
                    } => DataSegmentKind::Active {
                        memory: memory_index,
                        offset: ConstExpr::from_wasmparser(&offset_expr, &kind_of(t))?,
                    },
                };
                // `d.data` borrows the binary; record where it lies instead.
                let end = d.range.end as usize;
                let start = end - d.data.len();
                t.datas.push(DataSegment {
                    kind,
                    data: start..end,
                });
            }
        }
        Payload::CodeSectionEntry(body) => {
            let index = t.num_imported_funcs as usize + t.bodies.len();
            t.bodies.push(FunctionBody {
                type_index: t.functions[index],
                range: body.range().start as usize..body.range().end as usize,
            });
        }
        Payload::CustomSection(section) => {
            if let wasmparser::KnownCustom::Name(names) = section.as_known() {
                // A malformed name section does not invalidate the module
                // (spec appendix), so decoding errors here are ignored.
                let _ = read_names(t, names);
            }
        }
        _ => {}
    }
    Ok(())
}

/// What each of `t`'s type indices names, for converting the types of the
/// sections after the type section.
fn kind_of(t: &ModuleTranslation) -> impl Fn(u32) -> TypeKind + '_ {
    |i| t.type_kind(i)
}

fn read_names(
    t: &mut ModuleTranslation,
    reader: wasmparser::NameSectionReader<'_>,
) -> Result<(), wasmparser::BinaryReaderError> {
    for name in reader {
        match name? {
            wasmparser::Name::Module { name, .. } => t.names.module = Some(name.to_string()),
            wasmparser::Name::Function(map) => {
                for naming in map {
                    let naming = naming?;
                    t.names
                        .functions
                        .insert(naming.index, naming.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // A minimal module, hand-assembled: (func (export "f") (result i32) i32.const 7)
    const ADD: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // header
        0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, // type: () -> i32
        0x03, 0x02, 0x01, 0x00, // function: type 0
        0x07, 0x05, 0x01, 0x01, b'f', 0x00, 0x00, // export "f" func 0
        0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x07, 0x0b, // code
    ];

    #[test]
    fn translates_a_small_module() {
        let t = translate_module(ADD, default_features()).unwrap();
        assert_eq!(t.types.len(), 1);
        assert_eq!(*t.signature(0).results, [ValType::I32]);
        assert_eq!(t.functions, [0]);
        assert_eq!(t.exports[0].name, "f");
        assert_eq!(t.bodies.len(), 1);
        let body = t.function_body_reader(0);
        let mut ops = body.get_operators_reader().unwrap();
        assert!(matches!(
            ops.read().unwrap(),
            wasmparser::Operator::I32Const { value: 7 }
        ));
    }

    #[test]
    fn reports_offset_of_truncation() {
        let err = translate_module(&ADD[..ADD.len() - 3], default_features()).unwrap_err();
        assert!(
            err.offset > 8,
            "offset {} should point into the code",
            err.offset
        );
    }

    #[test]
    fn rejects_invalid_body() {
        let mut bad = ADD.to_vec();
        // i32.const 7 → f32.const... truncated: replace opcode with i64.const,
        // which leaves an i64 where the type says i32.
        let pos = bad.iter().rposition(|&b| b == 0x41).unwrap();
        bad[pos] = 0x42;
        assert!(translate_module(&bad, default_features()).is_err());
    }
}
