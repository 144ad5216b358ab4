//! Auto-pair for admin-led programs: the admins' scoring rules, an optimal proposal with its
//! certificate, locks and removals that re-run the solver, and confirmation, which creates the
//! pairings (and so sends the assignment emails, nothing else). Questionnaire answers, which the
//! rules may read, live here too.

use std::collections::{BTreeMap, HashMap, HashSet};

use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use cohort_api_types::{
    AdjustProposedPair, AttributeValue, Attributes, AutoPairConfirmed, AutoPairProposal, AutoPairRules,
    ConfirmAutoPair, CriterionRule, CriterionSource, MentorPrice, OptimalityCertificate, PairRef, PersonName, Price,
    Problem, ProposedPair, ProposedPairAction, QuestionnaireAnswers, RunAutoPair, ScoreReason,
};
use cohort_domain::autopair::PAIR_BONUS;
use cohort_domain::compat::{self, Profile, ReportingLines, Rule, Scorer, Source};
use cohort_domain::pairing::Process;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{repo, views};
use crate::audit;
use crate::auth::Caller;
use crate::db::{self, DbConn};
use crate::error::{ApiError, Problems};
use crate::extract::Body;
use crate::programs::repo::{self as programs, ProgramRow};
use crate::AppState;

/// At most this many excluded pairs per program.
const MAX_EXCLUDED: usize = 10_000;

/// What is kept between runs: the proposal and the pairs the admins removed from it.
#[derive(Serialize, Deserialize)]
struct Stored {
    proposal: AutoPairProposal,
    removed: Vec<PairRef>,
}

fn source_to_domain(s: CriterionSource) -> Source {
    match s {
        CriterionSource::Attribute => Source::Attribute,
        CriterionSource::Answer => Source::Answer,
    }
}

fn source_to_api(s: Source) -> CriterionSource {
    match s {
        Source::Attribute => CriterionSource::Attribute,
        Source::Answer => CriterionSource::Answer,
    }
}

fn rule_to_domain(r: CriterionRule) -> Rule {
    match r {
        CriterionRule::Similar => Rule::Similar,
        CriterionRule::Different => Rule::Different,
        CriterionRule::MustMatch => Rule::MustMatch,
        CriterionRule::MustDiffer => Rule::MustDiffer,
    }
}

fn rule_to_api(r: Rule) -> CriterionRule {
    match r {
        Rule::Similar => CriterionRule::Similar,
        Rule::Different => CriterionRule::Different,
        Rule::MustMatch => CriterionRule::MustMatch,
        Rule::MustDiffer => CriterionRule::MustDiffer,
    }
}

fn rules_to_domain(rules: &AutoPairRules) -> compat::Rules {
    compat::Rules {
        criteria: rules
            .criteria
            .iter()
            .map(|c| compat::Criterion {
                key: c.key.clone(),
                source: source_to_domain(c.source),
                rule: rule_to_domain(c.rule),
                weight: c.weight,
            })
            .collect(),
        manager_attribute: rules.manager_attribute.clone(),
    }
}

fn json<T: Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(|e| ApiError::Internal(e.to_string()))
}

/// The program's rules and stored proposal (defaults when nothing is saved yet).
fn load(conn: &mut DbConn, program: &str) -> Result<(AutoPairRules, Option<Stored>), ApiError> {
    Ok(match repo::auto_pair(conn, program)? {
        None => (AutoPairRules::default(), None),
        Some((rules, proposal)) => (
            serde_json::from_str(&rules).unwrap_or_default(),
            proposal.and_then(|p| serde_json::from_str(&p).ok()),
        ),
    })
}

fn save(
    conn: &mut DbConn,
    program: &ProgramRow,
    rules: &AutoPairRules,
    stored: Option<&Stored>,
) -> Result<(), ApiError> {
    let rules = json(rules)?;
    let (proposal_id, proposal) = match stored {
        Some(s) => (Some(s.proposal.id.to_string()), Some(json(s)?)),
        None => (None, None),
    };
    repo::save_auto_pair(
        conn,
        &program.organization_id,
        &program.id,
        &rules,
        proposal_id.as_deref(),
        proposal.as_deref(),
    )
}

/// An attribute or answer as the rules compare it: a list of texts.
fn values(value: &AttributeValue) -> Vec<String> {
    match value {
        AttributeValue::Text(t) => vec![t.clone()],
        AttributeValue::List(items) => items.clone(),
        AttributeValue::Number(n) => vec![n.to_string()],
        AttributeValue::Flag(b) => vec![b.to_string()],
    }
}

