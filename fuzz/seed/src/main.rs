//! `kiln-fuzz-seed OUT_DIR FILE.wast...`: writes every module of the given
//! spec scripts to `OUT_DIR` as a `.wasm` file named by the hash of its bytes
//! (so re-running is idempotent and duplicates collapse).
//!
//! Every module that encodes becomes a seed: the ones the scripts
//! instantiate, and the binary or text ones of `assert_invalid`,
//! `assert_malformed`, `assert_unlinkable` and `assert_trap`, which steer the
//! fuzzer towards the validator's and the instantiator's error paths.
//! Text that does not parse or encode (most `module quote` cases of
//! `assert_malformed`) is skipped.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, QuoteWatTest, Wast, WastDirective, WastExecute, Wat};

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(out) = args.next().map(PathBuf::from) else {
        eprintln!("usage: kiln-fuzz-seed OUT_DIR FILE.wast...");
        return ExitCode::from(2);
    };
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("kiln-fuzz-seed: cannot create {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    let (mut files, mut written, mut failed) = (0, 0, false);
    for path in args {
        let path = PathBuf::from(path);
        match seeds_of(&path) {
            Ok(modules) => {
                files += 1;
                for bytes in modules {
                    match write_seed(&out, &bytes) {
                        Ok(true) => written += 1,
                        Ok(false) => {}
                        Err(e) => {
                            eprintln!("kiln-fuzz-seed: {}: {e}", out.display());
                            return ExitCode::FAILURE;
                        }
                    }
                }
            }
            Err(e) => {
                eprintln!("kiln-fuzz-seed: {}: {e}", path.display());
                failed = true;
            }
        }
    }
    println!("{files} scripts, {written} new seeds in {}", out.display());
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The binaries of every module in the script at `path`.
fn seeds_of(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut lexer = Lexer::new(&text);
    // names.wast puts bidirectional code points in strings on purpose.
    lexer.allow_confusing_unicode(true);
    let buf = ParseBuffer::new_with_lexer(lexer).map_err(|e| e.to_string())?;
    let script = parser::parse::<Wast<'_>>(&buf).map_err(|e| e.to_string())?;
    let mut seeds = Vec::new();
    for directive in script.directives {
        let module = match directive {
            WastDirective::Module(m)
            | WastDirective::ModuleDefinition(m)
            | WastDirective::AssertMalformed { module: m, .. }
            | WastDirective::AssertInvalid { module: m, .. } => m,
            WastDirective::AssertUnlinkable { module: m, .. }
            | WastDirective::AssertTrap {
                exec: WastExecute::Wat(m),
                ..
            } => QuoteWat::Wat(m),
            _ => continue,
        };
        if let Some(bytes) = encode(module) {
            seeds.push(bytes);
        }
    }
    Ok(seeds)
}

/// The module as a binary, or `None` for components and text that does not
/// parse or encode.
fn encode(mut module: QuoteWat<'_>) -> Option<Vec<u8>> {
    if matches!(
        module,
        QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_))
    ) {
        return None;
    }
    match module.to_test().ok()? {
        QuoteWatTest::Binary(bytes) => Some(bytes),
        QuoteWatTest::Text(text) => {
            let text = String::from_utf8(text).ok()?;
            let buf = ParseBuffer::new(&text).ok()?;
            let mut wat = parser::parse::<Wat<'_>>(&buf).ok()?;
            wat.encode().ok()
        }
    }
}

/// Writes `bytes` to `dir/<hash>.wasm`; `false` if that file already exists.
fn write_seed(dir: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    let path = dir.join(format!("{:016x}.wasm", hasher.finish()));
    if path.exists() {
        return Ok(false);
    }
    std::fs::write(path, bytes)?;
    Ok(true)
}
