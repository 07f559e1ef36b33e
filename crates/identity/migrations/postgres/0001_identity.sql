CREATE TABLE roles (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    alt_language TEXT,
    system_code BIGINT NOT NULL DEFAULT 0,
    blocked BOOLEAN NOT NULL DEFAULT FALSE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX roles_name ON roles (name) WHERE deleted_at IS NULL;

CREATE TABLE role_rights (
    role_id UUID NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    right_id BIGINT NOT NULL,
    PRIMARY KEY (role_id, right_id)
);

CREATE TABLE users (
    id UUID PRIMARY KEY,
    username TEXT NOT NULL,
    password_hash TEXT,
    last_name TEXT NOT NULL,
    other_names TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    language TEXT NOT NULL DEFAULT 'en',
    health_facility_id UUID,
    kind TEXT NOT NULL DEFAULT 'user',
    origin TEXT NOT NULL DEFAULT 'bima',
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX users_username ON users (LOWER(username)) WHERE deleted_at IS NULL;

CREATE TABLE user_roles (
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id UUID NOT NULL REFERENCES roles (id),
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role ON user_roles (role_id);

CREATE TABLE user_districts (
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    location_id UUID NOT NULL,
    PRIMARY KEY (user_id, location_id)
);