fn parse_values(raw: &str) -> BTreeMap<String, Vec<String>> {
    let attributes: Attributes = serde_json::from_str(raw).unwrap_or_default();
    attributes.iter().map(|(k, v)| (k.clone(), values(v))).collect()
}

/// A side of the auto-pair: person id, name, profile attributes and answers (JSON).
#[derive(PartialEq)]
struct Side {
    person: String,
    name: String,
    attributes: String,
    answers: String,
}

/// The active participants in `role`, or just `only` among them.
fn load_side(
    conn: &mut DbConn,
    program: &str,
    role: &str,
    only: Option<&str>,
) -> Result<Vec<(Side, Option<i32>)>, ApiError> {
    Ok(views::active_side(conn, program, role, only)?
        .into_iter()
        .map(|(person, name, attributes, answers, capacity)| {
            (
                Side {
                    person,
                    name,
                    attributes,
                    answers,
                },
                capacity,
            )
        })
        .collect())
}

/// Numbers the organisation's people for reporting lines: by the manager attribute when the rules
/// name one (the attribute holds the manager's email), else just the program's people.
fn reporting_lines(
    conn: &mut DbConn,
    program: &ProgramRow,
    manager_attribute: Option<&str>,
    program_people: &[&str],
) -> Result<(HashMap<String, usize>, ReportingLines), ApiError> {
    let Some(key) = manager_attribute else {
        let index = program_people
            .iter()
            .enumerate()
            .map(|(n, p)| ((*p).to_owned(), n))
            .collect();
        return Ok((index, ReportingLines::default()));
    };
    let everyone = views::people_with_attributes(conn, &program.organization_id)?;
    let by_email: HashMap<String, usize> = everyone
        .iter()
        .enumerate()
        .map(|(n, (_, email, _))| (email.to_lowercase(), n))
        .collect();
    let manager_of: Vec<Option<usize>> = everyone
        .iter()
        .map(|(_, _, attributes)| {
            let attributes: Attributes = serde_json::from_str(attributes).unwrap_or_default();
            match attributes.get(key) {
                Some(AttributeValue::Text(email)) => by_email.get(&email.trim().to_lowercase()).copied(),
                _ => None,
            }
        })
        .collect();
    let index = everyone
        .iter()
        .enumerate()
        .map(|(n, (id, _, _))| (id.clone(), n))
        .collect();
    Ok((index, ReportingLines::new(&manager_of)))
}

/// The rules applied to these mentees and mentors; `excluded` pairs are (mentee, mentor) indices.
fn scorer(
    conn: &mut DbConn,
    program: &ProgramRow,
    rules: &AutoPairRules,
    mentees: &[Side],
    mentors: &[Side],
    excluded: &[(usize, usize)],
) -> Result<Scorer, ApiError> {
    let program_people: Vec<&str> = mentees.iter().chain(mentors).map(|s| s.person.as_str()).collect();
    let (person_index, lines) = reporting_lines(conn, program, rules.manager_attribute.as_deref(), &program_people)?;
    let profile = |s: &Side| Profile {
        person: person_index.get(&s.person).copied().unwrap_or(usize::MAX),
        attributes: parse_values(&s.attributes),
        answers: parse_values(&s.answers),
    };
    let mentee_profiles: Vec<Profile> = mentees.iter().map(profile).collect();
    let mentor_profiles: Vec<Profile> = mentors.iter().map(profile).collect();
    Ok(Scorer::new(
        &rules_to_domain(rules),
        &mentee_profiles,
        &mentor_profiles,
        excluded,
        lines,
    ))
}

