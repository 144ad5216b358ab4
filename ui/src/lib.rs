//! What Cohort's two web apps share: the admin dashboard (`frontend`) and the participant app
//! (`participant`) are separate downloads, so each person loads only the pages they use. Both
//! speak the API through `cohort-api-types` and keep the session in the tab's storage, so moving
//! from one app to the other is a page load that stays logged in.

pub mod api;
pub mod components;
pub mod paging;
pub mod state;

/// Opens a page of the other app (a full page load; the session stays in the tab).
pub fn open(path: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().assign(path);
    }
}
