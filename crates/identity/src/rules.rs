//! Pure rules of accounts: password policy, what a user may grant, login throttling.

use kernel::{Checks, Right};
use std::collections::BTreeSet;
use std::time::Duration;

pub const MIN_PASSWORD: usize = 8;
pub const MAX_PASSWORD: usize = 128;

/// A password is 8 to 128 characters and not only spaces.
pub fn check_password(field: &str, password: &str, checks: &mut Checks) {
    let len = password.chars().count();
    if password.trim().is_empty() || len < MIN_PASSWORD {
        checks.push(
            field,
            "too_short",
            format!("a password needs at least {MIN_PASSWORD} characters"),
        );
    } else if len > MAX_PASSWORD {
        checks.push(
            field,
            "too_long",
            format!("a password has at most {MAX_PASSWORD} characters"),
        );
    }
}

/// The rights in `wanted` that a granter holding `held` may not hand out (empty: all fine).
/// An administrator may grant anything; anyone else only rights they hold themselves.
pub fn ungrantable(is_admin: bool, held: &BTreeSet<Right>, wanted: &[Right]) -> Vec<Right> {
    if is_admin {
        return Vec::new();
    }
    wanted
        .iter()
        .copied()
        .filter(|r| !held.contains(r))
        .collect()
}

/// Failed logins of one account: after `MAX_FAILURES` within `WINDOW`, logins are refused until
/// the oldest failure leaves the window. The clock comes in as an argument.
#[derive(Debug, Clone, Default)]
pub struct LoginThrottle {
    failures: Vec<Duration>,
}

pub const MAX_FAILURES: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

impl LoginThrottle {
    fn prune(&mut self, now: Duration) {
        self.failures.retain(|t| now.saturating_sub(*t) < WINDOW);
    }

    /// `Some(seconds to wait)` when the account is locked at `now`.
    pub fn locked_for(&mut self, now: Duration) -> Option<u64> {
        self.prune(now);
        if self.failures.len() >= MAX_FAILURES {
            let oldest = self.failures[0];
            Some((oldest + WINDOW).saturating_sub(now).as_secs().max(1))
        } else {
            None
        }
    }

    pub fn fail(&mut self, now: Duration) {
        self.prune(now);
        self.failures.push(now);
    }

    pub fn is_clear(&self) -> bool {
        self.failures.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn passwords() {
        for (pw, ok) in [
            ("short", false),
            ("        ", false),
            ("long enough", true),
            (&"x".repeat(129), false),
        ] {
            let mut c = Checks::new();
            check_password("password", pw, &mut c);
            assert_eq!(c.is_empty(), ok, "{pw:?}");
        }
    }

    #[test]
    fn only_held_rights_can_be_granted() {
        let held: BTreeSet<Right> = [Right(121901), Right(121902)].into();
        assert!(ungrantable(false, &held, &[Right(121901)]).is_empty());
        assert_eq!(
            ungrantable(false, &held, &[Right(121901), Right(121701)]),
            vec![Right(121701)]
        );
        assert!(ungrantable(true, &BTreeSet::new(), &[Right(121701)]).is_empty());
    }

    #[test]
    fn five_failures_lock_for_the_window() {
        let mut t = LoginThrottle::default();
        let s = Duration::from_secs;
        for i in 0..MAX_FAILURES as u64 {
            assert_eq!(t.locked_for(s(i)), None);
            t.fail(s(i));
        }
        assert_eq!(t.locked_for(s(10)), Some(WINDOW.as_secs() - 10));
        assert_eq!(t.locked_for(s(WINDOW.as_secs() + 1)), None);
    }

    proptest! {
        #[test]
        fn never_locked_below_the_limit(times in proptest::collection::vec(0u64..10_000, 0..MAX_FAILURES)) {
            let mut t = LoginThrottle::default();
            let mut sorted = times.clone();
            sorted.sort();
            for at in &sorted {
                t.fail(Duration::from_secs(*at));
            }
            prop_assert_eq!(t.locked_for(Duration::from_secs(10_000)), None);
        }
    }
}
