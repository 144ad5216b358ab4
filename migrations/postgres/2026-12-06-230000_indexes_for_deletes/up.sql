-- Deleting a person, a service or a mentor request cascades (or sets null) through these columns:
-- each gets an index that starts with it, so a delete finds the rows it reaches instead of reading
-- the whole referencing table (deleting one person read every event of every organisation).
CREATE INDEX api_keys_by_creator ON api_keys (created_by);
CREATE INDEX booking_waitlist_by_service ON booking_waitlist (service_id);
CREATE INDEX booking_waitlist_by_student ON booking_waitlist (student_id);
CREATE INDEX bookings_by_service ON bookings (service_id);
CREATE INDEX chat_messages_by_sender ON chat_messages (sender_id);
CREATE INDEX events_by_person ON events (person_id);
CREATE INDEX mentor_requests_by_mentee ON mentor_requests (mentee_id);
CREATE INDEX mentor_requests_by_mentor ON mentor_requests (mentor_id);
CREATE INDEX pairing_invitations_by_mentee ON pairing_invitations (mentee_id);
CREATE INDEX pairings_by_mentee_id ON pairings (mentee_id);
CREATE INDEX pairings_by_mentor_id ON pairings (mentor_id);
CREATE INDEX pairings_by_request_id ON pairings (request_id);
CREATE INDEX refresh_tokens_by_person ON refresh_tokens (person_id);
