CREATE TABLE diagnoses (
    id UUID PRIMARY KEY,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX diagnoses_code ON diagnoses (code) WHERE deleted_at IS NULL;

CREATE TABLE medical_items (
    id UUID PRIMARY KEY,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('D', 'M')),
    package TEXT,
    price BIGINT NOT NULL CHECK (price >= 0),
    quantity BIGINT,
    maximum_amount BIGINT,
    care_type TEXT NOT NULL CHECK (care_type IN ('O', 'I', 'B')),
    frequency BIGINT,
    patient_category BIGINT NOT NULL DEFAULT 15,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX medical_items_code ON medical_items (code) WHERE deleted_at IS NULL;

CREATE TABLE medical_services (
    id UUID PRIMARY KEY,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    category TEXT,
    type TEXT NOT NULL CHECK (type IN ('P', 'C')),
    level TEXT NOT NULL,
    package_type TEXT NOT NULL DEFAULT 'S',
    manual_price BOOLEAN NOT NULL DEFAULT FALSE,
    price BIGINT NOT NULL CHECK (price >= 0),
    maximum_amount BIGINT,
    care_type TEXT NOT NULL CHECK (care_type IN ('O', 'I', 'B')),
    frequency BIGINT,
    patient_category BIGINT NOT NULL DEFAULT 15,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX medical_services_code ON medical_services (code) WHERE deleted_at IS NULL;

CREATE TABLE item_pricelists (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    location_id UUID REFERENCES locations (id),
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ
);
CREATE INDEX item_pricelists_location ON item_pricelists (location_id);

CREATE TABLE item_pricelist_lines (
    pricelist_id UUID NOT NULL REFERENCES item_pricelists (id) ON DELETE CASCADE,
    item_id UUID NOT NULL REFERENCES medical_items (id),
    price_overrule BIGINT,
    PRIMARY KEY (pricelist_id, item_id)
);
CREATE INDEX item_pricelist_lines_item ON item_pricelist_lines (item_id);

CREATE TABLE service_pricelists (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    location_id UUID REFERENCES locations (id),
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ
);
CREATE INDEX service_pricelists_location ON service_pricelists (location_id);

CREATE TABLE service_pricelist_lines (
    pricelist_id UUID NOT NULL REFERENCES service_pricelists (id) ON DELETE CASCADE,
    service_id UUID NOT NULL REFERENCES medical_services (id),
    price_overrule BIGINT,
    PRIMARY KEY (pricelist_id, service_id)
);
CREATE INDEX service_pricelist_lines_service ON service_pricelist_lines (service_id);
