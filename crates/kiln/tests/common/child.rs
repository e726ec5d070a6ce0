/// Runs test `name` of this test binary again, alone, in a child process
/// with `var=1` set, and returns its output. Under emulation the binary
/// needs its runner again, named as for the platform layer's own crash
/// tests (`KILN_SYS_TEST_RUNNER`, docs/platform.md).
fn rerun_in_child(name: &str, var: &str) -> std::process::Output {
    let runner = std::env::var("KILN_SYS_TEST_RUNNER").unwrap_or_default();
    let mut words = runner.split_whitespace();
    let exe = std::env::current_exe().unwrap();
    let mut command = match words.next() {
        Some(program) => {
            let mut c = std::process::Command::new(program);
            c.args(words).arg(&exe);
            c
        }
        None => std::process::Command::new(&exe),
    };
    command
        .args(["--exact", name, "--test-threads=1", "--nocapture"])
        .env(var, "1")
        .output()
        .unwrap()
}
