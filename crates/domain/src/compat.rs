//! Compatibility of a mentee with a mentor, for auto-pair: the admins' criteria over profile
//! attributes and questionnaire answers, each with a weight, plus hard constraints (must match,
//! must differ, never within one reporting line, excluded pairs). Scores are whole points.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::autopair::{self, Problem, Solution};
use crate::Invalid;

/// Where a criterion reads its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// The person's profile attribute.
    Attribute,
    /// The participant's answer to the program's questionnaire.
    Answer,
}

/// What a criterion asks of the two values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// Points for shared values: the weight times the share of values in common (Jaccard).
    Similar,
    /// The weight when both have values and share none.
    Different,
    /// Hard: both have a value and share one; otherwise the pair is not allowed.
    MustMatch,
    /// Hard: the pair is not allowed when they share a value.
    MustDiffer,
}

impl Rule {
    pub fn is_hard(self) -> bool {
        matches!(self, Rule::MustMatch | Rule::MustDiffer)
    }
}

/// The most a weight can be, and how many criteria a program may have.
pub const MAX_WEIGHT: u32 = 100;
pub const MAX_CRITERIA: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criterion {
    pub key: String,
    pub source: Source,
    pub rule: Rule,
    pub weight: u32,
}

/// The admins' rules for one program.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    pub criteria: Vec<Criterion>,
    /// An attribute holding the email of the person's manager: when set, nobody is paired with
    /// someone above or below them in their reporting line.
    pub manager_attribute: Option<String>,
}

/// Checks the rules' shape: at most [`MAX_CRITERIA`], weights up to [`MAX_WEIGHT`], each
/// (source, key) once. Returns the offending field and why.
pub fn check_rules(rules: &Rules) -> Result<(), (String, Invalid)> {
    if rules.criteria.len() > MAX_CRITERIA {
        return Err(("criteria".into(), Invalid(format!("at most {MAX_CRITERIA} criteria"))));
    }
    let mut seen = HashSet::new();
    for (n, c) in rules.criteria.iter().enumerate() {
        crate::people::parse_attribute_key(&c.key).map_err(|e| (format!("criteria[{n}].key"), e))?;
        if c.weight > MAX_WEIGHT {
            return Err((
                format!("criteria[{n}].weight"),
                Invalid(format!("must be at most {MAX_WEIGHT}")),
            ));
        }
        if !seen.insert((c.source, c.key.as_str())) {
            return Err((
                format!("criteria[{n}].key"),
                Invalid::new("each attribute or answer may have one criterion"),
            ));
        }
    }
    if let Some(key) = &rules.manager_attribute {
        crate::people::parse_attribute_key(key).map_err(|e| ("manager_attribute".to_owned(), e))?;
    }
    Ok(())
}

/// One side of a pair as the rules see it: who it is (an index into the organisation's people,
/// as [`ReportingLines`] numbers them) and values by key, already split into lists (a single
/// value is a list of one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub person: usize,
    pub attributes: BTreeMap<String, Vec<String>>,
    pub answers: BTreeMap<String, Vec<String>>,
}

/// Who is above whom: built from each person's manager, over the whole organisation (a line may
/// run through people outside the program).
#[derive(Debug, Clone, Default)]
pub struct ReportingLines {
    above: Vec<HashSet<usize>>,
}

impl ReportingLines {
    /// `manager_of[p]` is person `p`'s manager. A cycle in the data ends the walk.
    pub fn new(manager_of: &[Option<usize>]) -> Self {
        let above = (0..manager_of.len())
            .map(|start| {
                let mut chain = HashSet::new();
                let mut at = manager_of[start];
                while let Some(m) = at {
                    if m == start || !chain.insert(m) {
                        break;
                    }
                    at = manager_of[m];
                }
                chain
            })
            .collect();
        ReportingLines { above }
    }

    /// Whether one of the two is above the other.
    pub fn same_line(&self, a: usize, b: usize) -> bool {
        let above = |p: usize, q: usize| self.above.get(p).is_some_and(|s| s.contains(&q));
        above(a, b) || above(b, a)
    }
}

/// Why a pair scored what it did: one entry per criterion that added points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub key: String,
    pub source: Source,
    pub rule: Rule,
    pub points: i32,
    /// The values the two share (for `Similar`), for display.
    pub shared: Vec<String>,
}

