DROP TABLE api_keys;
DROP TABLE refresh_tokens;
DROP TABLE participants;
DROP TABLE programs;
DROP TABLE people;
DROP TABLE organizations;
