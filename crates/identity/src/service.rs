//! Use cases of users and roles: rights, district scope, no one granting more than they hold.

use crate::auth::{hash_password, random_secret, verify_password};
use crate::model::*;
use crate::rules;
use crate::store::{self as sql, UserFilter};
use crate::system_roles::SYSTEM_ROLES;
use kernel::rights::system_role;
use kernel::{
    Actor, Checks, Error, PageParams, Paged, Result, Right, Scope, audit, required_version,
};
use location::model::LocationType;
use store::{Db, Tx};
use uuid::Uuid;

pub const USER: &str = "user";
pub const ROLE: &str = "role";

async fn hash(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| Error::Internal(e.to_string()))?
}

/// A user is visible to an administrator, and to anyone sharing one of their districts.
fn sees_user(actor: &Actor, user: &User) -> bool {
    match actor.scope() {
        Scope::All => true,
        Scope::Districts(held) => user.district_ids.iter().any(|d| held.contains(d)),
    }
}

async fn find_user(tx: &mut Tx, actor: &Actor, id: &str) -> Result<User> {
    let found = match kernel::parse_uuid(id) {
        Some(uuid) => sql::get_user(tx, uuid).await?,
        None => sql::get_user_by_username(tx, id).await?,
    };
    match found {
        Some(u) if sees_user(actor, &u) || actor.user_id == Some(u.id) => Ok(u),
        _ => Err(Error::not_found("user", id)),
    }
}

pub async fn list_users(
    db: &Db,
    actor: &Actor,
    mut filter: UserFilter,
    page: PageParams,
) -> Result<Paged<User>> {
    actor.require(Right::USER_SEARCH)?;
    filter.scope = match actor.scope() {
        Scope::All => None,
        Scope::Districts(d) => Some(d),
    };
    let mut tx = db.read().await?;
    let (items, total) = sql::list_users(&mut tx, &filter, page.limit(), page.offset()).await?;
    Ok(Paged::new(items, total, page))
}

pub async fn get_user(db: &Db, actor: &Actor, id: &str) -> Result<User> {
    actor.require(Right::USER_SEARCH)?;
    let mut tx = db.read().await?;
    find_user(&mut tx, actor, id).await
}

/// Validate a user input against rules and data; returns the cleaned input.
async fn check_user_input(
    tx: &mut Tx,
    actor: &Actor,
    input: &UserInput,
    except: Option<Uuid>,
) -> Result<UserInput> {
    let mut checks = Checks::new();
    let username = checks.required("username", &input.username, 50);
    if username.chars().any(char::is_whitespace) {
        checks.push("username", "invalid", "a username cannot contain spaces");
    }
    let last_name = checks.required("last_name", &input.last_name, 100);
    let other_names = checks.required("other_names", &input.other_names, 100);
    let email = checks.optional("email", input.email.as_deref(), 50);
    if email.as_deref().is_some_and(|e| !e.contains('@')) {
        checks.push("email", "invalid_email", "email must be an e-mail address");
    }
    let phone = checks.optional("phone", input.phone.as_deref(), 50);
    let language = input.language.clone().unwrap_or_else(|| "en".into());
    checks.one_of("language", &language, &["en", "fr"]);
    if let Some(pw) = &input.password {
        rules::check_password("password", pw, &mut checks);
    }
    checks.finish()?;

    // Districts: existing districts within the actor's own.
    location::service::check_locations(
        tx,
        "district_ids",
        &input.district_ids,
        LocationType::District,
    )
    .await?;
    for (i, d) in input.district_ids.iter().enumerate() {
        if !actor.sees_district(Some(*d)) {
            return Err(Error::invalid(
                format!("district_ids[{i}]"),
                "outside_districts",
                "you can only assign districts you hold yourself",
            ));
        }
    }
    // Roles: existing, and granting nothing the actor does not hold.
    let mut granted: Vec<Right> = Vec::new();
    for (i, role_id) in input.role_ids.iter().enumerate() {
        match sql::get_role(tx, *role_id).await? {
            Some(role) => {
                if role.system_code == system_role::IMIS_ADMINISTRATOR && !actor.is_admin {
                    return Err(Error::forbidden(
                        "only an IMIS Administrator can make another user administrator",
                    ));
                }
                granted.extend(role.rights);
            }
            None => {
                return Err(Error::invalid(
                    format!("role_ids[{i}]"),
                    "not_found",
                    format!("role {role_id} does not exist"),
                ));
            }
        }
    }
    let refused = rules::ungrantable(actor.is_admin, &actor.rights, &granted);
    if !refused.is_empty() {
        let list: Vec<String> = refused.iter().map(|r| r.0.to_string()).collect();
        return Err(Error::forbidden(format!(
            "you cannot grant rights you do not hold yourself: {}",
            list.join(", ")
        )));
    }
    if let Some(hf) = input.health_facility_id {
        let facility = location::store::get_facility(tx, hf).await?;
        match facility {
            Some(f) if actor.sees_district(Some(f.location_id)) => {}
            _ => {
                return Err(Error::invalid(
                    "health_facility_id",
                    "not_found",
                    "this health facility does not exist",
                ));
            }
        }
    }
    if sql::username_taken(tx, &username, except).await? {
        return Err(Error::conflict(
            "duplicate_username",
            format!("the username \"{username}\" is already taken"),
        ));
    }
    Ok(UserInput {
        username,
        last_name,
        other_names,
        email,
        phone,
        language: Some(language),
        ..input.clone()
    })
}

