-- Refresh tokens become generations of their grant: a token names its grant and generation
-- and carries a MAC, so rotating is one guarded update of the grant row and any earlier
-- generation is recognised as reuse (the grant is revoked). Tokens issued before this change
-- stop working; clients sign the user in again.
ALTER TABLE oidc_grants ADD COLUMN refresh_gen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE oidc_grants ADD COLUMN refresh_expires_at TEXT;
DROP TABLE oidc_refresh_tokens;
