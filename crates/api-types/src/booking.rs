//! Provider-first booking: services, providers with their availability, certifications,
//! enrollments, slots, bookings and the booking-flow settings.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Labels;

/// How an appointment takes place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AppointmentFormat {
    InPerson,
    Virtual,
}

/// A place (or a video link's name) where appointments of one format happen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "Library room 2", "format": "in_person"})))]
#[serde(deny_unknown_fields)]
pub struct Location {
    pub name: String,
    pub format: AppointmentFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NoticeUnit {
    /// Hours before the start.
    Hours,
    /// Calendar days in the provider's zone: 1 means "from tomorrow".
    Days,
}

/// How long before its start an appointment may be booked at the latest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MinimumNotice {
    pub amount: u32,
    pub unit: NoticeUnit,
}

/// A service (the seed's "course"): what students book, e.g. "Peer Mentoring with Talia K", or
/// "All available Peer Mentoring" that every provider is certified in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30", "name": "All available Peer Mentoring", "course_number": "",
    "description": "Meet any peer mentor who is free.", "duration_minutes": 30, "buffer_before_minutes": 0,
    "buffer_after_minutes": 10, "minimum_notice": {"amount": 2, "unit": "hours"}, "horizon_days": 28,
    "interval_minutes": 30, "late_cancel_hours": 24, "waitlist": true, "formats": ["in_person", "virtual"],
    "locations": [{"name": "Library room 2", "format": "in_person"}, {"name": "Zoom", "format": "virtual"}],
    "provider_count": 12, "enrollment_count": 0, "created_at": "2026-11-23T09:00:00Z", "updated_at": "2026-11-23T09:00:00Z"
})))]
pub struct Service {
    pub id: Uuid,
    pub name: String,
    /// Blank for a general topic.
    pub course_number: String,
    pub description: String,
    pub duration_minutes: u32,
    pub buffer_before_minutes: u32,
    pub buffer_after_minutes: u32,
    pub minimum_notice: MinimumNotice,
    /// How many days ahead students may book.
    pub horizon_days: u32,
    /// Slots start every this many minutes within availability.
    pub interval_minutes: u32,
    /// Cancelling this many hours or fewer before the start needs an admin.
    pub late_cancel_hours: u32,
    /// When a booking is cancelled, the first student waiting for that provider and day is told.
    pub waitlist: bool,
    pub formats: Vec<AppointmentFormat>,
    pub locations: Vec<Location>,
    /// Providers certified in it.
    pub provider_count: i64,
    /// Students enrolled; a service with enrollments is bookable only by them.
    pub enrollment_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new service (`name` required; the rest default as in the example), or the changes to one
/// (absent fields stay as they are).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "name": "Peer Mentoring with Talia K", "course_number": "", "duration_minutes": 45,
    "buffer_after_minutes": 15, "minimum_notice": {"amount": 1, "unit": "days"}, "formats": ["virtual"],
    "locations": [{"name": "Zoom", "format": "virtual"}]
})))]
#[serde(deny_unknown_fields)]
pub struct ServiceInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// 5 to 480 (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_minutes: Option<u32>,
    /// 0 to 240 (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buffer_before_minutes: Option<u32>,
    /// 0 to 240 (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buffer_after_minutes: Option<u32>,
    /// Default 2 hours; at most 90 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_notice: Option<MinimumNotice>,
    /// 1 to 365 (default 28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horizon_days: Option<u32>,
    /// 5 to 240 (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_minutes: Option<u32>,
    /// 0 to 720 (default 24).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_cancel_hours: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waitlist: Option<bool>,
    /// At least one (default both).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formats: Option<Vec<AppointmentFormat>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locations: Option<Vec<Location>>,
}

/// Services, with the organisation's words for providers and classes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "items": [{
        "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30", "name": "All available Peer Mentoring", "course_number": "",
        "description": "Meet any peer mentor who is free.", "duration_minutes": 30, "buffer_before_minutes": 0,
        "buffer_after_minutes": 10, "minimum_notice": {"amount": 2, "unit": "hours"}, "horizon_days": 28,
        "interval_minutes": 30, "late_cancel_hours": 24, "waitlist": true, "formats": ["in_person", "virtual"],
        "locations": [{"name": "Zoom", "format": "virtual"}], "provider_count": 12, "enrollment_count": 0,
        "created_at": "2026-11-23T09:00:00Z", "updated_at": "2026-11-23T09:00:00Z"}],
    "next_cursor": "AZO4pF8efCqdPmp7jJ0OHw",
    "labels": {"provider_singular": "Peer Mentor", "provider_plural": "Peer Mentors", "class_singular": "Service", "class_plural": "Services"}
})))]
pub struct ServicePage {
    pub items: Vec<Service>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    pub labels: Labels,
}

