//! People of the organisation: admins, mentors, mentees, providers, students.

pub mod personal_data;
pub mod privacy;
pub mod repo;

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use cohort_api_types::{
    AttributeValue, Attributes, CreatePerson, PeopleQuery, Person, PersonPage, Problem, UpdateMe, UpdatePerson,
};
use cohort_domain::{auth::check_password, people as rules, tenancy::parse_time_zone};
use uuid::Uuid;

use crate::audit;
use crate::auth::tokens::{hash_password, hashing};
use crate::auth::Caller;
use crate::db;
use crate::error::{ApiError, Problems};
use crate::extract::Body;
use crate::paging::PageRequest;
use crate::AppState;

pub fn check_attributes(problems: &mut Problems, field: &str, attributes: &Attributes) {
    if attributes.len() > rules::MAX_ATTRIBUTES {
        problems.push(field, format!("at most {} attributes", rules::MAX_ATTRIBUTES));
    }
    for (key, value) in attributes {
        let path = format!("{field}.{key}");
        problems.check(&path, rules::parse_attribute_key(key));
        match value {
            AttributeValue::Text(text) => {
                problems.check(&path, rules::check_attribute_text(text));
            }
            AttributeValue::List(items) => {
                if items.len() > 50 {
                    problems.push(&path, "lists have at most 50 entries");
                }
                for item in items {
                    problems.check(&path, rules::check_attribute_text(item));
                }
            }
            AttributeValue::Number(_) | AttributeValue::Flag(_) => {}
        }
    }
}

/// The profile fields that both an admin's change (`PATCH /people/{id}`) and the person's own
/// (`PATCH /me`) set, under the same rules. `None` leaves a field as it is.
struct ProfileChanges {
    name: Option<String>,
    bio: Option<String>,
    /// `Some(None)` removes the photo.
    photo_url: Option<Option<String>>,
    /// `Some(None)`: the organisation's zone applies.
    time_zone: Option<Option<String>>,
}

impl ProfileChanges {
    /// Checks each field given, recording a problem under its own name. `Some(None)` or a blank
    /// photo or zone clears it.
    fn check(
        problems: &mut Problems,
        name: Option<&str>,
        bio: Option<&str>,
        photo_url: Option<Option<&str>>,
        time_zone: Option<Option<&str>>,
    ) -> Self {
        Self {
            name: name.and_then(|n| problems.check("name", rules::parse_person_name(n))),
            bio: bio.and_then(|b| problems.check("bio", rules::parse_bio(b))),
            photo_url: photo_url.map(|url| {
                url.and_then(|u| problems.check("photo_url", rules::parse_photo_url(u)))
                    .flatten()
            }),
            time_zone: time_zone.map(|tz| match tz {
                Some(tz) if !tz.trim().is_empty() => problems
                    .check("time_zone", parse_time_zone(tz))
                    .map(|tz| tz.name().to_owned()),
                _ => None,
            }),
        }
    }

    fn apply(self, row: &mut repo::PersonRow) {
        if let Some(name) = self.name {
            row.name = name;
        }
        if let Some(bio) = self.bio {
            row.bio = bio;
        }
        if let Some(photo_url) = self.photo_url {
            row.photo_url = photo_url;
        }
        if let Some(time_zone) = self.time_zone {
            row.time_zone = time_zone;
        }
    }
}

fn attributes_json(attributes: &Attributes) -> Result<String, ApiError> {
    serde_json::to_string(attributes).map_err(|e| ApiError::Internal(e.to_string()))
}

