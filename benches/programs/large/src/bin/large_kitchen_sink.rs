//! A very large module: the kind of crate mix a real application links,
//! namely `syn` (full syntax tree with visit, fold and extra traits) with
//! `prettyplease`, `toml`, `serde_json`, `regex`, `pulldown-cmark`, and the
//! wasm tool chain (`wasm-encoder`, `wasmparser`, `wasmprinter`, `wat`).
//! Measures compile time of a big module and start-up; the run itself is
//! short, touching each library once.
//!
//! Self-check: generated Rust source must survive parse, pretty-print and
//! re-parse with an equal syntax tree, a folded tree must show its edits,
//! TOML and JSON round trips must give back equal values, a regex count
//! must equal what the generator wrote, a generated wasm module must
//! validate and print identically after a text round trip, and the
//! checksum over all outputs must match the recorded constant.

use kiln_bench_programs::{Checksum, Rng, check, fail, finish};
use pulldown_cmark::{Parser, html};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use syn::fold::Fold;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;

const NAME: &str = "large_kitchen_sink";
const FUNCTIONS: u32 = 24;
const EXPECTED: u64 = 0xb962b6a7c6425edb;

/// Writes Rust source in the layout prettyplease prints (trailing commas
/// included), so the re-parsed tree can be compared for equality.
fn rust_source(rng: &mut Rng) -> String {
    let mut src = String::from("//! generated\nuse std::collections::HashMap;\n\n");
    for i in 0..FUNCTIONS {
        let (k, m, t) = (rng.below(1000), rng.below(1 << 20) | 1, rng.below(1 << 30));
        src.push_str(&format!(
            "#[inline] pub fn f{i}(a: u32, b: u32) -> u32 {{ let mut x = a ^ {k}; \
             for j in 0..b {{ x = x.wrapping_mul({m}).rotate_left(j % 7) + {k}; }} \
             if x > {t} {{ x - 1 }} else {{ match b {{ 0 => a, 1 | 2 => x >> 3, _ => x + a, }} }} }}\n"
        ));
        if i % 6 == 0 {
            src.push_str(&format!(
                "#[derive(Debug, Clone)] pub struct S{i}<T: Clone> {{ items: Vec<T>, index: HashMap<String, usize>, flag: bool, }}\n\
                 impl<T: Clone> S{i}<T> {{ pub fn get(&self, key: &str) -> Option<&T> {{ self.index.get(key).and_then(|&i| self.items.get(i)) }} }}\n\
                 pub enum E{i} {{ A, B(u8, i64), C {{ name: &'static str }}, }}\n"
            ));
        }
    }
    src
}

/// Counts the shapes the generator emits, to compare with what it wrote.
#[derive(Default)]
struct Census {
    functions: u32,
    binaries: u32,
    matches: u32,
}

impl<'ast> Visit<'ast> for Census {
    fn visit_item_fn(&mut self, node: &'ast syn::ItemFn) {
        self.functions += 1;
        syn::visit::visit_item_fn(self, node);
    }
    fn visit_expr_binary(&mut self, node: &'ast syn::ExprBinary) {
        self.binaries += 1;
        syn::visit::visit_expr_binary(self, node);
    }
    fn visit_expr_match(&mut self, node: &'ast syn::ExprMatch) {
        self.matches += 1;
        syn::visit::visit_expr_match(self, node);
    }
}

/// Adds one to every unsuffixed integer literal.
struct BumpLiterals;

impl Fold for BumpLiterals {
    fn fold_lit_int(&mut self, lit: syn::LitInt) -> syn::LitInt {
        match lit.base10_parse::<u64>() {
            Ok(v) if lit.suffix().is_empty() => syn::LitInt::new(&(v + 1).to_string(), lit.span()),
            _ => lit,
        }
    }
}

/// Renames every identifier `x` to `x_renamed`, in place.
struct RenameX;

impl VisitMut for RenameX {
    fn visit_ident_mut(&mut self, ident: &mut proc_macro2::Ident) {
        if ident == "x" {
            *ident = proc_macro2::Ident::new("x_renamed", ident.span());
        }
    }
}

fn tree_hash(file: &syn::File) -> u64 {
    let mut h = DefaultHasher::new();
    file.hash(&mut h);
    h.finish()
}

