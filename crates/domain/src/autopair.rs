//! Auto-pair: an optimal capacity-respecting assignment of mentees to mentors, with a certificate.
//!
//! The objective, in order: pair as many mentees as the capacities and the allowed pairs permit,
//! then maximise the total compatibility score. Scores are integer points, `|score| <= MAX_SCORE`;
//! a pair without a score is one a hard constraint forbids.
//!
//! Both orders of the objective become one: every allowed pair weighs `score + PAIR_BONUS`, and the
//! solvers maximise the total weight. That is the linear program
//!
//! ```text
//! max  Σ w_ij x_ij   s.t.  Σ_j x_ij <= 1 (each mentee),  Σ_i x_ij <= c_j (each mentor),  x >= 0
//! min  Σ u_i + Σ c_j v_j   s.t.  u_i + v_j >= w_ij (each allowed pair),  u, v >= 0
//! ```
//!
//! whose constraint matrix is totally unimodular, so it has an integral optimum. A solution carries
//! dual prices `u` (mentees) and `v` (mentors) as a [`Certificate`]: if they are feasible and the two
//! objectives are equal, no assignment weighs more. [`verify`] checks exactly that, in integers,
//! without trusting the solver.
//!
//! - [`solve`]: a shortest-augmenting-path (Hungarian / Jonker–Volgenant) solver on the dense matrix.
//!   It roots its searches at the side with fewer places (mentors' total capacity or mentees; the
//!   other side keeps free nodes for paths to end at), reading the matrix row by row from that side
//!   (a transposed copy when it is the mentors). It starts from a reduction (each root-side node
//!   priced at its best weight, the other side at zero) and a greedy assignment on the tight pairs;
//!   from the mentors, a bounded auction (JV's augmenting row reduction) fills most places next. Then
//!   the places still open at a positive price: phases of depth-first augmentation along tight
//!   alternating paths (no price change; with many tied scores, many places are filled there), each
//!   followed by one Dijkstra per open place until the searches have read as many rows as the phase
//!   did. Mentors are single nodes with a capacity, not copies. The hot loops (a row's distances in a
//!   search, a row's best profit in the auction) test blocks of 16 cells branch-free, compiled for
//!   AVX2 when the CPU has it. Worst case O(places × (mentees + mentors)²); figures in
//!   docs/benchmarks.md ("Auto-pair solver").
//! - [`solve_reference`]: successive shortest paths on the flow network source → mentee → mentor →
//!   sink, with an O(nodes²) Dijkstra per pair: O(pairs × (mentees + mentors)²). Slow and simple; the
//!   property tests compare both with brute force.

/// Scores are points; |score| <= MAX_SCORE.
pub const MAX_SCORE: i32 = 1_000_000;

/// The most mentees a [`Problem`] may have, so that [`PAIR_BONUS`] dominates every score.
pub const MAX_MENTEES: usize = 500_000;

/// Added to every allowed pair's score to make its weight. With `k` pairs, any other assignment's
/// scores differ by at most `(2k + 1) × MAX_SCORE` from one with a pair more, and
/// `(2 × MAX_MENTEES + 1) × MAX_SCORE ≈ 1.0 × 10¹²` is below `2⁴⁰ ≈ 1.1 × 10¹²`: one more pair always
/// beats any gain in score. Total weights stay below `MAX_MENTEES × (2⁴⁰ + MAX_SCORE) < 2⁵⁹`.
pub const PAIR_BONUS: i64 = 1 << 40;

/// The score of a forbidden pair in [`Problem`]'s matrix.
const FORBIDDEN: i32 = i32::MIN;

/// A dense mentees × mentors matrix; a forbidden pair has no score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    mentees: usize,
    capacity: Vec<u32>,
    /// Row-major: `scores[mentee * mentors + mentor]`, [`FORBIDDEN`] for a forbidden pair.
    scores: Vec<i32>,
}

impl Problem {
    /// Every pair forbidden until `set`. Panics if there are more than [`MAX_MENTEES`] mentees.
    pub fn new(mentees: usize, capacity: Vec<u32>) -> Problem {
        assert!(mentees <= MAX_MENTEES, "at most {MAX_MENTEES} mentees, not {mentees}");
        let scores = vec![FORBIDDEN; mentees.checked_mul(capacity.len()).expect("matrix size")];
        Problem {
            mentees,
            capacity,
            scores,
        }
    }

    /// Panics if |score| > MAX_SCORE.
    pub fn set(&mut self, mentee: usize, mentor: usize, score: Option<i32>) {
        let cell = self.cell(mentee, mentor);
        self.scores[cell] = match score {
            Some(s) => {
                assert!(
                    (-MAX_SCORE..=MAX_SCORE).contains(&s),
                    "score {s} is out of ±{MAX_SCORE}"
                );
                s
            }
            None => FORBIDDEN,
        };
    }

    pub fn score(&self, mentee: usize, mentor: usize) -> Option<i32> {
        Some(self.scores[self.cell(mentee, mentor)]).filter(|&s| s != FORBIDDEN)
    }

    pub fn mentees(&self) -> usize {
        self.mentees
    }

    pub fn mentors(&self) -> usize {
        self.capacity.len()
    }

    pub fn capacity(&self) -> &[u32] {
        &self.capacity
    }

    fn cell(&self, mentee: usize, mentor: usize) -> usize {
        assert!(
            mentee < self.mentees && mentor < self.mentors(),
            "no pair ({mentee}, {mentor})"
        );
        mentee * self.mentors() + mentor
    }

    /// The weight of a pair (score + bonus), if allowed.
    fn weight(&self, mentee: usize, mentor: usize) -> Option<i64> {
        self.score(mentee, mentor).map(|s| s as i64 + PAIR_BONUS)
    }
}

/// LP dual prices, in weight units (score + [`PAIR_BONUS`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Certificate {
    pub mentee_price: Vec<i64>,
    pub mentor_price: Vec<i64>,
}

/// An assignment: `mentor_of[i]` is the mentor of mentee `i`, if any; with its optimality certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Solution {
    pub mentor_of: Vec<Option<usize>>,
    pub total_score: i64,
    pub pairs: usize,
    pub certificate: Certificate,
}

