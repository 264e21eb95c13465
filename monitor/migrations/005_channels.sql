-- 005 channels: digests for Apprise channels ([[alerts.channels]]) share the outbox with e-mail digests.
-- A channel's digest has the channel's name as its recipient and its alert id as its message id; the
-- channel's URL (and any secret in it) is never stored.
ALTER TABLE alert_outbox ADD COLUMN transport VARCHAR DEFAULT 'email';  -- email | apprise
