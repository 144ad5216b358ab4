//! The request jobs: expiry after the program's business days, and the mentor's reminder before it.

use super::*;

pub(super) fn request_of(job: &Job) -> Result<String, String> {
    let payload: Value = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
    payload["request_id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{} job {} without request_id", job.kind, job.id))
}

/// `request.expire`: an unanswered request expires; the mentee is emailed mentors who have room.
pub async fn run_expire(db: Db, job: Job) -> Result<(), String> {
    let id = request_of(&job)?;
    db.write(move |conn| {
        let Some(request) = repo::find_request(conn, &id)? else {
            return Ok(());
        };
        if request.status != "open" || !repo::decide(conn, &request.id, "expired", None)? {
            return Ok(());
        }
        let org = db::id(&request.organization_id);
        let program = programs::get(conn, org, db::id(&request.program_id))?;
        let suggestions: Vec<Value> = mentors_with_room(conn, &program, Some(&request.mentee_id), false)?
            .into_iter()
            .filter(|m| m.person_id.to_string() != request.mentor_id)
            .take(3)
            .map(|m| json!({"name": m.name}))
            .collect();
        let extra = json!({"suggestions": suggestions});
        answered(conn, &program, &request, "request_expired", extra, REQUEST_EXPIRED)
    })
    .await
    .map_err(|e| e.to_string())
}

/// `request.remind`: the mentor of a still-open request is reminded once.
pub async fn run_remind(db: Db, job: Job) -> Result<(), String> {
    let id = request_of(&job)?;
    db.write(move |conn| {
        let Some(request) = repo::find_request(conn, &id)? else {
            return Ok(());
        };
        if request.status != "open" {
            return Ok(());
        }
        let org = db::id(&request.organization_id);
        let program = programs::get(conn, org, db::id(&request.program_id))?;
        // The reminder carries links of its own; the first email's keep working.
        request_email(conn, &program, &request, "reminder")
    })
    .await
    .map_err(|e| e.to_string())
}
