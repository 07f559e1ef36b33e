-- The batch run's queue: processed claims not yet valued by a run, read in id order a chunk at
-- a time. Partial, so it holds only the claims waiting.
CREATE INDEX claims_awaiting_batch ON claims (id) WHERE status = 'processed' AND batch_run_id IS NULL AND deleted_at IS NULL;
