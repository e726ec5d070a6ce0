//! Imports `kiln_test::not_provided`, which no runtime defines; calls it
//! only when the first argument is `call`. For `kiln run -W
//! unknown-imports-trap=y`.

#[cfg(target_os = "wasi")]
#[link(wasm_import_module = "kiln_test")]
unsafe extern "C" {
    fn not_provided(x: i32) -> i32;
}

fn main() {
    println!("started");
    if std::env::args().nth(1).as_deref() == Some("call") {
        call();
    }
    println!("done without calling it");
}

#[cfg(target_os = "wasi")]
fn call() {
    // SAFETY: an import of the declared type; the runtime decides.
    let result = unsafe { not_provided(1) };
    println!("not_provided returned {result}");
}

#[cfg(not(target_os = "wasi"))]
fn call() {}
