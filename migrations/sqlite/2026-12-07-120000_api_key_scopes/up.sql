-- What an API key may reach ("all", "read", or areas such as "events:write people:read",
-- separated by spaces) and when it stops working. Keys made before keep doing everything.
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'all';
ALTER TABLE api_keys ADD COLUMN expires_at TIMESTAMP;
