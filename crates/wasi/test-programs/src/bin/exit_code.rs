//! `exit_code N`: prints a line, then exits with status N through
//! `std::process::exit` (`proc_exit`); output written before must arrive.

fn main() {
    let code: i32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    println!("exiting with {code}");
    eprintln!("stderr before exit");
    std::process::exit(code);
}
