//! Personal data as stored: one person's export and their erasure, read through the database
//! catalog rather than a hand-kept list of columns, so a table added later is exported (add a
//! section to `export`) and scrubbed (automatically) without a change here.

use std::collections::BTreeMap;

use cohort_api_types::{Erasure, PersonalDataExport};
use cohort_domain::audit as rules;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::repo;
use crate::audit;
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::schema::{
    api_keys, booking_waitlist, bookings, calendar_feeds, idempotency_keys, jobs, notifications, participants, people,
    person_badges, providers, refresh_tokens,
};

/// Tables and their text columns, from the catalog.
fn catalog(conn: &mut DbConn) -> Result<BTreeMap<String, Vec<(String, bool)>>, ApiError> {
    #[derive(QueryableByName)]
    struct Column {
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = Text)]
        column_name: String,
        #[diesel(sql_type = Text)]
        data_type: String,
    }
    let columns: Vec<Column> = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(
            "SELECT m.name AS table_name, p.name AS column_name, upper(p.type) AS data_type \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '__diesel%' \
             ORDER BY m.name, p.cid",
        )
        .load(c)?,
        DbConn::Postgres(c) => diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name, upper(data_type::text) AS data_type \
             FROM information_schema.columns WHERE table_schema = current_schema() \
             AND table_name NOT LIKE '__diesel%' ORDER BY table_name, ordinal_position",
        )
        .load(c)?,
    };
    let mut tables: BTreeMap<String, Vec<(String, bool)>> = BTreeMap::new();
    for c in columns {
        let text = c.data_type == "TEXT" || c.data_type == "CHARACTER VARYING";
        tables.entry(c.table_name).or_default().push((c.column_name, text));
    }
    Ok(tables)
}

fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[derive(QueryableByName)]
struct JsonRow {
    #[diesel(sql_type = Text)]
    j: String,
}

/// Rows of `table` matching `condition` (SQL over the table's own columns, values inlined as
/// literals by the caller), each as a JSON object without secret fields.
fn rows_as_json(
    conn: &mut DbConn,
    tables: &BTreeMap<String, Vec<(String, bool)>>,
    table: &str,
    condition: &str,
) -> Result<Vec<Value>, ApiError> {
    let Some(columns) = tables.get(table) else {
        return Ok(vec![]);
    };
    let rows: Vec<JsonRow> = match conn {
        DbConn::Sqlite(c) => {
            let pairs: Vec<String> = columns
                .iter()
                .map(|(name, _)| format!("{}, {}", literal(name), quote(name)))
                .collect();
            diesel::sql_query(format!(
                "SELECT json_object({}) AS j FROM {} t WHERE {condition}",
                pairs.join(", "),
                quote(table)
            ))
            .load(c)?
        }
        DbConn::Postgres(c) => diesel::sql_query(format!(
            "SELECT row_to_json(t)::text AS j FROM {} t WHERE {condition}",
            quote(table)
        ))
        .load(c)?,
    };
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut value = serde_json::from_str::<Value>(&r.j).unwrap_or(Value::Null);
            // Columns holding JSON read back as objects, not as strings of JSON.
            if let Value::Object(fields) = &mut value {
                for v in fields.values_mut() {
                    if let Value::String(s) = v {
                        if s.starts_with('{') || s.starts_with('[') {
                            if let Ok(parsed) = serde_json::from_str::<Value>(s) {
                                *v = parsed;
                            }
                        }
                    }
                }
            }
            rules::redact(&value)
        })
        .collect())
}

/// Everything about one person, section by section.
pub(super) fn export(conn: &mut DbConn, org: Uuid, id: Uuid) -> Result<PersonalDataExport, ApiError> {
    let person = repo::get(conn, org, id)?;
    let tables = catalog(conn)?;
    let (o, p, e) = (
        literal(&org.to_string()),
        literal(&id.to_string()),
        literal(&person.email),
    );
    let profile = rows_as_json(conn, &tables, "people", &format!("organization_id = {o} AND id = {p}"))?
        .pop()
        .ok_or(ApiError::NotFound)?;
    let sections: [(&str, &str, String); 19] = [
        ("memberships", "participants", format!("person_id = {p}")),
        ("step_deliveries", "step_deliveries", format!("person_id = {p}")),
        (
            "mentor_requests",
            "mentor_requests",
            format!("mentee_id = {p} OR mentor_id = {p}"),
        ),
        ("pairings", "pairings", format!("mentee_id = {p} OR mentor_id = {p}")),
        ("pairing_invitations", "pairing_invitations", format!("mentee_id = {p}")),
        (
            "conversations",
            "conversations",
            format!("id IN (SELECT conversation_id FROM conversation_members WHERE person_id = {p})"),
        ),
        ("messages", "chat_messages", format!("sender_id = {p}")),
        ("notifications", "notifications", format!("person_id = {p}")),
        ("badges", "person_badges", format!("person_id = {p}")),
        ("automation_runs", "automation_runs", format!("person_id = {p}")),
        ("events", "events", format!("person_id = {p}")),
        (
            "emails_sent",
            "email_deliveries",
            format!("lower(recipient) = lower({e})"),
        ),
        ("api_keys", "api_keys", format!("created_by = {p}")),
        (
            "audit_entries",
            "audit_log",
            format!("object_id = {p} OR actor_person_id = {p}"),
        ),
        ("bookings", "bookings", format!("student_id = {p} OR provider_id = {p}")),
        ("booking_waitlist", "booking_waitlist", format!("student_id = {p}")),
        ("provider_profile", "providers", format!("person_id = {p}")),
        ("enrollments", "enrollments", format!("person_id = {p}")),
        ("certifications", "certifications", format!("provider_id = {p}")),
    ];
    let mut out = Map::new();
    for (section, table, condition) in sections {
        // Ids are the organisation's own; tables that carry the organisation are filtered by it too.
        let has_org = tables
            .get(table)
            .is_some_and(|columns| columns.iter().any(|(c, _)| c == "organization_id"));
        let scoped = |condition: String| {
            if has_org {
                format!("organization_id = {o} AND ({condition})")
            } else {
                condition
            }
        };
        out.insert(
            section.to_owned(),
            Value::Array(rows_as_json(conn, &tables, table, &scoped(condition))?),
        );
    }
    Ok(PersonalDataExport {
        format: "cohort.personal-data.v1".into(),
        exported_at: db::utc(db::now()),
        person: profile,
        sections: out,
    })
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = Text)]
    k: String,
}