/// A service as other objects name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceRef {
    pub id: Uuid,
    pub name: String,
    pub course_number: String,
}

/// A person who gives appointments, and the services they are certified in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "name": "Talia K", "email": "talia.k@example.org",
    "bio": "Third-year chemistry student.", "photo_url": "https://example.org/talia.jpg", "time_zone": "America/New_York",
    "services": [{"id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30", "name": "All available Peer Mentoring", "course_number": ""}],
    "locations": [], "created_at": "2026-11-23T09:00:00Z"
})))]
pub struct Provider {
    /// The person's id.
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub bio: String,
    #[serde(default)]
    pub photo_url: Option<String>,
    /// The zone the weekly availability is written in.
    pub time_zone: String,
    pub services: Vec<ServiceRef>,
    /// The provider's own locations, offered besides the service's.
    pub locations: Vec<Location>,
    pub created_at: DateTime<Utc>,
}

/// Makes a person a provider (`person_id` required), or changes one. `service_ids` replaces the
/// certifications; `bio` changes the person's bio.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "person_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "bio": "Third-year chemistry student.",
    "photo_url": "https://example.org/talia.jpg", "service_ids": ["0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30"]
})))]
#[serde(deny_unknown_fields)]
pub struct ProviderInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bio: Option<String>,
    /// An `https` address; empty removes the photo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_ids: Option<Vec<Uuid>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locations: Option<Vec<Location>>,
}

/// Providers, with the organisation's words for providers and classes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "items": [{
        "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "name": "Talia K", "email": "talia.k@example.org",
        "bio": "Third-year chemistry student.", "photo_url": null, "time_zone": "America/New_York",
        "services": [{"id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30", "name": "All available Peer Mentoring", "course_number": ""}],
        "locations": [], "created_at": "2026-11-23T09:00:00Z"}],
    "labels": {"provider_singular": "Peer Mentor", "provider_plural": "Peer Mentors", "class_singular": "Service", "class_plural": "Services"}
})))]
pub struct ProviderPage {
    pub items: Vec<Provider>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    pub labels: Labels,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

/// Local times `HH:MM`; `end` after `start`, or `24:00` for midnight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TimeWindow {
    #[cfg_attr(feature = "openapi", schema(example = "09:00"))]
    pub start: String,
    #[cfg_attr(feature = "openapi", schema(example = "17:00"))]
    pub end: String,
}

/// Every week on `weekday`, from `start` to `end` in the provider's zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WeeklyWindow {
    pub weekday: Weekday,
    #[cfg_attr(feature = "openapi", schema(example = "09:00"))]
    pub start: String,
    #[cfg_attr(feature = "openapi", schema(example = "17:00"))]
    pub end: String,
}

/// On `date`, these windows replace the weekly ones; none means unavailable that day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DateOverride {
    pub date: NaiveDate,
    pub windows: Vec<TimeWindow>,
}

/// Unavailable from `starts_at` to `ends_at` (holidays, sick leave).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TimeOff {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[serde(default)]
    pub reason: String,
}

/// A provider's availability, in their own time zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "time_zone": "America/New_York",
    "weekly": [{"weekday": "monday", "start": "09:00", "end": "12:00"}, {"weekday": "monday", "start": "13:00", "end": "17:00"}],
    "overrides": [{"date": "2027-03-15", "windows": [{"start": "10:00", "end": "12:00"}]}],
    "time_off": [{"starts_at": "2027-04-01T00:00:00Z", "ends_at": "2027-04-08T00:00:00Z", "reason": "Spring break"}]
})))]
#[serde(deny_unknown_fields)]
pub struct Availability {
    /// The provider's zone (setting it changes the person's zone).
    pub time_zone: String,
    pub weekly: Vec<WeeklyWindow>,
    #[serde(default)]
    pub overrides: Vec<DateOverride>,
    #[serde(default)]
    pub time_off: Vec<TimeOff>,
}

/// Which slots to list: days `from` to `to` (inclusive) in `time_zone`, at most 42 days.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct SlotsQuery {
    /// First day (default: today in `time_zone`).
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// Last day, inclusive (default: six days after `from`).
    #[serde(default)]
    pub to: Option<NaiveDate>,
    /// The zone the times are shown in (default: the caller's, else the organisation's).
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Only this provider's slots.
    #[serde(default)]
    pub provider_id: Option<Uuid>,
}

/// A provider as the booking flow shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlotProvider {
    pub id: Uuid,
    pub name: String,
    pub bio: String,
    #[serde(default)]
    pub photo_url: Option<String>,
}