/// How well `mentee` fits each of the program's mentors under its auto-pair rules, with the
/// reasons, by mentor person id; a mentor the rules rule out is missing. Used to suggest mentors
/// to a mentee.
pub(super) fn scores_for(
    conn: &mut DbConn,
    program: &ProgramRow,
    mentee: &str,
) -> Result<HashMap<String, (i32, Vec<ScoreReason>)>, ApiError> {
    let (rules, _) = load(conn, &program.id)?;
    let Some((me, _)) = load_side(conn, &program.id, "mentee", Some(mentee))?.pop() else {
        return Ok(HashMap::new());
    };
    let mentors: Vec<Side> = load_side(conn, &program.id, "mentor", None)?
        .into_iter()
        .map(|(side, _)| side)
        .collect();
    let excluded: Vec<(usize, usize)> = mentors
        .iter()
        .enumerate()
        .filter(|(_, m)| {
            rules
                .excluded_pairs
                .iter()
                .any(|p| p.mentee_id.to_string() == mentee && p.mentor_id.to_string() == m.person)
        })
        .map(|(j, _)| (0, j))
        .collect();
    let scorer = scorer(conn, program, &rules, std::slice::from_ref(&me), &mentors, &excluded)?;
    Ok(mentors
        .iter()
        .enumerate()
        .filter_map(|(j, m)| {
            let (score, reasons) = scorer.explain(0, j)?;
            Some((
                m.person.clone(),
                (score, reasons.into_iter().map(reason_to_api).collect()),
            ))
        })
        .collect())
}

fn reason_to_api(r: compat::Reason) -> ScoreReason {
    ScoreReason {
        key: r.key,
        source: source_to_api(r.source),
        rule: rule_to_api(r.rule),
        points: r.points,
        shared: r.shared,
    }
}

/// How well `mentee` and `mentor` fit under the program's auto-pair rules: the score and its
/// reasons, or `None` when the program has no rules or they rule the pair out. Shown to a mentor
/// answering a request.
pub(super) fn explain_pair(
    conn: &mut DbConn,
    program: &ProgramRow,
    mentee: &str,
    mentor: &str,
) -> Result<Option<(i32, Vec<ScoreReason>)>, ApiError> {
    let (rules, _) = load(conn, &program.id)?;
    if rules.criteria.is_empty() {
        return Ok(None);
    }
    let (Some((me, _)), Some((them, _))) = (
        load_side(conn, &program.id, "mentee", Some(mentee))?.pop(),
        load_side(conn, &program.id, "mentor", Some(mentor))?.pop(),
    ) else {
        return Ok(None);
    };
    let excluded: Vec<(usize, usize)> = rules
        .excluded_pairs
        .iter()
        .any(|p| p.mentee_id.to_string() == mentee && p.mentor_id.to_string() == mentor)
        .then_some((0, 0))
        .into_iter()
        .collect();
    let scorer = scorer(conn, program, &rules, &[me], &[them], &excluded)?;
    Ok(scorer
        .explain(0, 0)
        .map(|(score, reasons)| (score, reasons.into_iter().map(reason_to_api).collect())))
}

/// Runs the solver over the program's unpaired mentees and its mentors with room, keeping
/// `locked` pairs and never proposing `removed` ones.
/// Who auto-pair pairs: the program's unpaired mentees, and its mentors with room left (and how
/// much). Read again when a proposal is saved: it must still describe the program.
#[derive(PartialEq)]
struct Candidates {
    mentees: Vec<Side>,
    mentors: Vec<Side>,
    room: Vec<u32>,
}

fn candidates(conn: &mut DbConn, program: &ProgramRow) -> Result<Candidates, ApiError> {
    let settings = repo::settings(conn, &program.id)?;
    if settings.process != Process::AdminLed {
        return Err(ApiError::Conflict(
            "Auto-pair is for admin-led programs: set the pairing process to admin_led first.".into(),
        ));
    }
    let paired = repo::paired_mentees(conn, &program.id)?;
    let mentees: Vec<Side> = load_side(conn, &program.id, "mentee", None)?
        .into_iter()
        .map(|(side, _)| side)
        .filter(|s| !paired.contains(&s.person))
        .collect();
    let active = repo::active_pairings_by_mentor(conn, &program.id)?;
    let (mentors, room): (Vec<Side>, Vec<u32>) = load_side(conn, &program.id, "mentor", None)?
        .into_iter()
        .filter_map(|(side, own)| {
            let room = settings
                .capacity_of(own)
                .saturating_sub(active.get(&side.person).copied().unwrap_or(0));
            (room > 0).then_some((side, room))
        })
        .unzip();
    Ok(Candidates { mentees, mentors, room })
}

/// Everything a proposal is computed from, read in one database turn; solving it needs no
/// connection ([`solve`]).
struct Inputs {
    candidates: Candidates,
    scorer: Scorer,
    locks: Vec<(usize, usize)>,
    removed: Vec<PairRef>,
}

