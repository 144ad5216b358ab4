//! Auto-pair solver benchmarks (issue 6, "Measure"); see docs/benchmarks.md ("Auto-pair solver").
//!
//! Instances, all built from seed 2026 with SplitMix64:
//! - `dense-NxM`: capacity 4, scores uniform in 0..=1,000,000 (few ties), 10% of pairs forbidden;
//! - `quiz-NxM`: capacity 4, scores from questionnaire agreement (few distinct values, many ties):
//!   7 multiple-choice questions of 3..=5 options and weight 1..=5 each; a pair scores the weights of
//!   the questions both answered alike (0..=35, about 30 distinct values); each person is in one of
//!   10 departments and a mentor of the mentee's own department is forbidden (about 10% of pairs);
//! - `square-5000`: 5,000 × 5,000, capacity 1, every pair allowed, scores uniform in 0..=1,000,000,
//!   written to `target/autopair-5000.npy` (or `$AUTOPAIR_NPY`; `-` for none) for
//!   `bench/autopair_scipy.py --file`.
//!
//! at 1000x250, 5000x1250 and 10000x2500. `bench/autopair.sh` runs everything and prints one table.
//!
//! - `cargo bench -p cohort-domain --bench autopair` (criterion; a name after `--` filters, e.g.
//!   `-- quiz-10000`); before timing, each instance prints its optimum and the greedy gap once.
//! - `AUTOPAIR_ONCE=NAME[,NAME...]` (or `all`) solves each instance `AUTOPAIR_RUNS` times (default 1),
//!   verifies, prints the best time and the greedy gap (unless `AUTOPAIR_GREEDY=0`), without criterion:
//!   for peak memory under `/usr/bin/time -v`. A NAME may also be MENTEES:MENTORS:MAX_SCORE:LO:HI
//!   (dense, capacities LO..=HI).

use std::hint::black_box;
use std::time::{Duration, Instant};

use cohort_domain::autopair::{solve, verify, Problem};
use criterion::{criterion_group, Criterion};

/// The instances' seed.
const SEED: u64 = 2026;

/// SplitMix64: small, and easy to repeat.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        (self.next() >> 32) % n
    }
}

/// Dense random: capacities `lo..=hi`, then the matrix row by row: a draw divisible by 10 forbids the
/// pair (if `forbid`), else its high half modulo `max_score + 1` is the score.
fn dense(mentees: usize, mentors: usize, max_score: u64, (lo, hi): (u64, u64), forbid: bool) -> Problem {
    let mut rng = SplitMix(SEED);
    let capacity = (0..mentors).map(|_| (lo + rng.next() % (hi - lo + 1)) as u32).collect();
    let mut problem = Problem::new(mentees, capacity);
    for i in 0..mentees {
        for j in 0..mentors {
            let r = rng.next();
            let score = (!(forbid && r.is_multiple_of(10))).then_some(((r >> 32) % (max_score + 1)) as i32);
            problem.set(i, j, score);
        }
    }
    problem
}

/// Questionnaire agreement, capacity 4 (see the module documentation).
fn quiz(mentees: usize, mentors: usize) -> Problem {
    const QUESTIONS: usize = 7;
    const DEPARTMENTS: u64 = 10;
    let mut rng = SplitMix(SEED ^ 0x5155_495A);
    let options: Vec<u64> = (0..QUESTIONS).map(|_| 3 + rng.below(3)).collect();
    let weight: Vec<i32> = (0..QUESTIONS).map(|_| 1 + rng.below(5) as i32).collect();
    let person = |rng: &mut SplitMix| {
        let department = rng.below(DEPARTMENTS);
        let answers: Vec<u64> = options.iter().map(|&o| rng.below(o)).collect();
        (department, answers)
    };
    let mentee: Vec<_> = (0..mentees).map(|_| person(&mut rng)).collect();
    let mentor: Vec<_> = (0..mentors).map(|_| person(&mut rng)).collect();
    let mut problem = Problem::new(mentees, vec![4; mentors]);
    for (i, (dept_i, answers_i)) in mentee.iter().enumerate() {
        for (j, (dept_j, answers_j)) in mentor.iter().enumerate() {
            let score = (dept_i != dept_j).then(|| {
                (0..QUESTIONS)
                    .filter(|&q| answers_i[q] == answers_j[q])
                    .map(|q| weight[q])
                    .sum()
            });
            problem.set(i, j, score);
        }
    }
    problem
}

fn instance(name: &str) -> Problem {
    let size = |s: &str| -> (usize, usize) {
        let (n, m) = s.split_once('x').expect("NxM");
        (n.parse().expect("a number"), m.parse().expect("a number"))
    };
    if let Some(s) = name.strip_prefix("dense-") {
        let (n, m) = size(s);
        dense(n, m, 1_000_000, (4, 4), true)
    } else if let Some(s) = name.strip_prefix("quiz-") {
        let (n, m) = size(s);
        quiz(n, m)
    } else if name == "square-5000" {
        dense(5_000, 5_000, 1_000_000, (1, 1), false)
    } else {
        let spec: Vec<u64> = name.split(':').map(|x| x.parse().expect("a number")).collect();
        let [n, m, max_score, lo, hi] = spec[..] else {
            panic!("unknown instance {name}: dense-NxM, quiz-NxM, square-5000 or MENTEES:MENTORS:MAX_SCORE:LO:HI");
        };
        dense(n as usize, m as usize, max_score, (lo, hi), true)
    }
}