impl Solution {
    fn new(problem: &Problem, mentor_of: Vec<Option<usize>>, certificate: Certificate) -> Solution {
        let total_score = (0..problem.mentees())
            .filter_map(|i| mentor_of[i].and_then(|j| problem.score(i, j)))
            .map(i64::from)
            .sum();
        let pairs = mentor_of.iter().flatten().count();
        Solution {
            mentor_of,
            total_score,
            pairs,
            certificate,
        }
    }
}

/// Why [`verify`] refused a solution.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CertificateError {
    #[error("the solution has {found} {what}, the problem {expected}")]
    WrongLength {
        what: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("mentee {mentee} is paired with mentor {mentor}, who does not exist")]
    UnknownMentor { mentee: usize, mentor: usize },
    #[error("mentee {mentee} is paired with mentor {mentor}, a forbidden pair")]
    ForbiddenPair { mentee: usize, mentor: usize },
    #[error("mentor {mentor} has {load} mentees, capacity {capacity}")]
    CapacityExceeded { mentor: usize, load: usize, capacity: u32 },
    #[error(
        "the solution claims {claimed_pairs} pairs scoring {claimed_total}, its assignment has {pairs} scoring {total}"
    )]
    WrongSummary {
        claimed_pairs: usize,
        claimed_total: i64,
        pairs: usize,
        total: i64,
    },
    #[error("mentee {mentee} has a negative price {price}")]
    NegativeMenteePrice { mentee: usize, price: i64 },
    #[error("mentor {mentor} has a negative price {price}")]
    NegativeMentorPrice { mentor: usize, price: i64 },
    #[error("dual infeasible at ({mentee}, {mentor}): prices {mentee_price} + {mentor_price} < weight {weight}")]
    DualInfeasible {
        mentee: usize,
        mentor: usize,
        weight: i64,
        mentee_price: i64,
        mentor_price: i64,
    },
    #[error("duality gap: primal weight {primal} < dual price {dual}")]
    DualityGap { primal: i128, dual: i128 },
}

/// Checks the solution independently of how it was found: primal feasibility (capacities, allowed
/// pairs, the summary), dual feasibility (u_i >= 0, v_j >= 0, u_i + v_j >= w_ij for every allowed
/// pair), and equal objective values (sum of w over pairs == sum u_i + sum c_j v_j), in exact integer
/// arithmetic. Equal objectives of a feasible primal and a feasible dual prove the assignment optimal.
pub fn verify(problem: &Problem, solution: &Solution) -> Result<(), CertificateError> {
    let (n, m) = (problem.mentees(), problem.mentors());
    let length = |what, expected, found| {
        if expected == found {
            Ok(())
        } else {
            Err(CertificateError::WrongLength { what, expected, found })
        }
    };
    length("mentees", n, solution.mentor_of.len())?;
    length("mentee prices", n, solution.certificate.mentee_price.len())?;
    length("mentor prices", m, solution.certificate.mentor_price.len())?;
    // Primal feasibility and weight.
    let mut load = vec![0usize; m];
    let (mut pairs, mut total, mut primal) = (0usize, 0i64, 0i128);
    for (mentee, mentor) in solution.mentor_of.iter().enumerate() {
        let Some(mentor) = *mentor else { continue };
        if mentor >= m {
            return Err(CertificateError::UnknownMentor { mentee, mentor });
        }
        let Some(score) = problem.score(mentee, mentor) else {
            return Err(CertificateError::ForbiddenPair { mentee, mentor });
        };
        load[mentor] += 1;
        pairs += 1;
        total += i64::from(score);
        primal += i128::from(score) + i128::from(PAIR_BONUS);
    }
    for (mentor, (&load, &capacity)) in load.iter().zip(problem.capacity()).enumerate() {
        if load > capacity as usize {
            return Err(CertificateError::CapacityExceeded { mentor, load, capacity });
        }
    }
    if (pairs, total) != (solution.pairs, solution.total_score) {
        return Err(CertificateError::WrongSummary {
            claimed_pairs: solution.pairs,
            claimed_total: solution.total_score,
            pairs,
            total,
        });
    }
    // Dual feasibility and price.
    let (u, v) = (&solution.certificate.mentee_price, &solution.certificate.mentor_price);
    if let Some(mentee) = u.iter().position(|&p| p < 0) {
        return Err(CertificateError::NegativeMenteePrice {
            mentee,
            price: u[mentee],
        });
    }
    if let Some(mentor) = v.iter().position(|&p| p < 0) {
        return Err(CertificateError::NegativeMentorPrice {
            mentor,
            price: v[mentor],
        });
    }
    // With no mentors there are no pairs to check (and no rows to split).
    for (mentee, (&price, row)) in u.iter().zip(problem.scores.chunks_exact(m.max(1))).enumerate() {
        let ui = i128::from(price);
        for (mentor, &score) in row.iter().enumerate() {
            if score == FORBIDDEN {
                continue;
            }
            let weight = i64::from(score) + PAIR_BONUS;
            if ui + i128::from(v[mentor]) < i128::from(weight) {
                return Err(CertificateError::DualInfeasible {
                    mentee,
                    mentor,
                    weight,
                    mentee_price: price,
                    mentor_price: v[mentor],
                });
            }
        }
    }
    let dual: i128 = u.iter().map(|&p| i128::from(p)).sum::<i128>()
        + v.iter()
            .zip(problem.capacity())
            .map(|(&p, &c)| i128::from(p) * i128::from(c))
            .sum::<i128>();
    // Weak duality makes primal <= dual for feasible pairs of solutions; only equality is optimal.
    if primal != dual {
        return Err(CertificateError::DualityGap { primal, dual });
    }
    Ok(())
}

/// The fast solver: shortest augmenting paths on the dense matrix. See the module documentation.
pub fn solve(problem: &Problem) -> Solution {
    let n = problem.mentees();
    let places: u64 = problem.capacity().iter().map(|&c| u64::from(c).min(n as u64)).sum();
    // Search from the side with fewer places: the other keeps free nodes to end paths at.
    Sap::new(problem, places <= n as u64).run(problem)
}

/// Sentinel for "no node".
const NONE: u32 = u32::MAX;
const INF: i64 = i64::MAX / 4;
/// The distance of a settled node in the search: below every candidate.
const SETTLED: i64 = i64::MIN;

