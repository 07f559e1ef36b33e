//! `POST login/`: openIMIS's FHIR login, `{"username", "password"}` → `{"token", "exp"}` (exp in
//! Unix seconds). The token is the REST API's: `Authorization: Bearer <token>` on every call.

use axum::body::Bytes;
use axum::{Extension, Json};
use identity::auth::Auth;
use kernel::{Error, Result};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Deserialize)]
struct Credentials {
    username: Option<String>,
    password: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Token {
    pub token: String,
    /// When the token expires, in Unix seconds.
    pub exp: i64,
}

pub async fn login(Extension(auth): Extension<Arc<Auth>>, body: Bytes) -> Result<Json<Token>> {
    let credentials: Credentials = serde_json::from_slice(&body).map_err(|e| {
        Error::BadRequest(format!(
            "send {{\"username\": \"…\", \"password\": \"…\"}} as JSON ({e})"
        ))
    })?;
    let filled = |v: Option<String>, field: &str| {
        v.filter(|v| !v.trim().is_empty())
            .ok_or_else(|| Error::BadRequest(format!("{field} is required")))
    };
    let username = filled(credentials.username, "username")?;
    let password = filled(credentials.password, "password")?;
    let issued = auth.login(&username, &password).await?;
    Ok(Json(Token {
        token: issued.token,
        exp: issued.expires_at.unix_timestamp(),
    }))
}
