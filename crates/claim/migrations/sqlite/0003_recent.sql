-- The claims list, newest first (the web UI's and the API's default order): a page is read in
-- index order instead of sorting every claim.
CREATE INDEX claims_recent ON claims (date_claimed DESC, code, id) WHERE deleted_at IS NULL;
