use chrono::NaiveDateTime;
use cohort_api_types::{Attributes, Person};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{self, lower, DbConn};
use crate::error::ApiError;
use crate::paging::PageRequest;
use crate::schema::people;

#[derive(Queryable, Selectable, Insertable, AsChangeset, Clone)]
#[diesel(table_name = people, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct PersonRow {
    pub id: String,
    pub organization_id: String,
    pub email: String,
    pub name: String,
    pub bio: String,
    pub time_zone: Option<String>,
    pub attributes: String,
    pub is_admin: bool,
    pub password_hash: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub photo_url: Option<String>,
}

impl PersonRow {
    pub fn into_api(self) -> Person {
        Person {
            id: db::id(&self.id),
            email: self.email,
            name: self.name,
            bio: self.bio,
            photo_url: self.photo_url,
            time_zone: self.time_zone,
            // Written by this module from validated `Attributes`.
            attributes: serde_json::from_str::<Attributes>(&self.attributes).unwrap_or_default(),
            is_admin: self.is_admin,
            can_log_in: self.password_hash.is_some(),
            created_at: db::utc(self.created_at),
            updated_at: db::utc(self.updated_at),
        }
    }
}

pub fn get(conn: &mut DbConn, org: Uuid, id: Uuid) -> Result<PersonRow, ApiError> {
    Ok(people::table
        .filter(people::organization_id.eq(org.to_string()))
        .filter(people::id.eq(id.to_string()))
        .select(PersonRow::as_select())
        .first(conn)?)
}

pub struct PeopleFilter {
    pub q: Option<String>,
    pub is_admin: Option<bool>,
}

pub fn list(
    conn: &mut DbConn,
    org: Uuid,
    filter: &PeopleFilter,
    page: &PageRequest,
) -> Result<Vec<PersonRow>, ApiError> {
    let mut query = people::table
        .filter(people::organization_id.eq(org.to_string()))
        .select(PersonRow::as_select())
        .order(people::id)
        .limit(page.fetch())
        .into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(people::id.gt(after.clone()));
    }
    if let Some(admin) = filter.is_admin {
        query = query.filter(people::is_admin.eq(admin));
    }
    if let Some(q) = filter.q.as_deref().filter(|q| !q.trim().is_empty()) {
        let pattern = db::like_pattern(q);
        query = query.filter(
            lower(people::name)
                .like(pattern.clone())
                .escape('\\')
                .or(people::email.like(pattern).escape('\\')),
        );
    }
    Ok(query.load(conn)?)
}

pub fn insert(conn: &mut DbConn, rows: &[PersonRow]) -> Result<(), ApiError> {
    if !rows.is_empty() {
        crate::copy_in!(conn, people::table, rows)?;
    }
    Ok(())
}

/// Writes a person's changes. A provider's name, bio and zone are part of the free slots: callers
/// record the change with `booking::repo::slots_changed` (once per transaction).
pub fn save(conn: &mut DbConn, row: &PersonRow) -> Result<(), ApiError> {
    diesel::update(people::table.find(&row.id)).set(row).execute(conn)?;
    Ok(())
}

pub fn delete(conn: &mut DbConn, org: Uuid, id: Uuid) -> Result<(), ApiError> {
    let n = diesel::delete(
        people::table
            .filter(people::organization_id.eq(org.to_string()))
            .filter(people::id.eq(id.to_string())),
    )
    .execute(conn)?;
    if n == 0 {
        return Err(ApiError::NotFound);
    }
    // A provider goes with their person, and so do their bookings.
    crate::booking::repo::slots_changed(conn, org, crate::booking::repo::SlotsChange::Other)?;
    Ok(())
}

pub fn email_taken(conn: &mut DbConn, org: Uuid, email: &str, except: Option<&str>) -> Result<bool, ApiError> {
    let mut query = people::table
        .filter(people::organization_id.eq(org.to_string()))
        .filter(people::email.eq(email))
        .into_boxed();
    if let Some(id) = except {
        query = query.filter(people::id.ne(id.to_owned()));
    }
    Ok(query.count().get_result::<i64>(conn)? > 0)
}

pub fn admin_count(conn: &mut DbConn, org: Uuid) -> Result<i64, ApiError> {
    Ok(people::table
        .filter(people::organization_id.eq(org.to_string()))
        .filter(people::is_admin.eq(true))
        .count()
        .get_result(conn)?)
}

/// Everyone with this email who can log in, across organisations.
pub fn with_login(conn: &mut DbConn, email: &str) -> Result<Vec<PersonRow>, ApiError> {
    Ok(people::table
        .filter(people::email.eq(email))
        .filter(people::password_hash.is_not_null())
        .select(PersonRow::as_select())
        .load(conn)?)
}

/// Which of `ids` are people of the organisation.
pub fn existing_ids(conn: &mut DbConn, org: Uuid, ids: &[String]) -> Result<Vec<String>, ApiError> {
    Ok(people::table
        .filter(people::organization_id.eq(org.to_string()))
        .filter(people::id.eq_any(ids))
        .select(people::id)
        .load(conn)?)
}

/// The organisation's people with any of `emails`, by email.
pub fn by_email(
    conn: &mut DbConn,
    org: Uuid,
    emails: &[&str],
) -> Result<std::collections::HashMap<String, PersonRow>, ApiError> {
    Ok(people::table
        .filter(people::organization_id.eq(org.to_string()))
        .filter(people::email.eq_any(emails))
        .select(PersonRow::as_select())
        .load::<PersonRow>(conn)?
        .into_iter()
        .map(|p| (p.email.clone(), p))
        .collect())
}

/// Everyone with this email, across organisations, with a password or not yet.
pub fn with_email(conn: &mut DbConn, email: &str) -> Result<Vec<PersonRow>, ApiError> {
    Ok(people::table
        .filter(people::email.eq(email))
        .select(PersonRow::as_select())
        .load(conn)?)
}

/// Sets a person's password hash (None: no password, so no login).
pub fn set_password(conn: &mut DbConn, id: &str, hash: Option<&str>) -> Result<(), ApiError> {
    diesel::update(people::table.find(id))
        .set((people::password_hash.eq(hash), people::updated_at.eq(db::now())))
        .execute(conn)?;
    Ok(())
}

/// The people of the organisation among `ids`, in no particular order.
pub fn get_many(conn: &mut DbConn, org: Uuid, ids: &[String]) -> Result<Vec<PersonRow>, ApiError> {
    Ok(people::table
        .filter(people::organization_id.eq(org.to_string()))
        .filter(people::id.eq_any(ids))
        .select(PersonRow::as_select())
        .load(conn)?)
}

/// The active members of a program who cannot log in yet, by name.
pub fn program_members_without_password(conn: &mut DbConn, program: &str) -> Result<Vec<PersonRow>, ApiError> {
    use crate::schema::participants;
    Ok(people::table
        .inner_join(participants::table)
        .filter(participants::program_id.eq(program))
        .filter(participants::status.eq("active"))
        .filter(people::password_hash.is_null())
        .select(PersonRow::as_select())
        .distinct()
        .order((people::name, people::id))
        .load(conn)?)
}
