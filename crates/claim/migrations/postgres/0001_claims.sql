-- Batch runs (tblBatchRun): one a month per region, district or the nation (scope_key is the
-- location's id, or 'national'), run as a job that records its progress.
CREATE TABLE batch_runs (
    id UUID PRIMARY KEY,
    location_id UUID REFERENCES locations (id),
    scope_key TEXT NOT NULL,
    run_year INTEGER NOT NULL,
    run_month INTEGER NOT NULL,
    run_date TIMESTAMPTZ NOT NULL,
    status TEXT NOT NULL,
    progress INTEGER NOT NULL DEFAULT 0,
    claims_valuated BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    finished_at TIMESTAMPTZ,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX batch_runs_once ON batch_runs (scope_key, run_year, run_month) WHERE deleted_at IS NULL;

-- Claims (tblClaim): what a health facility asks to be paid for one visit or stay.
-- Money in minor units; diagnoses as ICD codes (a code outside the register is flagged at
-- submission, not refused).
CREATE TABLE claims (
    id UUID PRIMARY KEY,
    code TEXT NOT NULL,
    health_facility_id UUID NOT NULL REFERENCES health_facilities (id),
    district_id UUID NOT NULL,
    insuree_id UUID NOT NULL REFERENCES insurees (id),
    admin_id UUID,
    date_claimed DATE NOT NULL,
    date_from DATE NOT NULL,
    date_to DATE,
    visit_type TEXT NOT NULL,
    icd TEXT NOT NULL,
    secondary_icd TEXT NOT NULL,
    explanation TEXT,
    guarantee_no TEXT,
    refer_from_id UUID REFERENCES health_facilities (id),
    refer_to_id UUID REFERENCES health_facilities (id),
    referral_code TEXT,
    status TEXT NOT NULL,
    review_status TEXT NOT NULL,
    feedback_status TEXT NOT NULL,
    rejection_reason SMALLINT,
    decision TEXT,
    category TEXT,
    flags TEXT NOT NULL,
    claimed BIGINT NOT NULL,
    approved BIGINT,
    valuated BIGINT,
    remunerated BIGINT,
    submitted_at TIMESTAMPTZ,
    processed_at TIMESTAMPTZ,
    risk BIGINT,
    reviewer_id UUID,
    review_selected_at TIMESTAMPTZ,
    reviewed_at TIMESTAMPTZ,
    adjustment TEXT,
    batch_run_id UUID REFERENCES batch_runs (id),
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX claims_code ON claims (health_facility_id, code) WHERE deleted_at IS NULL;
CREATE INDEX claims_insuree ON claims (insuree_id, date_from) WHERE deleted_at IS NULL;
CREATE INDEX claims_district ON claims (district_id, status, date_claimed) WHERE deleted_at IS NULL;
CREATE INDEX claims_review ON claims (review_status, reviewer_id) WHERE deleted_at IS NULL;

-- Claim lines (tblClaimItems and tblClaimServices in one table, kind I or S).
CREATE TABLE claim_lines (
    id UUID PRIMARY KEY,
    claim_id UUID NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    register_id UUID NOT NULL,
    qty BIGINT NOT NULL,
    price_asked BIGINT NOT NULL,
    explanation TEXT,
    status TEXT NOT NULL,
    rejection_reason SMALLINT,
    rule TEXT,
    decision TEXT,
    compared TEXT,
    qty_approved BIGINT,
    price_adjusted BIGINT,
    product_id UUID,
    policy_id UUID,
    price_origin TEXT,
    limitation TEXT,
    limitation_value BIGINT,
    price_approved BIGINT,
    justification TEXT,
    deductible BIGINT,
    exceed_ceiling BIGINT,
    exceed_ceiling_category BIGINT,
    valuated BIGINT,
    remunerated BIGINT
);
CREATE INDEX claim_lines_claim ON claim_lines (claim_id, position);

-- The running ledger (tblClaimDedRem): per claim and policy, the deductible it took and what it
-- paid, overall, in- or out-patient and per claim category; ceilings are measured against it.
CREATE TABLE claim_ded_rem (
    claim_id UUID NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
    policy_id UUID NOT NULL REFERENCES policies (id),
    insuree_id UUID NOT NULL REFERENCES insurees (id),
    ded_g BIGINT NOT NULL,
    ded_ip BIGINT NOT NULL,
    ded_op BIGINT NOT NULL,
    rem_g BIGINT NOT NULL,
    rem_ip BIGINT NOT NULL,
    rem_op BIGINT NOT NULL,
    rem_surgery BIGINT NOT NULL,
    rem_delivery BIGINT NOT NULL,
    rem_antenatal BIGINT NOT NULL,
    rem_hospitalization BIGINT NOT NULL,
    rem_consultation BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (claim_id, policy_id)
);
CREATE INDEX claim_ded_rem_policy ON claim_ded_rem (policy_id, insuree_id);

-- Feedback (tblFeedbackPrompt and tblFeedback): asked of an officer about a claim, and the answer.
CREATE TABLE claim_feedback (
    claim_id UUID PRIMARY KEY REFERENCES claims (id) ON DELETE CASCADE,
    officer_id UUID,
    requested_at TIMESTAMPTZ NOT NULL,
    answered_at TIMESTAMPTZ,
    care_rendered BOOLEAN,
    payment_asked BOOLEAN,
    drug_prescribed BOOLEAN,
    drug_received BOOLEAN,
    assessment SMALLINT,
    feedback_date DATE
);

-- The relative-price index of a product in a batch run (tblRelIndex): the contributions
-- allocated to the period × the distribution's percent, over the points claimed.
CREATE TABLE relative_indexes (
    batch_run_id UUID NOT NULL REFERENCES batch_runs (id),
    product_id UUID NOT NULL REFERENCES products (id),
    care_type TEXT NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    allocated BIGINT NOT NULL,
    percent BIGINT NOT NULL,
    claimed_points BIGINT NOT NULL,
    rel_index DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (batch_run_id, product_id, care_type)
);

-- Capitation payments of a batch run (tblCapitationPayment): per product and facility, the six
-- factors' quantities (×100: catchment percentages) and what each pays.
CREATE TABLE capitation_payments (
    batch_run_id UUID NOT NULL REFERENCES batch_runs (id),
    product_id UUID NOT NULL REFERENCES products (id),
    health_facility_id UUID NOT NULL REFERENCES health_facilities (id),
    population BIGINT NOT NULL,
    families BIGINT NOT NULL,
    insured_insurees BIGINT NOT NULL,
    insured_families BIGINT NOT NULL,
    visits BIGINT NOT NULL,
    adjusted BIGINT NOT NULL,
    amount_population BIGINT NOT NULL,
    amount_families BIGINT NOT NULL,
    amount_insured_insurees BIGINT NOT NULL,
    amount_insured_families BIGINT NOT NULL,
    amount_visits BIGINT NOT NULL,
    amount_adjusted BIGINT NOT NULL,
    payment BIGINT NOT NULL,
    PRIMARY KEY (batch_run_id, product_id, health_facility_id)
);

-- Documents attached to a claim (claim_ClaimAttachment): PDF, JPEG or PNG, size-limited.
CREATE TABLE claim_attachments (
    id UUID PRIMARY KEY,
    claim_id UUID NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    filename TEXT,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    data BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX claim_attachments_claim ON claim_attachments (claim_id);