#[derive(QueryableByName)]
struct Cell {
    #[diesel(sql_type = Nullable<Text>)]
    v: Option<String>,
}

/// Rewrites every text in the organisation's tables (but `people`, done by hand) that names the
/// person. Returns table → rows rewritten.
fn scrub_everywhere(conn: &mut DbConn, org: Uuid, name: &str, email: &str) -> Result<BTreeMap<String, u64>, ApiError> {
    let tables = catalog(conn)?;
    let needles: Vec<String> = [email, name]
        .into_iter()
        .map(str::trim)
        .filter(|n| n.chars().count() >= 3)
        .map(db::like_pattern)
        .collect();
    let sqlite = matches!(conn, DbConn::Sqlite(_));
    let mut rewritten = BTreeMap::new();
    for (table, columns) in &tables {
        if table == "people" || !columns.iter().any(|(c, _)| c == "organization_id") {
            continue;
        }
        let text: Vec<&str> = columns
            .iter()
            .filter(|(c, is_text)| *is_text && c != "id" && !c.ends_with("_id"))
            .map(|(c, _)| c.as_str())
            .collect();
        if text.is_empty() || needles.is_empty() {
            continue;
        }
        // The row's physical key: one UPDATE per row, so PostgreSQL's ctid stays valid.
        let key = if sqlite { "CAST(rowid AS TEXT)" } else { "ctid::text" };
        let mut matches = Vec::new();
        for column in &text {
            for needle in &needles {
                matches.push(format!("lower({}) LIKE {} ESCAPE '\\'", quote(column), literal(needle)));
            }
        }
        let select = format!(
            "SELECT {key} AS k FROM {} WHERE organization_id = {} AND ({})",
            quote(table),
            literal(&org.to_string()),
            matches.join(" OR ")
        );
        let found: Vec<Found> = match conn {
            DbConn::Sqlite(c) => diesel::sql_query(select).load(c)?,
            DbConn::Postgres(c) => diesel::sql_query(select).load(c)?,
        };
        for Found { k } in found {
            let at = if sqlite {
                format!(
                    "rowid = {}",
                    k.parse::<i64>().map_err(|e| ApiError::Internal(e.to_string()))?
                )
            } else {
                format!("ctid = {}::tid", literal(&k))
            };
            let mut sets = Vec::new();
            for column in &text {
                let read = format!("SELECT {} AS v FROM {} WHERE {at}", quote(column), quote(table));
                let cell: Cell = match conn {
                    DbConn::Sqlite(c) => diesel::sql_query(read).get_result(c)?,
                    DbConn::Postgres(c) => diesel::sql_query(read).get_result(c)?,
                };
                if let Some(new) = cell.v.as_deref().and_then(|v| rules::scrub_stored(v, name, email)) {
                    sets.push(format!("{} = {}", quote(column), literal(&new)));
                }
            }
            if !sets.is_empty() {
                let update = format!("UPDATE {} SET {} WHERE {at}", quote(table), sets.join(", "));
                match conn {
                    DbConn::Sqlite(c) => diesel::sql_query(update).execute(c)?,
                    DbConn::Postgres(c) => diesel::sql_query(update).execute(c)?,
                };
                *rewritten.entry(table.clone()).or_insert(0) += 1;
            }
        }
    }
    Ok(rewritten)
}