/// A free time, and who is free then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Slot {
    /// In the requested zone, with its offset.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime, example = "2027-03-15T09:00:00-04:00"))]
    #[serde(with = "local_time")]
    pub starts_at: DateTime<FixedOffset>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime, example = "2027-03-15T09:30:00-04:00"))]
    #[serde(with = "local_time")]
    pub ends_at: DateTime<FixedOffset>,
    /// Who is free at this time, as positions in the answer's `providers` list (0 is its first
    /// provider): `[0, 3]` means `providers[0]` and `providers[3]`. Ascending, no repeats.
    #[cfg_attr(feature = "openapi", schema(example = json!([0, 3])))]
    pub providers: Vec<u32>,
}

/// The free slots of a service. Each slot names who is free then by position in `providers`,
/// which lists each of them once with their name and bio: in the example, Talia K and Ben O are
/// both free at 13:00 and only Ben O at 13:15.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "service": {"id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30", "name": "All available Peer Mentoring", "course_number": ""},
    "time_zone": "Europe/London", "from": "2027-03-15", "to": "2027-03-21",
    "items": [{"starts_at": "2027-03-15T13:00:00+00:00", "ends_at": "2027-03-15T13:30:00+00:00", "providers": [0, 1]},
              {"starts_at": "2027-03-15T13:15:00+00:00", "ends_at": "2027-03-15T13:45:00+00:00", "providers": [1]}],
    "providers": [{"id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "name": "Talia K", "bio": "Third-year chemistry student.", "photo_url": null},
                  {"id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e2a", "name": "Ben O", "bio": "Peer mentor in economics.", "photo_url": null}],
    "labels": {"provider_singular": "Peer Mentor", "provider_plural": "Peer Mentors", "class_singular": "Service", "class_plural": "Services"}
})))]
pub struct SlotList {
    pub service: ServiceRef,
    pub time_zone: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub items: Vec<Slot>,
    /// Every provider free at one of the `items` at least, once each, by name. A slot names its
    /// free providers by their position in this list (see `Slot.providers`).
    pub providers: Vec<SlotProvider>,
    pub labels: Labels,
}

impl SlotList {
    /// The providers free at `slot`, one of this list's items.
    pub fn free_at<'a>(&'a self, slot: &'a Slot) -> impl Iterator<Item = &'a SlotProvider> + 'a {
        slot.providers.iter().filter_map(|&i| self.providers.get(i as usize))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    Confirmed,
    Cancelled,
    Completed,
}

/// A person as a booking names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookingPerson {
    pub id: Uuid,
    pub name: String,
    pub email: String,
}

