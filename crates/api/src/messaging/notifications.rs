//! In-app notifications: each person's feed, unread counts, read state, and
//! messages from the program team.

use actix_web::{get, post, web, HttpResponse};
use cohort_api_types::{
    LoggedNotification, Notification, NotificationLogPage, NotificationPage, NotificationsQuery, PageQuery, Problem,
    SendNotification,
};
use uuid::Uuid;

use super::notifications_repo as repo;
pub use super::notifications_repo::{NewNotification, NotificationRow};
use crate::audit;
use crate::auth::Caller;
use crate::db::{self, DbConn};
use crate::error::{ApiError, Problems};
use crate::extract::Body;
use crate::paging::PageRequest;
use crate::{people, AppState};

/// Adds a notification in the caller's transaction and publishes `notification.created` to the
/// organisation's webhooks (a push gateway among them); `None` when its dedupe key was used already.
pub fn notify(
    conn: &mut DbConn,
    org: Uuid,
    person: Uuid,
    new: NewNotification,
) -> Result<Option<Notification>, ApiError> {
    let row = NotificationRow {
        id: db::new_id(),
        organization_id: org.to_string(),
        person_id: person.to_string(),
        kind: new.kind.to_owned(),
        title: new.title.to_owned(),
        body: new.body.to_owned(),
        link: new.link.map(str::to_owned),
        dedupe_key: new.dedupe_key,
        created_at: db::now(),
        read_at: None,
    };
    let added = repo::insert(conn, &row)?;
    if added == 0 {
        return Ok(None);
    }
    let person_id = row.person_id.clone();
    let notification = row.into_api();
    // Push gateways subscribe to this event to forward the notification to phones.
    super::webhooks::publish(
        conn,
        org,
        "notification.created",
        serde_json::json!({"person_id": person_id, "notification": notification}),
    )?;
    Ok(Some(notification))
}