/// People of the organisation, filtered, one page at a time (admins only).
#[utoipa::path(
    tag = "people",
    params(PeopleQuery),
    responses(
        (status = 200, description = "A page of people", body = PersonPage),
        (status = 403, description = "Not an admin", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/people")]
pub async fn list_people(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PeopleQuery>,
) -> Result<web::Json<PersonPage>, ApiError> {
    caller.require_admin()?;
    let query = query.into_inner();
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let filter = repo::PeopleFilter {
        q: query.q,
        is_admin: query.is_admin,
    };
    let org = caller.org;
    let rows = state
        .db
        .read(move |conn| repo::list(conn, org, &filter, &page).map(|rows| page.finish(rows, |r| db::id(&r.id))))
        .await?;
    let (rows, next_cursor) = rows;
    Ok(web::Json(PersonPage {
        items: rows.into_iter().map(repo::PersonRow::into_api).collect(),
        next_cursor,
    }))
}

/// Adds a person. The email is trimmed and lower-cased; it must be new to the organisation.
#[utoipa::path(
    tag = "people",
    request_body = CreatePerson,
    responses(
        (status = 201, description = "The person was created", body = Person),
        (status = 403, description = "Not an admin (any more), or an API key setting a password or the admin flag", body = Problem),
        (status = 409, description = "The email belongs to someone else in the organisation", body = Problem),
        (status = 422, description = "Invalid field values", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/people")]
pub async fn create_person(
    state: web::Data<AppState>,
    caller: Caller,
    Body(input): Body<CreatePerson>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let mut problems = Problems::default();
    let email = problems.check("email", rules::Email::parse(&input.email));
    let name = problems.check("name", rules::parse_person_name(&input.name));
    let bio = problems.check("bio", rules::parse_bio(&input.bio));
    let time_zone = input
        .time_zone
        .as_deref()
        .map(|tz| problems.check("time_zone", parse_time_zone(tz)));
    check_attributes(&mut problems, "attributes", &input.attributes);
    if let Some(password) = &input.password {
        problems.check("password", check_password(password));
    }
    problems.finish()?;
    let (Some(email), Some(name), Some(bio)) = (email, name, bio) else {
        unreachable!("problems.finish() returned early for missing values")
    };
    let password_hash = match input.password {
        Some(p) => Some(hashing(move || hash_password(&p)).await?),
        None => None,
    };
    let now = db::now();
    let row = repo::PersonRow {
        id: db::new_id(),
        organization_id: caller.org.to_string(),
        email: email.into_string(),
        name,
        bio,
        time_zone: time_zone.flatten().map(|tz| tz.name().to_owned()),
        attributes: attributes_json(&input.attributes)?,
        is_admin: input.is_admin,
        password_hash,
        created_at: now,
        updated_at: now,
        photo_url: None,
    };
    let grants = row.password_hash.is_some() || row.is_admin;
    if grants {
        caller.require_admin_session()?;
    }
    let (org, actor) = (caller.org, caller.actor());
    let person = state
        .db
        .write(move |conn| {
            if grants {
                crate::auth::repo::confirm_admin(conn, &caller)?;
            }
            if repo::email_taken(conn, org, &row.email, None)? {
                return Err(ApiError::Conflict(format!(
                    "{} already belongs to a person of this organisation",
                    row.email
                )));
            }
            repo::insert(conn, std::slice::from_ref(&row))?;
            let person = row.into_api();
            audit::record(
                conn,
                &actor,
                "person.created",
                ("person", person.id),
                audit::NONE,
                &person,
            )?;
            Ok(person)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/people/{}", person.id)))
        .json(person))
}

/// One person.
#[utoipa::path(
    tag = "people",
    params(("id" = Uuid, Path, description = "The person's id")),
    responses(
        (status = 200, description = "The person", body = Person),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such person in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/people/{id}")]
pub async fn get_person(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<Person>, ApiError> {
    caller.require_admin()?;
    let (org, id) = (caller.org, id.into_inner());
    Ok(web::Json(
        state
            .db
            .read(move |conn| Ok(repo::get(conn, org, id)?.into_api()))
            .await?,
    ))
}

/// Changes a person; absent fields stay as they are. A new password, or the admin flag taken
/// away, ends every login of theirs (their refresh tokens are revoked).
#[utoipa::path(
    tag = "people",
    params(("id" = Uuid, Path, description = "The person's id")),
    request_body = UpdatePerson,
    responses(
        (status = 200, description = "The person after the change", body = Person),
        (status = 403, description = "Not an admin (any more), or an API key setting a password or the admin flag", body = Problem),
        (status = 404, description = "No such person in this organisation", body = Problem),
        (status = 409, description = "The email belongs to someone else, or this would leave no admin", body = Problem),
        (status = 422, description = "Invalid field values", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[patch("/people/{id}")]
pub async fn update_person(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(changes): Body<UpdatePerson>,
) -> Result<web::Json<Person>, ApiError> {
    caller.require_admin()?;
    let mut problems = Problems::default();
    let email = changes
        .email
        .as_deref()
        .and_then(|e| problems.check("email", rules::Email::parse(e)));
    // An empty photo or zone clears it; the organisation's zone applies then.
    let profile = ProfileChanges::check(
        &mut problems,
        changes.name.as_deref(),
        changes.bio.as_deref(),
        changes.photo_url.as_deref().map(Some),
        changes.time_zone.as_deref().map(Some),
    );
    if let Some(attributes) = &changes.attributes {
        check_attributes(&mut problems, "attributes", attributes);
    }
    if let Some(password) = &changes.password {
        problems.check("password", check_password(password));
    }
    problems.finish()?;
    let attributes = changes.attributes.as_ref().map(attributes_json).transpose()?;
    let password_hash = match changes.password {
        Some(p) => Some(hashing(move || hash_password(&p)).await?),
        None => None,
    };
    let grants = password_hash.is_some() || changes.is_admin.is_some();
    if grants {
        caller.require_admin_session()?;
    }
    let (org, id, actor) = (caller.org, id.into_inner(), caller.actor());
    let person = state
        .db
        .write(move |conn| {
            if grants {
                crate::auth::repo::confirm_admin(conn, &caller)?;
            }
            let mut row = repo::get(conn, org, id)?;
            let before = row.clone().into_api();
            // A new password or a lost admin flag ends every login the old ones opened.
            let ends_logins = password_hash.is_some() || (row.is_admin && changes.is_admin == Some(false));
            if let Some(email) = email {
                if repo::email_taken(conn, org, email.as_str(), Some(&row.id))? {
                    return Err(ApiError::Conflict(format!(
                        "{} already belongs to a person of this organisation",
                        email.as_str()
                    )));
                }
                row.email = email.into_string();
            }
            if changes.is_admin == Some(false) && row.is_admin && repo::admin_count(conn, org)? <= 1 {
                return Err(ApiError::Conflict("This is the organisation's last admin.".into()));
            }
            profile.apply(&mut row);
            row.attributes = attributes.unwrap_or(row.attributes);
            row.is_admin = changes.is_admin.unwrap_or(row.is_admin);
            row.password_hash = password_hash.or(row.password_hash);
            row.updated_at = db::now();
            repo::save(conn, &row)?;
            if ends_logins {
                crate::auth::repo::revoke_person(conn, id)?;
            }
            crate::booking::repo::slots_changed(conn, org, crate::booking::repo::SlotsChange::Other)?;
            let after = row.into_api();
            audit::record(conn, &actor, "person.updated", ("person", id), &before, &after)?;
            Ok(after)
        })
        .await?;
    Ok(web::Json(person))
}

/// Changes the caller's own profile.
///
/// Name, bio, photo, time zone, and the attributes that a program they take part in lets
/// participants change (`participant_editable_attributes`), under the rules of an admin's change.
/// Absent fields stay as they are; an invalid request changes nothing and names every bad field.
#[utoipa::path(
    tag = "auth",
    request_body = UpdateMe,
    responses(
        (status = 200, description = "The caller after the change", body = Person),
        (status = 403, description = "Called with an API key: it acts for an admin, not as a person", body = Problem),
        (status = 422, description = "Invalid field values, or attributes that no program of the caller lets them change (`attributes.<key>`)", body = Problem),
    ),
    security(("bearer" = []))
)]
#[patch("/me")]
pub async fn update_me(
    state: web::Data<AppState>,
    caller: Caller,
    Body(changes): Body<UpdateMe>,
) -> Result<web::Json<Person>, ApiError> {
    caller.require_person("API keys act for an admin, not as a person; log in to change your profile.")?;
    let mut problems = Problems::default();
    let profile = ProfileChanges::check(
        &mut problems,
        changes.name.as_deref(),
        changes.bio.as_deref(),
        changes.photo_url.as_ref().map(Option::as_deref),
        changes.time_zone.as_ref().map(Option::as_deref),
    );
    let attribute_changes = changes.attributes.unwrap_or_default();
    let new_values: Attributes = attribute_changes
        .iter()
        .filter_map(|(key, value)| Some((key.clone(), value.clone()?)))
        .collect();
    check_attributes(&mut problems, "attributes", &new_values);
    let (org, me, actor) = (caller.org, caller.person, caller.actor());
    let person = state
        .db
        .write(move |conn| {
            let mut row = repo::get(conn, org, me).map_err(|e| match e {
                ApiError::NotFound => ApiError::Unauthorized("The account no longer exists."),
                e => e,
            })?;
            // Read in the same transaction as the write, so that a program's list narrowed
            // meanwhile is either wholly before or wholly after this change.
            let editable = crate::programs::repo::editable_attributes_of_person(conn, org, me)?;
            for key in attribute_changes.keys().filter(|key| !editable.contains(*key)) {
                problems.push(
                    format!("attributes.{key}"),
                    "no program of yours lets participants change this attribute",
                );
            }
            // Written by this module from validated `Attributes`.
            let mut attributes: Attributes = serde_json::from_str(&row.attributes).unwrap_or_default();
            for (key, value) in attribute_changes {
                match value {
                    Some(value) => attributes.insert(key, value),
                    None => attributes.remove(&key),
                };
            }
            if attributes.len() > rules::MAX_ATTRIBUTES {
                problems.push("attributes", format!("at most {} attributes", rules::MAX_ATTRIBUTES));
            }
            problems.finish()?;
            let before = row.clone().into_api();
            let zone_changes = profile.time_zone.is_some();
            profile.apply(&mut row);
            row.attributes = attributes_json(&attributes)?;
            row.updated_at = db::now();
            repo::save(conn, &row)?;
            if zone_changes {
                // A provider's availability is kept in their own zone.
                crate::booking::repo::slots_changed(conn, org, crate::booking::repo::SlotsChange::Other)?;
            }
            let after = row.into_api();
            audit::record(conn, &actor, "person.updated", ("person", me), &before, &after)?;
            Ok(after)
        })
        .await?;
    Ok(web::Json(person))
}

/// Deletes a person with their memberships, sessions and API keys.
#[utoipa::path(
    tag = "people",
    params(("id" = Uuid, Path, description = "The person's id")),
    responses(
        (status = 204, description = "The person was deleted"),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such person in this organisation", body = Problem),
        (status = 409, description = "This is the organisation's last admin", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[delete("/people/{id}")]
pub async fn delete_person(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (org, id, actor) = (caller.org, id.into_inner(), caller.actor());
    state
        .db
        .write(move |conn| {
            let row = repo::get(conn, org, id)?;
            if row.is_admin && repo::admin_count(conn, org)? <= 1 {
                return Err(ApiError::Conflict("This is the organisation's last admin.".into()));
            }
            repo::delete(conn, org, id)?;
            audit::record(
                conn,
                &actor,
                "person.deleted",
                ("person", id),
                row.into_api(),
                audit::NONE,
            )
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