/// Shortest augmenting paths from the A side (the roots) to the B side: A = mentors and B = mentees
/// if `mentors_root`, else the other way round. Prices `y` (A) and `z` (B) stay dual feasible
/// (`y_a + z_b >= w_ab`, both >= 0) and tight on every pair, and a B node with room has price 0.
/// A search from an A node with room at a positive price ends at a B node with room (one more pair),
/// or where an A node's price would fall below zero (that node gives up a partner and keeps the room
/// at price 0; the root itself just falls to 0). It runs while some A node has room at a positive
/// price; then every complementary slackness condition holds, so the prices are an optimal dual.
struct Sap<'p> {
    mentors_root: bool,
    na: usize,
    nb: usize,
    /// Scores, A-major: `w[a * nb + b]` (the problem's own matrix, or its transpose).
    w: std::borrow::Cow<'p, [i32]>,
    cap_a: Vec<u32>,
    cap_b: Vec<u32>,
    y: Vec<i64>,
    z: Vec<i64>,
    /// The B nodes paired with each A node, and the other way round.
    of_a: Vec<Vec<u32>>,
    of_b: Vec<Vec<u32>>,
    // Search state, reused.
    dist_a: Vec<i64>,
    dist_b: Vec<i64>,
    done_a: Vec<bool>,
    prev_a: Vec<u32>,
    prev_b: Vec<u32>,
    settled_a: Vec<u32>,
    /// Settled B nodes and their distances (their `dist_b` is [`SETTLED`]).
    settled_b: Vec<(u32, i64)>,
    /// B nodes with a finite distance, not settled.
    touched: Vec<u32>,
    /// B nodes at the current distance, to settle (or end at).
    ready: Vec<u32>,
    /// A nodes at the current distance, to scan.
    stack: Vec<u32>,
    /// Whether the CPU has AVX2, for the hot loops.
    avx2: bool,
    /// Per block of a row: whether it has a shorter distance (searches), its best profit (auction).
    flags: Vec<bool>,
    maxima: Vec<i64>,
}

impl<'p> Sap<'p> {
    fn new(problem: &'p Problem, mentors_root: bool) -> Self {
        let (n, m) = (problem.mentees(), problem.mentors());
        let capacity = problem.capacity().to_vec();
        // From the mentors, the transposed matrix is made only if the greedy leaves an open place.
        let (na, nb, cap_a, cap_b, w) = if mentors_root {
            (m, n, capacity, vec![1; n], std::borrow::Cow::Borrowed(&[][..]))
        } else {
            (
                n,
                m,
                vec![1; n],
                capacity,
                std::borrow::Cow::Borrowed(&problem.scores[..]),
            )
        };
        let mut sap = Sap {
            mentors_root,
            na,
            nb,
            w,
            cap_a,
            cap_b,
            y: vec![0; na],
            z: vec![0; nb],
            of_a: vec![Vec::new(); na],
            of_b: vec![Vec::new(); nb],
            dist_a: vec![INF; na],
            dist_b: vec![INF; nb],
            done_a: vec![false; na],
            prev_a: vec![NONE; na],
            prev_b: vec![NONE; nb],
            settled_a: Vec::new(),
            settled_b: Vec::new(),
            touched: Vec::new(),
            ready: Vec::new(),
            stack: Vec::new(),
            avx2: has_avx2(),
            flags: Vec::new(),
            maxima: Vec::new(),
        };
        sap.initialise(problem);
        let open = (0..sap.na).any(|a| sap.has_room_a(a) && sap.y[a] > 0);
        if mentors_root && open {
            sap.w = std::borrow::Cow::Owned(transpose(&problem.scores, n, m));
            sap.auction();
        }
        sap
    }

    /// Reduction and greedy: each A node's price is its best weight (B prices 0), and pairs on tight
    /// pairs while both ends have room. Reads the problem's matrix row by row (mentee by mentee).
    fn initialise(&mut self, problem: &Problem) {
        let m = problem.mentors();
        let rows = problem.scores.chunks_exact(m.max(1)).take(problem.mentees());
        if self.mentors_root {
            for row in rows.clone() {
                for (price, &s) in self.y.iter_mut().zip(row) {
                    if s != FORBIDDEN {
                        *price = (*price).max(i64::from(s) + PAIR_BONUS);
                    }
                }
            }
            for (b, row) in rows.enumerate() {
                let tight = (0..m).find(|&a| {
                    row[a] != FORBIDDEN && i64::from(row[a]) + PAIR_BONUS == self.y[a] && self.has_room_a(a)
                });
                if let Some(a) = tight {
                    self.pair(a, b);
                }
            }
        } else {
            for (a, row) in rows.enumerate() {
                let Some(&best) = row.iter().filter(|&&s| s != FORBIDDEN).max() else {
                    continue;
                };
                self.y[a] = i64::from(best) + PAIR_BONUS;
                if let Some(b) = (0..m).find(|&b| row[b] == best && self.has_room_b(b)) {
                    self.pair(a, b);
                }
            }
        }
    }

