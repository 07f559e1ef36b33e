//! Who is calling: a user with rights (the union over their roles) and districts. Every service
//! call takes an `Actor` and checks rights and district scope before touching data.

use crate::error::Error;
use crate::rights::Right;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::collections::BTreeSet;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Actor {
    /// `None` for the system itself (CLI commands, imports, jobs).
    pub user_id: Option<Uuid>,
    pub username: String,
    /// Holds the IMIS Administrator role: every right, every district.
    pub is_admin: bool,
    pub rights: BTreeSet<Right>,
    /// The districts the user may see; their wards and villages come with them.
    pub districts: Vec<Uuid>,
    /// Set for a health-facility user, who works for that facility only.
    pub health_facility_id: Option<Uuid>,
}

/// Which rows an actor may see, by district.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Districts(Vec<Uuid>),
}

impl Actor {
    /// The system acting on its own behalf (command line, import, jobs): unrestricted.
    pub fn system(name: &str) -> Actor {
        Actor {
            user_id: None,
            username: name.to_string(),
            is_admin: true,
            rights: BTreeSet::new(),
            districts: Vec::new(),
            health_facility_id: None,
        }
    }

    pub fn has(&self, right: Right) -> bool {
        self.is_admin || self.rights.contains(&right)
    }

    /// Forbidden unless the actor holds `right`.
    pub fn require(&self, right: Right) -> Result<(), Error> {
        if self.has(right) {
            Ok(())
        } else {
            Err(Error::Forbidden {
                code: "missing_right",
                message: format!(
                    "you need the right \"{}\" ({}) to do this",
                    right.name().unwrap_or("unknown"),
                    right.0
                ),
            })
        }
    }

    pub fn scope(&self) -> Scope {
        if self.is_admin {
            Scope::All
        } else {
            Scope::Districts(self.districts.clone())
        }
    }

    /// The districts a list is filtered to: none for an actor who sees them all.
    pub fn district_filter(&self) -> Option<Vec<Uuid>> {
        match self.scope() {
            Scope::All => None,
            Scope::Districts(d) => Some(d),
        }
    }

    /// May the actor see a row attached to `district` (`None` = national, above any district)?
    pub fn sees_district(&self, district: Option<Uuid>) -> bool {
        match (self.scope(), district) {
            (Scope::All, _) => true,
            (Scope::Districts(held), Some(d)) => held.contains(&d),
            (Scope::Districts(_), None) => false,
        }
    }

    /// Forbidden unless the row's district is within the actor's districts.
    pub fn require_district(&self, district: Option<Uuid>) -> Result<(), Error> {
        if self.sees_district(district) {
            Ok(())
        } else {
            Err(Error::Forbidden {
                code: "outside_districts",
                message: "this record is outside the districts you are assigned to".into(),
            })
        }
    }
}

/// The API's authentication middleware puts the caller's `Actor` into the request; a handler
/// that takes an `Actor` answers 401 when there is none.
impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Actor>()
            .cloned()
            .ok_or(Error::Unauthorized {
                code: "unauthenticated",
                message: "log in first: send the token from /api/v1/auth/login as \"Authorization: Bearer <token>\"".into(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clerk(districts: Vec<Uuid>) -> Actor {
        Actor {
            user_id: Some(Uuid::now_v7()),
            username: "clerk".into(),
            is_admin: false,
            rights: [Right::LOCATION_SEARCH].into_iter().collect(),
            districts,
            health_facility_id: None,
        }
    }

    #[test]
    fn rights_are_checked() {
        let actor = clerk(vec![]);
        assert!(actor.require(Right::LOCATION_SEARCH).is_ok());
        let err = actor.require(Right::LOCATION_ADD).unwrap_err();
        assert_eq!(err.code(), "missing_right");
        assert!(err.to_string().contains("121902"));
        assert!(Actor::system("test").require(Right::LOCATION_ADD).is_ok());
    }

    #[test]
    fn districts_bound_the_scope() {
        let d = Uuid::now_v7();
        let actor = clerk(vec![d]);
        assert!(actor.sees_district(Some(d)));
        assert!(!actor.sees_district(Some(Uuid::now_v7())));
        assert!(!actor.sees_district(None));
        assert!(Actor::system("t").sees_district(None));
    }
}
