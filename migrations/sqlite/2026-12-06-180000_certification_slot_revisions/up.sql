-- A booking made, moved or cancelled adds one to the slot revision of each of its provider's
-- certifications instead of the provider's row: an answer of GET /services/{id}/slots is cached
-- under the sum over the service's certifications, which one index range reads (the sum over
-- providers needed a join for every request). Bookings of different providers still never wait
-- on one row.
ALTER TABLE certifications ADD COLUMN slot_revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE providers DROP COLUMN slot_revision;