    /// Jonker–Volgenant's augmenting row reduction, when each B node takes one partner: an A node
    /// with room bids for its most profitable B node (weight less B price), raising that price until
    /// its second best is as good, and takes it from its partner, who bids in turn. A bounded number
    /// of bids; the searches finish the rest. Keeps every invariant of the searches: B prices only
    /// rise on B nodes that are paired and stay paired; the bidder's price falls to its new best
    /// profit, and its other partners' prices rise to stay tight.
    fn auction(&mut self) {
        debug_assert!(self.cap_b.iter().all(|&c| c == 1));
        let mut queue: std::collections::VecDeque<u32> = (0..self.na)
            .filter(|&a| self.has_room_a(a) && self.y[a] > 0)
            .map(|a| a as u32)
            .collect();
        let rooms: u64 = queue
            .iter()
            .map(|&a| u64::from(self.cap_a[a as usize]) - self.of_a[a as usize].len() as u64)
            .sum();
        // Bids stop when they stall (as many bids as there are A nodes without filling a place:
        // price wars that the searches settle faster), or at a generous cap.
        let stall = self.na.max(100) as u64;
        let (mut bids, mut since_progress) = (32 * rooms, 0);
        while let Some(a) = queue.pop_front() {
            let a = a as usize;
            if !self.has_room_a(a) || self.y[a] == 0 {
                continue;
            }
            if bids == 0 || since_progress == stall {
                break;
            }
            bids -= 1;
            since_progress += 1;
            // Its own partners are out of the bidding: priced out while it looks.
            for &b in &self.of_a[a] {
                self.z[b as usize] += INF;
            }
            let (mut p1, mut b1, mut p2) = (i64::MIN, NONE, i64::MIN);
            let row = &self.w[a * self.nb..(a + 1) * self.nb];
            // In blocks: a branch-free maximum first (vectorised), the details only in a block that
            // beats `p2`.
            block_max(self.avx2, row, &self.z, &mut self.maxima);
            for k in 0..self.maxima.len() {
                if self.maxima[k].saturating_add(PAIR_BONUS) <= p2 {
                    continue;
                }
                let cells = k * BLOCK..((k + 1) * BLOCK).min(self.nb);
                for (b, (&s, &z)) in row[cells.clone()].iter().zip(&self.z[cells]).enumerate() {
                    let (b, profit) = (k * BLOCK + b, profit(s, z));
                    if profit > p2 {
                        if profit > p1 {
                            (p2, p1, b1) = (p1, profit, b as u32);
                        } else {
                            p2 = profit;
                            // A tie: a free B node takes no one's place (and ends no price war).
                            if profit == p1 && self.of_b[b].is_empty() && !self.of_b[b1 as usize].is_empty() {
                                b1 = b as u32;
                            }
                        }
                    }
                }
            }
            for &b in &self.of_a[a] {
                self.z[b as usize] -= INF;
            }
            let y_new = if p1 > 0 { p2.max(0) } else { 0 };
            let fall = self.y[a] - y_new;
            for k in 0..self.of_a[a].len() {
                let b = self.of_a[a][k] as usize;
                self.z[b] += fall;
            }
            self.y[a] = y_new;
            if p1 <= 0 {
                continue; // nothing worth bidding for: the room stays, at price 0
            }
            let b1 = b1 as usize;
            self.z[b1] += p1 - y_new;
            if let Some(&k) = self.of_b[b1].first() {
                self.unpair(k as usize, b1);
                queue.push_back(k);
            } else {
                since_progress = 0;
            }
            self.pair(a, b1);
            if self.has_room_a(a) && self.y[a] > 0 {
                queue.push_front(a as u32);
            }
        }
    }

    fn pair(&mut self, a: usize, b: usize) {
        self.of_a[a].push(b as u32);
        self.of_b[b].push(a as u32);
    }

    fn unpair(&mut self, a: usize, b: usize) {
        let k = self.of_a[a].iter().position(|&x| x as usize == b).expect("paired");
        self.of_a[a].swap_remove(k);
        let k = self.of_b[b].iter().position(|&x| x as usize == a).expect("paired");
        self.of_b[b].swap_remove(k);
    }

    fn has_room_a(&self, a: usize) -> bool {
        (self.of_a[a].len() as u32) < self.cap_a[a]
    }

    fn has_room_b(&self, b: usize) -> bool {
        (self.of_b[b].len() as u32) < self.cap_b[b]
    }