pub async fn create_user(db: &Db, actor: &Actor, input: UserInput) -> Result<User> {
    actor.require(Right::USER_ADD)?;
    let mut tx = db.begin().await?;
    let input = check_user_input(&mut tx, actor, &input, None).await?;
    let password_hash = match input.password.clone() {
        Some(pw) => Some(hash(pw).await?),
        None => None,
    };
    let now = audit::now_micros();
    let user = User {
        id: Uuid::now_v7(),
        username: input.username,
        last_name: input.last_name,
        other_names: input.other_names,
        email: input.email,
        phone: input.phone,
        language: input.language.unwrap_or_else(|| "en".into()),
        health_facility_id: input.health_facility_id,
        kind: UserKind::Interactive,
        origin: UserOrigin::Bima,
        active: input.active.unwrap_or(true),
        has_password: password_hash.is_some(),
        role_ids: dedup(input.role_ids),
        district_ids: dedup(input.district_ids),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    sql::save_user(&mut tx, &user, password_hash.as_deref(), None).await?;
    audit::append(
        &mut tx,
        actor,
        USER,
        user.id,
        "create",
        None::<&()>,
        Some(&user),
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

fn dedup(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort();
    ids.dedup();
    ids
}

pub async fn update_user(db: &Db, actor: &Actor, id: &str, input: UserInput) -> Result<User> {
    actor.require(Right::USER_EDIT)?;
    let version = required_version(input.version)?;
    let mut tx = db.begin().await?;
    let before = find_user(&mut tx, actor, id).await?;
    if !sees_user(actor, &before) {
        return Err(Error::forbidden(
            "change your own account through /api/v1/auth/password",
        ));
    }
    let input = check_user_input(&mut tx, actor, &input, Some(before.id)).await?;
    if actor.user_id == Some(before.id) && input.active == Some(false) {
        return Err(Error::conflict(
            "cannot_disable_self",
            "you cannot disable your own account",
        ));
    }
    if version != before.version {
        return Err(Error::stale("user"));
    }
    let password_hash = match input.password.clone() {
        Some(pw) => Some(hash(pw).await?),
        None => None,
    };
    let after = User {
        username: input.username,
        last_name: input.last_name,
        other_names: input.other_names,
        email: input.email,
        phone: input.phone,
        language: input.language.unwrap_or_else(|| before.language.clone()),
        health_facility_id: input.health_facility_id,
        active: input.active.unwrap_or(before.active),
        has_password: before.has_password || password_hash.is_some(),
        role_ids: dedup(input.role_ids),
        district_ids: dedup(input.district_ids),
        version: before.version + 1,
        updated_at: audit::now_micros(),
        ..before.clone()
    };
    if !sql::save_user(&mut tx, &after, password_hash.as_deref(), Some(version)).await? {
        return Err(Error::stale("user"));
    }
    audit::append(
        &mut tx,
        actor,
        USER,
        after.id,
        "update",
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn delete_user(db: &Db, actor: &Actor, id: &str, version: Option<i64>) -> Result<()> {
    actor.require(Right::USER_DELETE)?;
    let version = required_version(version)?;
    let mut tx = db.begin().await?;
    let before = find_user(&mut tx, actor, id).await?;
    if actor.user_id == Some(before.id) {
        return Err(Error::conflict(
            "cannot_delete_self",
            "you cannot delete your own account",
        ));
    }
    if !sees_user(actor, &before) {
        return Err(Error::not_found("user", id));
    }
    if !sql::delete_user(&mut tx, before.id, version, audit::now_micros()).await? {
        return Err(Error::stale("user"));
    }
    audit::append(
        &mut tx,
        actor,
        USER,
        before.id,
        "delete",
        Some(&before),
        None::<&()>,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Change one's own password, proving the current one.
pub async fn change_password(db: &Db, actor: &Actor, change: PasswordChange) -> Result<()> {
    let user = actor
        .user_id
        .ok_or_else(|| Error::forbidden("the system account has no password"))?;
    let mut checks = Checks::new();
    rules::check_password("new_password", &change.new_password, &mut checks);
    checks.finish()?;
    let mut tx = db.begin().await?;
    let current = sql::password_hash(&mut tx, user).await?.unwrap_or_default();
    let given = change.current_password.clone();
    let ok = tokio::task::spawn_blocking(move || verify_password(&given, &current))
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
    if !ok {
        return Err(Error::invalid(
            "current_password",
            "wrong_password",
            "the current password is wrong",
        ));
    }
    let new_hash = hash(change.new_password).await?;
    sql::set_password(&mut tx, user, &new_hash, audit::now_micros()).await?;
    audit::append(
        &mut tx,
        actor,
        USER,
        user,
        "change_password",
        None::<&()>,
        None::<&()>,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- roles

pub async fn list_roles(
    db: &Db,
    actor: &Actor,
    name: Option<String>,
    system: Option<bool>,
    page: PageParams,
) -> Result<Paged<Role>> {
    actor.require(Right::ROLE_SEARCH)?;
    let mut tx = db.read().await?;
    let (items, total) = sql::list_roles(
        &mut tx,
        name.as_deref(),
        system,
        page.limit(),
        page.offset(),
    )
    .await?;
    Ok(Paged::new(items, total, page))
}

async fn find_role(tx: &mut Tx, id: &str) -> Result<Role> {
    let uuid = kernel::parse_uuid(id).ok_or_else(|| Error::not_found("role", id))?;
    sql::get_role(tx, uuid)
        .await?
        .ok_or_else(|| Error::not_found("role", id))
}

pub async fn get_role(db: &Db, actor: &Actor, id: &str) -> Result<Role> {
    actor.require(Right::ROLE_SEARCH)?;
    let mut tx = db.read().await?;
    find_role(&mut tx, id).await
}

async fn check_role_input(
    tx: &mut Tx,
    actor: &Actor,
    input: &RoleInput,
    except: Option<Uuid>,
) -> Result<(String, Vec<Right>)> {
    let mut checks = Checks::new();
    let name = checks.required("name", &input.name, 50);
    checks.optional("alt_language", input.alt_language.as_deref(), 50);
    let mut rights: Vec<Right> = Vec::new();
    for (i, r) in input.rights.iter().enumerate() {
        let right = Right(*r);
        if !right.is_known() {
            checks.push(
                format!("rights[{i}]"),
                "unknown_right",
                format!("{r} is not an openIMIS right"),
            );
        } else if !rights.contains(&right) {
            rights.push(right);
        }
    }
    checks.finish()?;
    rights.sort();
    let refused = rules::ungrantable(actor.is_admin, &actor.rights, &rights);
    if !refused.is_empty() {
        let list: Vec<String> = refused.iter().map(|r| r.0.to_string()).collect();
        return Err(Error::forbidden(format!(
            "you cannot put rights you do not hold into a role: {}",
            list.join(", ")
        )));
    }
    if sql::role_name_taken(tx, &name, except).await? {
        return Err(Error::conflict(
            "duplicate_name",
            format!("a role named \"{name}\" already exists"),
        ));
    }
    Ok((name, rights))
}

pub async fn create_role(db: &Db, actor: &Actor, input: RoleInput) -> Result<Role> {
    actor.require(Right::ROLE_ADD)?;
    let mut tx = db.begin().await?;
    let (name, rights) = check_role_input(&mut tx, actor, &input, None).await?;
    let now = audit::now_micros();
    let role = Role {
        id: Uuid::now_v7(),
        name,
        alt_language: input.alt_language.filter(|s| !s.trim().is_empty()),
        system_code: 0,
        is_system: false,
        blocked: input.blocked,
        rights,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    sql::save_role(&mut tx, &role, None).await?;
    audit::append(
        &mut tx,
        actor,
        ROLE,
        role.id,
        "create",
        None::<&()>,
        Some(&role),
    )
    .await?;
    tx.commit().await?;
    Ok(role)
}

fn system_role_read_only(role: &Role) -> Error {
    Error::conflict(
        "system_role",
        format!(
            "\"{}\" is an openIMIS system role and cannot be changed; copy it into a custom role instead",
            role.name
        ),
    )
}

pub async fn update_role(db: &Db, actor: &Actor, id: &str, input: RoleInput) -> Result<Role> {
    actor.require(Right::ROLE_EDIT)?;
    let version = required_version(input.version)?;
    let mut tx = db.begin().await?;
    let before = find_role(&mut tx, id).await?;
    if before.is_system {
        return Err(system_role_read_only(&before));
    }
    let (name, rights) = check_role_input(&mut tx, actor, &input, Some(before.id)).await?;
    if version != before.version {
        return Err(Error::stale("role"));
    }
    let after = Role {
        name,
        alt_language: input.alt_language.filter(|s| !s.trim().is_empty()),
        blocked: input.blocked,
        rights,
        version: before.version + 1,
        updated_at: audit::now_micros(),
        ..before.clone()
    };
    if !sql::save_role(&mut tx, &after, Some(version)).await? {
        return Err(Error::stale("role"));
    }
    audit::append(
        &mut tx,
        actor,
        ROLE,
        after.id,
        "update",
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn delete_role(db: &Db, actor: &Actor, id: &str, version: Option<i64>) -> Result<()> {
    actor.require(Right::ROLE_DELETE)?;
    let version = required_version(version)?;
    let mut tx = db.begin().await?;
    let before = find_role(&mut tx, id).await?;
    if before.is_system {
        return Err(system_role_read_only(&before));
    }
    let users = sql::role_in_use(&mut tx, before.id).await?;
    if users > 0 {
        return Err(Error::conflict(
            "in_use",
            format!("{users} users still hold the role \"{}\"", before.name),
        ));
    }
    if !sql::delete_role(&mut tx, before.id, version, audit::now_micros()).await? {
        return Err(Error::stale("role"));
    }
    audit::append(
        &mut tx,
        actor,
        ROLE,
        before.id,
        "delete",
        Some(&before),
        None::<&()>,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- bootstrap

/// Create the system roles that are missing (a role already holding a system code is kept).
pub async fn ensure_system_roles(db: &Db) -> Result<usize> {
    let actor = Actor::system("bootstrap");
    let mut created = 0;
    let mut tx = db.begin().await?;
    for seed in SYSTEM_ROLES {
        if sql::get_system_role(&mut tx, seed.code).await?.is_some() {
            continue;
        }
        let now = audit::now_micros();
        let role = Role {
            id: Uuid::parse_str(seed.id).map_err(|e| Error::Internal(e.to_string()))?,
            name: seed.name.to_string(),
            alt_language: None,
            system_code: seed.code,
            is_system: true,
            blocked: false,
            rights: seed.rights.iter().map(|r| Right(*r)).collect(),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        sql::save_role(&mut tx, &role, None).await?;
        audit::append(
            &mut tx,
            &actor,
            ROLE,
            role.id,
            "create",
            None::<&()>,
            Some(&role),
        )
        .await?;
        created += 1;
    }
    tx.commit().await?;
    Ok(created)
}

/// What bootstrap did about the administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminBootstrap {
    /// An active administrator exists; nothing done.
    Present,
    /// `admin` was created (or restored) with the password from configuration.
    Created,
    /// `admin` was created (or restored) with this random password, to be shown once.
    CreatedWithPassword(String),
}

/// Whenever no active Bima user holds the IMIS Administrator role, create (or restore) `admin`
/// with that role. Imported accounts never count.
pub async fn bootstrap_admin(db: &Db, password: Option<&str>) -> Result<AdminBootstrap> {
    ensure_system_roles(db).await?;
    let mut tx = db.begin().await?;
    if sql::has_active_admin(&mut tx).await? {
        return Ok(AdminBootstrap::Present);
    }
    let admin_role = sql::get_system_role(&mut tx, system_role::IMIS_ADMINISTRATOR)
        .await?
        .ok_or_else(|| Error::Internal("the IMIS Administrator role is missing".into()))?;
    let (password, generated) = match password.filter(|p| !p.is_empty()) {
        Some(p) => (p.to_string(), false),
        None => (random_secret(20), true),
    };
    let password_hash = hash(password.clone()).await?;
    let actor = Actor::system("bootstrap");
    let now = audit::now_micros();
    match sql::get_user_by_username(&mut tx, "admin").await? {
        Some(before) => {
            let mut role_ids = before.role_ids.clone();
            role_ids.push(admin_role.id);
            let after = User {
                active: true,
                origin: UserOrigin::Bima,
                has_password: true,
                role_ids: dedup(role_ids),
                version: before.version + 1,
                updated_at: now,
                ..before.clone()
            };
            sql::save_user(&mut tx, &after, Some(&password_hash), Some(before.version)).await?;
            audit::append(
                &mut tx,
                &actor,
                USER,
                after.id,
                "bootstrap",
                Some(&before),
                Some(&after),
            )
            .await?;
        }
        None => {
            let user = User {
                id: Uuid::now_v7(),
                username: "admin".into(),
                last_name: "Administrator".into(),
                other_names: "Bima".into(),
                email: None,
                phone: None,
                language: "en".into(),
                health_facility_id: None,
                kind: UserKind::Interactive,
                origin: UserOrigin::Bima,
                active: true,
                has_password: true,
                role_ids: vec![admin_role.id],
                district_ids: Vec::new(),
                version: 1,
                created_at: now,
                updated_at: now,
            };
            sql::save_user(&mut tx, &user, Some(&password_hash), None).await?;
            audit::append(
                &mut tx,
                &actor,
                USER,
                user.id,
                "bootstrap",
                None::<&()>,
                Some(&user),
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(if generated {
        AdminBootstrap::CreatedWithPassword(password)
    } else {
        AdminBootstrap::Created
    })
}

/// Audit-history guards for users and roles.
pub fn audit_guards() -> Vec<(&'static str, kernel::AuditGuard)> {
    vec![
        (
            USER,
            kernel::audit_guard(|db, actor, id| async move {
                get_user(&db, &actor, &id.to_string()).await.map(|_| ())
            }),
        ),
        (
            ROLE,
            kernel::audit_guard(|db, actor, id| async move {
                get_role(&db, &actor, &id.to_string()).await.map(|_| ())
            }),
        ),
    ]
}

/// Random password helper re-exported for the command line (`bima user add`).
pub fn generate_password() -> String {
    random_secret(20)
}
