//! Notifications (people's feeds) in the database.

use chrono::NaiveDateTime;
use cohort_api_types::Notification;
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::schema::{notifications, people};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = notifications, treat_none_as_default_value = false)]
pub struct NotificationRow {
    pub id: String,
    pub organization_id: String,
    pub person_id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub dedupe_key: Option<String>,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
}

impl NotificationRow {
    pub fn into_api(self) -> Notification {
        Notification {
            id: db::id(&self.id),
            kind: self.kind,
            title: self.title,
            body: self.body,
            link: self.link,
            created_at: db::utc(self.created_at),
            read_at: self.read_at.map(db::utc),
        }
    }
}

/// What to put in someone's feed.
pub struct NewNotification<'a> {
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub link: Option<&'a str>,
    /// A second notification with the same key is not added.
    pub dedupe_key: Option<String>,
}

/// Stores a notification unless its dedupe key was used already; how many were added (0 or 1).
pub fn insert(conn: &mut DbConn, row: &NotificationRow) -> Result<usize, ApiError> {
    Ok(crate::insert_new!(conn, notifications::table, row)?)
}

/// Stores the notifications whose dedupe key was not used yet (one statement); how many were added.
pub fn insert_many(conn: &mut DbConn, rows: &[NotificationRow]) -> Result<usize, ApiError> {
    Ok(crate::insert_new!(conn, notifications::table, rows)?)
}

const NOTIFY_ALL_POSTGRES: &str = "INSERT INTO notifications \
     (id, organization_id, person_id, kind, title, body, link, dedupe_key, created_at, read_at) \
     SELECT i, $1, p, $2, $3, $4, $5, d, $6, NULL FROM unnest($7::text[], $8::text[], $9::text[]) AS u(i, p, d) \
     ON CONFLICT DO NOTHING";

/// Stores `rows`, one `new` notification per person made at `now`, skipping used dedupe keys;
/// how many were added.
pub fn insert_all(
    conn: &mut DbConn,
    org: Uuid,
    new: &NewNotification,
    now: NaiveDateTime,
    rows: &[NotificationRow],
) -> Result<usize, ApiError> {
    Ok(match conn {
        // One statement with the varying columns as arrays (a multi-row VALUES of 50,000 rows
        // takes half a million binds).
        DbConn::Postgres(c) => {
            use diesel::sql_types::{Array, Nullable, Text, Timestamp};
            let column = |f: fn(&NotificationRow) -> &String| rows.iter().map(f).cloned().collect::<Vec<String>>();
            let keys: Vec<String> = rows.iter().filter_map(|r| r.dedupe_key.clone()).collect();
            diesel::sql_query(NOTIFY_ALL_POSTGRES)
                .bind::<Text, _>(org.to_string())
                .bind::<Text, _>(new.kind)
                .bind::<Text, _>(new.title)
                .bind::<Text, _>(new.body)
                .bind::<Nullable<Text>, _>(new.link)
                .bind::<Timestamp, _>(now)
                .bind::<Array<Text>, _>(column(|r| &r.id))
                .bind::<Array<Text>, _>(column(|r| &r.person_id))
                .bind::<Array<Text>, _>(keys)
                .execute(c)?
        }
        DbConn::Sqlite(_) => {
            let mut added = 0;
            for chunk in rows.chunks(1000) {
                added += crate::insert_new!(conn, notifications::table, chunk)?;
            }
            added
        }
    })
}

/// One person's notifications.
fn feed(org: Uuid, person: Uuid) -> notifications::BoxedQuery<'static, db::MultiBackend> {
    notifications::table
        .filter(notifications::organization_id.eq(org.to_string()))
        .filter(notifications::person_id.eq(person.to_string()))
        .into_boxed()
}

/// Up to `limit` of the person's notifications (`unread_only` or all) before the id `before`, newest first.
pub fn feed_page(
    conn: &mut DbConn,
    org: Uuid,
    person: Uuid,
    before: Option<&str>,
    unread_only: bool,
    limit: i64,
) -> Result<Vec<NotificationRow>, ApiError> {
    let mut items = feed(org, person)
        .select(NotificationRow::as_select())
        .order(notifications::id.desc())
        .limit(limit);
    if let Some(before) = before {
        items = items.filter(notifications::id.lt(before.to_owned()));
    }
    if unread_only {
        items = items.filter(notifications::read_at.is_null());
    }
    Ok(items.load(conn)?)
}

/// How many of the person's notifications are unread.
pub fn unread_count(conn: &mut DbConn, org: Uuid, person: Uuid) -> Result<i64, ApiError> {
    Ok(feed(org, person)
        .filter(notifications::read_at.is_null())
        .count()
        .get_result(conn)?)
}

/// Whether the notification `id` is in the person's feed.
pub fn in_feed(conn: &mut DbConn, org: Uuid, person: Uuid, id: Uuid) -> Result<bool, ApiError> {
    Ok(feed(org, person)
        .filter(notifications::id.eq(id.to_string()))
        .count()
        .get_result::<i64>(conn)?
        != 0)
}

/// Marks the notification `id` read now, unless it was read already (callers scope the id).
pub fn mark_read(conn: &mut DbConn, id: Uuid) -> Result<(), ApiError> {
    diesel::update(
        notifications::table
            .find(id.to_string())
            .filter(notifications::read_at.is_null()),
    )
    .set(notifications::read_at.eq(db::now()))
    .execute(conn)?;
    Ok(())
}

/// Marks all of the person's unread notifications read now.
pub fn mark_all_read(conn: &mut DbConn, org: Uuid, person: Uuid) -> Result<(), ApiError> {
    diesel::update(
        notifications::table
            .filter(notifications::organization_id.eq(org.to_string()))
            .filter(notifications::person_id.eq(person.to_string()))
            .filter(notifications::read_at.is_null()),
    )
    .set(notifications::read_at.eq(db::now()))
    .execute(conn)?;
    Ok(())
}

/// Up to `limit` of the organisation's notifications before the id `before`, newest first, each
/// with its recipient's name.
pub fn log_page(
    conn: &mut DbConn,
    org: Uuid,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<(NotificationRow, String)>, ApiError> {
    let mut q = notifications::table
        .inner_join(people::table)
        .filter(notifications::organization_id.eq(org.to_string()))
        .select((NotificationRow::as_select(), people::name))
        .order(notifications::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        q = q.filter(notifications::id.lt(before.to_owned()));
    }
    Ok(q.load(conn)?)
}