    fn run(mut self, problem: &Problem) -> Solution {
        // Alternate: augment along tight paths (many at once, no price change), then searches until
        // they have read as many rows as that phase did (so the phases cost at most as much again).
        'outer: loop {
            let cost = self.tight_phase();
            let mut spent = 0;
            let mut any = false;
            for r in 0..self.na {
                while self.has_room_a(r) && self.y[r] > 0 {
                    self.augment(r);
                    any = true;
                    spent += self.settled_a.len();
                    if spent >= cost {
                        continue 'outer;
                    }
                }
            }
            if !any {
                break;
            }
        }
        let (of_mentee, mentee_price, mentor_price) = if self.mentors_root {
            (&self.of_b, self.z, self.y)
        } else {
            (&self.of_a, self.y, self.z)
        };
        let mentor_of = of_mentee
            .iter()
            .map(|mentors| mentors.first().map(|&j| j as usize))
            .collect();
        Solution::new(
            problem,
            mentor_of,
            Certificate {
                mentee_price,
                mentor_price,
            },
        )
    }

    /// Augments along tight alternating paths (every pair on them tight, so no price changes) from each
    /// A node with room at a positive price to a B node with room, by depth-first search; within a
    /// phase each node is visited once and each row read once, from a cursor. Not every such path is
    /// found (from a B node only its first unvisited partner is followed): the searches find the rest.
    /// Returns the number of rows visited.
    fn tight_phase(&mut self) -> usize {
        let (na, nb) = (self.na, self.nb);
        // Visited B nodes are priced out (restored at the end); visited A nodes are `done_a`.
        let mut visited_b: Vec<u32> = Vec::new();
        let mut visited_a: Vec<u32> = Vec::new();
        let mut cursor = std::mem::take(&mut self.dist_a); // reused as row cursors
                                                           // (A node, the B node it was reached through).
        let mut stack: Vec<(u32, u32)> = Vec::new();
        for r in 0..na {
            if !(self.has_room_a(r) && self.y[r] > 0) || self.done_a[r] {
                continue;
            }
            self.done_a[r] = true;
            visited_a.push(r as u32);
            cursor[r] = 0;
            stack.push((r as u32, NONE));
            while let Some(&(a, _)) = stack.last() {
                let a = a as usize;
                let target = self.y[a] - PAIR_BONUS;
                let row = &self.w[a * nb..(a + 1) * nb];
                let mut k = cursor[a] as usize;
                // The next tight, unvisited B node in the row (a visited one is priced out).
                const BLOCK: usize = 16;
                let mut found = NONE;
                while k < nb {
                    let end = (k + BLOCK).min(nb);
                    let any = row[k..end]
                        .iter()
                        .zip(&self.z[k..end])
                        .fold(false, |any, (&s, &z)| any | (i64::from(s) - z == target));
                    if any {
                        if let Some(i) =
                            (k..end).find(|&b| i64::from(row[b]) - self.z[b] == target && row[b] != FORBIDDEN)
                        {
                            found = i as u32;
                            k = i + 1;
                            break;
                        }
                    }
                    k = end;
                }
                cursor[a] = k as i64;
                if found == NONE {
                    stack.pop();
                    continue;
                }
                let b = found as usize;
                self.z[b] += INF;
                visited_b.push(b as u32);
                if self.has_room_b(b) {
                    // Augment: the top A node takes b, each A node below takes the B node the one
                    // above it came through.
                    self.pair(a, b);
                    for k in (1..stack.len()).rev() {
                        let (upper, via) = (stack[k].0 as usize, stack[k].1 as usize);
                        self.unpair(upper, via);
                        self.pair(stack[k - 1].0 as usize, via);
                    }
                    stack.truncate(1);
                    if !(self.has_room_a(r) && self.y[r] > 0) {
                        stack.clear();
                    }
                    continue;
                }
                if let Some(&next) = self.of_b[b].iter().find(|&&x| !self.done_a[x as usize]) {
                    self.done_a[next as usize] = true;
                    visited_a.push(next);
                    cursor[next as usize] = 0;
                    stack.push((next, b as u32));
                }
            }
        }
        for &b in &visited_b {
            self.z[b as usize] -= INF;
        }
        for &a in &visited_a {
            self.done_a[a as usize] = false;
            cursor[a as usize] = INF;
        }
        self.dist_a = cursor;
        visited_a.len()
    }

    /// One Dijkstra from the A node `r` (which has room at a positive price) on the dense matrix, then
    /// the price update and the augmentation.
    fn augment(&mut self, r: usize) {
        for &a in &self.settled_a {
            self.done_a[a as usize] = false;
        }
        for &(b, _) in &self.settled_b {
            self.dist_b[b as usize] = INF;
        }
        for &b in &self.touched {
            self.dist_b[b as usize] = INF;
        }
        self.settled_a.clear();
        self.settled_b.clear();
        self.touched.clear();
        self.ready.clear();
        self.stack.clear();
        self.stack.push(r as u32);
        self.dist_a[r] = 0;
        let mut d = 0;
        let mut drop = (INF, NONE);
        let (end, last, dropped) = loop {
            // Scan the A nodes at distance `d`.
            while let Some(a) = self.stack.pop() {
                let a = a as usize;
                if self.done_a[a] {
                    continue;
                }
                self.done_a[a] = true;
                self.settled_a.push(a as u32);
                if d + self.y[a] < drop.0 {
                    drop = (d + self.y[a], a as u32);
                }
                // The hot loop: settled B nodes fail the test by their distance, forbidden pairs
                // (rarely close) by their score.
                let base = d + self.y[a] - PAIR_BONUS;
                let row = &self.w[a * self.nb..(a + 1) * self.nb];
                // In blocks: a branch-free test first (vectorised), the updates only in a block that
                // has one.
                flag_blocks(self.avx2, row, &self.z, &self.dist_b, base, &mut self.flags);
                for k in (0..self.flags.len()).filter(|&k| self.flags[k]) {
                    let cells = k * BLOCK..((k + 1) * BLOCK).min(self.nb);
                    let dist = &mut self.dist_b[cells.clone()];
                    let (row, z) = (&row[cells.clone()], &self.z[cells]);
                    for (i, ((&s, &z), dist)) in row.iter().zip(z).zip(dist.iter_mut()).enumerate() {
                        let nd = base + z - i64::from(s);
                        if nd < *dist && s != FORBIDDEN {
                            let b = k * BLOCK + i;
                            if *dist == INF {
                                self.touched.push(b as u32);
                            }
                            if nd == d {
                                self.ready.push(b as u32);
                            }
                            *dist = nd;
                            self.prev_b[b] = a as u32;
                        }
                    }
                }
            }
            if self.ready.is_empty() {
                // The closest B nodes, all of them (dropping settled ones from the list on the way).
                let mut best_d = INF;
                let mut kept = 0;
                for k in 0..self.touched.len() {
                    let b = self.touched[k];
                    if self.dist_b[b as usize] == SETTLED {
                        continue;
                    }
                    self.touched[kept] = b;
                    kept += 1;
                    let db = self.dist_b[b as usize];
                    if db < best_d {
                        best_d = db;
                        self.ready.clear();
                    }
                    if db == best_d {
                        self.ready.push(b);
                    }
                }
                self.touched.truncate(kept);
                d = best_d;
            }
            if drop.0 <= d {
                break (drop.0, drop.1 as usize, true);
            }
            // B nodes at distance `d`: the search ends at one with room, else they are settled and
            // their partners scanned next.
            if let Some(&b) = self.ready.iter().find(|&&b| self.has_room_b(b as usize)) {
                break (d, b as usize, false);
            }
            for k in 0..self.ready.len() {
                let b = self.ready[k] as usize;
                if self.dist_b[b] == SETTLED {
                    continue;
                }
                self.dist_b[b] = SETTLED;
                self.settled_b.push((b as u32, d));
                for k in 0..self.of_b[b].len() {
                    let a = self.of_b[b][k];
                    if !self.done_a[a as usize] {
                        self.dist_a[a as usize] = d;
                        self.prev_a[a as usize] = b as u32;
                        self.stack.push(a);
                    }
                }
            }
            self.ready.clear();
        };
        // Prices: settled nodes move by how far short of the end they are.
        for &a in &self.settled_a {
            self.y[a as usize] -= end - self.dist_a[a as usize];
        }
        for &(b, dist) in &self.settled_b {
            self.z[b as usize] += end - dist;
        }
        // Pairs: along the path back to the root.
        let mut b = if dropped {
            if last == r {
                return;
            }
            let b = self.prev_a[last] as usize;
            self.unpair(last, b);
            b
        } else {
            last
        };
        loop {
            let a = self.prev_b[b] as usize;
            self.pair(a, b);
            if a == r {
                break;
            }
            let next = self.prev_a[a] as usize;
            self.unpair(a, next);
            b = next;
        }
    }
}

/// Cells per block in the hot loops.
const BLOCK: usize = 16;

/// The profit of a B node to an A node (weight less the B node's price), `i64::MIN` if forbidden.
#[inline(always)]
fn profit(s: i32, z: i64) -> i64 {
    if s == FORBIDDEN {
        i64::MIN
    } else {
        i64::from(s) + PAIR_BONUS - z
    }
}

/// For each block of a row: whether a cell's new distance `base + z - s` beats its `dist`. Plain
/// loops over fixed-size blocks, so that all of it is inlined into (and vectorised by) the AVX2 copy.
#[inline(always)]
fn flag_blocks_generic(row: &[i32], z: &[i64], dist: &[i64], base: i64, flags: &mut Vec<bool>) {
    let n = row.len().min(z.len()).min(dist.len());
    flags.clear();
    flags.resize(n.div_ceil(BLOCK), false);
    let full = n / BLOCK;
    for (k, flag) in flags.iter_mut().enumerate().take(full) {
        let row: &[i32; BLOCK] = row[k * BLOCK..][..BLOCK].try_into().expect("a block");
        let z: &[i64; BLOCK] = z[k * BLOCK..][..BLOCK].try_into().expect("a block");
        let dist: &[i64; BLOCK] = dist[k * BLOCK..][..BLOCK].try_into().expect("a block");
        let mut any = false;
        for i in 0..BLOCK {
            any |= base + z[i] - i64::from(row[i]) < dist[i];
        }
        *flag = any;
    }
    if full * BLOCK < n {
        flags[full] = (full * BLOCK..n).any(|b| base + z[b] - i64::from(row[b]) < dist[b]);
    }
}