/// Adds many notifications, each its own (an automation batch's), in one statement per 500:
/// those whose dedupe key was used already are skipped. An organisation whose webhooks subscribe
/// to `notification.created` gets its notifications one by one through `notify`, which publishes them.
pub fn notify_each(conn: &mut DbConn, items: Vec<(Uuid, Uuid, NewNotification<'_>)>) -> Result<(), ApiError> {
    let mut published = std::collections::HashMap::new();
    for (org, _, _) in &items {
        if !published.contains_key(org) {
            published.insert(*org, super::webhooks::subscribed(conn, *org, "notification.created")?);
        }
    }
    let now = db::now();
    let mut rows = Vec::with_capacity(items.len());
    for (org, person, new) in items {
        if published[&org] {
            notify(conn, org, person, new)?;
            continue;
        }
        rows.push(NotificationRow {
            id: db::new_id(),
            organization_id: org.to_string(),
            person_id: person.to_string(),
            kind: new.kind.to_owned(),
            title: new.title.to_owned(),
            body: new.body.to_owned(),
            link: new.link.map(str::to_owned),
            dedupe_key: new.dedupe_key,
            created_at: now,
            read_at: None,
        });
    }
    for chunk in rows.chunks(500) {
        repo::insert_many(conn, chunk)?;
    }
    Ok(())
}

/// Adds one notification to each of `people` (set-based, for large programs): `dedupe_prefix`
/// plus the person id is each one's dedupe key. Publishes `notification.created` for each only
/// when an endpoint subscribes to it. Returns how many were added.
pub fn notify_all(
    conn: &mut DbConn,
    org: Uuid,
    people: &[String],
    new: &NewNotification,
    dedupe_prefix: &str,
) -> Result<usize, ApiError> {
    let now = db::now();
    let rows: Vec<NotificationRow> = people
        .iter()
        .map(|person| NotificationRow {
            id: db::new_id(),
            organization_id: org.to_string(),
            person_id: person.clone(),
            kind: new.kind.to_owned(),
            title: new.title.to_owned(),
            body: new.body.to_owned(),
            link: new.link.map(str::to_owned),
            dedupe_key: Some(format!("{dedupe_prefix}{person}")),
            created_at: now,
            read_at: None,
        })
        .collect();
    let added = repo::insert_all(conn, org, new, now, &rows)?;
    if super::webhooks::subscribed(conn, org, "notification.created")? {
        for row in rows {
            let person_id = row.person_id.clone();
            super::webhooks::publish(
                conn,
                org,
                "notification.created",
                serde_json::json!({"person_id": person_id, "notification": row.into_api()}),
            )?;
        }
    }
    Ok(added)
}

/// The caller's notifications, newest first, with the unread count.
#[utoipa::path(
    tag = "notifications",
    params(NotificationsQuery),
    responses((status = 200, description = "A page of the caller's feed", body = NotificationPage)),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/notifications")]
pub async fn list_notifications(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<NotificationsQuery>,
) -> Result<web::Json<NotificationPage>, ApiError> {
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let (org, person, unread_only) = (caller.org, caller.person, query.unread.unwrap_or(false));
    let result = state
        .db
        .read(move |conn| {
            let rows = repo::feed_page(conn, org, person, page.after.as_deref(), unread_only, page.fetch())?;
            let unread_count = repo::unread_count(conn, org, person)?;
            let (rows, next_cursor) = page.finish(rows, |r| db::id(&r.id));
            Ok(NotificationPage {
                items: rows.into_iter().map(NotificationRow::into_api).collect(),
                next_cursor,
                unread_count,
            })
        })
        .await?;
    Ok(web::Json(result))
}

/// Marks one of the caller's notifications read.
#[utoipa::path(
    tag = "notifications",
    params(("id" = Uuid, Path, description = "The notification's id")),
    responses(
        (status = 204, description = "Read"),
        (status = 404, description = "Not one of the caller's notifications", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/notifications/{id}/read")]
pub async fn mark_read(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (org, person, id) = (caller.org, caller.person, id.into_inner());
    state
        .db
        .write(move |conn| {
            if !repo::in_feed(conn, org, person, id)? {
                return Err(ApiError::NotFound);
            }
            // The feed check above scopes the id to the caller.
            repo::mark_read(conn, id)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Marks all of the caller's notifications read.
#[utoipa::path(
    tag = "notifications",
    responses((status = 204, description = "All read")),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/notifications/read-all")]
pub async fn mark_all_read(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let (org, person) = (caller.org, caller.person);
    state
        .db
        .write(move |conn| repo::mark_all_read(conn, org, person))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Puts a message from the program team into one person's feed (admins only).
#[utoipa::path(
    tag = "notifications",
    params(("id" = Uuid, Path, description = "The person's id")),
    request_body = SendNotification,
    responses(
        (status = 201, description = "In the person's feed", body = Notification),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such person in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/people/{id}/notifications")]
pub async fn send_notification(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(input): Body<SendNotification>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let mut problems = Problems::default();
    let title = problems.check("title", cohort_domain::bounded_text(&input.title, 1, 200));
    let body = problems.check("body", cohort_domain::bounded_text(&input.body, 0, 4000));
    if let Some(link) = &input.link {
        if link.len() > 2000 || !(link.starts_with('/') || link.starts_with("https://") || link.starts_with("http://"))
        {
            problems.push("link", "must be a path (/…) or an http(s) URL");
        }
    }
    problems.finish()?;
    let (Some(title), Some(body)) = (title, body) else {
        unreachable!("problems.finish() returned early")
    };
    let (org, person, actor) = (caller.org, id.into_inner(), caller.actor());
    let created = state
        .db
        .write(move |conn| {
            people::repo::get(conn, org, person)?;
            let sent = serde_json::json!({"title": title, "body": body, "link": input.link});
            audit::record(conn, &actor, "notification.sent", ("person", person), audit::NONE, sent)?;
            let new = NewNotification {
                kind: "message",
                title: &title,
                body: &body,
                link: input.link.as_deref(),
                dedupe_key: None,
            };
            notify(conn, org, person, new)?.ok_or_else(|| ApiError::Internal("notification not added".into()))
        })
        .await?;
    Ok(HttpResponse::Created().json(created))
}

/// Every notification of the organisation, newest first, with its recipient (admins only).
#[utoipa::path(
    tag = "notifications",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of the organisation's notification log", body = NotificationLogPage),
        (status = 403, description = "Not an admin", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/notification-log")]
pub async fn notification_log(
    state: web::Data<AppState>,
    caller: Caller,
    page: PageRequest,
) -> Result<web::Json<NotificationLogPage>, ApiError> {
    caller.require_admin()?;
    let org = caller.org;
    let (rows, next_cursor) = state
        .db
        .read(move |conn| {
            let rows = repo::log_page(conn, org, page.after.as_deref(), page.fetch())?;
            Ok(page.finish(rows, |(r, _)| db::id(&r.id)))
        })
        .await?;
    let items = rows
        .into_iter()
        .map(|(row, person_name)| LoggedNotification {
            person_id: db::id(&row.person_id),
            person_name,
            notification: row.into_api(),
        })
        .collect();
    Ok(web::Json(NotificationLogPage { items, next_cursor }))
}
