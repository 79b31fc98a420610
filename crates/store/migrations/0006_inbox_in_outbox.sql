-- In-app messages become outbox rows of channel 'inbox' (delivered on insert), so a change
-- writes all its notices (inbox, SMS, email) in one statement.
ALTER TABLE outbox ADD COLUMN link TEXT;
ALTER TABLE outbox ADD COLUMN read_at TEXT;
CREATE INDEX outbox_recipient ON outbox(recipient, id);
DROP TABLE inbox;
