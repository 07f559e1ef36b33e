//! Policy status and stage, and the moves between statuses.

use serde::{Deserialize, Serialize};

/// Where a policy is in its life. Serialised by name; openIMIS stores 1, 2, 4, 8, 16.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PolicyStatus {
    /// Enrolled, not (fully) paid: covers nobody.
    Idle,
    /// Paid and in force.
    Active,
    /// Suspended by the scheme: covers nobody.
    Suspended,
    /// Its expiry date has passed (or it was cancelled).
    Expired,
    /// Paid, waiting for the payment to be matched (activation option "payment").
    Ready,
}

impl PolicyStatus {
    pub const ALL: &'static [PolicyStatus] = &[
        PolicyStatus::Idle,
        PolicyStatus::Active,
        PolicyStatus::Suspended,
        PolicyStatus::Expired,
        PolicyStatus::Ready,
    ];

    /// The name, as serialised and stored.
    pub fn name(self) -> &'static str {
        match self {
            PolicyStatus::Idle => "idle",
            PolicyStatus::Active => "active",
            PolicyStatus::Suspended => "suspended",
            PolicyStatus::Expired => "expired",
            PolicyStatus::Ready => "ready",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.name() == name.trim())
    }

    /// openIMIS's `PolicyStatus` number.
    pub fn openimis_code(self) -> i64 {
        match self {
            PolicyStatus::Idle => 1,
            PolicyStatus::Active => 2,
            PolicyStatus::Suspended => 4,
            PolicyStatus::Expired => 8,
            PolicyStatus::Ready => 16,
        }
    }

    pub fn from_openimis(code: i64) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|s| s.openimis_code() == code)
    }
}

kernel::code_enum! {
    /// N: a new policy; R: a renewal of an earlier one.
    Stage { New = "N", Renewal = "R" }
}

/// A status change the policy's life does not allow.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a policy that is {from} cannot become {to}")]
pub struct TransitionError {
    pub from: &'static str,
    pub to: &'static str,
}

/// May a policy go from `from` to `to` (spec §5.4)?
///
/// - An idle policy is activated by its contributions (active, or ready when the payment must
///   first be matched); a ready one becomes active once matched.
/// - The scheme may suspend an idle, ready or active policy, and reinstate a suspended one
///   (back to active).
/// - Any policy that is not expired yet expires (the daily expiry, or a cancellation).
/// - An expired policy never changes again (a renewal is a new policy), and "changing" to the
///   same status is not a move.
pub fn check_transition(from: PolicyStatus, to: PolicyStatus) -> Result<(), TransitionError> {
    use PolicyStatus::*;
    let allowed = matches!(
        (from, to),
        (Idle, Active | Ready | Suspended | Expired)
            | (Ready, Active | Suspended | Expired)
            | (Active, Suspended | Expired)
            | (Suspended, Active | Expired)
    );
    if allowed {
        Ok(())
    } else {
        Err(TransitionError {
            from: from.name(),
            to: to.name(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn transition_matrix() {
        use PolicyStatus::*;
        // Rows: from; columns: to, in the order Idle, Active, Suspended, Expired, Ready.
        let order = [Idle, Active, Suspended, Expired, Ready];
        #[rustfmt::skip]
        let matrix = [
            /* Idle      */ [false, true,  true,  true,  true ],
            /* Active    */ [false, false, true,  true,  false],
            /* Suspended */ [false, true,  false, true,  false],
            /* Expired   */ [false, false, false, false, false],
            /* Ready     */ [false, true,  true,  true,  false],
        ];
        for (from, row) in order.iter().zip(matrix) {
            for (to, allowed) in order.iter().zip(row) {
                let got = check_transition(*from, *to);
                assert_eq!(got.is_ok(), allowed, "{from:?} → {to:?}");
            }
        }
        assert_eq!(
            check_transition(Expired, Active).unwrap_err().to_string(),
            "a policy that is expired cannot become active"
        );
    }

    #[test]
    fn codes_round_trip() {
        for status in PolicyStatus::ALL {
            assert_eq!(PolicyStatus::from_name(status.name()), Some(*status));
            assert_eq!(
                PolicyStatus::from_openimis(status.openimis_code()),
                Some(*status)
            );
        }
        assert_eq!(Stage::from_code("R"), Some(Stage::Renewal));
        assert_eq!(Stage::New.code(), "N");
    }

    proptest! {
        #[test]
        fn nothing_leaves_expired_and_nothing_stays(
            from in proptest::sample::select(PolicyStatus::ALL),
            to in proptest::sample::select(PolicyStatus::ALL),
        ) {
            if from == PolicyStatus::Expired || from == to {
                prop_assert!(check_transition(from, to).is_err());
            }
            if to == PolicyStatus::Idle {
                prop_assert!(check_transition(from, to).is_err());
            }
        }
    }
}
