//! Auto-pair: an optimal capacity-respecting assignment of mentees to mentors.
//!
//! The objective, in order: pair as many mentees as the capacities and the allowed pairs permit,
//! then maximise the total compatibility score. Scores are integers (points); `None` is a pair a
//! hard constraint forbids. The solver is successive shortest paths on the bipartite flow network
//! (source → mentee → mentor → sink, mentor capacity on the last arc), with Dijkstra on reduced
//! costs: O(pairs × (mentees + mentors)²), a reference that property tests compare with brute force.
//! Still to come (issue 6): the dual prices as a checkable certificate, and a solver fast enough for
//! 10,000 × 2,500 (auction or Jonker–Volgenant on capacity slots), measured against this one.

/// A proposal: `mentor_of[i]` is the mentor of mentee `i`, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub mentor_of: Vec<Option<usize>>,
    pub total_score: i64,
    pub pairs: usize,
}

/// Added to every allowed pair's score so that pairing one more mentee always beats any gain in
/// score (scores must stay below it).
pub const PAIR_BONUS: i64 = 1 << 32;

/// Solves the assignment. `scores[i][j]` is mentee `i` with mentor `j`; `capacity[j]` is how many
/// mentees mentor `j` takes.
pub fn solve(scores: &[Vec<Option<i64>>], capacity: &[u32]) -> Assignment {
    let (n, m) = (scores.len(), capacity.len());
    // Costs are negated weights: weight = score + bonus.
    let weight = |i: usize, j: usize| scores[i][j].map(|s| s + PAIR_BONUS);
    let mut mentor_of: Vec<Option<usize>> = vec![None; n];
    let mut load = vec![0u32; m];
    // Potentials: on mentees (left) and mentors (right), and on the sink.
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
    loop {
        // Dijkstra from the source over: source→free mentee (cost 0), mentee→mentor (−w, forward if
        // not assigned there), mentor→assigned mentee (+w, backward), mentor→sink (0, if room).
        const INF: i64 = i64::MAX / 4;
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
        let Some((sink_dist, last)) = best_sink else { break };
        // The path's true cost: reduced distance minus the sink's potential (the source's is 0).
        let path_cost = sink_dist + pi_sink;
        if path_cost >= 0 {
            break; // no augmentation improves the total weight
        }
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
    }
    let total_score = mentor_of
        .iter()
        .enumerate()
        .filter_map(|(i, j)| j.and_then(|j| scores[i][j]))
        .sum();
    let pairs = mentor_of.iter().flatten().count();
    Assignment {
        mentor_of,
        total_score,
        pairs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every capacity-respecting assignment, by trying each mentee with each mentor or nobody.
    fn brute_force(scores: &[Vec<Option<i64>>], capacity: &[u32]) -> (usize, i64) {
        fn go(i: usize, scores: &[Vec<Option<i64>>], room: &mut Vec<u32>, pairs: usize, total: i64) -> (usize, i64) {
            if i == scores.len() {
                return (pairs, total);
            }
            let mut best = go(i + 1, scores, room, pairs, total);
            for j in 0..room.len() {
                if let (Some(s), true) = (scores[i][j], room[j] > 0) {
                    room[j] -= 1;
                    best = best.max(go(i + 1, scores, room, pairs + 1, total + s));
                    room[j] += 1;
                }
            }
            best
        }
        go(0, scores, &mut capacity.to_vec(), 0, 0)
    }

    fn valid(a: &Assignment, scores: &[Vec<Option<i64>>], capacity: &[u32]) -> bool {
        let mut load = vec![0u32; capacity.len()];
        for (i, j) in a.mentor_of.iter().enumerate() {
            if let Some(j) = *j {
                if scores[i][j].is_none() {
                    return false;
                }
                load[j] += 1;
            }
        }
        load.iter().zip(capacity).all(|(l, c)| l <= c)
    }

    #[test]
    fn greedy_is_not_enough() {
        // Greedy takes (0,0)=10 and leaves mentee 1 alone; the optimum pairs both for 9 + 8.
        let scores = vec![vec![Some(10), Some(9)], vec![Some(8), None]];
        let a = solve(&scores, &[1, 1]);
        assert_eq!(a.mentor_of, vec![Some(1), Some(0)]);
        assert_eq!((a.pairs, a.total_score), (2, 17));
    }

    #[test]
    fn capacity_and_forbidden_pairs_hold() {
        let scores = vec![vec![Some(5), None], vec![Some(4), None], vec![Some(3), Some(1)]];
        let a = solve(&scores, &[2, 1]);
        assert_eq!((a.pairs, a.total_score), (3, 10));
        assert!(valid(&a, &scores, &[2, 1]));
        let none = solve(&[vec![None]], &[1]);
        assert_eq!(none.mentor_of, vec![None]);
    }

    proptest! {
        /// As many pairs as possible, then the best total score: the same as brute force.
        #[test]
        fn optimal_on_small_instances(
            (scores, capacity) in (1usize..6, 1usize..4).prop_flat_map(|(n, m)| (
                prop::collection::vec(prop::collection::vec(prop::option::weighted(0.8, 0i64..20), m), n),
                prop::collection::vec(0u32..3, m),
            ))
        ) {
            let a = solve(&scores, &capacity);
            prop_assert!(valid(&a, &scores, &capacity));
            prop_assert_eq!((a.pairs, a.total_score), brute_force(&scores, &capacity));
        }
    }
}