/// Scores every (mentee, mentor) pair fast: values are interned per criterion into sorted ids.
pub struct Scorer {
    criteria: Vec<Criterion>,
    /// `mentee_values[c][i]`: mentee `i`'s sorted value ids for criterion `c`.
    mentee_values: Vec<Vec<Vec<u32>>>,
    mentor_values: Vec<Vec<Vec<u32>>>,
    names: Vec<Vec<String>>,
    mentee_person: Vec<usize>,
    mentor_person: Vec<usize>,
    lines: ReportingLines,
    excluded: HashSet<(usize, usize)>,
}

fn normalise(value: &str) -> String {
    value.trim().to_lowercase()
}

impl Scorer {
    /// `excluded` holds (mentee, mentor) pairs the admins ruled out; `lines` applies when the
    /// program's rules name a manager attribute.
    pub fn new(
        rules: &Rules,
        mentees: &[Profile],
        mentors: &[Profile],
        excluded: &[(usize, usize)],
        lines: ReportingLines,
    ) -> Scorer {
        let mut names: Vec<Vec<String>> = Vec::new();
        let mut mentee_values = Vec::new();
        let mut mentor_values = Vec::new();
        for c in &rules.criteria {
            let mut ids: HashMap<String, u32> = HashMap::new();
            let mut these = Vec::new();
            let mut intern = |profiles: &[Profile]| -> Vec<Vec<u32>> {
                profiles
                    .iter()
                    .map(|p| {
                        let values = match c.source {
                            Source::Attribute => p.attributes.get(&c.key),
                            Source::Answer => p.answers.get(&c.key),
                        };
                        let mut out: Vec<u32> = values
                            .into_iter()
                            .flatten()
                            .map(|v| normalise(v))
                            .filter(|v| !v.is_empty())
                            .map(|v| {
                                let next = ids.len() as u32;
                                *ids.entry(v.clone()).or_insert_with(|| {
                                    these.push(v);
                                    next
                                })
                            })
                            .collect();
                        out.sort_unstable();
                        out.dedup();
                        out
                    })
                    .collect()
            };
            mentee_values.push(intern(mentees));
            mentor_values.push(intern(mentors));
            names.push(these);
        }
        Scorer {
            criteria: rules.criteria.clone(),
            mentee_values,
            mentor_values,
            names,
            mentee_person: mentees.iter().map(|p| p.person).collect(),
            mentor_person: mentors.iter().map(|p| p.person).collect(),
            lines,
            excluded: excluded.iter().copied().collect(),
        }
    }

    pub fn mentees(&self) -> usize {
        self.mentee_person.len()
    }

    /// Nobody mentors themselves, their manager or anyone above or below them.
    fn same_line(&self, mentee: usize, mentor: usize) -> bool {
        let (a, b) = (self.mentee_person[mentee], self.mentor_person[mentor]);
        a == b || self.lines.same_line(a, b)
    }

    /// The pair's score, or `None` when a hard constraint rules it out.
    pub fn score(&self, mentee: usize, mentor: usize) -> Option<i32> {
        self.evaluate(mentee, mentor, None)
    }

    /// The score with its reasons.
    pub fn explain(&self, mentee: usize, mentor: usize) -> Option<(i32, Vec<Reason>)> {
        let mut reasons = Vec::new();
        let score = self.evaluate(mentee, mentor, Some(&mut reasons))?;
        Some((score, reasons))
    }

    fn evaluate(&self, mentee: usize, mentor: usize, mut reasons: Option<&mut Vec<Reason>>) -> Option<i32> {
        if self.excluded.contains(&(mentee, mentor)) || self.same_line(mentee, mentor) {
            return None;
        }
        let mut total = 0i32;
        for (c, criterion) in self.criteria.iter().enumerate() {
            let (a, b) = (&self.mentee_values[c][mentee], &self.mentor_values[c][mentor]);
            let shared = intersection(a, b);
            let points = match criterion.rule {
                Rule::MustMatch if shared == 0 => return None,
                Rule::MustDiffer if shared > 0 => return None,
                Rule::MustMatch | Rule::MustDiffer => 0,
                Rule::Similar if shared > 0 => {
                    let union = a.len() + b.len() - shared;
                    (criterion.weight as usize * shared / union) as i32
                }
                Rule::Different if !a.is_empty() && !b.is_empty() && shared == 0 => criterion.weight as i32,
                Rule::Similar | Rule::Different => 0,
            };
            if points > 0 {
                if let Some(reasons) = reasons.as_deref_mut() {
                    reasons.push(Reason {
                        key: criterion.key.clone(),
                        source: criterion.source,
                        rule: criterion.rule,
                        points,
                        shared: a
                            .iter()
                            .filter(|v| b.binary_search(v).is_ok())
                            .map(|&v| self.names[c][v as usize].clone())
                            .collect(),
                    });
                }
            }
            total += points;
        }
        Some(total)
    }
}

