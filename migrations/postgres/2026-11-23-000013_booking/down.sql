DROP TABLE calendar_feeds;
DROP TABLE booking_waitlist;
DROP TABLE bookings;
DROP TABLE booking_settings;
DROP TABLE enrollments;
DROP TABLE certifications;
DROP TABLE providers;
DROP TABLE services;
