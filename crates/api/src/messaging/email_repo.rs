//! Email templates (an organisation's own wording) and sent deliveries in the database.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::schema::{email_deliveries, email_templates};

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = email_templates)]
pub struct TemplateRow {
    pub id: String,
    pub organization_id: String,
    pub template_key: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    pub updated_at: NaiveDateTime,
}

/// The organisation's own wording of the email `key`, if it has one.
pub fn custom(conn: &mut DbConn, org: Uuid, key: &str) -> Result<Option<TemplateRow>, ApiError> {
    Ok(email_templates::table
        .filter(email_templates::organization_id.eq(org.to_string()))
        .filter(email_templates::template_key.eq(key))
        .select(TemplateRow::as_select())
        .first(conn)
        .optional()?)
}

/// Stores an organisation's wording of an email.
pub fn insert_template(conn: &mut DbConn, row: &TemplateRow) -> Result<(), ApiError> {
    diesel::insert_into(email_templates::table).values(row).execute(conn)?;
    Ok(())
}

/// Overwrites the stored wording `row.id` with `row`.
pub fn update_template(conn: &mut DbConn, row: &TemplateRow) -> Result<(), ApiError> {
    diesel::update(email_templates::table.find(&row.id))
        .set(row)
        .execute(conn)?;
    Ok(())
}

/// Deletes the organisation's wording of the email `key` (the default applies again).
pub fn delete_template(conn: &mut DbConn, org: Uuid, key: &str) -> Result<(), ApiError> {
    diesel::delete(
        email_templates::table
            .filter(email_templates::organization_id.eq(org.to_string()))
            .filter(email_templates::template_key.eq(key)),
    )
    .execute(conn)?;
    Ok(())
}

/// Whether an email with this delivery key was sent already.
pub fn was_sent(conn: &mut DbConn, key: &str) -> Result<bool, ApiError> {
    Ok(email_deliveries::table.find(key).count().get_result::<i64>(conn)? > 0)
}

/// Records that the email with this delivery key was sent now.
pub fn record_delivery(
    conn: &mut DbConn,
    org: Uuid,
    key: &str,
    to: &str,
    subject: &str,
    transport: &str,
) -> Result<(), ApiError> {
    let row = (
        email_deliveries::delivery_key.eq(key),
        email_deliveries::organization_id.eq(Some(org.to_string())),
        email_deliveries::recipient.eq(to),
        email_deliveries::subject.eq(subject),
        email_deliveries::transport.eq(transport),
        email_deliveries::sent_at.eq(db::now()),
    );
    diesel::insert_into(email_deliveries::table).values(row).execute(conn)?;
    Ok(())
}