fn intersection(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// An auto-pair proposal: each mentee's mentor, which pairs the admins locked, and the solver's
/// solution over the mentees that were free to move, with its certificate checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub mentor_of: Vec<Option<usize>>,
    pub locked: Vec<bool>,
    /// The mentees the solver placed: row `r` of `solution` is mentee `free[r]`.
    pub free: Vec<usize>,
    /// Each mentor's room after the locked pairs: the capacities the solver worked with.
    pub room: Vec<u32>,
    pub solution: Solution,
    /// The primal value (score plus [`autopair::PAIR_BONUS`] over the solver's pairs) and the
    /// dual value of its certificate; equal when optimal.
    pub primal: i64,
    pub dual: i64,
    /// Whether [`autopair::verify`] accepted the certificate.
    pub verified: bool,
}

/// Pairs the mentees optimally within each mentor's `room`, keeping `locked` (mentee, mentor)
/// pairs as they are. A lock that does not fit the mentor's room, or names a mentee twice, is
/// refused.
pub fn propose(scorer: &Scorer, room: &[u32], locked: &[(usize, usize)]) -> Result<Proposal, Invalid> {
    let mut room = room.to_vec();
    let mut mentor_of = vec![None; scorer.mentees()];
    let mut is_locked = vec![false; scorer.mentees()];
    for &(mentee, mentor) in locked {
        if is_locked[mentee] {
            return Err(Invalid::new("a mentee is locked to two mentors"));
        }
        if room[mentor] == 0 {
            return Err(Invalid::new("the locked pairs need more room than a mentor has"));
        }
        room[mentor] -= 1;
        is_locked[mentee] = true;
        mentor_of[mentee] = Some(mentor);
    }
    let free: Vec<usize> = (0..scorer.mentees()).filter(|&i| !is_locked[i]).collect();
    let mut problem = Problem::new(free.len(), room.clone());
    for (row, &mentee) in free.iter().enumerate() {
        for mentor in 0..room.len() {
            problem.set(row, mentor, scorer.score(mentee, mentor));
        }
    }
    let solution = autopair::solve(&problem);
    for (row, &mentee) in free.iter().enumerate() {
        mentor_of[mentee] = solution.mentor_of[row];
    }
    let primal = solution.total_score + solution.pairs as i64 * autopair::PAIR_BONUS;
    let c = &solution.certificate;
    let dual = c.mentee_price.iter().sum::<i64>()
        + c.mentor_price
            .iter()
            .zip(&room)
            .map(|(v, &r)| v * r as i64)
            .sum::<i64>();
    let verified = autopair::verify(&problem, &solution).is_ok();
    Ok(Proposal {
        mentor_of,
        locked: is_locked,
        free,
        room,
        solution,
        primal,
        dual,
        verified,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A profile; people are numbered by the order they are made in.
    fn profile(attrs: &[(&str, &[&str])]) -> Profile {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        Profile {
            person: NEXT.fetch_add(1, Ordering::Relaxed),
            attributes: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
                .collect(),
            ..Profile::default()
        }
    }

    fn criterion(key: &str, rule: Rule, weight: u32) -> Criterion {
        Criterion {
            key: key.into(),
            source: Source::Attribute,
            rule,
            weight,
        }
    }

    #[test]
    fn similar_scores_the_share_of_values_in_common() {
        let rules = Rules {
            criteria: vec![criterion("languages", Rule::Similar, 60)],
            manager_attribute: None,
        };
        let mentee = profile(&[("languages", &["English", "French"])]);
        let mentors = [
            profile(&[("languages", &[" english", "FRENCH"])]),
            profile(&[("languages", &["French", "German"])]),
            profile(&[]),
        ];
        let s = Scorer::new(&rules, &[mentee], &mentors, &[], ReportingLines::default());
        assert_eq!(s.score(0, 0), Some(60));
        assert_eq!(s.score(0, 1), Some(20)); // 1 of 3 values
        assert_eq!(s.score(0, 2), Some(0));
        let (_, reasons) = s.explain(0, 1).unwrap();
        assert_eq!(reasons.len(), 1);
        assert_eq!(reasons[0].shared, vec!["french".to_string()]);
        assert!(s.explain(0, 2).unwrap().1.is_empty());
    }

    #[test]
    fn hard_constraints_forbid_pairs() {
        let rules = Rules {
            criteria: vec![
                criterion("language", Rule::MustMatch, 0),
                criterion("department", Rule::MustDiffer, 0),
                criterion("site", Rule::Different, 7),
            ],
            manager_attribute: None,
        };
        let mentee = profile(&[("language", &["en"]), ("department", &["sales"]), ("site", &["paris"])]);
        let mentors = [
            profile(&[("language", &["en"]), ("department", &["it"]), ("site", &["lyon"])]),
            profile(&[("language", &["de"]), ("department", &["it"])]),
            profile(&[("language", &["en"]), ("department", &["Sales"])]),
            profile(&[("department", &["it"])]),
            profile(&[("language", &["en"])]),
        ];
        let s = Scorer::new(&rules, &[mentee], &mentors, &[(0, 4)], ReportingLines::default());
        assert_eq!(s.score(0, 0), Some(7));
        assert_eq!(s.score(0, 1), None, "language differs");
        assert_eq!(s.score(0, 2), None, "same department");
        assert_eq!(s.score(0, 3), None, "no language to match");
        assert_eq!(s.score(0, 4), None, "excluded by the admins");
    }

    #[test]
    fn nobody_is_paired_within_their_reporting_line() {
        // People 0..6: mentees 0 (reports to 2) and 1; mentors 2 (reports to 5, outside the
        // program, who reports to 3), 3 and 4 (reports to 1); person 1 is also mentor 3.
        let lines = ReportingLines::new(&[Some(2), None, Some(5), None, Some(1), Some(3)]);
        let at = |person| Profile {
            person,
            ..Profile::default()
        };
        let mentees = [at(0), at(1)];
        let mentors = [at(2), at(3), at(4), at(1)];
        let s = Scorer::new(&Rules::default(), &mentees, &mentors, &[], lines);
        assert_eq!(s.score(0, 0), None, "their manager");
        assert_eq!(s.score(0, 1), None, "their manager's manager's manager");
        assert_eq!(s.score(0, 2), Some(0));
        assert_eq!(s.score(1, 2), None, "mentee 1 manages mentor 4");
        assert_eq!(s.score(1, 0), Some(0));
        assert_eq!(s.score(1, 3), None, "nobody mentors themselves");
        // A cycle in the data ends the walk instead of looping.
        let looped = ReportingLines::new(&[Some(1), Some(0), None]);
        assert!(looped.same_line(0, 1));
        assert!(!looped.same_line(0, 2));
    }

    #[test]
    fn locked_pairs_stay_and_use_room() {
        let rules = Rules {
            criteria: vec![criterion("team", Rule::Similar, 10)],
            manager_attribute: None,
        };
        let mentees = [profile(&[("team", &["a"])]), profile(&[("team", &["b"])])];
        let mentors = [profile(&[("team", &["a"])]), profile(&[("team", &["b"])])];
        let s = Scorer::new(&rules, &mentees, &mentors, &[], ReportingLines::default());
        let free = propose(&s, &[1, 1], &[]).unwrap();
        assert_eq!(free.mentor_of, vec![Some(0), Some(1)]);
        assert_eq!(free.solution.total_score, 20);
        assert!(free.verified);
        assert_eq!(free.primal, free.dual);
        // Lock mentee 0 with mentor 1: mentee 1 takes what is left.
        let locked = propose(&s, &[1, 1], &[(0, 1)]).unwrap();
        assert_eq!(locked.mentor_of, vec![Some(1), Some(0)]);
        assert_eq!(locked.locked, vec![true, false]);
        assert_eq!(locked.free, vec![1]);
        assert!(propose(&s, &[1, 1], &[(0, 1), (1, 1)]).is_err());
        assert!(propose(&s, &[1, 1], &[(0, 1), (0, 0)]).is_err());
    }

    #[test]
    fn rules_are_checked_by_field() {
        let mut rules = Rules {
            criteria: vec![criterion("team", Rule::Similar, 101)],
            manager_attribute: None,
        };
        assert_eq!(check_rules(&rules).unwrap_err().0, "criteria[0].weight");
        rules.criteria[0].weight = 5;
        rules.criteria.push(criterion("team", Rule::Different, 5));
        assert_eq!(check_rules(&rules).unwrap_err().0, "criteria[1].key");
        rules.criteria[1].source = Source::Answer;
        assert!(check_rules(&rules).is_ok());
    }
}
