-- Provider-first booking (PRODUCT.md section 4): services, providers with their availability,
-- certifications, enrollments, the organisation's booking-flow settings, bookings, the waitlist
-- and each person's calendar feed.
-- The no-double-booking rule needs equality on text and overlap on ranges in one GiST index.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE services (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- Blank for a general topic.
    course_number TEXT NOT NULL,
    description TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL,
    buffer_before_minutes INTEGER NOT NULL,
    buffer_after_minutes INTEGER NOT NULL,
    -- 'hours' or 'days' (calendar days in the provider's zone).
    notice_unit TEXT NOT NULL,
    notice_amount INTEGER NOT NULL,
    horizon_days INTEGER NOT NULL,
    interval_minutes INTEGER NOT NULL,
    -- Cancelling this many hours or fewer before the start needs an admin.
    late_cancel_hours INTEGER NOT NULL,
    waitlist BOOLEAN NOT NULL,
    -- JSON: the formats offered ("in_person", "virtual") and the locations, each with its format.
    formats TEXT NOT NULL,
    locations TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (organization_id, name, course_number)
);

CREATE TABLE providers (
    person_id TEXT PRIMARY KEY NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    photo_url TEXT,
    -- JSON: weekly windows in the person's zone, date overrides and time off. One column, so the
    -- slots of a service with any number of providers load in one statement.
    availability TEXT NOT NULL,
    -- JSON: locations of this provider's own (added to the service's).
    locations TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX providers_by_organization ON providers (organization_id);

CREATE TABLE certifications (
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    provider_id TEXT NOT NULL REFERENCES providers (person_id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (service_id, provider_id)
);
CREATE INDEX certifications_by_provider ON certifications (provider_id);

CREATE TABLE enrollments (
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (service_id, person_id)
);
CREATE INDEX enrollments_by_person ON enrollments (person_id);

CREATE TABLE booking_settings (
    organization_id TEXT PRIMARY KEY NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    students_edit_classes BOOLEAN NOT NULL,
    -- JSON: per format, whether it is offered and its topic questions.
    formats TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE bookings (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    provider_id TEXT NOT NULL REFERENCES providers (person_id) ON DELETE CASCADE,
    student_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    format TEXT NOT NULL,
    location TEXT NOT NULL,
    -- JSON: the answers to the format's topic questions.
    answers TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    -- The time the booking keeps the provider busy: the appointment and the service's buffers.
    blocked_from TIMESTAMP NOT NULL,
    blocked_until TIMESTAMP NOT NULL,
    -- 'confirmed', 'cancelled' or 'completed'.
    status TEXT NOT NULL,
    -- Grows with each change, so calendar apps replace their copy.
    sequence INTEGER NOT NULL,
    cancelled_at TIMESTAMP,
    cancelled_by TEXT,
    cancel_reason TEXT,
    completed_at TIMESTAMP,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX bookings_by_provider ON bookings (provider_id, blocked_from);
CREATE INDEX bookings_by_student ON bookings (student_id, starts_at);
CREATE INDEX bookings_by_organization ON bookings (organization_id, starts_at);
-- Two live bookings of one provider never overlap, buffers included, whatever the concurrency.
ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist (
    provider_id WITH =,
    tsrange(blocked_from, blocked_until) WITH &&
) WHERE (status <> 'cancelled');

CREATE TABLE booking_waitlist (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    provider_id TEXT NOT NULL REFERENCES providers (person_id) ON DELETE CASCADE,
    student_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    -- The day wanted, in the provider's zone.
    day DATE NOT NULL,
    offered_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (provider_id, day, student_id)
);

CREATE TABLE calendar_feeds (
    person_id TEXT PRIMARY KEY NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    -- SHA-256 of the secret in the feed's URL.
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);
