CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor_id BLOB,
    actor_name TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id BLOB NOT NULL,
    action TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    chain_pos BIGINT UNIQUE,
    prev_hash TEXT,
    hash TEXT
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, seq);
CREATE INDEX audit_log_unsealed ON audit_log (seq) WHERE chain_pos IS NULL;
