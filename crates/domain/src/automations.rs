//! Automations: "when this happens, do that". The rules an event meets before anything runs:
//! conditions over the event, the participant and the program; the frequency limit per contact;
//! and when each action is due.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::steps::Delay;
use crate::Invalid;

/// How often one automation may run for one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    EveryTime,
    OncePerContact,
    /// At most once in any 24 hours: a second run needs a full 24 hours after the first.
    OncePerContactPer24h,
}

/// Whether a run at `at` is allowed after the person's `previous` run (of this automation).
/// Events may arrive out of order: a previous run later than `at` counts as within the window.
pub fn frequency_allows(frequency: Frequency, previous: Option<DateTime<Utc>>, at: DateTime<Utc>) -> bool {
    match (frequency, previous) {
        (Frequency::EveryTime, _) | (_, None) => true,
        (Frequency::OncePerContact, Some(_)) => false,
        (Frequency::OncePerContactPer24h, Some(p)) => at >= p + Duration::hours(24),
    }
}

/// What a condition compares with.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    Text(String),
    Number(f64),
    Flag(bool),
    List(Vec<String>),
}

impl Fact {
    fn texts(&self) -> Vec<String> {
        match self {
            Fact::Text(t) => vec![norm(t)],
            Fact::Number(n) => vec![n.to_string()],
            Fact::Flag(b) => vec![b.to_string()],
            Fact::List(items) => items.iter().map(|i| norm(i)).collect(),
        }
    }

    fn number(&self) -> Option<f64> {
        match self {
            Fact::Number(n) => Some(*n),
            Fact::Text(t) => t.trim().parse().ok(),
            _ => None,
        }
    }
}

fn norm(text: &str) -> String {
    text.trim().to_lowercase()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Is,
    IsNot,
    Contains,
    GreaterThan,
    LessThan,
    /// The field's value is one of a list.
    In,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// `event.<key>`, `participant.<attribute>` (and `participant.role`, `participant.email`),
    /// or `program.<name|status|id>`.
    pub field: String,
    pub operator: Operator,
    pub value: Fact,
}

/// The fields a program offers to conditions.
pub const PROGRAM_FIELDS: [&str; 3] = ["id", "name", "status"];

/// Checks a condition's field path and that its value suits the operator.
pub fn check_condition(c: &Condition) -> Result<(), (&'static str, Invalid)> {
    let (scope, key) = c.field.split_once('.').unwrap_or((c.field.as_str(), ""));
    let known = match scope {
        "event" | "participant" => !key.trim().is_empty() && key.chars().count() <= 64,
        "program" => PROGRAM_FIELDS.contains(&key),
        _ => false,
    };
    if !known {
        return Err((
            "field",
            Invalid(format!(
                "\"{}\" is not a field: use event.<key>, participant.<attribute> or program.{}",
                c.field,
                PROGRAM_FIELDS.join("|")
            )),
        ));
    }
    let fits = match (c.operator, &c.value) {
        (Operator::GreaterThan | Operator::LessThan, v) => v.number().is_some(),
        (Operator::In, Fact::List(items)) => !items.is_empty(),
        (Operator::In, _) => false,
        (_, Fact::List(_)) => false,
        _ => true,
    };
    if !fits {
        return Err((
            "value",
            Invalid::new("greater_than and less_than take a number, in takes a list, the others one value"),
        ));
    }
    Ok(())
}

/// Whether `fact` (absent when the field has no value) meets the condition. Texts compare
/// trimmed and case-insensitively; a list field "is" a value when it holds it.
pub fn holds(c: &Condition, fact: Option<&Fact>) -> bool {
    let Some(fact) = fact else {
        return c.operator == Operator::IsNot;
    };
    let have = fact.texts();
    match c.operator {
        Operator::Is => equal_numbers(fact, &c.value) || c.value.texts().iter().any(|v| have.contains(v)),
        Operator::IsNot => !holds(
            &Condition {
                operator: Operator::Is,
                ..c.clone()
            },
            Some(fact),
        ),
        Operator::Contains => {
            let wanted = c.value.texts();
            match fact {
                Fact::List(_) => wanted.iter().any(|w| have.contains(w)),
                _ => wanted.iter().any(|w| have.iter().any(|h| h.contains(w.as_str()))),
            }
        }
        Operator::GreaterThan => matches!((fact.number(), c.value.number()), (Some(a), Some(b)) if a > b),
        Operator::LessThan => matches!((fact.number(), c.value.number()), (Some(a), Some(b)) if a < b),
        Operator::In => c.value.texts().iter().any(|v| have.contains(v)),
    }
}

fn equal_numbers(a: &Fact, b: &Fact) -> bool {
    matches!((a, b), (Fact::Number(_), _) | (_, Fact::Number(_)))
        && matches!((a.number(), b.number()), (Some(x), Some(y)) if x == y)
}

/// Each condition's outcome, in order; the automation runs only if all hold.
pub fn evaluate(conditions: &[Condition], facts: &BTreeMap<String, Fact>) -> Vec<bool> {
    conditions.iter().map(|c| holds(c, facts.get(&c.field))).collect()
}

/// When the next action is due: its delay after `after` (the trigger, or the previous action).
pub fn due(after: DateTime<Utc>, delay: Option<Delay>, zone: Tz) -> DateTime<Utc> {
    delay.map_or(after, |d| d.due(after, zone))
}

/// An automation's name is unique in the organisation and short.
pub fn parse_name(name: &str) -> Result<String, Invalid> {
    crate::bounded_text(name, 1, 120)
}

