//! SQL for users, roles, their rights and districts.

use crate::model::*;
use kernel::{Result, Right};
use store::{Sql, Tx, bind_args, on_tx};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct UserRow {
    id: Uuid,
    username: String,
    last_name: String,
    other_names: String,
    email: Option<String>,
    phone: Option<String>,
    language: String,
    health_facility_id: Option<Uuid>,
    kind: String,
    origin: String,
    active: bool,
    has_password: bool,
    version: i64,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

const USER_COLUMNS: &str = "id, username, last_name, other_names, email, phone, language, health_facility_id, kind, origin, active, (password_hash IS NOT NULL) AS has_password, version, created_at, updated_at";

impl UserRow {
    fn into_user(self, role_ids: Vec<Uuid>, district_ids: Vec<Uuid>) -> User {
        User {
            id: self.id,
            username: self.username,
            last_name: self.last_name,
            other_names: self.other_names,
            email: self.email,
            phone: self.phone,
            language: self.language,
            health_facility_id: self.health_facility_id,
            kind: UserKind::from_code(&self.kind).unwrap_or(UserKind::Interactive),
            origin: UserOrigin::from_code(&self.origin).unwrap_or(UserOrigin::Bima),
            active: self.active,
            has_password: self.has_password,
            role_ids,
            district_ids,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

async fn links(tx: &mut Tx, user: Uuid) -> Result<(Vec<Uuid>, Vec<Uuid>)> {
    let (roles, districts): (Vec<(Uuid,)>, Vec<(Uuid,)>) = on_tx!(tx, conn => {
        let roles = sqlx::query_as("SELECT role_id FROM user_roles WHERE user_id = $1 ORDER BY role_id")
            .bind(user)
            .fetch_all(&mut **conn)
            .await?;
        let districts = sqlx::query_as("SELECT location_id FROM user_districts WHERE user_id = $1 ORDER BY location_id")
            .bind(user)
            .fetch_all(&mut **conn)
            .await?;
        (roles, districts)
    });
    Ok((
        roles.into_iter().map(|r| r.0).collect(),
        districts.into_iter().map(|d| d.0).collect(),
    ))
}

async fn fetch_user(tx: &mut Tx, condition: &str, arg: store::Arg) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {condition} AND deleted_at IS NULL");
    let args = [arg];
    let row: Option<UserRow> = on_tx!(tx, conn => {
        bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), args)
            .fetch_optional(&mut **conn)
            .await?
    });
    let Some(row) = row else { return Ok(None) };
    let (roles, districts) = links(tx, row.id).await?;
    Ok(Some(row.into_user(roles, districts)))
}

pub async fn get_user(tx: &mut Tx, id: Uuid) -> Result<Option<User>> {
    fetch_user(tx, "id = $1", id.into()).await
}

pub async fn get_user_by_username(tx: &mut Tx, username: &str) -> Result<Option<User>> {
    fetch_user(
        tx,
        "LOWER(username) = $1",
        username.trim().to_lowercase().into(),
    )
    .await
}

/// The stored password hash of an active account that can log in.
pub async fn login_secret(tx: &mut Tx, username: &str) -> Result<Option<(Uuid, String)>> {
    let row: Option<(Uuid, Option<String>)> = on_tx!(tx, conn => {
        sqlx::query_as("SELECT id, password_hash FROM users WHERE LOWER(username) = $1 AND deleted_at IS NULL AND active = TRUE")
            .bind(username.trim().to_lowercase())
            .fetch_optional(&mut **conn)
            .await?
    });
    Ok(row.and_then(|(id, hash)| hash.map(|h| (id, h))))
}

pub async fn password_hash(tx: &mut Tx, user: Uuid) -> Result<Option<String>> {
    let row: Option<(Option<String>,)> = on_tx!(tx, conn => {
        sqlx::query_as("SELECT password_hash FROM users WHERE id = $1 AND deleted_at IS NULL")
            .bind(user)
            .fetch_optional(&mut **conn)
            .await?
    });
    Ok(row.and_then(|r| r.0))
}

#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub username: Option<String>,
    pub name: Option<String>,
    pub kind: Option<UserKind>,
    pub role_id: Option<Uuid>,
    pub district_id: Option<Uuid>,
    pub health_facility_id: Option<Uuid>,
    /// `None` = all users; otherwise users with at least one of these districts.
    pub scope: Option<Vec<Uuid>>,
    /// Last changed within each of these (FHIR's `_lastUpdated`).
    pub updated: Vec<store::InstantRange>,
}

