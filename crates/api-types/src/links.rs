//! The web apps' pages as paths: the routes their routers know, and the links emails carry.
//!
//! Emails hold paths built here; the server makes them absolute under `COHORT_PUBLIC_URL` when it
//! sends them, serves each page with the app that shows it, and answers a page neither app knows
//! with 404. A test checks that [`DASHBOARD_PAGES`] and [`PARTICIPANT_PAGES`] list exactly the
//! routes of the two routers (`frontend/src/main.rs`, `participant/src/main.rs`).

use uuid::Uuid;

/// Cohort's two web apps, each a separate download: a person loads only the one they use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebApp {
    /// The admin dashboard (`frontend`).
    Dashboard,
    /// The participant app (`participant`), which also holds the pages before logging in.
    Participant,
}

impl WebApp {
    pub const ALL: [WebApp; 2] = [WebApp::Dashboard, WebApp::Participant];

    /// The app's HTML page in the directory the server serves the apps from.
    pub fn page_file(self) -> &'static str {
        match self {
            Self::Dashboard => "index.html",
            Self::Participant => "participant.html",
        }
    }

    /// Every route of the app's router; `:name` matches one path segment.
    pub fn pages(self) -> &'static [&'static str] {
        match self {
            Self::Dashboard => DASHBOARD_PAGES,
            Self::Participant => PARTICIPANT_PAGES,
        }
    }
}

/// Every route of the participant app's router.
pub const PARTICIPANT_PAGES: &[&str] = &[
    "/login",
    "/forgot-password",
    "/reset-password",
    "/welcome",
    "/answer-request",
    "/me",
    "/me/programs/:id",
    "/me/programs/:id/steps",
    "/me/steps",
    "/me/notifications",
    "/me/profile",
    "/me/book",
    "/me/bookings",
    "/me/bookings/:id",
    "/me/programs/:id/mentors",
    "/me/requests",
    "/me/chat",
    "/me/chat/:id",
    "/me/schedule",
];

/// Every route of the admin dashboard's router.
pub const DASHBOARD_PAGES: &[&str] = &[
    "/",
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

/// The app that shows `path` (query and fragment ignored), and whether it is one of its pages.
/// A path no app knows goes to the participant app under `/me`, to the dashboard elsewhere, to
/// say "Page not found".
pub fn app_of(path: &str) -> (WebApp, bool) {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let known = |app: WebApp| app.pages().iter().any(|pattern| matches(pattern, path));
    match WebApp::ALL.into_iter().find(|app| known(*app)) {
        Some(app) => (app, true),
        None if path == "/me" || path.starts_with("/me/") => (WebApp::Participant, false),
        None => (WebApp::Dashboard, false),
    }
}

/// Whether `path` (without query or fragment) is a page of one of the apps.
pub fn is_page(path: &str) -> bool {
    app_of(path).1
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

/// One of a participant's conversations, where its new messages' notifications lead.
pub fn participant_conversation(conversation: impl std::fmt::Display) -> String {
    format!("/me/chat/{conversation}")
}

/// The participant's booking flow.
pub fn book() -> String {
    "/me/book".to_owned()
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
        assert_eq!(app_of(&participant_conversation(id)), (WebApp::Participant, true));
        assert!(is_page(&format!("/programs/{id}/steps")));
        assert!(is_page("/programs/"));
        assert!(!is_page("/programs/x/y/z"));
        assert!(!is_page("/nowhere"));
        assert!(!is_page("/me/programs/"));
        assert!(!is_page("/api/v1/me"));
        assert_eq!(app_of("/me/bookings/x?y=1"), (WebApp::Participant, true));
        assert_eq!(app_of(&book()), (WebApp::Participant, true));
        assert_eq!(app_of("/welcome?token=t"), (WebApp::Participant, true));
        assert_eq!(app_of("/programs/x"), (WebApp::Dashboard, true));
        assert_eq!(app_of("/me/nowhere"), (WebApp::Participant, false));
        assert_eq!(app_of("/nowhere"), (WebApp::Dashboard, false));
    }

    /// The server answers 404 for a path no app lists; each router must know its app's list.
    #[test]
    fn pages_are_the_routes_of_each_router() {
        for (app, router) in [
            (WebApp::Dashboard, include_str!("../../../frontend/src/main.rs")),
            (WebApp::Participant, include_str!("../../../participant/src/main.rs")),
        ] {
            let mut routes: Vec<&str> = router
                .lines()
                .filter_map(|l| l.trim().strip_prefix("#[at(\"")?.strip_suffix("\")]"))
                .filter(|r| *r != "/404")
                .collect();
            let mut pages = app.pages().to_vec();
            routes.sort_unstable();
            pages.sort_unstable();
            assert_eq!(routes, pages, "{app:?}");
        }
    }
}
