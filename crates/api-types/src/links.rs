//! The dashboard's pages as paths: the routes its router knows, and the links emails carry.
//!
//! Emails hold paths built here; the server makes them absolute under `COHORT_PUBLIC_URL` when it
//! sends them, and answers a page it does not know with 404. A test checks that [`PAGES`] lists
//! exactly the routes of the dashboard's router (`frontend/src/main.rs`).

use uuid::Uuid;

/// Every route of the dashboard's router; `:name` matches one path segment.
pub const PAGES: &[&str] = &[
    "/login",
    "/forgot-password",
    "/reset-password",
    "/welcome",
    "/answer-request",
    "/",
    "/me",
    "/me/programs/:id",
    "/me/bookings/:id",
    "/programs",
    "/programs/new",
    "/programs/:id/pairing",
    "/programs/:id/auto-pair",
    "/programs/:id/steps",
    "/programs/:id",
    "/automations",
    "/automations/new",
    "/automations/:id",
    "/services",
    "/services/:id",
    "/providers",
    "/providers/:id/availability",
    "/providers/:id",
    "/calendar",
    "/calendar/book",
    "/booking-settings",
    "/settings",
    "/imports",
    "/emails",
    "/emails/:key",
    "/webhooks",
    "/webhooks/:id",
    "/notifications",
    "/people",
    "/people/:id",
    "/audit-log",
];

/// Whether `path` (without query or fragment) is one of the dashboard's pages.
pub fn is_page(path: &str) -> bool {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    PAGES.iter().any(|pattern| matches(pattern, path))
}

fn matches(pattern: &str, path: &str) -> bool {
    let (mut pattern, mut path) = (pattern.split('/'), path.split('/'));
    loop {
        match (pattern.next(), path.next()) {
            (None, None) => return true,
            (Some(p), Some(s)) if p.starts_with(':') && !s.is_empty() => {}
            (Some(p), Some(s)) if p == s => {}
            _ => return false,
        }
    }
}

/// "Set your password", from an invitation.
pub fn welcome(token: &str) -> String {
    format!("/welcome?token={token}")
}

/// "Choose a new password", from a password reset.
pub fn reset_password(token: &str) -> String {
    format!("/reset-password?token={token}")
}

/// A mentor's answer to a request, from the request email: the page shows the request and
/// preselects `answer`; nothing changes until the mentor confirms. One token serves both answers.
pub fn answer_request(token: &str, answer: RequestAnswer) -> String {
    format!("/answer-request?token={token}&answer={}", answer.as_str())
}

/// What a request email's link preselects on the answer page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestAnswer {
    Accept,
    Decline,
}

impl RequestAnswer {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Decline => "decline",
        }
    }
}

/// A participant's home: their programs, steps, requests and bookings.
pub fn participant_home() -> String {
    "/me".to_owned()
}

/// A participant's view of one program.
pub fn participant_program(program: Uuid) -> String {
    format!("/me/programs/{program}")
}

/// A participant's view of one booking.
pub fn participant_booking(booking: Uuid) -> String {
    format!("/me/bookings/{booking}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_match_by_segment() {
        let id = Uuid::nil();
        assert!(is_page("/"));
        assert!(is_page("/login"));
        assert!(is_page(&welcome("abc")));
        assert!(is_page(&answer_request("lt_abc", RequestAnswer::Decline)));
        assert_eq!(
            answer_request("lt_abc", RequestAnswer::Accept),
            "/answer-request?token=lt_abc&answer=accept"
        );
        assert!(is_page(&participant_program(id)));
        assert!(is_page(&format!("/programs/{id}/steps")));
        assert!(is_page("/programs/"));
        assert!(!is_page("/programs/x/y/z"));
        assert!(!is_page("/nowhere"));
        assert!(!is_page("/me/programs/"));
        assert!(!is_page("/api/v1/me"));
    }

    /// The server answers 404 for a path not in [`PAGES`]; the router must know the same list.
    #[test]
    fn pages_are_the_routes_of_the_dashboard_router() {
        let router = include_str!("../../../frontend/src/main.rs");
        let routes: Vec<&str> = router
            .lines()
            .filter_map(|l| l.trim().strip_prefix("#[at(\"")?.strip_suffix("\")]"))
            .filter(|r| *r != "/404")
            .collect();
        let (mut routes, mut pages) = (routes, PAGES.to_vec());
        routes.sort_unstable();
        pages.sort_unstable();
        assert_eq!(routes, pages);
    }
}