pub async fn list_users(
    tx: &mut Tx,
    f: &UserFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<User>, i64)> {
    let mut condition = Sql::new(" FROM users WHERE deleted_at IS NULL");
    for range in &f.updated {
        range.push_to(&mut condition, "updated_at");
    }
    if let Some(u) = &f.username {
        condition
            .push(" AND LOWER(username) LIKE ")
            .arg(location::store::like_pattern(u, true))
            .push(" ESCAPE '\\'");
    }
    if let Some(n) = &f.name {
        let pattern = location::store::like_pattern(n, false);
        condition
            .push(" AND (LOWER(last_name) LIKE ")
            .arg(pattern.clone())
            .push(" ESCAPE '\\' OR LOWER(other_names) LIKE ")
            .arg(pattern)
            .push(" ESCAPE '\\')");
    }
    if let Some(k) = f.kind {
        condition.push(" AND kind = ").arg(k.code());
    }
    if let Some(r) = f.role_id {
        condition
            .push(" AND id IN (SELECT user_id FROM user_roles WHERE role_id = ")
            .arg(r)
            .push(")");
    }
    if let Some(d) = f.district_id {
        condition
            .push(" AND id IN (SELECT user_id FROM user_districts WHERE location_id = ")
            .arg(d)
            .push(")");
    }
    if let Some(h) = f.health_facility_id {
        condition.push(" AND health_facility_id = ").arg(h);
    }
    if let Some(scope) = &f.scope {
        condition
            .push(" AND id IN (SELECT user_id FROM user_districts WHERE location_id IN ")
            .list(scope.iter().copied())
            .push(")");
    }
    let (rows, total): (Vec<UserRow>, i64) = store::fetch_page(
        tx,
        &format!("SELECT {USER_COLUMNS}"),
        &condition,
        "LOWER(username), id",
        limit,
        offset,
    )
    .await?;
    let mut users = Vec::with_capacity(rows.len());
    for row in rows {
        let (roles, districts) = links(tx, row.id).await?;
        users.push(row.into_user(roles, districts));
    }
    Ok((users, total))
}

pub async fn username_taken(tx: &mut Tx, username: &str, except: Option<Uuid>) -> Result<bool> {
    let found: Option<(Uuid,)> = on_tx!(tx, conn => {
        sqlx::query_as("SELECT id FROM users WHERE LOWER(username) = $1 AND deleted_at IS NULL")
            .bind(username.trim().to_lowercase())
            .fetch_optional(&mut **conn)
            .await?
    });
    Ok(found.is_some_and(|(id,)| Some(id) != except))
}

