//! Webhook endpoints and their delivery log in the database.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::DbConn;
use crate::error::ApiError;
use crate::schema::{webhook_deliveries, webhook_endpoints};

#[derive(Queryable, Selectable, Insertable, AsChangeset, Clone)]
#[diesel(table_name = webhook_endpoints, treat_none_as_null = true)]
pub struct EndpointRow {
    pub id: String,
    pub organization_id: String,
    pub url: String,
    pub description: String,
    pub secret: String,
    pub event_types: String,
    pub enabled: bool,
    pub failure_count: i32,
    pub disabled_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl EndpointRow {
    /// The event types the endpoint receives (none: every event).
    pub fn events(&self) -> Vec<String> {
        // Written by the webhooks module from a Vec<String>.
        serde_json::from_str(&self.event_types).unwrap_or_default()
    }
}

#[derive(Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: String,
    pub organization_id: String,
    pub endpoint_id: String,
    pub event_type: String,
    pub body: String,
    pub status: String,
    pub attempts: i32,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

/// The organisation's enabled endpoints.
pub fn enabled_endpoints(conn: &mut DbConn, org: &str) -> Result<Vec<EndpointRow>, ApiError> {
    Ok(webhook_endpoints::table
        .filter(webhook_endpoints::organization_id.eq(org))
        .filter(webhook_endpoints::enabled.eq(true))
        .select(EndpointRow::as_select())
        .load(conn)?)
}

/// The organisation's endpoints, by id.
pub fn endpoints(conn: &mut DbConn, org: Uuid) -> Result<Vec<EndpointRow>, ApiError> {
    Ok(webhook_endpoints::table
        .filter(webhook_endpoints::organization_id.eq(org.to_string()))
        .select(EndpointRow::as_select())
        .order(webhook_endpoints::id)
        .load(conn)?)
}

/// The organisation's endpoint `id` (not found otherwise).
pub fn get_endpoint(conn: &mut DbConn, org: Uuid, id: Uuid) -> Result<EndpointRow, ApiError> {
    Ok(webhook_endpoints::table
        .filter(webhook_endpoints::organization_id.eq(org.to_string()))
        .filter(webhook_endpoints::id.eq(id.to_string()))
        .select(EndpointRow::as_select())
        .first(conn)?)
}

/// Stores a new endpoint.
pub fn insert_endpoint(conn: &mut DbConn, row: &EndpointRow) -> Result<(), ApiError> {
    diesel::insert_into(webhook_endpoints::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Overwrites the endpoint `row.id` with `row`.
pub fn update_endpoint(conn: &mut DbConn, row: &EndpointRow) -> Result<(), ApiError> {
    diesel::update(webhook_endpoints::table.find(&row.id))
        .set(row)
        .execute(conn)?;
    Ok(())
}

/// Deletes the endpoint `id` (its delivery log goes with it).
pub fn delete_endpoint(conn: &mut DbConn, id: &str) -> Result<(), ApiError> {
    diesel::delete(webhook_endpoints::table.find(id)).execute(conn)?;
    Ok(())
}

/// Resets the endpoint's count of failed deliveries after one succeeded.
pub fn reset_failures(conn: &mut DbConn, endpoint: &str) -> Result<(), ApiError> {
    diesel::update(webhook_endpoints::table.find(endpoint))
        .set(webhook_endpoints::failure_count.eq(0))
        .execute(conn)?;
    Ok(())
}

/// Counts a delivery that failed every retry against the endpoint, and turns the endpoint off
/// with `reason` once `disable_after` have failed in a row.
pub fn count_failure(conn: &mut DbConn, endpoint: &str, disable_after: i32, reason: &str) -> Result<(), ApiError> {
    let target = webhook_endpoints::table.find(endpoint);
    // Counted in SQL: deliveries to one endpoint fail side by side.
    diesel::update(target)
        .set(webhook_endpoints::failure_count.eq(webhook_endpoints::failure_count + 1))
        .execute(conn)?;
    diesel::update(
        target
            .filter(webhook_endpoints::enabled.eq(true))
            .filter(webhook_endpoints::failure_count.ge(disable_after)),
    )
    .set((
        webhook_endpoints::enabled.eq(false),
        webhook_endpoints::disabled_reason.eq(reason),
    ))
    .execute(conn)?;
    Ok(())
}

/// Stores a new delivery.
pub fn insert_delivery(conn: &mut DbConn, row: &DeliveryRow) -> Result<(), ApiError> {
    diesel::insert_into(webhook_deliveries::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The delivery `id` with its endpoint, if it still exists.
pub fn delivery_with_endpoint(conn: &mut DbConn, id: &str) -> Result<Option<(DeliveryRow, EndpointRow)>, ApiError> {
    Ok(webhook_deliveries::table
        .inner_join(webhook_endpoints::table)
        .filter(webhook_deliveries::id.eq(id))
        .select((DeliveryRow::as_select(), EndpointRow::as_select()))
        .first::<(DeliveryRow, EndpointRow)>(conn)
        .optional()?)
}

/// Records one attempt at the delivery: its new status, the answer's code or the error, when it arrived.
pub fn record_attempt(
    conn: &mut DbConn,
    delivery: &str,
    status: &str,
    code: Option<i32>,
    error: Option<String>,
    delivered_at: Option<NaiveDateTime>,
) -> Result<(), ApiError> {
    diesel::update(webhook_deliveries::table.find(delivery))
        .set((
            webhook_deliveries::status.eq(status),
            webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
            webhook_deliveries::last_status_code.eq(code),
            webhook_deliveries::last_error.eq(error),
            webhook_deliveries::delivered_at.eq(delivered_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Up to `limit` of the endpoint's deliveries before the id `before`, newest first.
pub fn deliveries_page(
    conn: &mut DbConn,
    endpoint: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, ApiError> {
    let mut q = webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint))
        .select(DeliveryRow::as_select())
        .order(webhook_deliveries::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        q = q.filter(webhook_deliveries::id.lt(before.to_owned()));
    }
    Ok(q.load(conn)?)
}

/// The endpoint's delivery `id` (not found otherwise).
pub fn get_delivery(conn: &mut DbConn, endpoint: &str, id: Uuid) -> Result<DeliveryRow, ApiError> {
    Ok(webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint))
        .filter(webhook_deliveries::id.eq(id.to_string()))
        .select(DeliveryRow::as_select())
        .first(conn)?)
}

/// Marks the delivery pending again (before it is queued once more).
pub fn mark_pending(conn: &mut DbConn, id: &str) -> Result<(), ApiError> {
    diesel::update(webhook_deliveries::table.find(id))
        .set(webhook_deliveries::status.eq("pending"))
        .execute(conn)?;
    Ok(())
}