/// Reads what auto-pair needs; a program larger than `max_pairs` (mentees × mentors with room)
/// is refused before any work.
fn gather(
    conn: &mut DbConn,
    program: &ProgramRow,
    rules: &AutoPairRules,
    locked: &[PairRef],
    removed: Vec<PairRef>,
    max_pairs: u64,
) -> Result<Inputs, ApiError> {
    let candidates = candidates(conn, program)?;
    let (mentees, mentors, room) = (&candidates.mentees, &candidates.mentors, &candidates.room);
    let size = mentees.len() as u64 * mentors.len() as u64;
    if size > max_pairs {
        return Err(ApiError::field(
            "program",
            format!(
                "auto-pair considers at most {max_pairs} mentee-mentor pairs (COHORT_AUTOPAIR_MAX_PAIRS); \
                 this program has {} unpaired mentees and {} mentors with room, {size} pairs",
                mentees.len(),
                mentors.len()
            ),
        ));
    }
    let mentee_at: HashMap<Uuid, usize> = mentees
        .iter()
        .enumerate()
        .map(|(n, s)| (db::id(&s.person), n))
        .collect();
    let mentor_at: HashMap<Uuid, usize> = mentors
        .iter()
        .enumerate()
        .map(|(n, s)| (db::id(&s.person), n))
        .collect();
    let indices = |p: &PairRef| Some((*mentee_at.get(&p.mentee_id)?, *mentor_at.get(&p.mentor_id)?));
    let excluded: Vec<(usize, usize)> = rules
        .excluded_pairs
        .iter()
        .chain(&removed)
        .filter_map(indices)
        .collect();
    let scorer = scorer(conn, program, rules, mentees, mentors, &excluded)?;
    // Locks whose mentee and mentor are still here and unpaired, as far as the room goes.
    let mut left = room.clone();
    let locks: Vec<(usize, usize)> = locked
        .iter()
        .filter_map(indices)
        .filter(|&(_, j)| {
            let fits = left[j] > 0;
            left[j] = left[j].saturating_sub(1);
            fits
        })
        .collect();
    Ok(Inputs {
        candidates,
        scorer,
        locks,
        removed,
    })
}

/// Proposes a pairing for `inputs` on a blocking thread, then saves it in a write turn if the
/// program still has the same candidates and rules (else a 409: run it again). Solving a large
/// program takes seconds; it must not hold the writer, which every organisation shares on SQLite.
async fn propose_and_save(
    state: &AppState,
    org: Uuid,
    id: Uuid,
    rules: AutoPairRules,
    inputs: Inputs,
    record: impl FnOnce(&mut DbConn, &Stored) -> Result<(), ApiError> + Send + 'static,
) -> Result<AutoPairProposal, ApiError> {
    let (stored, seen) = web::block(move || solve(inputs)).await??;
    state
        .db
        .write(move |conn| {
            let program = programs::get(conn, org, id)?;
            let (rules_now, _) = load(conn, &program.id)?;
            if rules_now != rules || candidates(conn, &program)? != seen {
                return Err(ApiError::Conflict(
                    "The program changed while auto-pair ran (people, pairings or rules); run it again.".into(),
                ));
            }
            save(conn, &program, &rules, Some(&stored))?;
            record(conn, &stored)?;
            Ok(stored.proposal)
        })
        .await
}

