//! What every page behind the login shares: who the person is and their organisation (whose
//! labels the UI uses), loaded once by each app's shell; and how pages load what they show.

use cohort_api_types::{Labels, Me, Organization, ParticipantRole};
use yew::prelude::*;

#[derive(Clone, PartialEq)]
pub struct Session {
    pub me: Me,
    /// Pages that change the organisation hand the new version back here.
    pub set_organization: Callback<Organization>,
}

impl Session {
    pub fn labels(&self) -> &Labels {
        &self.me.organization.labels
    }

    /// The zone the person reads times in: their own, else the organisation's.
    pub fn zone(&self) -> String {
        self.me
            .person
            .time_zone
            .clone()
            .unwrap_or_else(|| self.me.organization.time_zone.clone())
    }
}

/// The logged-in person, read when the shell mounts; a session that has ended goes back to the
/// login page (the participant app's, which both apps share).
#[hook]
pub fn use_me() -> UseStateHandle<Load<Me>> {
    let me = use_state(|| Load::<Me>::Loading);
    {
        let me = me.clone();
        use_effect_with((), move |_| {
            yew::platform::spawn_local(async move {
                match crate::api::me().await {
                    Err(crate::api::ApiError::SessionEnded) => crate::open("/login"),
                    found => me.set(found.into()),
                }
            });
        });
    }
    me
}

/// "Log out": ends the session on the server and goes to the login page.
pub fn log_out() -> Callback<MouseEvent> {
    Callback::from(|_| {
        yew::platform::spawn_local(async {
            crate::api::logout().await;
            crate::open("/login");
        });
    })
}

/// Mentors are the organisation's providers: they are called by its word for them.
pub fn role_label(role: ParticipantRole, labels: &Labels) -> String {
    match role {
        ParticipantRole::Mentor => labels.provider_singular.clone(),
        ParticipantRole::Mentee => "Mentee".into(),
    }
}

/// Drives every fetch: what the page shows while, after, or instead of loading.
#[derive(Clone, PartialEq)]
pub enum Load<T> {
    Loading,
    Loaded(T),
    Failed(crate::api::ApiError),
}

impl<T> Load<T> {
    /// What the page shows: "Loading…", the error, or what `loaded` makes of the value.
    pub fn view(&self, loaded: impl FnOnce(&T) -> Html) -> Html {
        match self {
            Load::Loading => html! { <p class="loading" aria-busy="true">{ "Loading…" }</p> },
            Load::Failed(e) => html! { <p class="error" role="alert">{ e.message() }</p> },
            Load::Loaded(value) => loaded(value),
        }
    }
}

impl<T> From<Result<T, crate::api::ApiError>> for Load<T> {
    fn from(result: Result<T, crate::api::ApiError>) -> Self {
        result.map_or_else(Load::Failed, Load::Loaded)
    }
}

/// Reads `fetch` when the page mounts and again whenever `deps` change (a reload counter, an id);
/// the page may also set the state itself after a change.
#[hook]
pub fn use_load<T, D, F, Fut>(deps: D, fetch: F) -> UseStateHandle<Load<T>>
where
    T: 'static,
    D: PartialEq + 'static,
    F: FnOnce(&D) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<T, crate::api::ApiError>> + 'static,
{
    let state = use_state(|| Load::Loading);
    {
        let state = state.clone();
        use_effect_with(deps, move |deps| {
            let fetching = fetch(deps);
            yew::platform::spawn_local(async move { state.set(fetching.await.into()) });
        });
    }
    state
}

/// IANA time zones the browser knows (`Intl.supportedValuesOf`), for time zone pickers.
pub fn time_zones(current: &str) -> Vec<String> {
    let list = (|| {
        let intl = js_sys::Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
        let f: js_sys::Function = js_sys::Reflect::get(&intl, &"supportedValuesOf".into()).ok()?.into();
        let values = f.call1(&intl, &"timeZone".into()).ok()?;
        Some(
            js_sys::Array::from(&values)
                .iter()
                .filter_map(|v| v.as_string())
                .collect::<Vec<_>>(),
        )
    })()
    .unwrap_or_default();
    let mut zones = list;
    for zone in ["UTC", current] {
        if !zone.is_empty() && !zones.iter().any(|z| z == zone) {
            zones.push(zone.to_owned());
        }
    }
    zones.sort();
    zones
}

/// A moment shown in `zone` (an IANA name), named after it, using the browser's Intl
/// support (no time zone database in the bundle).
pub fn local_time(at: &chrono::DateTime<chrono::Utc>, zone: &str) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at.timestamp_millis() as f64));
    let options = js_sys::Object::new();
    let set = |k: &str, v: &str| {
        let _ = js_sys::Reflect::set(&options, &k.into(), &v.into());
    };
    set("timeZone", zone);
    set("dateStyle", "medium");
    set("timeStyle", "short");
    let formatted = date.to_locale_string("en-GB", &options);
    let text: String = formatted.into();
    format!("{text} ({zone})")
}

/// The wall-clock time at `at` in `zone` (an IANA name), through the browser's Intl support.
pub fn wall_clock(at: &chrono::DateTime<chrono::Utc>, zone: &str) -> chrono::NaiveDateTime {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at.timestamp_millis() as f64));
    let options = js_sys::Object::new();
    let set = |k: &str, v: &wasm_bindgen::JsValue| {
        let _ = js_sys::Reflect::set(&options, &k.into(), v);
    };
    set("timeZone", &zone.into());
    set("hourCycle", &"h23".into());
    // Swedish dates read like ISO 8601: 2026-12-07 09:00:00.
    let text: String = date.to_locale_string("sv-SE", &options).into();
    chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S").unwrap_or_else(|_| at.naive_utc())
}

/// The instant a wall-clock time in `zone` names (for a time the clocks skip, the instant an
/// hour later; for a repeated one, the first).
pub fn from_wall_clock(local: chrono::NaiveDateTime, zone: &str) -> chrono::DateTime<chrono::Utc> {
    let guess = local.and_utc();
    let offset = |at: chrono::DateTime<chrono::Utc>| wall_clock(&at, zone) - at.naive_utc();
    let first = guess - offset(guess);
    let second = guess - offset(first);
    if wall_clock(&second, zone) == local {
        second.min(first)
    } else {
        first
    }
}

/// Today's date in `zone`.
pub fn today_in(zone: &str) -> chrono::NaiveDate {
    wall_clock(&now(), zone).date()
}

/// The browser's clock (chrono's `Utc::now` has no clock on wasm32 without its `wasmbind` feature).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
}

/// Sets the CSS custom properties that `root` and the elements under it carry in `data-vars`
/// (`"--top: 192; --height: 24"`) through the CSSOM: the Content-Security-Policy
/// (`style-src 'self'`) makes browsers ignore `style` attributes.
pub fn apply_css_vars(root: &web_sys::HtmlElement) {
    use wasm_bindgen::JsCast;
    let apply = |el: &web_sys::HtmlElement| {
        for pair in el.get_attribute("data-vars").unwrap_or_default().split(';') {
            if let Some((name, value)) = pair.split_once(':') {
                let _ = el.style().set_property(name.trim(), value.trim());
            }
        }
    };
    apply(root);
    let Ok(nodes) = root.query_selector_all("[data-vars]") else {
        return;
    };
    for i in 0..nodes.length() {
        if let Some(el) = nodes.item(i).and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok()) {
            apply(&el);
        }
    }
}
