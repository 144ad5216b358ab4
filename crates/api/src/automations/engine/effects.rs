//! Effects: what an action does, every call into another capability in one place (notifications,
//! chat, emails, badges, steps, webhooks), for one action or for a batch of due actions.

use super::*;

/// Runs these actions, each due now, in the caller's transaction: for each, `Some(None)` when
/// done, `Some(Some(reason))` when skipped, `None` when its attempt failed (its writes undone).
pub(super) fn perform_all(
    conn: &mut DbConn,
    context: &Context,
    due: &[Due<'_>],
) -> Result<Vec<Option<Option<String>>>, ApiError> {
    let mut outcomes: Vec<Option<Option<String>>> = vec![None; due.len()];
    let mut notifications = Vec::new();
    let mut badges = Vec::new();
    for (n, d) in due.iter().enumerate() {
        match d.action.action_type {
            AutomationActionType::SendNotification | AutomationActionType::AwardBadge => {
                if d.run.person_id.is_none() {
                    outcomes[n] = Some(Some("the event names no person".into()));
                } else if context
                    .person(&d.run.organization_id, d.run.person_id.as_deref())
                    .is_none()
                {
                    outcomes[n] = Some(Some("the person no longer exists".into()));
                } else if d.action.action_type == AutomationActionType::SendNotification {
                    notifications.push(n);
                } else {
                    badges.push(n);
                }
            }
            _ => {
                let key = format!("automation:{}:{}", d.run.id, d.position);
                outcomes[n] = conn.transaction(|c| perform(c, d.run, d.action, &key)).ok();
            }
        }
    }
    if !notifications.is_empty() {
        let items = notifications
            .iter()
            .map(|&n| {
                let Due { run, position, action } = &due[n];
                (
                    db::id(&run.organization_id),
                    db::id(run.person_id.as_deref().expect("checked")),
                    NewNotification {
                        kind: "automation",
                        title: action.title.as_deref().unwrap_or_default(),
                        body: action.body.as_deref().unwrap_or_default(),
                        link: None,
                        dedupe_key: Some(format!("automation:{}:{position}", run.id)),
                    },
                )
            })
            .collect();
        if conn
            .transaction(|c| crate::messaging::notifications::notify_each(c, items))
            .is_ok()
        {
            for n in notifications {
                outcomes[n] = Some(None);
            }
        }
    }
    if !badges.is_empty() {
        let badge_of = |n: usize| due[n].action.badge_id.map(|b| b.to_string()).unwrap_or_default();
        let wanted: HashSet<String> = badges.iter().map(|&n| badge_of(n)).collect();
        let existing: HashSet<(String, String)> = crate::schema::badges::table
            .filter(crate::schema::badges::id.eq_any(&wanted))
            .select((crate::schema::badges::id, crate::schema::badges::organization_id))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect();
        let mut awards = Vec::new();
        let mut awarded = Vec::new();
        for n in badges {
            let run = due[n].run;
            let badge = badge_of(n);
            if existing.contains(&(badge.clone(), run.organization_id.clone())) {
                awards.push((
                    badge,
                    run.person_id.clone().expect("checked"),
                    run.organization_id.clone(),
                ));
                awarded.push(n);
            } else {
                outcomes[n] = Some(Some("the badge was deleted".into()));
            }
        }
        // Sorted, so that two matchers awarding the same badges take their keys in one order.
        awards.sort();
        awards.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        let now = db::now();
        let rows: Vec<_> = awards
            .iter()
            .map(|(badge, person, org)| {
                (
                    person_badges::badge_id.eq(badge),
                    person_badges::person_id.eq(person),
                    person_badges::organization_id.eq(org),
                    person_badges::awarded_at.eq(now),
                )
            })
            .collect();
        let saved = conn.transaction(|c| -> Result<(), ApiError> {
            for chunk in rows.chunks(500) {
                crate::insert_new!(c, person_badges::table, chunk)?;
            }
            Ok(())
        });
        if saved.is_ok() {
            for n in awarded {
                outcomes[n] = Some(None);
            }
        }
    }
    Ok(outcomes)
}

/// The action's own writes, in the transaction that marked it done. `Ok(Some(reason))` skips it.
pub(super) fn perform(
    conn: &mut DbConn,
    run: &RunRow,
    action: &AutomationAction,
    key: &str,
) -> Result<Option<String>, ApiError> {
    if action.action_type == AutomationActionType::CallWebhook {
        return Ok(None); // sent before the claim; see `run_action`
    }
    let org = db::id(&run.organization_id);
    let Some(person_id) = &run.person_id else {
        return Ok(Some("the event names no person".into()));
    };
    let Ok(person) = crate::people::repo::get(conn, org, db::id(person_id)) else {
        return Ok(Some("the person no longer exists".into()));
    };
    let event: EventRow = events::table
        .find(&run.event_id)
        .select(EventRow::as_select())
        .first(conn)?;
    let program = match &event.program_id {
        Some(p) => programs::table
            .find(p)
            .select(programs::name)
            .first::<String>(conn)
            .optional()?,
        None => None,
    };
    match action.action_type {
        AutomationActionType::SendEmail => {
            let organization = crate::organization::repo::get(conn, org)?.name;
            let first = person.name.split_whitespace().next().unwrap_or(&person.name).to_owned();
            let context = json!({
                "organization": {"name": organization},
                "recipient": {"first_name": first, "name": person.name, "email": person.email},
                "program": {"name": program.clone().unwrap_or_default()},
                "event": serde_json::from_str::<Value>(&event.payload).unwrap_or(Value::Null),
                "link": cohort_api_types::links::participant_home(),
            });
            let template = action.template.as_deref().unwrap_or_default();
            let context = with_extras(context, template);
            crate::messaging::email::queue_email(conn, org, template, &person.email, context, key)?;
        }
        AutomationActionType::SendNotification => {
            notify(
                conn,
                org,
                db::id(person_id),
                NewNotification {
                    kind: "automation",
                    title: action.title.as_deref().unwrap_or_default(),
                    body: action.body.as_deref().unwrap_or_default(),
                    link: None,
                    dedupe_key: Some(key.to_owned()),
                },
            )?;
        }
        AutomationActionType::SendChatMessage => {
            // The person's conversation with the organisation, opened on first use.
            let existing: Option<String> = conversations::table
                .inner_join(conversation_members::table)
                .filter(conversations::organization_id.eq(org.to_string()))
                .filter(conversations::kind.eq("automation"))
                .filter(conversation_members::person_id.eq(person_id))
                .select(conversations::id)
                .first(conn)
                .optional()?;
            let conversation = match existing {
                Some(c) => c,
                None => {
                    let subject = crate::organization::repo::get(conn, org)?.name;
                    crate::messaging::chat::open_conversation(
                        conn,
                        org,
                        "automation",
                        &subject,
                        None,
                        &[db::id(person_id)],
                    )?
                }
            };
            crate::messaging::chat::post_message(
                conn,
                org,
                &conversation,
                None,
                action.text.as_deref().unwrap_or_default(),
            )?;
        }
        AutomationActionType::AwardBadge => {
            let badge = action.badge_id.map(|b| b.to_string()).unwrap_or_default();
            let exists: i64 = crate::schema::badges::table
                .filter(crate::schema::badges::id.eq(&badge))
                .filter(crate::schema::badges::organization_id.eq(org.to_string()))
                .count()
                .get_result(conn)?;
            if exists == 0 {
                return Ok(Some("the badge was deleted".into()));
            }
            crate::insert_new!(
                conn,
                person_badges::table,
                (
                    person_badges::badge_id.eq(&badge),
                    person_badges::person_id.eq(person_id),
                    person_badges::organization_id.eq(org.to_string()),
                    person_badges::awarded_at.eq(db::now()),
                )
            )?;
        }
        AutomationActionType::DeliverStep => {
            let step_id = action.step_id.map(|s| s.to_string()).unwrap_or_default();
            let Some(step) = crate::steps::repo::find(conn, &step_id)? else {
                return Ok(Some("the step was deleted".into()));
            };
            let takes_part: i64 = participants::table
                .filter(participants::program_id.eq(&step.program_id))
                .filter(participants::person_id.eq(person_id))
                .filter(participants::status.eq("active"))
                .filter(participants::role.eq_any(step.roles()))
                .count()
                .get_result(conn)?;
            if takes_part == 0 {
                return Ok(Some(
                    "the person does not take part in the step's program in its role".into(),
                ));
            }
            crate::steps::delivery::deliver(conn, &step, std::slice::from_ref(person_id))?;
        }
        AutomationActionType::CallWebhook => unreachable!("handled above"),
    }
    Ok(None)
}

/// An automation sends a template outside its usual cause: its own placeholders (a step's title,
/// a mentor's name) are blank unless the event's payload carries them.
pub(super) fn with_extras(mut context: Value, template: &str) -> Value {
    let extras = crate::messaging::templates::kind(template).map_or(&[][..], |k| k.extra);
    for path in extras {
        let mut at = &mut context;
        let mut parts = path.split('.').peekable();
        while let Some(part) = parts.next() {
            if !at.is_object() {
                break;
            }
            let last = parts.peek().is_none();
            let entry = at
                .as_object_mut()
                .expect("checked")
                .entry(part.to_owned())
                .or_insert_with(|| if last { json!("") } else { json!({}) });
            at = entry;
        }
    }
    context
}

/// POSTs the event and the action to the action's URL, signed with the automation's
/// `webhook_secret` as endpoints' deliveries are; any 2xx answer counts. A retry after a crash
/// may call it again: the `webhook-id` header lets the receiver drop the repeat.
pub(super) async fn call(
    client: &reqwest::Client,
    allow_private: bool,
    url: &str,
    secret: &str,
    id: &str,
    body: String,
) -> Result<(), String> {
    crate::messaging::webhooks::post_signed(client, allow_private, url, secret, id, body)
        .await
        .map(|_| ())
        .map_err(|(_, error)| error)
}