fn solve(inputs: Inputs) -> Result<(Stored, Candidates), ApiError> {
    let Inputs {
        candidates,
        scorer,
        locks,
        removed,
    } = inputs;
    let (mentees, mentors, room) = (&candidates.mentees, &candidates.mentors, &candidates.room);
    let proposal = compat::propose(&scorer, room, &locks).map_err(|e| ApiError::Conflict(e.0))?;
    if !proposal.verified {
        return Err(ApiError::Internal("the optimality certificate did not verify".into()));
    }

    let mut pairs = Vec::new();
    let mut unpaired = Vec::new();
    let mut total_score = 0i64;
    for (i, mentor) in proposal.mentor_of.iter().enumerate() {
        let mentee = &mentees[i];
        let Some(j) = *mentor else {
            unpaired.push(PersonName {
                person_id: db::id(&mentee.person),
                name: mentee.name.clone(),
            });
            continue;
        };
        // A locked pair that the rules now forbid keeps a score of 0 and no reasons.
        let (score, reasons) = scorer.explain(i, j).unwrap_or_default();
        total_score += score as i64;
        pairs.push(ProposedPair {
            mentee_id: db::id(&mentee.person),
            mentee_name: mentee.name.clone(),
            mentor_id: db::id(&mentors[j].person),
            mentor_name: mentors[j].name.clone(),
            score,
            reasons: reasons.into_iter().map(reason_to_api).collect(),
            locked: proposal.locked[i],
        });
    }
    pairs.sort_by(|a, b| a.mentee_name.cmp(&b.mentee_name).then(a.mentee_id.cmp(&b.mentee_id)));
    let certificate = &proposal.solution.certificate;
    let certificate = OptimalityCertificate {
        verified: proposal.verified,
        pair_bonus: PAIR_BONUS,
        primal: proposal.primal,
        dual: proposal.dual,
        mentee_prices: proposal
            .free
            .iter()
            .zip(&certificate.mentee_price)
            .map(|(&i, &price)| Price {
                person_id: db::id(&mentees[i].person),
                price,
            })
            .collect(),
        mentor_prices: mentors
            .iter()
            .zip(&certificate.mentor_price)
            .zip(&proposal.room)
            .map(|((m, &price), &room)| MentorPrice {
                person_id: db::id(&m.person),
                price,
                room,
            })
            .collect(),
    };
    let stored = Stored {
        proposal: AutoPairProposal {
            id: Uuid::now_v7(),
            created_at: db::utc(db::now()),
            pairs,
            unpaired,
            total_score,
            mentees_considered: mentees.len() as u32,
            certificate,
        },
        removed,
    };
    Ok((stored, candidates))
}

fn check_rules(conn: &mut DbConn, org: Uuid, rules: &AutoPairRules) -> Result<(), ApiError> {
    let mut problems = Problems::default();
    if let Err((field, invalid)) = compat::check_rules(&rules_to_domain(rules)) {
        problems.push(field, invalid.0);
    }
    if rules.excluded_pairs.len() > MAX_EXCLUDED {
        problems.push("excluded_pairs", format!("at most {MAX_EXCLUDED} pairs"));
    }
    problems.finish()?;
    let mut problems = Problems::default();
    // Excluded pairs name people of this organisation.
    let named: HashSet<String> = rules
        .excluded_pairs
        .iter()
        .flat_map(|p| [p.mentee_id.to_string(), p.mentor_id.to_string()])
        .collect();
    let named: Vec<String> = named.into_iter().collect();
    let known: HashSet<String> = named
        .chunks(500)
        .map(|chunk| crate::people::repo::existing_ids(conn, org, chunk))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect();
    for (n, p) in rules.excluded_pairs.iter().enumerate() {
        for (side, id) in [("mentee_id", p.mentee_id), ("mentor_id", p.mentor_id)] {
            if !known.contains(&id.to_string()) {
                problems.push(
                    format!("excluded_pairs[{n}].{side}"),
                    "no such person in this organisation",
                );
            }
        }
    }
    problems.finish()
}