pub(super) fn erase(conn: &mut DbConn, actor: &audit::Actor, id: Uuid, confirm: &str) -> Result<Erasure, ApiError> {
    let org = actor.org;
    let person = repo::get(conn, org, id)?;
    if !confirm.trim().eq_ignore_ascii_case(&person.email) {
        return Err(ApiError::field("confirm", "must be the person's email"));
    }
    if person.is_admin && repo::admin_count(conn, org)? <= 1 {
        return Err(ApiError::Conflict("This is the organisation's last admin.".into()));
    }
    let (name, email) = (person.name.clone(), person.email.clone());
    let (o, p) = (org.to_string(), id.to_string());
    let mut deleted = BTreeMap::new();
    let mut count = |table: &str, n: usize| {
        if n > 0 {
            deleted.insert(table.to_owned(), n as u64);
        }
    };
    count(
        "refresh_tokens",
        diesel::delete(refresh_tokens::table.filter(refresh_tokens::person_id.eq(&p))).execute(conn)?,
    );
    count(
        "api_keys",
        diesel::delete(
            api_keys::table
                .filter(api_keys::organization_id.eq(&o))
                .filter(api_keys::created_by.eq(&p)),
        )
        .execute(conn)?,
    );
    count(
        "notifications",
        diesel::delete(
            notifications::table
                .filter(notifications::organization_id.eq(&o))
                .filter(notifications::person_id.eq(&p)),
        )
        .execute(conn)?,
    );
    count(
        "calendar_feeds",
        diesel::delete(calendar_feeds::table.filter(calendar_feeds::person_id.eq(&p))).execute(conn)?,
    );
    count(
        "booking_waitlist",
        diesel::delete(
            booking_waitlist::table
                .filter(booking_waitlist::organization_id.eq(&o))
                .filter(booking_waitlist::student_id.eq(&p)),
        )
        .execute(conn)?,
    );
    count(
        "person_badges",
        diesel::delete(
            person_badges::table
                .filter(person_badges::organization_id.eq(&o))
                .filter(person_badges::person_id.eq(&p)),
        )
        .execute(conn)?,
    );
    // Mail not yet sent to them is not sent at all.
    count(
        "jobs",
        diesel::delete(
            jobs::table
                .filter(jobs::organization_id.eq(&o))
                .filter(jobs::status.eq(crate::jobs::QUEUED))
                .filter(db::lower(jobs::payload).like(db::like_pattern(&email)).escape('\\')),
        )
        .execute(conn)?,
    );
    // Stored answers of requests that named them (a 24-hour replay cache).
    let cached: Vec<(String, Option<Vec<u8>>)> = idempotency_keys::table
        .filter(idempotency_keys::organization_id.eq(&o))
        .select((idempotency_keys::id, idempotency_keys::response_body))
        .load(conn)?;
    let needles: Vec<String> = [&email, &name]
        .into_iter()
        .map(|n| n.trim().to_lowercase())
        .filter(|n| n.chars().count() >= 3)
        .collect();
    let named: Vec<String> = cached
        .into_iter()
        .filter(|(_, body)| {
            let body = String::from_utf8_lossy(body.as_deref().unwrap_or_default()).to_lowercase();
            needles.iter().any(|n| body.contains(n.as_str()))
        })
        .map(|(id, _)| id)
        .collect();
    count(
        "idempotency_keys",
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::id.eq_any(&named))).execute(conn)?,
    );
    // What other records need stays, under a name that says what happened.
    diesel::update(
        participants::table
            .filter(participants::organization_id.eq(&o))
            .filter(participants::person_id.eq(&p)),
    )
    .set(participants::answers.eq("{}"))
    .execute(conn)?;
    // Their bookings stay on the providers' calendars, without their answers to the topic questions.
    diesel::update(
        bookings::table
            .filter(bookings::organization_id.eq(&o))
            .filter(bookings::student_id.eq(&p)),
    )
    .set(bookings::answers.eq("{}"))
    .execute(conn)?;
    diesel::update(
        providers::table
            .filter(providers::organization_id.eq(&o))
            .filter(providers::person_id.eq(&p)),
    )
    .set(providers::photo_url.eq(None::<String>))
    .execute(conn)?;
    diesel::update(
        people::table
            .filter(people::organization_id.eq(&o))
            .filter(people::id.eq(&p)),
    )
    .set((
        people::name.eq(rules::ERASED_NAME),
        people::email.eq(format!("erased-{p}@erased.invalid")),
        people::bio.eq(""),
        people::photo_url.eq(None::<String>),
        people::time_zone.eq(None::<String>),
        people::attributes.eq("{}"),
        people::is_admin.eq(false),
        people::password_hash.eq(None::<String>),
        people::updated_at.eq(db::now()),
    ))
    .execute(conn)?;
    crate::booking::repo::slots_changed(conn, org, crate::booking::repo::SlotsChange::Other)?;
    // Their own messages lose their words; the conversation stays for the other side.
    diesel::update(
        crate::schema::chat_messages::table
            .filter(crate::schema::chat_messages::organization_id.eq(&o))
            .filter(crate::schema::chat_messages::sender_id.eq(&p)),
    )
    .set(crate::schema::chat_messages::body.eq("(erased)"))
    .execute(conn)?;
    let mut anonymised = scrub_everywhere(conn, org, &name, &email)?;
    anonymised.insert("people".into(), 1);
    audit::record(conn, actor, "person.erased", ("person", id), audit::NONE, audit::NONE)?;
    Ok(Erasure {
        person_id: id,
        erased_at: db::utc(db::now()),
        deleted,
        anonymised,
    })
}
