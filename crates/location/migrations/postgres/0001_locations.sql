CREATE TABLE locations (
    id UUID PRIMARY KEY,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('R', 'D', 'W', 'V')),
    parent_id UUID REFERENCES locations (id),
    district_id UUID,
    male_population BIGINT,
    female_population BIGINT,
    other_population BIGINT,
    families BIGINT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX locations_code ON locations (code) WHERE deleted_at IS NULL;
CREATE INDEX locations_parent ON locations (parent_id);
CREATE INDEX locations_district ON locations (district_id);
CREATE INDEX locations_name ON locations (name);

CREATE TABLE health_facilities (
    id UUID PRIMARY KEY,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    acc_code TEXT,
    legal_form TEXT NOT NULL,
    level TEXT NOT NULL,
    sub_level TEXT,
    location_id UUID NOT NULL REFERENCES locations (id),
    address TEXT,
    phone TEXT,
    fax TEXT,
    email TEXT,
    care_type TEXT NOT NULL,
    items_pricelist_id UUID,
    services_pricelist_id UUID,
    offline BOOLEAN NOT NULL DEFAULT FALSE,
    contract_start_date DATE,
    contract_end_date DATE,
    status TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX health_facilities_code ON health_facilities (code) WHERE deleted_at IS NULL;
CREATE INDEX health_facilities_location ON health_facilities (location_id);

CREATE TABLE health_facility_catchments (
    health_facility_id UUID NOT NULL REFERENCES health_facilities (id) ON DELETE CASCADE,
    location_id UUID NOT NULL REFERENCES locations (id),
    catchment BIGINT NOT NULL,
    PRIMARY KEY (health_facility_id, location_id)
);
CREATE INDEX health_facility_catchments_location ON health_facility_catchments (location_id);