/// Insert a user, or overwrite one still at `expected_version`. The password hash is changed
/// only when `password_hash` is given. Roles and districts are replaced. False if stale.
pub async fn save_user(
    tx: &mut Tx,
    u: &User,
    password_hash: Option<&str>,
    expected_version: Option<i64>,
) -> Result<bool> {
    let written = on_tx!(tx, conn => {
        let query = match expected_version {
            None => sqlx::query(
                "INSERT INTO users (username, last_name, other_names, email, phone, language, health_facility_id, kind, origin,
                    active, version, updated_at, password_hash, created_at, id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            ),
            Some(_) => sqlx::query(
                "UPDATE users SET username = $1, last_name = $2, other_names = $3, email = $4, phone = $5, language = $6,
                    health_facility_id = $7, kind = $8, origin = $9, active = $10, version = $11, updated_at = $12,
                    password_hash = COALESCE($13, password_hash), created_at = $14
                 WHERE id = $15 AND version = $16 AND deleted_at IS NULL",
            ),
        };
        let mut query = query
            .bind(&u.username)
            .bind(&u.last_name)
            .bind(&u.other_names)
            .bind(&u.email)
            .bind(&u.phone)
            .bind(&u.language)
            .bind(u.health_facility_id)
            .bind(u.kind.code())
            .bind(u.origin.code())
            .bind(u.active)
            .bind(u.version)
            .bind(u.updated_at)
            .bind(password_hash)
            .bind(u.created_at)
            .bind(u.id);
        if let Some(v) = expected_version {
            query = query.bind(v);
        }
        query.execute(&mut **conn).await?.rows_affected()
    });
    if written != 1 {
        return Ok(false);
    }
    on_tx!(tx, conn => {
        sqlx::query("DELETE FROM user_roles WHERE user_id = $1").bind(u.id).execute(&mut **conn).await?;
        sqlx::query("DELETE FROM user_districts WHERE user_id = $1").bind(u.id).execute(&mut **conn).await?;
        for role in &u.role_ids {
            sqlx::query("INSERT INTO user_roles (user_id, role_id) VALUES ($1, $2)")
                .bind(u.id)
                .bind(*role)
                .execute(&mut **conn)
                .await?;
        }
        for district in &u.district_ids {
            sqlx::query("INSERT INTO user_districts (user_id, location_id) VALUES ($1, $2)")
                .bind(u.id)
                .bind(*district)
                .execute(&mut **conn)
                .await?;
        }
    });
    bump_grants_epoch(tx).await?;
    Ok(true)
}

/// Move the grants epoch on: cached grants read before this change are stale. Every write to
/// users, their roles and districts, and roles and their rights calls it in its transaction.
async fn bump_grants_epoch(tx: &mut Tx) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE settings SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) WHERE key = 'grants_epoch'",
        )
        .execute(&mut **conn)
        .await?;
    });
    Ok(())
}

/// The grants epoch, if `user` is an active, current user (one primary-key read each).
pub async fn grants_epoch_if_active(tx: &mut Tx, user: Uuid) -> Result<Option<String>> {
    let row: Option<(String,)> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT s.value FROM users u JOIN settings s ON s.key = 'grants_epoch' \
             WHERE u.id = $1 AND u.active = TRUE AND u.deleted_at IS NULL",
        )
        .bind(user)
        .fetch_optional(&mut **conn)
        .await?
    });
    Ok(row.map(|(epoch,)| epoch))
}

pub async fn set_password(tx: &mut Tx, user: Uuid, hash: &str, at: OffsetDateTime) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query("UPDATE users SET password_hash = $1, version = version + 1, updated_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(at)
            .bind(user)
            .execute(&mut **conn)
            .await?;
    });
    Ok(())
}

pub async fn delete_user(tx: &mut Tx, id: Uuid, version: i64, at: OffsetDateTime) -> Result<bool> {
    let deleted = store::soft_delete(tx, "users", id, version, at).await?;
    bump_grants_epoch(tx).await?;
    Ok(deleted)
}

/// What a request needs to know of its caller: active?, the union of rights of unblocked roles,
/// administrator?, districts, facility.
#[derive(Debug, Clone)]
pub struct Grants {
    pub username: String,
    pub rights: Vec<Right>,
    pub is_admin: bool,
    pub districts: Vec<Uuid>,
    pub health_facility_id: Option<Uuid>,
}

