use chrono::NaiveDateTime;
use cohort_api_types::{Labels, Organization};
use cohort_domain::retention::Kept;
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::schema::organizations;

#[derive(Queryable, Selectable, Insertable, AsChangeset, Clone)]
#[diesel(table_name = organizations)]
pub struct OrganizationRow {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub time_zone: String,
    pub holidays: String,
    pub provider_singular: String,
    pub provider_plural: String,
    pub class_singular: String,
    pub class_plural: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub audit_retention_days: i32,
    pub refresh_token_retention_days: i32,
    pub job_retention_days: i32,
    pub dead_job_retention_days: i32,
    pub webhook_delivery_retention_days: i32,
    pub email_delivery_retention_days: i32,
    pub event_retention_days: i32,
}

impl OrganizationRow {
    pub fn into_api(self) -> Organization {
        Organization {
            id: db::id(&self.id),
            name: self.name,
            slug: self.slug,
            time_zone: self.time_zone,
            // Written by this module from a Vec<NaiveDate>.
            holidays: serde_json::from_str(&self.holidays).unwrap_or_default(),
            labels: Labels {
                provider_singular: self.provider_singular,
                provider_plural: self.provider_plural,
                class_singular: self.class_singular,
                class_plural: self.class_plural,
            },
            audit_retention_days: self.audit_retention_days,
            refresh_token_retention_days: self.refresh_token_retention_days,
            job_retention_days: self.job_retention_days,
            dead_job_retention_days: self.dead_job_retention_days,
            webhook_delivery_retention_days: self.webhook_delivery_retention_days,
            email_delivery_retention_days: self.email_delivery_retention_days,
            event_retention_days: self.event_retention_days,
            created_at: db::utc(self.created_at),
        }
    }
}

pub fn get(conn: &mut DbConn, org: Uuid) -> Result<OrganizationRow, ApiError> {
    Ok(organizations::table
        .find(org.to_string())
        .select(OrganizationRow::as_select())
        .first(conn)?)
}

pub fn count(conn: &mut DbConn) -> Result<i64, ApiError> {
    Ok(organizations::table.count().get_result(conn)?)
}

pub fn slug_taken(conn: &mut DbConn, slug: &str) -> Result<bool, ApiError> {
    Ok(organizations::table
        .filter(organizations::slug.eq(slug))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

pub fn insert(conn: &mut DbConn, row: &OrganizationRow) -> Result<(), ApiError> {
    diesel::insert_into(organizations::table).values(row).execute(conn)?;
    Ok(())
}

/// Writes the organisation's changes.
pub fn save(conn: &mut DbConn, row: &OrganizationRow) -> Result<(), ApiError> {
    diesel::update(organizations::table.find(&row.id))
        .set(row)
        .execute(conn)?;
    Ok(())
}

/// Creates an organisation with a slug derived from its name, made unique with a counter.
pub fn create(
    conn: &mut DbConn,
    name: &str,
    time_zone: &str,
    labels: cohort_domain::tenancy::Labels,
) -> Result<OrganizationRow, ApiError> {
    let base = cohort_domain::tenancy::slugify(name);
    let mut slug = base.clone();
    let mut n = 2;
    while slug_taken(conn, &slug)? {
        slug = format!("{base}-{n}");
        n += 1;
    }
    let now = db::now();
    let row = OrganizationRow {
        id: db::new_id(),
        name: name.to_owned(),
        slug,
        time_zone: time_zone.to_owned(),
        holidays: "[]".into(),
        provider_singular: labels.provider_singular,
        provider_plural: labels.provider_plural,
        class_singular: labels.class_singular,
        class_plural: labels.class_plural,
        created_at: now,
        updated_at: now,
        audit_retention_days: cohort_domain::audit::DEFAULT_RETENTION_DAYS,
        refresh_token_retention_days: Kept::RefreshTokens.default_days(),
        job_retention_days: Kept::FinishedJobs.default_days(),
        dead_job_retention_days: Kept::DeadJobs.default_days(),
        webhook_delivery_retention_days: Kept::WebhookDeliveries.default_days(),
        email_delivery_retention_days: Kept::EmailDeliveries.default_days(),
        event_retention_days: Kept::Events.default_days(),
    };
    insert(conn, &row)?;
    Ok(row)
}

impl OrganizationRow {
    /// The organisation's setting for how long `kept` is kept.
    pub fn retention_days(&self, kept: Kept) -> i32 {
        match kept {
            Kept::RefreshTokens => self.refresh_token_retention_days,
            Kept::FinishedJobs => self.job_retention_days,
            Kept::DeadJobs => self.dead_job_retention_days,
            Kept::WebhookDeliveries => self.webhook_delivery_retention_days,
            Kept::EmailDeliveries => self.email_delivery_retention_days,
            Kept::Events => self.event_retention_days,
        }
    }

    pub fn retention_days_mut(&mut self, kept: Kept) -> &mut i32 {
        match kept {
            Kept::RefreshTokens => &mut self.refresh_token_retention_days,
            Kept::FinishedJobs => &mut self.job_retention_days,
            Kept::DeadJobs => &mut self.dead_job_retention_days,
            Kept::WebhookDeliveries => &mut self.webhook_delivery_retention_days,
            Kept::EmailDeliveries => &mut self.email_delivery_retention_days,
            Kept::Events => &mut self.event_retention_days,
        }
    }
}
