//! The sigv4 routines (see `sigv4`) timed in alternating rounds in one process, reported as
//! the median of each round's ratio: the two sides of a target run microseconds apart, so a
//! noisy neighbour slows both instead of skewing the comparison, as it does between criterion
//! runs of separate IDs.
//!
//! ```sh
//! cargo bench -p edgeward-benches --bench sigv4_paired -- [ROUNDS]   # default 300
//! cargo xtask bench sigv4                                            # runs it too
//! ```
//!
//! With `--calls ID N` it makes `N` calls of one routine and prints nothing: `cargo xtask
//! instructions` runs that under callgrind to count instructions per call, after `--list`
//! told it the routines (`routine ID` lines) and the ratios to report (`ratio NUMERATOR
//! DENOMINATOR NOTE` lines), so that this file stays their one definition.
//!
//! Each round runs every routine for a fixed batch (the order reversed every other round,
//! after one warm-up round) and records its mean time per call. Printed: per routine the
//! median, and for each target the 25th, 50th and 75th percentile of the per-round ratio.
//! `unchecked_minimum` (see `sigv4_case`) is timed for context: about the least work any
//! verifier of this request could do.
#![allow(clippy::unwrap_used)] // A bench: a failure should stop it loudly.
#![allow(clippy::print_stdout)] // Its output is the report.

mod sigv4_case;

use std::hint::black_box;
use std::time::Instant;

use sigv4_case::Case;

/// The issue's targets, and one ratio for context: `(numerator, denominator, what it is
/// held to)`.
const RATIOS: [(&str, &str, &str); 4] = [
    ("sign", "aws_sigv4_sign", "target <= 1.05"),
    ("verify_warm", "floor", "target <= 1.5"),
    ("aws_sigv4_sign", "verify_warm", "target >= 4"),
    (
        "unchecked_minimum",
        "floor",
        "context: no checks, no lookup",
    ),
];

fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    // Nearest rank; the index is in bounds and non-negative by construction.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let index = ((sorted.len() - 1) as f64 * fraction).round() as usize;
    sorted[index]
}

const NAME: &str = "sigv4_paired";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        with_routines(|routines| {
            for (name, _, _) in routines {
                println!("routine {name}");
            }
        });
        for (numerator, denominator, note) in RATIOS {
            println!("ratio {numerator} {denominator} {note}");
        }
        return;
    }
    if let Some(at) = args.iter().position(|a| a == "--calls") {
        let (Some(id), Some(calls)) = (args.get(at + 1), args.get(at + 2)) else {
            panic!("usage: {NAME} --calls ID N");
        };
        let calls: u32 = calls.parse().unwrap();
        with_routines(|routines| {
            let Some((_, _, body)) = routines.iter().find(|(name, _, _)| name == id) else {
                panic!("{NAME}: no routine {id:?}");
            };
            for _ in 0..calls {
                body();
            }
        });
        return;
    }
    // `cargo bench` passes `--bench`, and `cargo bench -p edgeward-benches -- FILTER` (what
    // `cargo xtask bench FILTER` runs) passes every bench the same criterion filter: a number is
    // the rounds; anything else runs this bench only if it is part of the name (as `sigv4` is).
    let mut rounds = 300;
    for arg in std::env::args().skip(1).filter(|a| !a.starts_with('-')) {
        match arg.parse() {
            Ok(number) => rounds = number,
            Err(_) if NAME.contains(arg.as_str()) => {}
            Err(_) => {
                println!("{NAME}: skipped (filter {arg:?})");
                return;
            }
        }
    }
    with_routines(|routines| report(routines, rounds));
}

/// The routines, in report order: name, calls per batch (about 2 ms each), body. Every call
/// goes through the same indirect call, so the harness weighs alike on both sides of a ratio.
type Routines<'a> = [(&'static str, u32, &'a dyn Fn()); 6];

/// Builds the case and hands its routines to `f`.
fn with_routines(f: impl FnOnce(&Routines<'_>)) {
    let case = Case::new();
    let aws_params = case.aws_params();
    let view = case.view();
    let aws_sigv4_sign = || {
        black_box(case.aws_sigv4_sign(&aws_params));
    };
    let sign = || {
        black_box(case.sign());
    };
    let verify_warm = || {
        black_box(case.verify_warm(&view));
    };
    let verify_cold = || {
        black_box(case.verify_cold(&view));
    };
    let floor = || {
        black_box(case.floor());
    };
    let unchecked_minimum = || {
        black_box(case.unchecked_minimum());
    };
    f(&[
        ("aws_sigv4_sign", 300, &aws_sigv4_sign),
        ("sign", 300, &sign),
        ("verify_warm", 1500, &verify_warm),
        ("verify_cold", 600, &verify_cold),
        ("floor", 3000, &floor),
        ("unchecked_minimum", 3000, &unchecked_minimum),
    ]);
}

/// Times `rounds` alternating rounds and prints the report.
fn report(routines: &Routines<'_>, rounds: usize) {
    let mut nanos: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); routines.len()];
    for round in 0..=rounds {
        let mut order: Vec<usize> = (0..routines.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for index in order {
            let (_, batch, body) = routines[index];
            let started = Instant::now();
            for _ in 0..batch {
                body();
            }
            // Round 0 warms caches and the allocator and is not recorded.
            if round > 0 {
                nanos[index].push(started.elapsed().as_nanos() as f64 / f64::from(batch));
            }
        }
    }

    let index_of = |name: &str| routines.iter().position(|(n, _, _)| *n == name).unwrap();
    println!("{NAME}: {rounds} rounds");
    for (index, (name, _, _)) in routines.iter().enumerate() {
        let mut sorted = nanos[index].clone();
        sorted.sort_by(f64::total_cmp);
        println!("  {name:<17} median {:>8.0} ns", percentile(&sorted, 0.5));
    }
    for (numerator, denominator, target) in RATIOS {
        let (n, d) = (index_of(numerator), index_of(denominator));
        let mut ratios: Vec<f64> = nanos[n].iter().zip(&nanos[d]).map(|(a, b)| a / b).collect();
        ratios.sort_by(f64::total_cmp);
        println!(
            "  {numerator}/{denominator}: {:.3} [{:.3} {:.3}] ({target})",
            percentile(&ratios, 0.5),
            percentile(&ratios, 0.25),
            percentile(&ratios, 0.75),
        );
    }
}