/// A topic question and the student's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookingAnswer {
    pub question_id: String,
    pub question: String,
    pub answer: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e40",
    "service": {"id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30", "name": "All available Peer Mentoring", "course_number": ""},
    "provider": {"id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "name": "Talia K", "email": "talia.k@example.org"},
    "student": {"id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e20", "name": "Sam Lee", "email": "sam.lee@example.org"},
    "format": "virtual", "location": "Zoom",
    "answers": [{"question_id": "topic", "question": "What would you like to talk about?", "answer": "Choosing electives"}],
    "starts_at": "2027-03-15T13:00:00Z", "ends_at": "2027-03-15T13:30:00Z", "status": "confirmed",
    "cancelled_at": null, "cancel_reason": null, "completed_at": null, "created_at": "2027-03-10T09:00:00Z"
})))]
pub struct Booking {
    pub id: Uuid,
    pub service: ServiceRef,
    pub provider: BookingPerson,
    pub student: BookingPerson,
    pub format: AppointmentFormat,
    pub location: String,
    pub answers: Vec<BookingAnswer>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: BookingStatus,
    #[serde(default)]
    pub cancelled_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub cancel_reason: Option<String>,
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A booking request. Students book for themselves; admins may book for `student_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "service_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30", "provider_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f",
    "starts_at": "2027-03-15T09:00:00-04:00", "format": "virtual", "location": "Zoom",
    "answers": {"topic": "Choosing electives"}
})))]
#[serde(deny_unknown_fields)]
pub struct CreateBooking {
    pub service_id: Uuid,
    pub provider_id: Uuid,
    /// A slot's start, with any offset.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub starts_at: DateTime<FixedOffset>,
    pub format: AppointmentFormat,
    /// One of the service's or provider's locations of that format (default: the first).
    #[serde(default)]
    pub location: Option<String>,
    /// Answers by question id; required questions of the format must be answered.
    #[serde(default)]
    pub answers: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub student_id: Option<Uuid>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"reason": "Exam moved"})))]
#[serde(deny_unknown_fields)]
pub struct CancelBooking {
    #[serde(default)]
    pub reason: Option<String>,
}

/// Moves a booking to another free slot (optionally with another certified provider).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"starts_at": "2027-03-16T10:00:00-04:00"})))]
#[serde(deny_unknown_fields)]
pub struct RescheduleBooking {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub starts_at: DateTime<FixedOffset>,
    #[serde(default)]
    pub provider_id: Option<Uuid>,
}

/// Which services to list. Without `bookable` and `format` every service of the organisation is listed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ServicesQuery {
    /// `true`: only the services the caller may book now: open to them (a service with enrolled
    /// students takes only those; admins book any) and offered in at least one format the booking
    /// flow has turned on.
    #[serde(default)]
    pub bookable: Option<bool>,
    /// Only services that can be booked in this format (turned on in the booking flow and offered by the service).
    #[serde(default)]
    pub format: Option<AppointmentFormat>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Which of the caller's own bookings to list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct MyBookingsQuery {
    /// Starting at or after this time (default: now, so the upcoming ones).
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    #[serde(default)]
    pub status: Option<BookingStatus>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Which bookings to list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct BookingsQuery {
    /// Starting at or after this time.
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    /// Starting before this time.
    #[serde(default)]
    pub to: Option<DateTime<Utc>>,
    #[serde(default)]
    pub provider_id: Option<Uuid>,
    #[serde(default)]
    pub student_id: Option<Uuid>,
    #[serde(default)]
    pub status: Option<BookingStatus>,
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"items": [{
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e40",
    "service": {"id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30", "name": "All available Peer Mentoring", "course_number": ""},
    "provider": {"id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "name": "Talia K", "email": "talia.k@example.org"},
    "student": {"id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e20", "name": "Sam Lee", "email": "sam.lee@example.org"},
    "format": "in_person", "location": "Library room 2", "answers": [],
    "starts_at": "2027-03-15T13:00:00Z", "ends_at": "2027-03-15T13:30:00Z", "status": "confirmed",
    "cancelled_at": null, "cancel_reason": null, "completed_at": null, "created_at": "2027-03-10T09:00:00Z"}]})))]
pub struct BookingPage {
    pub items: Vec<Booking>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A question a student answers when booking in one format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TopicQuestion {
    /// Letters, digits, `_` and `-`; unique within the format.
    #[cfg_attr(feature = "openapi", schema(example = "topic"))]
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(example = "What would you like to talk about?"))]
    pub text: String,
    #[serde(default)]
    pub required: bool,
}

/// One format of the booking flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FormatSettings {
    pub format: AppointmentFormat,
    pub enabled: bool,
    #[serde(default)]
    pub questions: Vec<TopicQuestion>,
}

/// The organisation's booking flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "students_edit_classes": false,
    "formats": [{"format": "in_person", "enabled": true, "questions": []},
                {"format": "virtual", "enabled": true,
                 "questions": [{"id": "topic", "text": "What would you like to talk about?", "required": true}]}],
    "labels": {"provider_singular": "Peer Mentor", "provider_plural": "Peer Mentors", "class_singular": "Service", "class_plural": "Services"}
})))]
pub struct BookingSettings {
    /// Whether students may choose their own classes (enrollments).
    pub students_edit_classes: bool,
    pub formats: Vec<FormatSettings>,
    pub labels: Labels,
}

/// Changes to the booking flow; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"students_edit_classes": true})))]
#[serde(deny_unknown_fields)]
pub struct UpdateBookingSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub students_edit_classes: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formats: Option<Vec<FormatSettings>>,
}

/// People to enroll in a service, or a student's own classes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"person_ids": ["0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e20"]})))]
#[serde(deny_unknown_fields)]
pub struct EnrollPeople {
    pub person_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"items": [
    {"id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e20", "name": "Sam Lee", "email": "sam.lee@example.org"}]})))]
pub struct EnrollmentPage {
    pub items: Vec<BookingPerson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The services a student takes part in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"service_ids": ["0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30"]})))]
#[serde(deny_unknown_fields)]
pub struct MyClasses {
    pub service_ids: Vec<Uuid>,
}

/// Join the waitlist for a provider on a day (in the provider's zone).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"provider_id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "day": "2027-03-15"})))]
#[serde(deny_unknown_fields)]
pub struct JoinWaitlist {
    pub provider_id: Uuid,
    pub day: NaiveDate,
}

/// A subscribable calendar address; keep it secret, anyone with it reads the calendar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"url": "https://cohort.example.org/api/v1/calendar/3q2-7Yw.ics"})))]
pub struct CalendarFeed {
    pub url: String,
}

/// Which providers to list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ProvidersQuery {
    /// Only providers certified in this service.
    #[serde(default)]
    pub service_id: Option<Uuid>,
    /// 1 to 200 (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// A time with its offset written out (`+00:00`, never `Z`): the zone's local time as shown.
mod local_time {
    use chrono::{DateTime, FixedOffset, SecondsFormat};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<FixedOffset>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Secs, false))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<FixedOffset>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}
