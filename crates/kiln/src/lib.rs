//! Kiln: a WebAssembly runtime.
//!
//! This crate is the embedding API. Its shape follows Wasmtime's:
//!
//! * an [`Engine`] holds global configuration ([`Config`]) and the
//!   engine-wide signature registry, and is shared by everything else;
//! * a [`Module`] is a decoded, validated and translated module (from a
//!   `.wasm` binary or, with the `wat` feature, `.wat` text); it can be
//!   instantiated any number of times, in any number of stores;
//! * a [`Store`] owns all runtime state — instances, memories, tables,
//!   globals, functions — plus embedder data of type `T`;
//! * a [`Linker`] names host functions and other items so a module's imports
//!   can be resolved by name, and an [`Instance`] is the result;
//! * [`Func`], [`TypedFunc`], [`Memory`], [`Table`] and [`Global`] are small
//!   `Copy` handles into a store; every operation on them takes the store.
//!
//! Traps surface as an [`anyhow::Error`] wrapping a [`Trap`]; errors returned
//! by host functions come back unchanged.
//!
//! # Cargo features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `std` | on | the standard library: files ([`Module::from_file`]), the OS's virtual memory, signals, threads and locks, panics from host functions resumed after wasm frames are gone |
//! | `cranelift` | on | native code from Cranelift ([`Strategy::Cranelift`]) on Unix x86_64, aarch64, s390x and riscv64; elsewhere accepted and unused (implies `std`) |
//! | `baseline` | on | the single-pass baseline compiler ([`Strategy::Baseline`], x86-64 hosts; implies `cranelift`, which compiles what it does not translate yet) |
//! | `wat` | on | WebAssembly text in [`Module::new`] (implies `std`) |
//! | `simd` | on | the fixed-width SIMD proposal in validation and on the interpreter; without it SIMD modules are rejected |
//! | `demangle` | on | Rust names demangled in trap backtraces |
//! | `custom-virtual-memory`, `custom-native-signals` | off | without `std`: virtual memory and fault handling from the embedder, for native code (`docs/embedding.md`) |
//! | `runtime`, `interp` | always built | name the runtime and the interpreter explicitly |
//!
//! With `default-features = false, features = ["std"]` no Cranelift crate
//! is built and every engine runs the interpreter.
//!
//! With `default-features = false, features = ["runtime", "interp"]` the
//! crate is `no_std` (it needs `alloc`) and builds for bare-metal targets
//! such as `x86_64-unknown-none`, `thumbv7em-none-eabihf` and
//! `riscv32imac-unknown-none-elf`. The embedder then provides a global
//! allocator and the functions of `include/kiln-platform.h` (a per-thread
//! slot and locks); `docs/embedding.md` says what each must do. Without
//! `std` a panic cannot unwind, so a host function that panics ends the
//! program through the embedder's panic handler, even when it was called
//! from wasm.
//!
//! ```
//! use kiln::{Caller, Engine, Linker, Module, Store};
//!
//! # fn main() -> kiln::Result<()> {
//! let engine = Engine::default();
//! let module = Module::new(
//!     &engine,
//!     r#"
//!     (module
//!       (import "host" "log" (func $log (param i32 i32)))
//!       (memory (export "memory") 1)
//!       (data (i32.const 16) "hello")
//!       (func (export "run") (param i32) (result i32)
//!         (call $log (i32.const 16) (i32.const 5))
//!         (i32.add (local.get 0) (i32.const 1))))
//!     "#,
//! )?;
//!
//! let mut linker = Linker::new(&engine);
//! linker.func_wrap(
//!     "host",
//!     "log",
//!     |mut caller: Caller<'_, Vec<String>>, ptr: i32, len: i32| {
//!         let memory = caller.get_export("memory").unwrap().into_memory().unwrap();
//!         let mut buf = vec![0; len as usize];
//!         memory.read(&caller, ptr as usize, &mut buf)?;
//!         let text = String::from_utf8(buf)?;
//!         caller.data_mut().push(text);
//!         Ok(())
//!     },
//! )?;
//!
//! let mut store = Store::new(&engine, Vec::new());
//! let instance = linker.instantiate(&mut store, &module)?;
//! let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
//! assert_eq!(run.call(&mut store, 41)?, 42);
//! assert_eq!(store.data(), &["hello".to_string()]);
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]
#![no_std]

#[macro_use]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

/// What every module of the crate uses from `alloc`, which `no_std` does
/// not bring into scope by itself.
mod prelude {
    pub(crate) use alloc::boxed::Box;
    pub(crate) use alloc::string::{String, ToString};
    pub(crate) use alloc::vec::Vec;
}

mod config;
mod engine;
mod exception;
mod externals;
mod func;
#[cfg(feature = "gc")]
mod gc_objects;
mod gc_ref;
mod instance;
mod linker;
mod module;
mod rooted;
mod runtime;
mod store;
mod trap;
mod type_registry;
mod types;
mod values;

pub use config::{Config, DEFAULT_TIER_THRESHOLD, Strategy};
pub use engine::Engine;
pub use exception::{ExnRef, Tag, TagType, ThrownException};
pub use externals::{Extern, Global, Memory, Table};
pub use func::typed::{TypedFunc, WasmParams, WasmResults, WasmRet, WasmTy};
pub use func::{Caller, Func, IntoFunc};
#[cfg(feature = "gc")]
pub use gc_objects::{ArrayRef, EqRef, StructRef};
pub use gc_ref::{AnyRef, I31, RootScope};
pub use instance::Instance;
pub use kiln_environ::TrapCode;
pub use linker::Linker;
pub use module::{ExportType, ImportType, Module, StaticModule, TierStats};
pub use rooted::{GcRef, ManuallyRooted};
pub use runtime::gc_heap::{GcStats, PAUSE_WINDOW};
pub use store::{
    AsContext, AsContextMut, InterruptHandle, ResourceLimiter, Store, StoreContext, StoreContextMut,
};
pub use trap::{FrameInfo, Trap, WasmBacktrace};
pub use types::{
    ArrayType, ExternType, FieldType, FuncType, GlobalType, HeapType, MemoryType, Mutability,
    RefType, StorageType, StructType, TableType, ValType,
};
pub use values::{ExternRef, Val};

// The README's examples are compiled and run as doc tests, so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;

/// The result type of every fallible operation in this crate.
pub type Result<T> = anyhow::Result<T>;

// Thread-safety guarantees, checked at compile time: engines, modules and
// linkers are shared across threads; a store moves between threads with
// its data (and is `Sync` when the data is), so many stores can run on many
// threads at once.
const _: () = {
    const fn send_sync<X: Send + Sync>() {}
    const fn send<X: Send>() {}
    send_sync::<Engine>();
    send_sync::<Module>();
    send_sync::<Config>();
    send_sync::<InterruptHandle>();
    send_sync::<Func>();
    send_sync::<Instance>();
    send_sync::<Trap>();
    #[allow(dead_code)]
    fn for_every_data_type<T: Send + 'static, S: Send + Sync + 'static>() {
        send::<Store<T>>();
        send_sync::<Store<S>>();
        send_sync::<Linker<T>>();
    }
};
