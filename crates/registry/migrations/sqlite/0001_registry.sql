CREATE TABLE families (
    id BLOB PRIMARY KEY,
    head_insuree_id BLOB,
    location_id BLOB NOT NULL REFERENCES locations (id),
    district_id BLOB NOT NULL,
    poverty BOOLEAN,
    family_type TEXT,
    address TEXT,
    ethnicity TEXT,
    confirmation_no TEXT,
    confirmation_type TEXT,
    is_offline BOOLEAN NOT NULL DEFAULT FALSE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX families_district ON families (district_id) WHERE deleted_at IS NULL;
CREATE INDEX families_location ON families (location_id);
CREATE INDEX families_head ON families (head_insuree_id);

CREATE TABLE insurees (
    id BLOB PRIMARY KEY,
    family_id BLOB REFERENCES families (id),
    chfid TEXT NOT NULL,
    last_name TEXT NOT NULL,
    other_names TEXT NOT NULL,
    last_name_key TEXT NOT NULL,
    other_names_key TEXT NOT NULL,
    gender TEXT NOT NULL,
    dob TEXT NOT NULL,
    head BOOLEAN NOT NULL DEFAULT FALSE,
    marital TEXT,
    relationship BIGINT,
    profession BIGINT,
    education BIGINT,
    passport TEXT,
    type_of_id TEXT,
    phone TEXT,
    email TEXT,
    current_address TEXT,
    geolocation TEXT,
    current_village_id BLOB REFERENCES locations (id),
    health_facility_id BLOB REFERENCES health_facilities (id),
    card_issued BOOLEAN NOT NULL DEFAULT FALSE,
    status TEXT NOT NULL,
    status_date TEXT,
    status_reason TEXT,
    photo_date TEXT,
    district_id BLOB,
    is_offline BOOLEAN NOT NULL DEFAULT FALSE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE UNIQUE INDEX insurees_chfid ON insurees (chfid) WHERE deleted_at IS NULL;
-- Name prefixes are range scans on lower-case keys (BINARY collation: byte order, like Rust's).
CREATE INDEX insurees_last_name_key ON insurees (last_name_key, other_names_key, id) WHERE deleted_at IS NULL;
CREATE INDEX insurees_other_names_key ON insurees (other_names_key, last_name_key, id, district_id) WHERE deleted_at IS NULL;
CREATE INDEX insurees_family ON insurees (family_id);
CREATE INDEX insurees_district ON insurees (district_id, last_name_key, other_names_key, id) WHERE deleted_at IS NULL;
CREATE INDEX insurees_dob ON insurees (dob) WHERE deleted_at IS NULL;

CREATE TABLE insuree_photos (
    insuree_id BLOB PRIMARY KEY REFERENCES insurees (id),
    content_type TEXT NOT NULL,
    bytes BLOB NOT NULL,
    size BIGINT NOT NULL,
    photo_date TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
