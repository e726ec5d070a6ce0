//! Prints its arguments and environment (`std::env`), and checks the raw
//! `args_sizes_get`/`environ_sizes_get` counts agree with them.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    println!("{} args", args.len());
    for (i, arg) in args.iter().enumerate() {
        println!("arg {i}: {arg:?}");
    }
    let mut vars: Vec<(String, String)> = std::env::vars().collect();
    vars.sort();
    println!("{} env vars", vars.len());
    for (key, value) in &vars {
        println!("env {key}={value:?}");
    }
    println!(
        "KILN_MISSING set: {}",
        std::env::var_os("KILN_MISSING").is_some()
    );
    sizes(&args, &vars);
}

/// Compares the raw size calls with what std saw.
#[cfg(target_os = "wasi")]
fn sizes(args: &[String], vars: &[(String, String)]) {
    use kiln_wasi_test_programs::raw::*;
    // SAFETY: calls that only return integers.
    let (argc, argv_bytes) = must("args_sizes_get", unsafe { args_sizes_get() });
    let (envc, env_bytes) = must("environ_sizes_get", unsafe { environ_sizes_get() });
    let want_argv: usize = args.iter().map(|a| a.len() + 1).sum();
    let want_env: usize = vars.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    println!(
        "args_sizes_get agrees: {}",
        argc == args.len() && argv_bytes == want_argv
    );
    println!(
        "environ_sizes_get agrees: {}",
        envc == vars.len() && env_bytes == want_env
    );
}

#[cfg(not(target_os = "wasi"))]
fn sizes(_: &[String], _: &[(String, String)]) {}