fn exercise_syn(rng: &mut Rng, sum: &mut Checksum) -> String {
    let src = rust_source(rng);
    let file = syn::parse_file(&src).unwrap_or_else(|e| fail(NAME, &format!("parse: {e}")));
    let pretty = prettyplease::unparse(&file);
    let again = syn::parse_file(&pretty).unwrap_or_else(|e| fail(NAME, &format!("re-parse: {e}")));
    check(NAME, file == again, || {
        let at = file
            .items
            .iter()
            .zip(&again.items)
            .position(|(a, b)| a != b);
        format!(
            "syntax tree changed across pretty-printing (first differing item: {at:?}; attrs equal: {})",
            file.attrs == again.attrs
        )
    });

    // Hash and Debug output differ between 32- and 64-bit hosts (lengths
    // are usize), so they serve only as cross-checks, not in the checksum.
    check(NAME, tree_hash(&file) == tree_hash(&again), || {
        "tree hashes differ".into()
    });
    check(NAME, format!("{file:?}") == format!("{again:?}"), || {
        "tree Debug output differs".into()
    });

    // Printing through `quote`'s token streams (rather than prettyplease)
    // must also give back an equal tree.
    let tokens = quote::ToTokens::to_token_stream(&file).to_string();
    let from_tokens =
        syn::parse_file(&tokens).unwrap_or_else(|e| fail(NAME, &format!("token re-parse: {e}")));
    check(NAME, from_tokens == file, || {
        "syntax tree changed across token printing".into()
    });
    sum.u64(tokens.len() as u64);

    let mut renamed = file.clone();
    RenameX.visit_file_mut(&mut renamed);
    let renamed = prettyplease::unparse(&renamed);
    check(
        NAME,
        renamed.contains("x_renamed") && !renamed.contains(" x "),
        || "rename missed".into(),
    );
    sum.bytes(renamed.as_bytes());

    let mut census = Census::default();
    census.visit_file(&file);
    check(NAME, census.functions == FUNCTIONS, || {
        format!(
            "visited {} functions, generated {FUNCTIONS}",
            census.functions
        )
    });
    check(NAME, census.matches == FUNCTIONS, || {
        format!("visited {} matches", census.matches)
    });
    sum.u64(u64::from(census.binaries));

    let bumped = prettyplease::unparse(&BumpLiterals.fold_file(file));
    check(NAME, bumped != pretty && bumped.contains("j % 8"), || {
        "fold did not bump literals".into()
    });
    sum.bytes(pretty.as_bytes());
    sum.bytes(bumped.as_bytes());
    pretty
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Manifest {
    name: String,
    version: String,
    features: Vec<String>,
    limits: BTreeMap<String, i64>,
    targets: Vec<Target>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Target {
    triple: String,
    opt_level: u8,
    ratio: f64,
    enabled: bool,
}

fn exercise_serde(rng: &mut Rng, sum: &mut Checksum) {
    let manifest = Manifest {
        name: "kiln-sink".into(),
        version: format!("0.{}.{}", rng.below(50), rng.below(50)),
        features: ["simd", "threads", "gc", "tail-call"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        limits: (0..6)
            .map(|i| (format!("limit_{i}"), i64::from(rng.next_u32()) - (1 << 31)))
            .collect(),
        targets: ["x86_64", "aarch64", "riscv64"]
            .iter()
            .map(|t| Target {
                triple: format!("{t}-unknown-linux-gnu"),
                opt_level: rng.below(4) as u8,
                ratio: f64::from(rng.below(10_000)) / 64.0,
                enabled: rng.chance(1, 2),
            })
            .collect(),
    };
    let text = toml::to_string(&manifest).unwrap_or_else(|e| fail(NAME, &format!("toml: {e}")));
    let back: Manifest =
        toml::from_str(&text).unwrap_or_else(|e| fail(NAME, &format!("toml parse: {e}")));
    check(NAME, back == manifest, || "TOML round trip differs".into());
    let table: toml::Table = text
        .parse()
        .unwrap_or_else(|e| fail(NAME, &format!("toml table: {e}")));
    let reprinted: toml::Table = table
        .to_string()
        .parse()
        .unwrap_or_else(|e| fail(NAME, &format!("toml table: {e}")));
    check(NAME, reprinted == table, || {
        "TOML table round trip differs".into()
    });
    let json = serde_json::to_string_pretty(&manifest).unwrap();
    let back: Manifest = serde_json::from_str(&json).unwrap();
    check(NAME, back == manifest, || "JSON round trip differs".into());
    sum.bytes(text.as_bytes());
    sum.bytes(json.as_bytes());
}

fn exercise_text(pretty: &str, sum: &mut Checksum) {
    let fns = regex::Regex::new(r"(?m)^pub fn (f\d+)\(").unwrap();
    let names: Vec<&str> = fns
        .captures_iter(pretty)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    check(NAME, names.len() == FUNCTIONS as usize, || {
        format!("regex found {} functions", names.len())
    });

    let mut doc = String::from("# Functions\n\n");
    for name in &names {
        doc.push_str(&format!("- `{name}` is *generated*\n"));
    }
    let mut out = String::new();
    html::push_html(&mut out, Parser::new(&doc));
    check(NAME, out.matches("<li>").count() == names.len(), || {
        "markdown list lost items".into()
    });
    sum.bytes(out.as_bytes());
}

fn exercise_wasm(rng: &mut Rng, sum: &mut Checksum) {
    use wasm_encoder::{
        BlockType, CodeSection, ExportKind, ExportSection, Function, FunctionSection, Instruction,
        Module, TypeSection, ValType,
    };
    let mut module = Module::new();
    let mut types = TypeSection::new();
    types
        .ty()
        .function([ValType::I32, ValType::I32], [ValType::I32]);
    module.section(&types);
    let mut funcs = FunctionSection::new();
    let mut code = CodeSection::new();
    let mut exports = ExportSection::new();
    for f in 0..8u32 {
        funcs.function(0);
        let mut body = Function::new([(1, ValType::I32)]);
        let k = rng.next_u32() as i32;
        for ins in [
            Instruction::Block(BlockType::Empty),
            Instruction::Loop(BlockType::Empty),
            Instruction::LocalGet(0),
            Instruction::I32Eqz,
            Instruction::BrIf(1),
            Instruction::LocalGet(2),
            Instruction::I32Const(k),
            Instruction::I32Xor,
            Instruction::LocalGet(1),
            Instruction::I32Add,
            Instruction::LocalSet(2),
            Instruction::LocalGet(0),
            Instruction::I32Const(1),
            Instruction::I32Sub,
            Instruction::LocalSet(0),
            Instruction::Br(0),
            Instruction::End,
            Instruction::End,
            Instruction::LocalGet(2),
            Instruction::End,
        ] {
            body.instruction(&ins);
        }
        code.function(&body);
        exports.export(&format!("f{f}"), ExportKind::Func, f);
    }
    module.section(&funcs);
    module.section(&exports);
    module.section(&code);
    let bytes = module.finish();

    wasmparser::validate(&bytes).unwrap_or_else(|e| fail(NAME, &format!("validate: {e}")));
    // Walk the operators with wasmparser's low-level reader too; their Debug
    // text is only checked for presence, not put in the checksum.
    let (mut operators, mut shown) = (0, 0);
    let bad = |e: wasmparser::BinaryReaderError| -> ! { fail(NAME, &format!("read: {e}")) };
    for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
        if let wasmparser::Payload::CodeSectionEntry(body) = payload.unwrap_or_else(|e| bad(e)) {
            let mut reader = body.get_operators_reader().unwrap_or_else(|e| bad(e));
            while !reader.eof() {
                let op = reader.read().unwrap_or_else(|e| bad(e));
                shown += format!("{op:?}").len();
                operators += 1;
            }
        }
    }
    check(NAME, operators == 160 && shown > 0, || {
        format!("read {operators} operators, wrote 160")
    });

    let text =
        wasmprinter::print_bytes(&bytes).unwrap_or_else(|e| fail(NAME, &format!("print: {e}")));
    let reparsed = wat::parse_str(&text).unwrap_or_else(|e| fail(NAME, &format!("wat: {e}")));
    let text_again =
        wasmprinter::print_bytes(&reparsed).unwrap_or_else(|e| fail(NAME, &format!("print: {e}")));
    check(NAME, text == text_again, || {
        "wasm text round trip differs".into()
    });
    sum.bytes(&bytes);
    sum.bytes(text.as_bytes());
}

fn main() {
    let mut rng = Rng::new(0x5eed_0100);
    let mut sum = Checksum::new();
    let pretty = exercise_syn(&mut rng, &mut sum);
    exercise_serde(&mut rng, &mut sum);
    exercise_text(&pretty, &mut sum);
    exercise_wasm(&mut rng, &mut sum);
    finish(NAME, sum.finish(), EXPECTED);
}