/// For each block of a row: an upper bound on its best profit less [`PAIR_BONUS`], `s - z` over
/// every cell (a forbidden one included: only a bound, so no branch).
#[inline(always)]
fn block_max_generic(row: &[i32], z: &[i64], maxima: &mut Vec<i64>) {
    let n = row.len().min(z.len());
    maxima.clear();
    maxima.resize(n.div_ceil(BLOCK), i64::MIN);
    let full = n / BLOCK;
    for (k, max) in maxima.iter_mut().enumerate().take(full) {
        let row: &[i32; BLOCK] = row[k * BLOCK..][..BLOCK].try_into().expect("a block");
        let z: &[i64; BLOCK] = z[k * BLOCK..][..BLOCK].try_into().expect("a block");
        let mut best = i64::MIN;
        for i in 0..BLOCK {
            best = best.max(i64::from(row[i]) - z[i]);
        }
        *max = best;
    }
    if full * BLOCK < n {
        maxima[full] = (full * BLOCK..n)
            .map(|b| i64::from(row[b]) - z[b])
            .max()
            .unwrap_or(i64::MIN);
    }
}

/// The same compiled for AVX2 (64-bit lanes compare four at a time), used when the CPU has it.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn flag_blocks_avx2(row: &[i32], z: &[i64], dist: &[i64], base: i64, flags: &mut Vec<bool>) {
    flag_blocks_generic(row, z, dist, base, flags)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn block_max_avx2(row: &[i32], z: &[i64], maxima: &mut Vec<i64>) {
    block_max_generic(row, z, maxima)
}

fn flag_blocks(avx2: bool, row: &[i32], z: &[i64], dist: &[i64], base: i64, flags: &mut Vec<bool>) {
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        // SAFETY: `avx2` is true only if the CPU has AVX2 (`has_avx2`).
        return unsafe { flag_blocks_avx2(row, z, dist, base, flags) };
    }
    let _ = avx2;
    flag_blocks_generic(row, z, dist, base, flags)
}

fn block_max(avx2: bool, row: &[i32], z: &[i64], maxima: &mut Vec<i64>) {
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        // SAFETY: as in `flag_blocks`.
        return unsafe { block_max_avx2(row, z, maxima) };
    }
    let _ = avx2;
    block_max_generic(row, z, maxima)
}

fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `scores` (rows × cols, row-major) transposed, in cache-sized blocks.
fn transpose(scores: &[i32], rows: usize, cols: usize) -> Vec<i32> {
    const BLOCK: usize = 64;
    let mut out = vec![0; scores.len()];
    for r0 in (0..rows).step_by(BLOCK) {
        for c0 in (0..cols).step_by(BLOCK) {
            for r in r0..(r0 + BLOCK).min(rows) {
                for c in c0..(c0 + BLOCK).min(cols) {
                    out[c * rows + r] = scores[r * cols + c];
                }
            }
        }
    }
    out
}

