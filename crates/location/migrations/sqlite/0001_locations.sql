CREATE TABLE locations (
    id BLOB PRIMARY KEY,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('R', 'D', 'W', 'V')),
    parent_id BLOB REFERENCES locations (id),
    district_id BLOB,
    male_population BIGINT,
    female_population BIGINT,
    other_population BIGINT,
    families BIGINT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE UNIQUE INDEX locations_code ON locations (code) WHERE deleted_at IS NULL;
CREATE INDEX locations_parent ON locations (parent_id);
CREATE INDEX locations_district ON locations (district_id);
CREATE INDEX locations_name ON locations (name);

CREATE TABLE health_facilities (
    id BLOB PRIMARY KEY,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    acc_code TEXT,
    legal_form TEXT NOT NULL,
    level TEXT NOT NULL,
    sub_level TEXT,
    location_id BLOB NOT NULL REFERENCES locations (id),
    address TEXT,
    phone TEXT,
    fax TEXT,
    email TEXT,
    care_type TEXT NOT NULL,
    items_pricelist_id BLOB,
    services_pricelist_id BLOB,
    offline BOOLEAN NOT NULL DEFAULT FALSE,
    contract_start_date TEXT,
    contract_end_date TEXT,
    status TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE UNIQUE INDEX health_facilities_code ON health_facilities (code) WHERE deleted_at IS NULL;
CREATE INDEX health_facilities_location ON health_facilities (location_id);

CREATE TABLE health_facility_catchments (
    health_facility_id BLOB NOT NULL REFERENCES health_facilities (id) ON DELETE CASCADE,
    location_id BLOB NOT NULL REFERENCES locations (id),
    catchment BIGINT NOT NULL,
    PRIMARY KEY (health_facility_id, location_id)
);
CREATE INDEX health_facility_catchments_location ON health_facility_catchments (location_id);