/// The program's auto-pair rules.
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id")),
    responses(
        (status = 200, description = "The rules (none saved yet: no criteria)", body = AutoPairRules),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/programs/{id}/auto-pair/rules")]
pub async fn get_rules(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<AutoPairRules>, ApiError> {
    caller.require_admin()?;
    let id = id.into_inner();
    let rules = state
        .db
        .read(move |conn| {
            let program = programs::get(conn, caller.org, id)?;
            Ok(load(conn, &program.id)?.0)
        })
        .await?;
    Ok(web::Json(rules))
}

/// Replaces the program's auto-pair rules. A waiting proposal stays until it is re-run.
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id")),
    request_body = AutoPairRules,
    responses(
        (status = 200, description = "The rules as saved", body = AutoPairRules),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
        (status = 422, description = "A criterion, the manager attribute or an excluded pair is invalid (the field is named)", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[put("/programs/{id}/auto-pair/rules")]
pub async fn put_rules(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(rules): Body<AutoPairRules>,
) -> Result<web::Json<AutoPairRules>, ApiError> {
    caller.require_admin()?;
    let (id, actor) = (id.into_inner(), caller.actor());
    let saved = state
        .db
        .write(move |conn| {
            let program = programs::get(conn, caller.org, id)?;
            check_rules(conn, caller.org, &rules)?;
            let (before, stored) = load(conn, &program.id)?;
            save(conn, &program, &rules, stored.as_ref())?;
            audit::record(
                conn,
                &actor,
                "auto_pair.rules_updated",
                ("program", id),
                &before,
                &rules,
            )?;
            Ok(rules)
        })
        .await?;
    Ok(web::Json(saved))
}

/// Proposes an optimal pairing of every unpaired mentee (admin-led programs). Nothing is paired
/// and nothing is sent until an admin confirms.
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id")),
    request_body = RunAutoPair,
    responses(
        (status = 200, description = "The proposal, with each pair's score and reasons and the optimality certificate", body = AutoPairProposal),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
        (status = 409, description = "The program is not admin-led, or it changed while auto-pair ran: run it again", body = Problem),
        (status = 422, description = "More mentee-mentor pairs than one run may consider (`COHORT_AUTOPAIR_MAX_PAIRS`)", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/programs/{id}/auto-pair")]
pub async fn run_auto_pair(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(options): Body<RunAutoPair>,
) -> Result<web::Json<AutoPairProposal>, ApiError> {
    caller.require_admin()?;
    let (org, id, actor, max_pairs) = (caller.org, id.into_inner(), caller.actor(), state.autopair_max_pairs);
    let (rules, inputs) = state
        .db
        .read(move |conn| {
            let program = programs::get(conn, org, id)?;
            let (rules, stored) = load(conn, &program.id)?;
            let (locked, removed) = match stored.filter(|_| options.keep_locked.unwrap_or(true)) {
                Some(s) => (locked_pairs(&s.proposal), s.removed),
                None => (Vec::new(), Vec::new()),
            };
            let inputs = gather(conn, &program, &rules, &locked, removed, max_pairs)?;
            Ok((rules, inputs))
        })
        .await?;
    let proposal = propose_and_save(&state, org, id, rules, inputs, move |conn, stored| {
        let after = json!({"proposal_id": stored.proposal.id, "pairs": stored.proposal.pairs.len()});
        audit::record(conn, &actor, "auto_pair.proposed", ("program", id), audit::NONE, after)
    })
    .await?;
    Ok(web::Json(proposal))
}

fn locked_pairs(proposal: &AutoPairProposal) -> Vec<PairRef> {
    proposal
        .pairs
        .iter()
        .filter(|p| p.locked)
        .map(|p| PairRef {
            mentee_id: p.mentee_id,
            mentor_id: p.mentor_id,
        })
        .collect()
}

/// The proposal waiting for confirmation.
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id")),
    responses(
        (status = 200, description = "The waiting proposal", body = AutoPairProposal),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation, or no proposal waiting", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/programs/{id}/auto-pair")]
pub async fn get_proposal(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<AutoPairProposal>, ApiError> {
    caller.require_admin()?;
    let id = id.into_inner();
    let proposal = state
        .db
        .read(move |conn| {
            let program = programs::get(conn, caller.org, id)?;
            load(conn, &program.id)?.1.map(|s| s.proposal).ok_or(ApiError::NotFound)
        })
        .await?;
    Ok(web::Json(proposal))
}

/// Locks, unlocks or removes one mentee's proposed pair, then re-runs the solver around the
/// locked pairs (a removed pair is not proposed again until the proposal is discarded).
#[utoipa::path(
    tag = "pairing",
    params(
        ("id" = Uuid, Path, description = "The program's id"),
        ("person_id" = Uuid, Path, description = "The mentee's person id"),
    ),
    request_body = AdjustProposedPair,
    responses(
        (status = 200, description = "The new proposal (it has a new id)", body = AutoPairProposal),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program, no proposal waiting, or no pair for that mentee in it", body = Problem),
        (status = 409, description = "The program is no longer admin-led, or it changed while auto-pair ran: run it again", body = Problem),
        (status = 422, description = "More mentee-mentor pairs than one run may consider (`COHORT_AUTOPAIR_MAX_PAIRS`)", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[patch("/programs/{id}/auto-pair/pairs/{person_id}")]
pub async fn adjust_pair(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    Body(change): Body<AdjustProposedPair>,
) -> Result<web::Json<AutoPairProposal>, ApiError> {
    caller.require_admin()?;
    let ((id, mentee), actor) = (path.into_inner(), caller.actor());
    let (org, max_pairs) = (caller.org, state.autopair_max_pairs);
    let (rules, inputs) = state
        .db
        .read(move |conn| {
            let program = programs::get(conn, org, id)?;
            let (rules, stored) = load(conn, &program.id)?;
            let mut stored = stored.ok_or(ApiError::NotFound)?;
            let pair = stored
                .proposal
                .pairs
                .iter_mut()
                .find(|p| p.mentee_id == mentee)
                .ok_or(ApiError::NotFound)?;
            match change.action {
                ProposedPairAction::Lock => pair.locked = true,
                ProposedPairAction::Unlock => pair.locked = false,
                ProposedPairAction::Remove => {
                    pair.locked = false;
                    let removed = PairRef {
                        mentee_id: pair.mentee_id,
                        mentor_id: pair.mentor_id,
                    };
                    stored.removed.push(removed);
                }
            }
            let locked = locked_pairs(&stored.proposal);
            let inputs = gather(conn, &program, &rules, &locked, stored.removed, max_pairs)?;
            Ok((rules, inputs))
        })
        .await?;
    let proposal = propose_and_save(&state, org, id, rules, inputs, move |conn, _| {
        let after = json!({"mentee_id": mentee, "action": change.action});
        audit::record(conn, &actor, "auto_pair.adjusted", ("program", id), audit::NONE, after)
    })
    .await?;
    Ok(web::Json(proposal))
}

/// Discards the waiting proposal (and its removals).
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id")),
    responses(
        (status = 204, description = "Discarded (or there was none)"),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[delete("/programs/{id}/auto-pair")]
pub async fn discard_proposal(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (id, actor) = (id.into_inner(), caller.actor());
    state
        .db
        .write(move |conn| {
            let program = programs::get(conn, caller.org, id)?;
            let (rules, _) = load(conn, &program.id)?;
            save(conn, &program, &rules, None)?;
            audit::record(
                conn,
                &actor,
                "auto_pair.discarded",
                ("program", id),
                audit::NONE,
                audit::NONE,
            )
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Creates every pairing of the proposal in one transaction: all or none. Each pair gets the
/// "Mentorship assignment" email; no request or decision emails are sent.
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id")),
    request_body = ConfirmAutoPair,
    responses(
        (status = 200, description = "The pairings were created", body = AutoPairConfirmed),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program, or no proposal waiting", body = Problem),
        (status = 409, description = "The proposal changed since (another id), or a mentee was paired or a mentor filled up meanwhile: re-run", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/programs/{id}/auto-pair/confirm")]
pub async fn confirm_proposal(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(confirm): Body<ConfirmAutoPair>,
) -> Result<web::Json<AutoPairConfirmed>, ApiError> {
    caller.require_admin()?;
    let (id, actor) = (id.into_inner(), caller.actor());
    let created = state
        .db
        .write(move |conn| {
            let program = programs::get(conn, caller.org, id)?;
            let (rules, stored) = load(conn, &program.id)?;
            let stored = stored.ok_or(ApiError::NotFound)?;
            if stored.proposal.id != confirm.proposal_id {
                return Err(ApiError::Conflict(
                    "The proposal changed since you saw it; review the current one.".into(),
                ));
            }
            for pair in &stored.proposal.pairs {
                super::create_pairing(
                    conn,
                    &program,
                    &pair.mentee_id.to_string(),
                    &pair.mentor_id.to_string(),
                    None,
                )
                .map_err(|e| match e {
                    ApiError::Conflict(why) => ApiError::Conflict(format!(
                        "{} ({}): {why} Re-run auto-pair.",
                        pair.mentee_name, pair.mentor_name
                    )),
                    other => other,
                })?;
            }
            save(conn, &program, &rules, None)?;
            let pairs: Vec<Value> = (stored.proposal.pairs.iter())
                .map(|p| json!({"mentee_id": p.mentee_id, "mentor_id": p.mentor_id}))
                .collect();
            let after = json!({"proposal_id": stored.proposal.id, "pairs": pairs});
            audit::record(conn, &actor, "auto_pair.confirmed", ("program", id), audit::NONE, after)?;
            Ok(stored.proposal.pairs.len() as u32)
        })
        .await?;
    Ok(web::Json(AutoPairConfirmed {
        pairings_created: created,
    }))
}

fn check_answers(answers: &QuestionnaireAnswers) -> Result<(), ApiError> {
    let mut problems = Problems::default();
    crate::people::check_attributes(&mut problems, "answers", &answers.answers);
    problems.finish()
}

/// A participant's questionnaire answers (admins).
#[utoipa::path(
    tag = "pairing",
    params(
        ("id" = Uuid, Path, description = "The program's id"),
        ("participant_id" = Uuid, Path, description = "The participant's id"),
    ),
    responses(
        (status = 200, description = "The answers", body = QuestionnaireAnswers),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program or participant in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/programs/{id}/participants/{participant_id}/answers")]
pub async fn get_answers(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<web::Json<QuestionnaireAnswers>, ApiError> {
    caller.require_admin()?;
    let (id, participant) = path.into_inner();
    let answers = state
        .db
        .read(move |conn| {
            let program = programs::get(conn, caller.org, id)?;
            let row = programs::get_participant(conn, &program.id, participant)?;
            let raw = repo::answers(conn, &row.id)?;
            Ok(QuestionnaireAnswers {
                answers: serde_json::from_str(&raw).unwrap_or_default(),
            })
        })
        .await?;
    Ok(web::Json(answers))
}

/// Replaces a participant's questionnaire answers (admins).
#[utoipa::path(
    tag = "pairing",
    params(
        ("id" = Uuid, Path, description = "The program's id"),
        ("participant_id" = Uuid, Path, description = "The participant's id"),
    ),
    request_body = QuestionnaireAnswers,
    responses(
        (status = 200, description = "The answers as saved", body = QuestionnaireAnswers),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program or participant in this organisation", body = Problem),
        (status = 422, description = "An answer is invalid (the field is named)", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[put("/programs/{id}/participants/{participant_id}/answers")]
pub async fn put_answers(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    Body(answers): Body<QuestionnaireAnswers>,
) -> Result<web::Json<QuestionnaireAnswers>, ApiError> {
    caller.require_admin()?;
    check_answers(&answers)?;
    let ((id, participant), actor) = (path.into_inner(), caller.actor());
    let raw = json(&answers.answers)?;
    // The answers themselves are personal data: the log says which questions were answered.
    let answered: Vec<String> = answers.answers.keys().cloned().collect();
    state
        .db
        .write(move |conn| {
            let program = programs::get(conn, caller.org, id)?;
            let row = programs::get_participant(conn, &program.id, participant)?;
            repo::set_answers(conn, &row.id, &raw)?;
            let after = json!({"answered": answered});
            audit::record(
                conn,
                &actor,
                "participant.answers_set",
                ("participant", participant),
                audit::NONE,
                after,
            )?;
            Ok(())
        })
        .await?;
    Ok(web::Json(answers))
}

/// The caller's own questionnaire answers in the program (their mentor preferences).
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id")),
    responses(
        (status = 200, description = "The caller's answers", body = QuestionnaireAnswers),
        (status = 403, description = "Not a participant of the program", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/me/programs/{id}/answers")]
pub async fn get_my_answers(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<QuestionnaireAnswers>, ApiError> {
    let id = id.into_inner();
    let answers = state
        .db
        .read(move |conn| {
            let program = programs::get(conn, caller.org, id)?;
            let raw = repo::answers_of(conn, &program.id, caller.person)?.ok_or(ApiError::Forbidden(
                "Only the program's participants answer its questionnaire.",
            ))?;
            Ok(QuestionnaireAnswers {
                answers: serde_json::from_str(&raw).unwrap_or_default(),
            })
        })
        .await?;
    Ok(web::Json(answers))
}

/// The caller answers the program's questionnaire (their mentor preferences), for each role they
/// have in it.
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id")),
    request_body = QuestionnaireAnswers,
    responses(
        (status = 200, description = "The answers as saved", body = QuestionnaireAnswers),
        (status = 403, description = "Not a participant of the program", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
        (status = 422, description = "An answer is invalid (the field is named)", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[put("/me/programs/{id}/answers")]
pub async fn put_my_answers(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(answers): Body<QuestionnaireAnswers>,
) -> Result<web::Json<QuestionnaireAnswers>, ApiError> {
    check_answers(&answers)?;
    let id = id.into_inner();
    let raw = json(&answers.answers)?;
    state
        .db
        .write(move |conn| {
            let program = programs::get(conn, caller.org, id)?;
            let updated = repo::set_answers_of(conn, &program.id, caller.person, &raw)?;
            if updated == 0 {
                return Err(ApiError::Forbidden(
                    "Only the program's participants answer its questionnaire.",
                ));
            }
            Ok(())
        })
        .await?;
    Ok(web::Json(answers))
}