const ALL: [&str; 7] = [
    "dense-1000x250",
    "dense-5000x1250",
    "dense-10000x2500",
    "quiz-1000x250",
    "quiz-5000x1250",
    "quiz-10000x2500",
    "square-5000",
];

/// The baseline: every allowed pair by score, best first (ties in matrix order), taken if the
/// mentee is free and the mentor has room. Returns (pairs, total score). One u64 per pair: the
/// score's complement above the cell's index.
fn greedy(problem: &Problem) -> (usize, i64) {
    let (n, m) = (problem.mentees(), problem.mentors());
    let mut candidates: Vec<u64> = Vec::new();
    for i in 0..n {
        for j in 0..m {
            if let Some(s) = problem.score(i, j) {
                let key = (1_000_000i64 - i64::from(s)) as u64;
                candidates.push(key << 36 | (i * m + j) as u64);
            }
        }
    }
    candidates.sort_unstable();
    let mut paired = vec![false; n];
    let mut room = problem.capacity().to_vec();
    let (mut pairs, mut total) = (0, 0i64);
    for key in candidates {
        let cell = (key & ((1 << 36) - 1)) as usize;
        let (i, j) = (cell / m, cell % m);
        if !paired[i] && room[j] > 0 {
            paired[i] = true;
            room[j] -= 1;
            pairs += 1;
            total += i64::from(problem.score(i, j).expect("allowed"));
        }
    }
    (pairs, total)
}

/// Writes the matrix as a `.npy` file of little-endian i32, `i32::MIN` for a forbidden pair (streamed,
/// so that it adds nothing to the peak memory); `-` writes nothing.
fn write_npy(problem: &Problem, path: &str) {
    use std::io::Write;
    if path == "-" {
        return;
    }
    let (n, m) = (problem.mentees(), problem.mentors());
    let mut header = format!("{{'descr': '<i4', 'fortran_order': False, 'shape': ({n}, {m}), }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let write = || -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        out.write_all(b"\x93NUMPY\x01\x00")?;
        out.write_all(&(header.len() as u16).to_le_bytes())?;
        out.write_all(header.as_bytes())?;
        for i in 0..n {
            for j in 0..m {
                out.write_all(&problem.score(i, j).unwrap_or(i32::MIN).to_le_bytes())?;
            }
        }
        out.flush()
    };
    write().unwrap_or_else(|e| panic!("writing {path}: {e}"));
}

fn npy_path() -> String {
    std::env::var("AUTOPAIR_NPY").unwrap_or_else(|_| {
        let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
        format!("{target}/autopair-5000.npy")
    })
}

fn distinct_scores(problem: &Problem) -> usize {
    let mut seen = std::collections::HashSet::new();
    for i in 0..problem.mentees().min(2_000) {
        for j in 0..problem.mentors() {
            if let Some(s) = problem.score(i, j) {
                seen.insert(s);
            }
        }
    }
    seen.len()
}

/// Solves `runs` times, verifies, prints one line (and the greedy's gap); returns the best time.
fn report(name: &str, problem: &Problem, runs: usize, with_greedy: bool) -> Duration {
    let places: u64 = problem.capacity().iter().map(|&c| u64::from(c)).sum();
    let mut best = Duration::MAX;
    let mut solution = None;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let s = solve(problem);
        best = best.min(start.elapsed());
        solution = Some(s);
    }
    let solution = solution.expect("one run");
    let start = Instant::now();
    verify(problem, &solution).expect("the certificate verifies");
    let verified = start.elapsed();
    let greedy = if with_greedy {
        let (pairs, total) = greedy(problem);
        format!(
            "greedy pairs={pairs} total={total} gap={} pairs {} points ({:.3}%)",
            solution.pairs - pairs,
            solution.total_score - total,
            100.0 * (solution.total_score - total) as f64 / solution.total_score.max(1) as f64,
        )
    } else {
        "greedy not run".into()
    };
    println!(
        "{name}: {}x{}, {places} places, ~{} distinct scores; optimum pairs={} total={}; \
         solve {:.1} ms (best of {runs}), verify {verified:.1?}, certificate ok; {greedy}",
        problem.mentees(),
        problem.mentors(),
        distinct_scores(problem),
        solution.pairs,
        solution.total_score,
        best.as_secs_f64() * 1e3,
    );
    best
}

fn benches_all(c: &mut Criterion) {
    let mut group = c.benchmark_group("autopair");
    group.sample_size(10);
    for name in ALL {
        let problem = instance(name);
        if name == "square-5000" {
            write_npy(&problem, &npy_path());
        }
        report(name, &problem, 1, true);
        group.bench_function(name, |b| b.iter(|| solve(black_box(&problem))));
    }
    group.finish();
}

criterion_group!(benches, benches_all);

fn main() {
    if let Ok(names) = std::env::var("AUTOPAIR_ONCE") {
        let runs = std::env::var("AUTOPAIR_RUNS").map_or(1, |r| r.parse().expect("a number"));
        let with_greedy = std::env::var("AUTOPAIR_GREEDY").map_or(true, |g| g != "0");
        let names: Vec<&str> = if names == "all" {
            ALL.to_vec()
        } else {
            names.split(',').collect()
        };
        for name in names {
            let problem = instance(name);
            if name == "square-5000" {
                let path = npy_path();
                write_npy(&problem, &path);
                if path != "-" {
                    println!("square-5000: matrix written to {path}");
                }
            }
            report(name, &problem, runs, with_greedy);
        }
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
