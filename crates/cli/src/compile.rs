//! `kiln compile`: compile a module ahead of time to a precompiled
//! artifact that `kiln run --allow-precompiled` (or `Module::deserialize`)
//! loads without compiling again.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Args;
use kiln::{Config, Engine};

use crate::options;

/// Compiles a module to native code ahead of time.
///
/// FILE is a `.wasm` binary or `.wat` text. The output (default: FILE with
/// the extension `.kwasm`) runs with `kiln run --allow-precompiled OUT`,
/// on a machine of the same target, with the same Kiln version and the
/// same -C, -O and -W options; anything else is refused with an error
/// saying what differs. Options that only matter while running (such as
/// `-W max-memory-size`) are accepted and ignored, so the same options can
/// be given to both commands. `-W fuel=N` compiles fuel-counting code.
///
/// With --target the code is for another machine (cross-compilation):
/// x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu,
/// s390x-unknown-linux-gnu or riscv64gc-unknown-linux-gnu.
///
/// With --emit-object the output is instead a relocatable ELF object (default:
/// FILE with the extension `.o`) for static linking: the code in a text
/// section, the metadata in read-only data, and one exported descriptor
/// symbol (`--symbol`, default `kiln_module_` + the output's file stem) that
/// a host program passes to `Module::from_static`. See
/// `examples/static-link`.
///
/// Example: kiln compile app.wasm && kiln run --allow-precompiled app.kwasm
#[derive(Args, Debug)]
pub struct CompileCommand {
    /// Code generation option: `compiler=auto|cranelift` (compiling ahead
    /// of time needs the native compiler).
    #[arg(short = 'C', value_name = "KEY=VALUE")]
    codegen: Vec<String>,

    /// Native memory layout option, as for `kiln run`.
    #[arg(short = 'O', value_name = "KEY=VALUE")]
    opts: Vec<String>,

    /// WebAssembly option, as for `kiln run`.
    #[arg(short = 'W', value_name = "KEY=VALUE")]
    wasm: Vec<String>,

    /// Compile for this target triple instead of the host.
    #[arg(long, value_name = "TRIPLE")]
    target: Option<String>,

    /// Where to write the artifact (default: FILE with extension `.kwasm`,
    /// or `.o` with --emit-object).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    output: Option<PathBuf>,

    /// Write a relocatable object to link into a program, instead of an
    /// artifact to load at run time.
    #[arg(long)]
    emit_object: bool,

    /// The object's exported symbol (with --emit-object; default
    /// `kiln_module_` + the output's file stem, non-identifier characters
    /// replaced by `_`).
    #[arg(long, value_name = "NAME", requires = "emit_object")]
    symbol: Option<String>,

    /// The module: a `.wasm` binary or `.wat` text file.
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

impl CompileCommand {
    /// Runs the command; `Err` is reported as one error line, exit 1.
    pub fn execute(self) -> Result<ExitCode> {
        let mut config = Config::new();
        options::apply_codegen(&mut config, &self.codegen)?;
        options::apply_opts(&mut config, &self.opts)?;
        options::apply_wasm(&mut config, &self.wasm)?;
        if let Some(triple) = &self.target {
            config.target(triple);
        }
        let engine = Engine::new(&config)?;
        if engine.strategy() == kiln::Strategy::Tiered {
            anyhow::bail!(
                "tiered code is compiled in the process that runs it: `kiln compile` takes \
                 `-C compiler=baseline` or `-C compiler=cranelift`"
            );
        }
        if self.target.is_none()
            && !matches!(
                engine.strategy(),
                kiln::Strategy::Cranelift | kiln::Strategy::Baseline
            )
        {
            anyhow::bail!(
                "`kiln compile` produces native code, but this configuration interprets (`-C compiler=interp`, or a host without native code support); use --target to compile for another machine"
            );
        }
        let file = self.file.display().to_string();
        let bytes =
            std::fs::read(&self.file).with_context(|| format!("failed to read `{file}`"))?;
        let wasm = crate::run::wasm_from_file_bytes(&self.file, bytes)?;
        let output = self.output.unwrap_or_else(|| {
            self.file
                .with_extension(if self.emit_object { "o" } else { "kwasm" })
        });
        let artifact = if self.emit_object {
            let symbol = self.symbol.unwrap_or_else(|| default_symbol(&output));
            engine.precompile_object(&wasm, &symbol)
        } else {
            engine.precompile_module(&wasm)
        }
        .with_context(|| format!("failed to compile `{file}`"))?;
        std::fs::write(&output, artifact)
            .with_context(|| format!("failed to write `{}`", output.display()))?;
        Ok(ExitCode::SUCCESS)
    }
}

/// `kiln_module_` + the file stem of `output`, with every character that
/// cannot be in a C identifier replaced by `_`.
fn default_symbol(output: &std::path::Path) -> String {
    let stem = output
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("kiln_module_{stem}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_symbols_are_identifiers_from_the_output_name() {
        assert_eq!(default_symbol("out/app.o".as_ref()), "kiln_module_app");
        assert_eq!(
            default_symbol("my-app.v2.o".as_ref()),
            "kiln_module_my_app_v2"
        );
    }
}
