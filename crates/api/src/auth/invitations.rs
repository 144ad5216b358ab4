//! Inviting people to set a password: the email with its one-time link, queued in the caller's
//! transaction. Used by the invitation endpoints and by the participants CSV import.

use cohort_api_types::links;
use cohort_domain::auth::LinkPurpose;
use cohort_domain::people::first_name;
use serde_json::{json, Value};

use super::{repo, tokens};
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::messaging::email::queue_email;
use crate::people::repo::PersonRow;

/// An account email's placeholders: `program` names what the person is invited to (their
/// `organization` when no program is given).
pub fn account_context(person: &PersonRow, organization: &str, program: Option<&str>, link: String) -> Value {
    json!({
        "organization": {"name": organization},
        "recipient": {"first_name": first_name(&person.name), "name": person.name, "email": person.email},
        "program": {"name": program.unwrap_or(organization)},
        "link": link,
    })
}

/// Sends `person` of `organization` (its name) a fresh invitation; an earlier unused one stops
/// working.
pub fn invite(
    conn: &mut DbConn,
    person: &PersonRow,
    organization: &str,
    program: Option<&str>,
) -> Result<(), ApiError> {
    let token = repo::issue_link(conn, &person.organization_id, &person.id, LinkPurpose::Invitation, None)?;
    let context = account_context(person, organization, program, links::welcome(&token));
    let org = db::id(&person.organization_id);
    // The token makes each invitation its own message: inviting again sends again.
    let key = format!("account_invitation:{}:{}", person.id, tokens::token_hash(&token));
    queue_email(conn, org, "account_invitation", &person.email, context, &key)?;
    Ok(())
}