pub async fn active_grants(tx: &mut Tx, user: Uuid) -> Result<Option<Grants>> {
    // One statement, as this runs on every request: the user ('u'), then each right ('r') and
    // each district ('d'); an inactive or deleted user gives no 'u' row and no grants.
    type GrantRow = (
        String,
        Option<String>,
        Option<Uuid>,
        Option<bool>,
        Option<i64>,
    );
    let rows: Vec<GrantRow> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT 'u' AS kind, u.username AS name, u.health_facility_id AS id, EXISTS (
                 SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id
                 WHERE ur.user_id = u.id AND r.system_code = 64 AND r.deleted_at IS NULL AND r.blocked = FALSE
             ) AS flag, CAST(NULL AS BIGINT) AS n
             FROM users u WHERE u.id = $1 AND u.active = TRUE AND u.deleted_at IS NULL
             UNION ALL
             SELECT DISTINCT 'r', CAST(NULL AS TEXT), CAST(NULL AS UUID), CAST(NULL AS BOOLEAN), rr.right_id
             FROM user_roles ur JOIN roles r ON r.id = ur.role_id JOIN role_rights rr ON rr.role_id = r.id
             WHERE ur.user_id = $1 AND r.deleted_at IS NULL AND r.blocked = FALSE
             UNION ALL
             SELECT 'd', CAST(NULL AS TEXT), ud.location_id, CAST(NULL AS BOOLEAN), CAST(NULL AS BIGINT)
             FROM user_districts ud WHERE ud.user_id = $1",
        )
        .bind(user)
        .fetch_all(&mut **conn)
        .await?
    });
    let Some((_, Some(username), health_facility_id, is_admin, _)) =
        rows.iter().find(|r| r.0 == "u").cloned()
    else {
        return Ok(None);
    };
    Ok(Some(Grants {
        username,
        rights: rows
            .iter()
            .filter(|r| r.0 == "r")
            .filter_map(|r| r.4)
            .map(|r| Right(r as u32))
            .collect(),
        is_admin: is_admin.unwrap_or(false),
        districts: rows
            .iter()
            .filter(|r| r.0 == "d")
            .filter_map(|r| r.2)
            .collect(),
        health_facility_id,
    }))
}

/// Is there an active, non-imported user holding the IMIS Administrator role?
pub async fn has_active_admin(tx: &mut Tx) -> Result<bool> {
    let found: Option<(Uuid,)> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT u.id FROM users u JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id
             WHERE u.active = TRUE AND u.deleted_at IS NULL AND u.origin = 'bima' AND u.password_hash IS NOT NULL
               AND r.system_code = 64 AND r.deleted_at IS NULL AND r.blocked = FALSE
             LIMIT 1",
        )
        .fetch_optional(&mut **conn)
        .await?
    });
    Ok(found.is_some())
}

// ---------------------------------------------------------------- roles

#[derive(sqlx::FromRow)]
struct RoleRow {
    id: Uuid,
    name: String,
    alt_language: Option<String>,
    system_code: i64,
    blocked: bool,
    version: i64,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

const ROLE_COLUMNS: &str =
    "id, name, alt_language, system_code, blocked, version, created_at, updated_at";

async fn role_rights(tx: &mut Tx, role: Uuid) -> Result<Vec<Right>> {
    let rows: Vec<(i64,)> = on_tx!(tx, conn => {
        sqlx::query_as("SELECT right_id FROM role_rights WHERE role_id = $1 ORDER BY right_id")
            .bind(role)
            .fetch_all(&mut **conn)
            .await?
    });
    Ok(rows.into_iter().map(|(r,)| Right(r as u32)).collect())
}

async fn into_role(tx: &mut Tx, r: RoleRow) -> Result<Role> {
    let rights = role_rights(tx, r.id).await?;
    Ok(Role {
        id: r.id,
        name: r.name,
        alt_language: r.alt_language,
        system_code: r.system_code,
        is_system: r.system_code != 0,
        blocked: r.blocked,
        rights,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

pub async fn get_role(tx: &mut Tx, id: Uuid) -> Result<Option<Role>> {
    let row: Option<RoleRow> = on_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {ROLE_COLUMNS} FROM roles WHERE id = $1 AND deleted_at IS NULL")))
            .bind(id)
            .fetch_optional(&mut **conn)
            .await?
    });
    match row {
        Some(r) => Ok(Some(into_role(tx, r).await?)),
        None => Ok(None),
    }
}

pub async fn get_system_role(tx: &mut Tx, code: i64) -> Result<Option<Role>> {
    let row: Option<RoleRow> = on_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {ROLE_COLUMNS} FROM roles WHERE system_code = $1 AND deleted_at IS NULL ORDER BY created_at LIMIT 1")))
            .bind(code)
            .fetch_optional(&mut **conn)
            .await?
    });
    match row {
        Some(r) => Ok(Some(into_role(tx, r).await?)),
        None => Ok(None),
    }
}

