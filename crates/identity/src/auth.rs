//! Logging in and proving who you are on each request: argon2 password hashes, HS256 tokens
//! signed with a key kept in the database, and a throttle on failed logins.

use crate::model::{LoginResponse, Me};
use crate::rules::LoginThrottle;
use crate::store as sql;
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use kernel::{Actor, Error, Result};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use store::Db;
use time::OffsetDateTime;
use uuid::Uuid;

/// Hash a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("password hashing: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random password or key of `len` letters and digits.
pub fn random_secret(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    iat: i64,
    exp: i64,
}

/// Issues and checks tokens. One per server; shared by every request.
pub struct Auth {
    db: Db,
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: time::Duration,
    throttle: Mutex<HashMap<String, LoginThrottle>>,
    /// Each user's grants as last read, with the grants epoch they were read under.
    grants: Mutex<HashMap<Uuid, (String, sql::Grants)>>,
    clock: Instant,
    /// A hash to check unknown usernames against, so that they take as long as known ones.
    decoy: String,
}

fn unauthorized(code: &'static str, message: &str) -> Error {
    Error::Unauthorized {
        code,
        message: message.to_string(),
    }
}

impl Auth {
    /// Load (or create, the first time) the token signing key from the database.
    pub async fn new(db: Db, ttl: time::Duration) -> Result<Arc<Auth>> {
        let secret = kernel::settings::get_or_init(&db, "jwt_secret", || random_secret(64)).await?;
        let decoy = tokio::task::spawn_blocking(|| hash_password(&random_secret(16)))
            .await
            .map_err(|e| Error::Internal(e.to_string()))??;
        Ok(Arc::new(Auth {
            db,
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            ttl,
            throttle: Mutex::new(HashMap::new()),
            grants: Mutex::new(HashMap::new()),
            clock: Instant::now(),
            decoy,
        }))
    }

    fn locked_for(&self, key: &str) -> Option<u64> {
        let now = self.clock.elapsed();
        let mut throttle = self.throttle.lock().unwrap_or_else(|p| p.into_inner());
        throttle.get_mut(key).and_then(|t| t.locked_for(now))
    }

    fn record(&self, key: &str, ok: bool) {
        let now = self.clock.elapsed();
        let mut throttle = self.throttle.lock().unwrap_or_else(|p| p.into_inner());
        if ok {
            throttle.remove(key);
        } else {
            throttle.entry(key.to_string()).or_default().fail(now);
            // Keep the map small: forget accounts whose failures have aged out.
            if throttle.len() > 10_000 {
                throttle.retain(|_, t| {
                    t.locked_for(now);
                    !t.is_clear()
                });
            }
        }
    }

    /// Check a username and password; too many failures for one account → 429.
    pub async fn login(&self, username: &str, password: &str) -> Result<LoginResponse> {
        let key = username.trim().to_lowercase();
        if let Some(retry_after_secs) = self.locked_for(&key) {
            return Err(Error::TooManyRequests { retry_after_secs });
        }
        let mut tx = self.db.read().await?;
        let secret = sql::login_secret(&mut tx, &key).await?;
        drop(tx);
        let (user, hash) = match secret {
            Some((id, hash)) => (Some(id), hash),
            None => (None, self.decoy.clone()),
        };
        let password = password.to_string();
        let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .map_err(|e| Error::Internal(e.to_string()))?;
        match (user, ok) {
            (Some(id), true) => {
                self.record(&key, true);
                self.issue(id)
            }
            _ => {
                self.record(&key, false);
                tracing::info!(username = %key, "failed login");
                Err(unauthorized(
                    "invalid_credentials",
                    "the username or password is wrong",
                ))
            }
        }
    }

    /// Change the actor's own password, throttled as logins are: too many wrong current
    /// passwords → 429 for a while, so that a stolen session cannot guess its way to the
    /// password and keep the account.
    pub async fn change_password(
        &self,
        actor: &Actor,
        change: crate::model::PasswordChange,
    ) -> Result<()> {
        let key = match actor.user_id {
            Some(id) => format!("password-change:{id}"),
            None => return Err(Error::forbidden("the system account has no password")),
        };
        if let Some(retry_after_secs) = self.locked_for(&key) {
            return Err(Error::TooManyRequests { retry_after_secs });
        }
        match crate::service::change_password(&self.db, actor, change).await {
            Ok(()) => {
                self.record(&key, true);
                Ok(())
            }
            Err(Error::Invalid(found)) if found.iter().any(|f| f.code == "wrong_password") => {
                self.record(&key, false);
                tracing::info!(user = %key, "wrong current password");
                Err(Error::Invalid(found))
            }
            Err(other) => Err(other),
        }
    }

