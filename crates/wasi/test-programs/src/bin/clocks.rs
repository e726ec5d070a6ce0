//! Clocks through `std::time` and the raw calls: `clock_time_get` and
//! `clock_res_get` for each clock, `std::thread::sleep` (a `poll_oneoff`
//! clock subscription), `sched_yield` and `random_get`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn main() {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    println!("realtime after 2024: {}", now.as_secs() > 1_704_067_200);
    let a = Instant::now();
    let b = Instant::now();
    println!("monotonic does not go back: {}", b >= a);
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(30));
    let slept = start.elapsed();
    println!(
        "sleep 30ms took at least 30ms: {}",
        slept >= Duration::from_millis(30)
    );
    println!(
        "sleep 30ms took under 5s: {}",
        slept < Duration::from_secs(5)
    );
    raw();
}

#[cfg(target_os = "wasi")]
fn raw() {
    use kiln_wasi_test_programs::raw::*;
    let clocks = [
        ("realtime", CLOCKID_REALTIME),
        ("monotonic", CLOCKID_MONOTONIC),
        ("process_cputime", CLOCKID_PROCESS_CPUTIME_ID),
        ("thread_cputime", CLOCKID_THREAD_CPUTIME_ID),
    ];
    // SAFETY (all `unsafe` below): calls on integers and owned buffers.
    unsafe {
        for (name, id) in clocks {
            let res = clock_res_get(id);
            let t1 = clock_time_get(id, 1);
            let t2 = clock_time_get(id, 1);
            match (res, t1, t2) {
                (Ok(res), Ok(t1), Ok(t2)) => println!(
                    "{name}: resolution in (0, 1s] {}, non-decreasing {}",
                    res > 0 && res <= 1_000_000_000,
                    t2 >= t1
                ),
                (res, t1, _) => println!("{name}: res {}, time {}", outcome(res), outcome(t1)),
            }
        }
        let real = must("clock_time_get", clock_time_get(CLOCKID_REALTIME, 0));
        let std_now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        println!(
            "realtime agrees with std: {}",
            std_now.abs_diff(real) < 5_000_000_000
        );
        let mut out = 0u64;
        let errno = wasi_snapshot_preview1::clock_time_get(9, 0, &mut out as *mut u64 as i32);
        println!(
            "bad clock id: errno {errno} (INVAL is {})",
            ERRNO_INVAL.raw()
        );
        println!("sched_yield: {}", outcome(sched_yield()));

        let (mut x, mut y) = ([0u8; 32], [0u8; 32]);
        must("random_get", random_get(x.as_mut_ptr(), x.len()));
        must("random_get", random_get(y.as_mut_ptr(), y.len()));
        println!("random_get: non-zero {} distinct {}", x != [0; 32], x != y);
        let mut big = vec![0u8; 100_000];
        must("random_get", random_get(big.as_mut_ptr(), big.len()));
        let zeros = big.iter().filter(|b| **b == 0).count();
        println!("random_get 100000 bytes: plausible {}", zeros < 1000);
        println!(
            "random_get 0 bytes: {}",
            outcome(random_get(big.as_mut_ptr(), 0))
        );
    }
}

#[cfg(not(target_os = "wasi"))]
fn raw() {}