pub async fn list_roles(
    tx: &mut Tx,
    name: Option<&str>,
    system: Option<bool>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Role>, i64)> {
    let mut condition = Sql::new(" FROM roles WHERE deleted_at IS NULL");
    if let Some(n) = name {
        condition
            .push(" AND LOWER(name) LIKE ")
            .arg(location::store::like_pattern(n, false))
            .push(" ESCAPE '\\'");
    }
    match system {
        Some(true) => {
            condition.push(" AND system_code <> 0");
        }
        Some(false) => {
            condition.push(" AND system_code = 0");
        }
        None => {}
    }
    let (rows, total): (Vec<RoleRow>, i64) = store::fetch_page(
        tx,
        &format!("SELECT {ROLE_COLUMNS}"),
        &condition,
        "CASE WHEN system_code = 0 THEN 1 ELSE 0 END, system_code, name",
        limit,
        offset,
    )
    .await?;
    let mut roles = Vec::with_capacity(rows.len());
    for row in rows {
        roles.push(into_role(tx, row).await?);
    }
    Ok((roles, total))
}

pub async fn role_name_taken(tx: &mut Tx, name: &str, except: Option<Uuid>) -> Result<bool> {
    let found: Option<(Uuid,)> = on_tx!(tx, conn => {
        sqlx::query_as("SELECT id FROM roles WHERE name = $1 AND deleted_at IS NULL")
            .bind(name)
            .fetch_optional(&mut **conn)
            .await?
    });
    Ok(found.is_some_and(|(id,)| Some(id) != except))
}

/// Insert a role, or overwrite one still at `expected_version`; rights are replaced.
pub async fn save_role(tx: &mut Tx, r: &Role, expected_version: Option<i64>) -> Result<bool> {
    let written = on_tx!(tx, conn => {
        let query = match expected_version {
            None => sqlx::query(
                "INSERT INTO roles (name, alt_language, system_code, blocked, version, updated_at, created_at, id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            ),
            Some(_) => sqlx::query(
                "UPDATE roles SET name = $1, alt_language = $2, system_code = $3, blocked = $4, version = $5, updated_at = $6, created_at = $7
                 WHERE id = $8 AND version = $9 AND deleted_at IS NULL",
            ),
        };
        let mut query = query
            .bind(&r.name)
            .bind(&r.alt_language)
            .bind(r.system_code)
            .bind(r.blocked)
            .bind(r.version)
            .bind(r.updated_at)
            .bind(r.created_at)
            .bind(r.id);
        if let Some(v) = expected_version {
            query = query.bind(v);
        }
        query.execute(&mut **conn).await?.rows_affected()
    });
    if written != 1 {
        return Ok(false);
    }
    on_tx!(tx, conn => {
        sqlx::query("DELETE FROM role_rights WHERE role_id = $1").bind(r.id).execute(&mut **conn).await?;
        for right in &r.rights {
            sqlx::query("INSERT INTO role_rights (role_id, right_id) VALUES ($1, $2)")
                .bind(r.id)
                .bind(i64::from(right.0))
                .execute(&mut **conn)
                .await?;
        }
    });
    bump_grants_epoch(tx).await?;
    Ok(true)
}

pub async fn role_in_use(tx: &mut Tx, id: Uuid) -> Result<i64> {
    let (n,): (i64,) = on_tx!(tx, conn => {
        sqlx::query_as("SELECT COUNT(*) FROM user_roles ur JOIN users u ON u.id = ur.user_id WHERE ur.role_id = $1 AND u.deleted_at IS NULL")
            .bind(id)
            .fetch_one(&mut **conn)
            .await?
    });
    Ok(n)
}

pub async fn delete_role(tx: &mut Tx, id: Uuid, version: i64, at: OffsetDateTime) -> Result<bool> {
    let deleted = store::soft_delete(tx, "roles", id, version, at).await?;
    bump_grants_epoch(tx).await?;
    Ok(deleted)
}