/// At most this many actions and conditions per automation.
pub const MAX_ACTIONS: usize = 10;
pub const MAX_CONDITIONS: usize = 20;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn cond(field: &str, operator: Operator, value: Fact) -> Condition {
        Condition {
            field: field.into(),
            operator,
            value,
        }
    }

    #[test]
    fn the_24_hour_limit_opens_exactly_24_hours_later() {
        let first = t("2027-03-13T12:00:00Z");
        let f = Frequency::OncePerContactPer24h;
        assert!(frequency_allows(f, None, first));
        assert!(!frequency_allows(f, Some(first), t("2027-03-14T11:59:59Z")));
        assert!(frequency_allows(f, Some(first), t("2027-03-14T12:00:00Z")));
        assert!(
            !frequency_allows(f, Some(first), t("2027-03-13T08:00:00Z")),
            "out of order"
        );
        assert!(!frequency_allows(
            Frequency::OncePerContact,
            Some(first),
            t("2030-01-01T00:00:00Z")
        ));
        assert!(frequency_allows(Frequency::EveryTime, Some(first), first));
    }

    proptest! {
        #[test]
        fn per_24h_allows_iff_a_full_day_passed(gap in -200_000i64..200_000) {
            let first = t("2027-03-13T12:00:00Z");
            let at = first + Duration::seconds(gap);
            prop_assert_eq!(
                frequency_allows(Frequency::OncePerContactPer24h, Some(first), at),
                gap >= 86_400
            );
        }
    }

    #[test]
    fn operators_compare_texts_numbers_and_lists() {
        let text = Fact::Text(" Chemistry ".into());
        let list = Fact::List(vec!["English".into(), "French".into()]);
        let year = Fact::Number(3.0);
        assert!(holds(
            &cond("participant.department", Operator::Is, Fact::Text("chemistry".into())),
            Some(&text)
        ));
        assert!(holds(
            &cond("participant.department", Operator::IsNot, Fact::Text("biology".into())),
            Some(&text)
        ));
        assert!(holds(
            &cond("participant.department", Operator::IsNot, Fact::Text("x".into())),
            None
        ));
        assert!(!holds(
            &cond("participant.department", Operator::Is, Fact::Text("x".into())),
            None
        ));
        assert!(holds(
            &cond("participant.department", Operator::Contains, Fact::Text("chem".into())),
            Some(&text)
        ));
        assert!(holds(
            &cond("participant.languages", Operator::Is, Fact::Text("french".into())),
            Some(&list)
        ));
        assert!(holds(
            &cond(
                "participant.languages",
                Operator::Contains,
                Fact::Text("English".into())
            ),
            Some(&list)
        ));
        assert!(!holds(
            &cond("participant.languages", Operator::Contains, Fact::Text("Eng".into())),
            Some(&list)
        ));
        assert!(holds(
            &cond("participant.year", Operator::GreaterThan, Fact::Number(2.0)),
            Some(&year)
        ));
        assert!(!holds(
            &cond("participant.year", Operator::LessThan, Fact::Number(3.0)),
            Some(&year)
        ));
        assert!(holds(
            &cond("participant.year", Operator::Is, Fact::Text("3".into())),
            Some(&year)
        ));
        assert!(holds(
            &cond(
                "program.status",
                Operator::In,
                Fact::List(vec!["draft".into(), "published".into()])
            ),
            Some(&Fact::Text("Published".into()))
        ));
        assert!(!holds(
            &cond("event.amount", Operator::GreaterThan, Fact::Number(1.0)),
            Some(&Fact::Text("lots".into()))
        ));
    }

    #[test]
    fn conditions_name_known_fields_and_fitting_values() {
        assert!(check_condition(&cond("participant.department", Operator::Is, Fact::Text("x".into()))).is_ok());
        assert!(check_condition(&cond("program.name", Operator::Contains, Fact::Text("x".into()))).is_ok());
        assert_eq!(
            check_condition(&cond("program.colour", Operator::Is, Fact::Text("x".into())))
                .unwrap_err()
                .0,
            "field"
        );
        assert_eq!(
            check_condition(&cond("weather", Operator::Is, Fact::Text("x".into())))
                .unwrap_err()
                .0,
            "field"
        );
        assert_eq!(
            check_condition(&cond("event.", Operator::Is, Fact::Text("x".into())))
                .unwrap_err()
                .0,
            "field"
        );
        assert_eq!(
            check_condition(&cond("event.amount", Operator::GreaterThan, Fact::Text("x".into())))
                .unwrap_err()
                .0,
            "value"
        );
        assert_eq!(
            check_condition(&cond("event.plan", Operator::In, Fact::Text("x".into())))
                .unwrap_err()
                .0,
            "value"
        );
        let mut facts = BTreeMap::new();
        facts.insert("event.plan".to_owned(), Fact::Text("gold".into()));
        let all = [
            cond(
                "event.plan",
                Operator::In,
                Fact::List(vec!["gold".into(), "silver".into()]),
            ),
            cond("event.missing", Operator::Is, Fact::Text("x".into())),
        ];
        assert_eq!(evaluate(&all, &facts), [true, false]);
    }

    #[test]
    fn actions_are_due_after_their_delay_in_the_zone() {
        use crate::steps::DelayUnit;
        let at = t("2027-03-13T15:00:00Z"); // 10:00 in New York, the day before the DST change
        let zone = chrono_tz::America::New_York;
        assert_eq!(due(at, None, zone), at);
        let day = Delay::new(1, DelayUnit::Days).unwrap();
        assert_eq!(
            due(at, Some(day), zone),
            t("2027-03-14T14:00:00Z"),
            "10:00 local the next day"
        );
        let hours = Delay::new(24, DelayUnit::Hours).unwrap();
        assert_eq!(due(at, Some(hours), zone), t("2027-03-14T15:00:00Z"));
    }
}
