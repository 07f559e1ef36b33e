-- Payers (tblPayer): who pays contributions on behalf of families.
CREATE TABLE payers (
    id BLOB PRIMARY KEY,
    payer_type TEXT NOT NULL,
    name TEXT NOT NULL,
    address TEXT,
    location_id BLOB REFERENCES locations (id),
    district_id BLOB,
    phone TEXT,
    fax TEXT,
    email TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX payers_name ON payers (name) WHERE deleted_at IS NULL;

-- Policies (tblPolicy): a family enrolled in a product. Money in minor units.
CREATE TABLE policies (
    id BLOB PRIMARY KEY,
    family_id BLOB NOT NULL REFERENCES families (id),
    product_id BLOB NOT NULL REFERENCES products (id),
    officer_id BLOB,
    previous_policy_id BLOB REFERENCES policies (id),
    stage TEXT NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT,
    value BIGINT NOT NULL,
    enroll_date TEXT NOT NULL,
    start_date TEXT NOT NULL,
    effective_date TEXT,
    expiry_date TEXT NOT NULL,
    district_id BLOB NOT NULL,
    is_offline BOOLEAN NOT NULL DEFAULT FALSE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX policies_family ON policies (family_id, expiry_date) WHERE deleted_at IS NULL;
CREATE INDEX policies_product ON policies (product_id) WHERE deleted_at IS NULL;
CREATE INDEX policies_district ON policies (district_id, enroll_date) WHERE deleted_at IS NULL;
CREATE INDEX policies_expiry ON policies (status, expiry_date) WHERE deleted_at IS NULL;

-- Insuree policies (tblInsureePolicy): who a policy covers, from when to when.
CREATE TABLE insuree_policies (
    id BLOB PRIMARY KEY,
    insuree_id BLOB NOT NULL REFERENCES insurees (id),
    policy_id BLOB NOT NULL REFERENCES policies (id),
    enrollment_date TEXT NOT NULL,
    start_date TEXT NOT NULL,
    effective_date TEXT,
    expiry_date TEXT NOT NULL,
    is_offline BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX insuree_policies_insuree ON insuree_policies (insuree_id, expiry_date) WHERE deleted_at IS NULL;
CREATE INDEX insuree_policies_policy ON insuree_policies (policy_id) WHERE deleted_at IS NULL;

-- Contributions (tblPremium): money paid towards a policy. The product is kept beside the
-- policy so that a receipt is unique per product (openIMIS) and per payer.
CREATE TABLE contributions (
    id BLOB PRIMARY KEY,
    policy_id BLOB NOT NULL REFERENCES policies (id),
    product_id BLOB NOT NULL,
    payer_id BLOB REFERENCES payers (id),
    amount BIGINT NOT NULL,
    receipt TEXT NOT NULL,
    pay_date TEXT NOT NULL,
    pay_type TEXT NOT NULL,
    is_photo_fee BOOLEAN NOT NULL DEFAULT FALSE,
    district_id BLOB NOT NULL,
    is_offline BOOLEAN NOT NULL DEFAULT FALSE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX contributions_policy ON contributions (policy_id) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX contributions_product_receipt ON contributions (product_id, receipt) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX contributions_payer_receipt ON contributions (payer_id, receipt) WHERE deleted_at IS NULL AND payer_id IS NOT NULL;
CREATE INDEX contributions_district ON contributions (district_id, pay_date) WHERE deleted_at IS NULL;