    pub fn issue(&self, user: Uuid) -> Result<LoginResponse> {
        self.issue_for(user, self.ttl)
    }

    /// A token for `user` valid for `ttl` (the web UI's sessions last their idle time).
    pub fn issue_for(&self, user: Uuid, ttl: time::Duration) -> Result<LoginResponse> {
        let now = OffsetDateTime::now_utc();
        let expires_at = now + ttl;
        let claims = Claims {
            sub: user,
            iat: now.unix_timestamp(),
            exp: expires_at.unix_timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| Error::Internal(format!("token: {e}")))?;
        Ok(LoginResponse {
            token,
            expires_at: expires_at.replace_nanosecond(0).unwrap_or(expires_at),
        })
    }

    /// The actor a token stands for: the user must still exist and be active, so a disabled
    /// account is locked out at its next request.
    pub async fn actor(&self, token: &str) -> Result<Actor> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).map_err(
            |e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    unauthorized("token_expired", "your session has expired; log in again")
                }
                _ => unauthorized("invalid_token", "the token is not valid; log in again"),
            },
        )?;
        let disabled = || {
            unauthorized(
                "account_disabled",
                "this account is disabled or no longer exists",
            )
        };
        let user = data.claims.sub;
        // Every request checks that the account is still active and whether anyone's grants
        // changed since they were read (one primary-key read); only then are they read again.
        // The two reads need no common snapshot (see below).
        let mut tx = self.db.read_one().await?;
        let epoch = sql::grants_epoch_if_active(&mut tx, user)
            .await?
            .ok_or_else(disabled)?;
        let cached = {
            let cache = self.grants.lock().unwrap_or_else(|p| p.into_inner());
            cache
                .get(&user)
                .filter(|(seen, _)| *seen == epoch)
                .map(|(_, g)| g.clone())
        };
        let grants = match cached {
            Some(g) => g,
            None => {
                // Read after the epoch: a change committed in between moves the epoch on again,
                // so these grants are never older than the epoch they are kept under.
                let g = sql::active_grants(&mut tx, user)
                    .await?
                    .ok_or_else(disabled)?;
                let mut cache = self.grants.lock().unwrap_or_else(|p| p.into_inner());
                cache.insert(user, (epoch, g.clone()));
                g
            }
        };
        Ok(actor_from_grants(user, grants))
    }
}

/// The actor for a user holding these grants.
fn actor_from_grants(user: Uuid, grants: sql::Grants) -> Actor {
    Actor {
        user_id: Some(user),
        username: grants.username,
        is_admin: grants.is_admin,
        rights: grants.rights.into_iter().collect(),
        districts: grants.districts,
        health_facility_id: grants.health_facility_id,
    }
}

/// Middleware: a valid bearer token puts its `Actor` into the request; a bad one is refused at
/// once; no token lets the request through to handlers that need none (login, health).
pub async fn authenticate(
    State(auth): State<Arc<Auth>>,
    mut request: Request,
    next: Next,
) -> Response {
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    if let Some(value) = header {
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => {
                return unauthorized(
                    "invalid_token",
                    "send the token as \"Authorization: Bearer <token>\"",
                )
                .into_response();
            }
        };
        match auth.actor(token).await {
            Ok(actor) => {
                request.extensions_mut().insert(actor);
            }
            Err(e) => return e.into_response(),
        }
    }
    next.run(request).await
}

/// The caller's account, rights and districts.
pub async fn me(db: &Db, actor: &Actor) -> Result<Me> {
    let id = actor
        .user_id
        .ok_or_else(|| Error::not_found("user", "system"))?;
    let mut tx = db.read().await?;
    let user = sql::get_user(&mut tx, id)
        .await?
        .ok_or_else(|| Error::not_found("user", id))?;
    Ok(Me {
        user,
        is_admin: actor.is_admin,
        rights: actor.rights.iter().copied().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash_password("correct horse").unwrap();
        let b = hash_password("correct horse").unwrap();
        assert_ne!(a, b, "salted");
        assert!(a.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &a));
        assert!(!verify_password("wrong horse", &a));
        assert!(!verify_password("x", "not a hash"));
    }
}
