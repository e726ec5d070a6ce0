//! A program with a WebAssembly module linked into it as native code.
//!
//! `build.sh IN.wasm OUT` compiles IN with `kiln compile --emit-object` and
//! links the object into this program, which then behaves as
//! `kiln run --dir . IN ARGS...` does: the module gets the arguments, the
//! standard streams and the current directory (preopened as `.`), and its
//! exit status becomes the program's. The engine has no compiler, and the
//! module's code runs where the linker put it: Kiln maps nothing executable
//! while this program runs.

use std::process::ExitCode;

/// What `Module::from_static` loads: the descriptor in the linked object.
#[cfg(kiln_static_object)]
mod linked {
    unsafe extern "C" {
        pub static kiln_static_module: kiln::StaticModule;
    }
}

#[cfg(kiln_static_object)]
fn run() -> anyhow::Result<u8> {
    use kiln::{Config, Engine, Linker, Module, Store, Strategy};
    use kiln_wasi::{DirPerms, I32Exit, WasiCtx, WasiCtxBuilder};

    let engine = Engine::new(Config::new().strategy(Strategy::Cranelift))?;
    // SAFETY: the descriptor is the one `kiln compile --emit-object` wrote
    // into the object `build.sh` linked in, unchanged.
    let module = unsafe { Module::from_static(&engine, &linked::kiln_static_module)? };

    let args: Vec<String> = std::env::args().collect();
    let mut builder = WasiCtxBuilder::new();
    builder.args(&args).inherit_stdio();
    builder.preopened_dir(".", ".", DirPerms::ReadWrite)?;
    let mut linker = Linker::<WasiCtx>::new(&engine);
    kiln_wasi::add_to_linker(&mut linker, |ctx: &mut WasiCtx| ctx)?;
    let mut store = Store::new(&engine, builder.build());
    let instance = linker.instantiate(&mut store, &module)?;
    let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
    match start.call(&mut store, ()) {
        Ok(()) => Ok(0),
        Err(e) => match e.downcast_ref::<I32Exit>() {
            Some(exit) => Ok(exit.0 as u8),
            None => Err(e),
        },
    }
}

#[cfg(not(kiln_static_object))]
fn run() -> anyhow::Result<u8> {
    anyhow::bail!(
        "built without a module: use examples/static-link/build.sh IN.wasm OUT, which links one in"
    )
}

fn main() -> ExitCode {
    match run() {
        Ok(status) => ExitCode::from(status),
        Err(e) => {
            eprintln!("error: {e:?}");
            ExitCode::from(if e.downcast_ref::<kiln::Trap>().is_some() {
                134
            } else {
                1
            })
        }
    }
}
