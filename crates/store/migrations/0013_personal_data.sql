-- Personal data at rest: persons.id_number and persons.phone keep their unique constraints but
-- hold blind indexes (HMAC, "bi1:…"); the numbers themselves are in the *_enc columns,
-- encrypted under a key derived from the master key. Rows written before this migration are
-- converted by the identity module at start-up (it needs the key, SQL does not have it).
ALTER TABLE persons ADD COLUMN id_number_enc TEXT;
ALTER TABLE persons ADD COLUMN phone_enc TEXT;

-- Outgoing SMS and e-mail: the phone number or address sealed in recipient_enc, its blind index
-- in recipient (look-ups), the body sealed (password-reset links travel in it).
ALTER TABLE outbox ADD COLUMN recipient_enc TEXT;

-- Data exchange: exchange_log.subject and exchange_records.subject hold blind indexes (who
-- accessed my data still finds its rows); the log's subject is sealed in subject_enc (batch
-- digests and gateway signatures cover the number), the shared store's record is sealed.
ALTER TABLE exchange_log ADD COLUMN subject_enc TEXT;