/// The reference: successive shortest paths, adapted from the first solver. Returns its duals too.
pub fn solve_reference(problem: &Problem) -> Solution {
    let (n, m) = (problem.mentees(), problem.mentors());
    let capacity = problem.capacity();
    let weight = |i: usize, j: usize| problem.weight(i, j);
    let mut mentor_of: Vec<Option<usize>> = vec![None; n];
    let mut load = vec![0u32; m];
    // Potentials: on mentees (left) and mentors (right), and on the sink; the source's is 0.
    let mut pi_left = vec![0i64; n];
    let mut pi_right = vec![0i64; m];
    // Initial potentials make every reduced cost non-negative: cost(i,j) = -w(i,j) ≥ -max_w.
    let max_w = (0..n)
        .flat_map(|i| (0..m).filter_map(move |j| weight(i, j)))
        .max()
        .unwrap_or(0);
    for p in pi_right.iter_mut() {
        *p = -max_w;
    }
    let mut pi_sink = -max_w;
    let (final_left, final_right) = loop {
        // Dijkstra from the source over: source→free mentee (cost 0), mentee→mentor (−w, forward if
        // not assigned there), mentor→assigned mentee (+w, backward), mentor→sink (0, if room).
        let mut dist_left = vec![INF; n];
        let mut dist_right = vec![INF; m];
        let mut prev_right: Vec<Option<usize>> = vec![None; m]; // mentee before mentor j
        let mut done_left = vec![false; n];
        let mut done_right = vec![false; m];
        for i in 0..n {
            if mentor_of[i].is_none() {
                dist_left[i] = -pi_left[i];
            }
        }
        let mut best_sink: Option<(i64, usize)> = None;
        loop {
            // The closest unsettled node.
            let mut pick: Option<(i64, bool, usize)> = None;
            for i in 0..n {
                if !done_left[i] && dist_left[i] < INF && pick.is_none_or(|(d, _, _)| dist_left[i] < d) {
                    pick = Some((dist_left[i], true, i));
                }
            }
            for j in 0..m {
                if !done_right[j] && dist_right[j] < INF && pick.is_none_or(|(d, _, _)| dist_right[j] < d) {
                    pick = Some((dist_right[j], false, j));
                }
            }
            let Some((d, left, k)) = pick else { break };
            if left {
                done_left[k] = true;
                for j in 0..m {
                    if done_right[j] || mentor_of[k] == Some(j) {
                        continue;
                    }
                    if let Some(w) = weight(k, j) {
                        let reduced = -w + pi_left[k] - pi_right[j];
                        if d + reduced < dist_right[j] {
                            dist_right[j] = d + reduced;
                            prev_right[j] = Some(k);
                        }
                    }
                }
            } else {
                done_right[k] = true;
                if load[k] < capacity[k] {
                    let reduced = pi_right[k] - pi_sink;
                    if best_sink.is_none_or(|(bd, _)| d + reduced < bd) {
                        best_sink = Some((d + reduced, k));
                    }
                }
                for i in 0..n {
                    if done_left[i] || mentor_of[i] != Some(k) {
                        continue;
                    }
                    let w = weight(i, k).expect("assigned pairs are allowed");
                    let reduced = w + pi_right[k] - pi_left[i];
                    if d + reduced < dist_left[i] {
                        dist_left[i] = d + reduced;
                    }
                }
            }
        }
        // The path's true cost: reduced distance minus the sink's potential (the source's is 0).
        let improving = best_sink.filter(|&(sink_dist, _)| sink_dist + pi_sink < 0);
        let Some((sink_dist, last)) = improving else {
            // No path lowers the cost. Potentials shifted by min(distance, −π_sink) stay feasible and
            // put the sink level with the source (every path to it costs at least −π_sink, reduced):
            // then u_i = π_i and v_j = −π_j, clamped at 0 where a slack constraint allows it.
            let cap = -pi_sink;
            let left: Vec<i64> = (0..n).map(|i| (pi_left[i] + dist_left[i].min(cap)).max(0)).collect();
            let right: Vec<i64> = (0..m)
                .map(|j| (-(pi_right[j] + dist_right[j].min(cap))).max(0))
                .collect();
            break (left, right);
        };
        // Update potentials: settled nodes by their distance; the rest by the sink's distance.
        for i in 0..n {
            pi_left[i] += dist_left[i].min(sink_dist);
        }
        for j in 0..m {
            pi_right[j] += dist_right[j].min(sink_dist);
        }
        pi_sink += sink_dist;
        // Augment along the path back from `last`.
        load[last] += 1;
        let mut j = last;
        loop {
            let i = prev_right[j].expect("a path reaches each settled mentor");
            let previous = mentor_of[i].replace(j);
            match previous {
                None => break,
                Some(p) => j = p,
            }
        }
    };
    Solution::new(
        problem,
        mentor_of,
        Certificate {
            mentee_price: final_left,
            mentor_price: final_right,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn problem(scores: &[Vec<Option<i32>>], capacity: &[u32]) -> Problem {
        let mut p = Problem::new(scores.len(), capacity.to_vec());
        for (i, row) in scores.iter().enumerate() {
            for (j, &s) in row.iter().enumerate() {
                p.set(i, j, s);
            }
        }
        p
    }

    /// Every capacity-respecting assignment, by trying each mentee with each mentor or nobody.
    fn brute_force(p: &Problem) -> (usize, i64) {
        fn go(i: usize, p: &Problem, room: &mut Vec<u32>, pairs: usize, total: i64) -> (usize, i64) {
            if i == p.mentees() {
                return (pairs, total);
            }
            let mut best = go(i + 1, p, room, pairs, total);
            for j in 0..room.len() {
                if let (Some(s), true) = (p.score(i, j), room[j] > 0) {
                    room[j] -= 1;
                    best = best.max(go(i + 1, p, room, pairs + 1, total + i64::from(s)));
                    room[j] += 1;
                }
            }
            best
        }
        go(0, p, &mut p.capacity().to_vec(), 0, 0)
    }

    /// The fast solver searching from either side, and the reference.
    fn all(p: &Problem) -> [Solution; 3] {
        [Sap::new(p, true).run(p), Sap::new(p, false).run(p), solve_reference(p)]
    }

    #[test]
    fn greedy_is_not_enough() {
        // Greedy takes (0,0)=10 and leaves mentee 1 alone; the optimum pairs both for 9 + 8.
        let p = problem(&[vec![Some(10), Some(9)], vec![Some(8), None]], &[1, 1]);
        for a in all(&p) {
            assert_eq!(a.mentor_of, vec![Some(1), Some(0)]);
            assert_eq!((a.pairs, a.total_score), (2, 17));
            assert_eq!(verify(&p, &a), Ok(()));
        }
    }

    #[test]
    fn capacity_and_forbidden_pairs_hold() {
        let p = problem(
            &[vec![Some(5), None], vec![Some(4), None], vec![Some(3), Some(1)]],
            &[2, 1],
        );
        for a in all(&p) {
            assert_eq!((a.pairs, a.total_score), (3, 10));
            assert_eq!(verify(&p, &a), Ok(()));
        }
        let none = problem(&[vec![None]], &[1]);
        for a in all(&none) {
            assert_eq!(a.mentor_of, vec![None]);
            assert_eq!(verify(&none, &a), Ok(()));
        }
        let empty = Problem::new(0, vec![]);
        for a in all(&empty) {
            assert_eq!(verify(&empty, &a), Ok(()));
        }
    }

    #[test]
    fn one_more_pair_beats_any_score() {
        // Mentee 0 alone would score MAX_SCORE with mentor 0; pairing both costs 2 × MAX_SCORE + 1.
        let p = problem(
            &[vec![Some(MAX_SCORE), Some(-MAX_SCORE)], vec![Some(-MAX_SCORE), None]],
            &[1, 1],
        );
        for a in all(&p) {
            assert_eq!((a.pairs, a.total_score), (2, -2 * i64::from(MAX_SCORE)));
            assert_eq!(verify(&p, &a), Ok(()));
        }
    }

    #[test]
    fn capacity_above_the_mentee_count() {
        // The mentor's room stays open, so its price must fall to 0 and the mentee's carry the weight.
        let p = problem(&[vec![Some(0)]], &[2]);
        for a in all(&p) {
            assert_eq!((a.pairs, a.total_score), (1, 0));
            assert_eq!(a.certificate.mentor_price, vec![0]);
            assert_eq!(verify(&p, &a), Ok(()));
        }
    }

    #[test]
    #[should_panic(expected = "out of")]
    fn scores_are_bounded() {
        Problem::new(1, vec![1]).set(0, 0, Some(MAX_SCORE + 1));
    }

    fn optimum() -> (Problem, Solution) {
        // Optimum: 0→1 (9), 1→0 (8), 2→1 (7), mentor 1 takes two.
        let p = problem(
            &[vec![Some(10), Some(9)], vec![Some(8), None], vec![Some(1), Some(7)]],
            &[1, 2],
        );
        let s = solve(&p);
        assert_eq!((s.pairs, s.total_score), (3, 24));
        assert_eq!(verify(&p, &s), Ok(()));
        (p, s)
    }

    #[test]
    fn verify_rejects_a_tampered_price() {
        let (p, mut s) = optimum();
        s.certificate.mentor_price[0] -= 1;
        assert!(
            matches!(verify(&p, &s), Err(CertificateError::DualInfeasible { .. })),
            "{:?}",
            verify(&p, &s)
        );
        let (p, mut s) = optimum();
        s.certificate.mentee_price[2] = -1;
        assert_eq!(
            verify(&p, &s),
            Err(CertificateError::NegativeMenteePrice { mentee: 2, price: -1 })
        );
        let (p, mut s) = optimum();
        s.certificate.mentor_price[1] += 1; // feasible, but no longer equal
        assert!(matches!(verify(&p, &s), Err(CertificateError::DualityGap { .. })));
    }

    #[test]
    fn verify_rejects_a_suboptimal_assignment() {
        let (p, mut s) = optimum();
        // Feasible: 0→0 (10), 2→1 (7), mentee 1 alone. One pair fewer: the gap is a bonus less 7.
        s.mentor_of = vec![Some(0), None, Some(1)];
        (s.pairs, s.total_score) = (2, 17);
        let primal = 2 * i128::from(PAIR_BONUS) + 17;
        let dual = 3 * i128::from(PAIR_BONUS) + 24;
        assert_eq!(verify(&p, &s), Err(CertificateError::DualityGap { primal, dual }));
        // Same count, lower score: 0→0 and 1→1 (6) instead of 0→1 and 1→0 (7).
        let r = problem(&[vec![Some(5), Some(4)], vec![Some(3), Some(1)]], &[1, 1]);
        let mut t = solve(&r);
        assert_eq!((t.pairs, t.total_score), (2, 7));
        t.mentor_of = vec![Some(0), Some(1)];
        (t.pairs, t.total_score) = (2, 6);
        assert!(matches!(verify(&r, &t), Err(CertificateError::DualityGap { .. })));
    }

    #[test]
    fn verify_rejects_infeasible_assignments() {
        let (p, mut s) = optimum();
        s.mentor_of = vec![Some(1), Some(0), Some(0)];
        assert_eq!(
            verify(&p, &s),
            Err(CertificateError::CapacityExceeded {
                mentor: 0,
                load: 2,
                capacity: 1
            })
        );
        let (p, mut s) = optimum();
        s.mentor_of[1] = Some(1);
        assert_eq!(
            verify(&p, &s),
            Err(CertificateError::ForbiddenPair { mentee: 1, mentor: 1 })
        );
        let (p, mut s) = optimum();
        s.mentor_of[1] = Some(2);
        assert_eq!(
            verify(&p, &s),
            Err(CertificateError::UnknownMentor { mentee: 1, mentor: 2 })
        );
        let (p, mut s) = optimum();
        s.total_score += 1;
        assert!(matches!(verify(&p, &s), Err(CertificateError::WrongSummary { .. })));
        let (p, mut s) = optimum();
        s.certificate.mentor_price.pop();
        assert!(matches!(verify(&p, &s), Err(CertificateError::WrongLength { .. })));
    }

    /// Random problems: some rows all forbidden, some capacities zero, negative scores.
    fn instances(
        mentees: std::ops::Range<usize>,
        mentors: std::ops::Range<usize>,
        scores: std::ops::RangeInclusive<i32>,
    ) -> impl Strategy<Value = Problem> {
        (mentees, mentors)
            .prop_flat_map(move |(n, m)| {
                (
                    prop::collection::vec(
                        prop::collection::vec(prop::option::weighted(0.75, scores.clone()), m),
                        n,
                    ),
                    prop::collection::vec(prop::bool::weighted(0.15), n),
                    prop::collection::vec(0u32..4, m),
                )
            })
            .prop_map(|(mut scores, blocked, capacity)| {
                for (row, blocked) in scores.iter_mut().zip(blocked) {
                    if blocked {
                        row.iter_mut().for_each(|s| *s = None);
                    }
                }
                problem(&scores, &capacity)
            })
    }

    proptest! {
        /// As many pairs as possible, then the best total score: the same as brute force.
        #[test]
        fn optimal_on_small_instances(p in instances(0..7, 0..5, -20..=20)) {
            let expected = brute_force(&p);
            for a in all(&p) {
                prop_assert_eq!(verify(&p, &a), Ok(()));
                prop_assert_eq!((a.pairs, a.total_score), expected);
            }
        }

        /// The same with scores anywhere in ±MAX_SCORE: the bonus still dominates, nothing overflows.
        #[test]
        fn optimal_with_extreme_scores(p in instances(0..7, 0..5, -MAX_SCORE..=MAX_SCORE)) {
            let expected = brute_force(&p);
            for a in all(&p) {
                prop_assert_eq!(verify(&p, &a), Ok(()));
                prop_assert_eq!((a.pairs, a.total_score), expected);
            }
        }

        /// Heavy ties (scores from a small set, as questionnaire agreement gives): still optimal.
        #[test]
        fn optimal_with_heavy_ties(p in instances(0..8, 0..5, 0..=2)) {
            let expected = brute_force(&p);
            for a in all(&p) {
                prop_assert_eq!(verify(&p, &a), Ok(()));
                prop_assert_eq!((a.pairs, a.total_score), expected);
            }
        }

        #[test]
        fn fast_equals_reference_with_heavy_ties(p in instances(15..70, 4..20, 0..=3)) {
            let [from_mentors, from_mentees, reference] = all(&p);
            prop_assert_eq!(verify(&p, &reference), Ok(()));
            for fast in [from_mentors, from_mentees] {
                prop_assert_eq!(verify(&p, &fast), Ok(()));
                prop_assert_eq!((fast.pairs, fast.total_score), (reference.pairs, reference.total_score));
            }
        }

        #[test]
        fn fast_equals_reference_on_medium_instances(p in instances(15..70, 8..20, -20..=20)) {
            let [from_mentors, from_mentees, reference] = all(&p);
            prop_assert_eq!(verify(&p, &reference), Ok(()));
            for fast in [from_mentors, from_mentees] {
                prop_assert_eq!(verify(&p, &fast), Ok(()));
                prop_assert_eq!((fast.pairs, fast.total_score), (reference.pairs, reference.total_score));
            }
            let fast = solve(&p);
            prop_assert_eq!((fast.pairs, fast.total_score), (reference.pairs, reference.total_score));
        }
    }
}
