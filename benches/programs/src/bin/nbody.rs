//! Measures scalar f64 arithmetic with `sqrt`: the Benchmarks Game n-body
//! simulation of the Jovian planets (symplectic Euler steps over all pairs).
//!
//! Self-check: the energy after offsetting momentum and after 1000 steps
//! must print as the Benchmarks Game's published values (-0.169075164 and
//! -0.169087605), energy must stay nearly conserved over the full run, and
//! the checksum over the final state's bits must match the recorded
//! constant.

use kiln_bench_programs::{Checksum, check, finish};
use std::hint::black_box;

const NAME: &str = "nbody";
const STEPS: u32 = 900_000;
const EXPECTED: u64 = 0x36f1074f0ccf5049;

const PI: f64 = std::f64::consts::PI;
const SOLAR_MASS: f64 = 4.0 * PI * PI;
const DAYS_PER_YEAR: f64 = 365.24;

#[derive(Clone, Copy)]
struct Body {
    pos: [f64; 3],
    vel: [f64; 3],
    mass: f64,
}

const fn planet(pos: [f64; 3], vel: [f64; 3], mass: f64) -> Body {
    Body {
        pos,
        vel: [
            vel[0] * DAYS_PER_YEAR,
            vel[1] * DAYS_PER_YEAR,
            vel[2] * DAYS_PER_YEAR,
        ],
        mass: mass * SOLAR_MASS,
    }
}

/// The Sun, Jupiter, Saturn, Uranus and Neptune, in AU, AU/day and solar
/// masses, as the benchmark defines them.
fn bodies() -> [Body; 5] {
    [
        planet([0.0; 3], [0.0; 3], 1.0),
        planet(
            [
                4.841_431_442_464_72e0,
                -1.160_320_044_027_428_4e0,
                -1.036_220_444_711_231_1e-1,
            ],
            [
                1.660_076_642_744_037e-3,
                7.699_011_184_197_404e-3,
                -6.904_600_169_720_63e-5,
            ],
            9.547_919_384_243_266e-4,
        ),
        planet(
            [
                8.343_366_718_244_58e0,
                4.124_798_564_124_305e0,
                -4.035_234_171_143_214e-1,
            ],
            [
                -2.767_425_107_268_624e-3,
                4.998_528_012_349_172e-3,
                2.304_172_975_737_639_3e-5,
            ],
            2.858_859_806_661_308e-4,
        ),
        planet(
            [
                1.289_436_956_213_913_1e1,
                -1.511_115_140_169_863_1e1,
                -2.233_075_788_926_557_3e-1,
            ],
            [
                2.964_601_375_647_616e-3,
                2.378_471_739_594_809_5e-3,
                -2.965_895_685_402_375_6e-5,
            ],
            4.366_244_043_351_563e-5,
        ),
        planet(
            [
                1.537_969_711_485_091_7e1,
                -2.591_931_460_998_796_4e1,
                1.792_587_729_503_711_8e-1,
            ],
            [
                2.680_677_724_903_893_2e-3,
                1.628_241_700_382_423e-3,
                -9.515_922_545_197_159e-5,
            ],
            5.151_389_020_466_114_5e-5,
        ),
    ]
}

/// Gives the Sun the momentum that makes the system's total zero, so the
/// centre of mass stays put.
fn offset_momentum(bodies: &mut [Body; 5]) {
    let mut p = [0.0; 3];
    for b in bodies.iter() {
        for (pk, vk) in p.iter_mut().zip(b.vel) {
            *pk += vk * b.mass;
        }
    }
    for (vk, pk) in bodies[0].vel.iter_mut().zip(p) {
        *vk = -pk / SOLAR_MASS;
    }
}

fn energy(bodies: &[Body; 5]) -> f64 {
    let mut e = 0.0;
    for (i, b) in bodies.iter().enumerate() {
        e += 0.5 * b.mass * (b.vel[0] * b.vel[0] + b.vel[1] * b.vel[1] + b.vel[2] * b.vel[2]);
        for c in &bodies[i + 1..] {
            let d = [
                b.pos[0] - c.pos[0],
                b.pos[1] - c.pos[1],
                b.pos[2] - c.pos[2],
            ];
            e -= b.mass * c.mass / (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
        }
    }
    e
}

fn advance(bodies: &mut [Body; 5], dt: f64) {
    for i in 0..bodies.len() {
        let (head, tail) = bodies.split_at_mut(i + 1);
        let b = &mut head[i];
        for c in tail.iter_mut() {
            let d = [
                b.pos[0] - c.pos[0],
                b.pos[1] - c.pos[1],
                b.pos[2] - c.pos[2],
            ];
            let d2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            let mag = dt / (d2 * d2.sqrt());
            let (bm, cm) = (b.mass * mag, c.mass * mag);
            for ((bv, cv), dk) in b.vel.iter_mut().zip(&mut c.vel).zip(d) {
                *bv -= dk * cm;
                *cv += dk * bm;
            }
        }
    }
    for b in bodies.iter_mut() {
        for (pk, vk) in b.pos.iter_mut().zip(b.vel) {
            *pk += dt * vk;
        }
    }
}

fn main() {
    let mut system = bodies();
    offset_momentum(&mut system);
    let e0 = energy(&system);
    let shown = format!("{e0:.9}");
    check(NAME, shown == "-0.169075164", || {
        format!("initial energy {shown}")
    });

    let steps = black_box(STEPS);
    for _ in 0..1000 {
        advance(&mut system, 0.01);
    }
    let shown = format!("{:.9}", energy(&system));
    check(NAME, shown == "-0.169087605", || {
        format!("energy after 1000 steps {shown}")
    });

    for _ in 1000..steps {
        advance(&mut system, 0.01);
    }
    let e1 = energy(&system);
    check(NAME, (e1 - e0).abs() < 1e-3, || {
        format!("energy drifted from {e0} to {e1}")
    });

    let mut sum = Checksum::new();
    sum.f64(e1);
    for b in &system {
        b.pos.iter().chain(&b.vel).for_each(|&v| sum.f64(v));
    }
    finish(NAME, sum.finish(), EXPECTED);
}
