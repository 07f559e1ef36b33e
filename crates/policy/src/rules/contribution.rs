//! What a payment (a contribution) does to a policy (spec §6.2).
//!
//! Bima's rule joins openIMIS's two variants: a payment activates an idle policy when it
//! completes the value (or the cashier enforces activation on a partial payment), on or before
//! the last date for payment (§6.3), within the product's number of instalments. A payment never
//! takes more than the balance still due, and photo fees never count toward the value.

use crate::rules::PolicyStatus;
use serde::{Deserialize, Serialize};
use time::Date;

/// What "paid" means for the scheme (openIMIS's `activation_option`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActivationOption {
    /// The contribution itself activates the policy: paid → active.
    Contribution,
    /// The contribution must first be matched with a payment: paid → ready.
    Payment,
}

/// What a partial payment does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Shortfall {
    /// Record it and wait for the rest.
    #[default]
    Wait,
    /// Activate the policy now, the rest still due.
    Enforce,
}

/// The money side of a policy before the payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyMoney {
    pub status: PolicyStatus,
    /// What the family owes (the policy value).
    pub value: i64,
    /// Valid contributions so far, photo fees left out.
    pub paid: i64,
    /// How many such contributions.
    pub installments: i64,
    pub enroll: Date,
    pub start: Date,
    pub last_payment_date: Date,
    /// The product's most instalments; none or 0 = no limit.
    pub max_installments: Option<i64>,
}

/// One payment as the cashier enters it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Payment {
    pub amount: i64,
    pub pay_date: Date,
    pub is_photo_fee: bool,
    pub shortfall: Shortfall,
}

/// The policy after an accepted payment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Outcome {
    pub status: PolicyStatus,
    /// Set only when this payment activates the policy: the day its coverage starts (for a
    /// ready policy, once the payment is matched).
    pub effective_date: Option<Date>,
    /// Contributions counted toward the value, this one included (photo fees left out).
    pub paid: i64,
    /// Still due, never negative.
    pub balance: i64,
    /// Did this payment activate the policy (to active or ready)?
    pub activated: bool,
    /// What happened, in words.
    pub explanation: String,
}

/// Why a payment is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ContributionError {
    #[error("the amount paid must be more than zero")]
    NotPositive,
    #[error("the payment date is before the policy's enrolment date {enroll}")]
    BeforeEnrolment { enroll: Date },
    #[error("the payment is more than the {} still due on this policy", money(.balance))]
    Overpays { balance: i64 },
    #[error("a policy that is {} cannot take payments", .status.name())]
    NotPayable { status: PolicyStatus },
}

/// Minor units written as a decimal amount with two places (123456 → "1234.56").
pub(crate) fn money(minor: &i64) -> String {
    let sign = if *minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Apply one payment to a policy.
///
/// - Refused: an amount of zero or less; a payment dated before the enrolment; a policy that is
///   expired or suspended; a payment larger than the balance still due.
/// - A photo fee is recorded and changes nothing else.
/// - On an idle policy, a payment that completes the value, or a partial one the cashier enforces,
///   activates the policy if it is paid by the last date for payment and is not beyond the
///   product's number of instalments: the policy takes effect on the later of the payment date
///   and its start, and becomes active (option "contribution") or ready (option "payment").
///   Paid in full but too late or in too many instalments, it stays idle and the explanation
///   says why; a partial payment that waits leaves it idle with the balance still due.
/// - On an active or ready policy a payment is recorded as long as it does not overpay.
pub fn apply(
    policy: &PolicyMoney,
    payment: &Payment,
    option: ActivationOption,
) -> Result<Outcome, ContributionError> {
    if payment.amount <= 0 {
        return Err(ContributionError::NotPositive);
    }
    if payment.pay_date < policy.enroll {
        return Err(ContributionError::BeforeEnrolment {
            enroll: policy.enroll,
        });
    }
    if matches!(
        policy.status,
        PolicyStatus::Expired | PolicyStatus::Suspended
    ) {
        return Err(ContributionError::NotPayable {
            status: policy.status,
        });
    }
    let due = policy.value.saturating_sub(policy.paid);
    if payment.is_photo_fee {
        return Ok(Outcome {
            status: policy.status,
            effective_date: None,
            paid: policy.paid,
            balance: due.max(0),
            activated: false,
            explanation: "photo fee recorded; it does not count toward the policy value".into(),
        });
    }
    if payment.amount > due {
        return Err(ContributionError::Overpays {
            balance: due.max(0),
        });
    }
    let paid = policy.paid.saturating_add(payment.amount);
    let balance = policy.value.saturating_sub(paid).max(0);
    let stays = |explanation: String| Outcome {
        status: policy.status,
        effective_date: None,
        paid,
        balance,
        activated: false,
        explanation,
    };
    if policy.status != PolicyStatus::Idle {
        return Ok(stays(format!(
            "payment recorded; the policy is already {}",
            policy.status.name()
        )));
    }
    let in_full = balance == 0;
    if !in_full && payment.shortfall == Shortfall::Wait {
        return Ok(stays(format!(
            "partial payment recorded: {} still due before the policy can be activated",
            money(&balance)
        )));
    }

    let mut obstacles = Vec::new();
    if payment.pay_date > policy.last_payment_date {
        obstacles.push(format!(
            "paid after the last date for payment {}",
            policy.last_payment_date
        ));
    }
    let instalment = policy.installments.saturating_add(1);
    if let Some(max) = policy.max_installments.filter(|&max| max > 0)
        && instalment > max
    {
        obstacles.push(format!(
            "this is instalment {instalment}, the product allows at most {max}"
        ));
    }
    if !obstacles.is_empty() {
        let what = if in_full {
            "paid in full"
        } else {
            "partial payment recorded"
        };
        return Ok(stays(format!(
            "{what}, but the policy stays idle: {}",
            obstacles.join(" and ")
        )));
    }

    let effective = payment.pay_date.max(policy.start);
    let status = match option {
        ActivationOption::Contribution => PolicyStatus::Active,
        ActivationOption::Payment => PolicyStatus::Ready,
    };
    let how = if in_full {
        "paid in full".to_string()
    } else {
        format!("activation enforced with {} still due", money(&balance))
    };
    let explanation = match status {
        PolicyStatus::Ready => format!(
            "{how}: the policy is ready and takes effect on {effective} once the payment is matched"
        ),
        _ => format!("{how}: the policy is active from {effective}"),
    };
    Ok(Outcome {
        status,
        effective_date: Some(effective),
        paid,
        balance,
        activated: true,
        explanation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::any_date;
    use ActivationOption::{Contribution, Payment as ByPayment};
    use PolicyStatus::*;
    use Shortfall::{Enforce, Wait};
    use proptest::prelude::*;
    use time::macros::date;

    /// Idle, value 1000.00, 400.00 paid in one instalment; enrolled 2026-01-10, starts
    /// 2026-02-01, to be paid by 2026-03-31, at most 3 instalments.
    fn policy() -> PolicyMoney {
        PolicyMoney {
            status: Idle,
            value: 100_000,
            paid: 40_000,
            installments: 1,
            enroll: date!(2026 - 01 - 10),
            start: date!(2026 - 02 - 01),
            last_payment_date: date!(2026 - 03 - 31),
            max_installments: Some(3),
        }
    }

    fn pay(amount: i64, pay_date: Date) -> Payment {
        Payment {
            amount,
            pay_date,
            is_photo_fee: false,
            shortfall: Wait,
        }
    }

    #[test]
    fn refusals() {
        let on_time = date!(2026 - 02 - 10);
        let suspended = PolicyMoney {
            status: Suspended,
            ..policy()
        };
        let expired = PolicyMoney {
            status: Expired,
            ..policy()
        };
        let active_paid = PolicyMoney {
            status: Active,
            paid: 100_000,
            ..policy()
        };
        #[rustfmt::skip]
        let cases = [
            ("zero", policy(), pay(0, on_time), ContributionError::NotPositive),
            ("negative", policy(), pay(-5, on_time), ContributionError::NotPositive),
            ("before enrolment", policy(), pay(100, date!(2026 - 01 - 09)), ContributionError::BeforeEnrolment { enroll: date!(2026 - 01 - 10) }),
            ("suspended", suspended, pay(100, on_time), ContributionError::NotPayable { status: Suspended }),
            ("expired", expired, pay(100, on_time), ContributionError::NotPayable { status: Expired }),
            ("suspended photo fee", suspended, Payment { is_photo_fee: true, ..pay(100, on_time) }, ContributionError::NotPayable { status: Suspended }),
            ("overpays", policy(), pay(60_001, on_time), ContributionError::Overpays { balance: 60_000 }),
            ("active and paid", active_paid, pay(1, on_time), ContributionError::Overpays { balance: 0 }),
            ("overpaid already", PolicyMoney { paid: 120_000, ..policy() }, pay(1, on_time), ContributionError::Overpays { balance: 0 }),
        ];
        for (name, policy, payment, want) in cases {
            assert_eq!(apply(&policy, &payment, Contribution), Err(want), "{name}");
        }
    }

    #[test]
    fn error_messages_speak_to_a_cashier() {
        assert_eq!(
            ContributionError::Overpays { balance: 60_050 }.to_string(),
            "the payment is more than the 600.50 still due on this policy"
        );
        assert_eq!(
            ContributionError::NotPayable { status: Suspended }.to_string(),
            "a policy that is suspended cannot take payments"
        );
        assert_eq!(
            ContributionError::BeforeEnrolment {
                enroll: date!(2026 - 01 - 10)
            }
            .to_string(),
            "the payment date is before the policy's enrolment date 2026-01-10"
        );
        assert_eq!(money(&-5), "-0.05");
        assert_eq!(money(&i64::MIN), "-92233720368547758.08");
    }

    #[test]
    fn photo_fee_changes_nothing() {
        let photo = Payment {
            is_photo_fee: true,
            ..pay(500_000, date!(2026 - 02 - 10))
        };
        let out = apply(&policy(), &photo, Contribution).unwrap();
        assert_eq!(
            (out.status, out.paid, out.balance, out.activated),
            (Idle, 40_000, 60_000, false)
        );
        assert_eq!(out.effective_date, None);
        assert!(out.explanation.contains("photo fee"), "{}", out.explanation);
    }

    /// (name, policy, payment, option) → (status, effective, paid, balance, activated, words).
    type Case = (
        &'static str,
        PolicyMoney,
        Payment,
        ActivationOption,
        (PolicyStatus, Option<Date>, i64, i64, bool, &'static str),
    );

    #[test]
    fn outcomes_table() {
        let enforce = |amount, day| Payment {
            shortfall: Enforce,
            ..pay(amount, day)
        };
        let too_many = PolicyMoney {
            installments: 3,
            ..policy()
        };
        let unlimited = PolicyMoney {
            installments: 9,
            max_installments: Some(0),
            ..policy()
        };
        let enforced_active = PolicyMoney {
            status: Active,
            ..policy()
        };
        let ready = PolicyMoney {
            status: Ready,
            ..policy()
        };
        #[rustfmt::skip]
        let cases: &[Case] = &[
            ("in full before the start: effective at the start", policy(), pay(60_000, date!(2026 - 01 - 20)), Contribution,
             (Active, Some(date!(2026 - 02 - 01)), 100_000, 0, true, "active from 2026-02-01")),
            ("in full after the start: effective on the pay date", policy(), pay(60_000, date!(2026 - 02 - 10)), Contribution,
             (Active, Some(date!(2026 - 02 - 10)), 100_000, 0, true, "active from 2026-02-10")),
            ("in full on the last date", policy(), pay(60_000, date!(2026 - 03 - 31)), Contribution,
             (Active, Some(date!(2026 - 03 - 31)), 100_000, 0, true, "paid in full")),
            ("option payment: ready", policy(), pay(60_000, date!(2026 - 02 - 10)), ByPayment,
             (Ready, Some(date!(2026 - 02 - 10)), 100_000, 0, true, "ready")),
            ("in full but late", policy(), pay(60_000, date!(2026 - 04 - 01)), Contribution,
             (Idle, None, 100_000, 0, false, "paid after the last date for payment 2026-03-31")),
            ("in full but one instalment too many", too_many, pay(60_000, date!(2026 - 02 - 10)), Contribution,
             (Idle, None, 100_000, 0, false, "instalment 4, the product allows at most 3")),
            ("late and too many", too_many, pay(60_000, date!(2026 - 04 - 01)), Contribution,
             (Idle, None, 100_000, 0, false, "2026-03-31 and this is instalment 4")),
            ("no instalment limit", unlimited, pay(60_000, date!(2026 - 02 - 10)), Contribution,
             (Active, Some(date!(2026 - 02 - 10)), 100_000, 0, true, "paid in full")),
            ("partial, waits", policy(), pay(10_000, date!(2026 - 02 - 10)), Contribution,
             (Idle, None, 50_000, 50_000, false, "500.00 still due")),
            ("partial, enforced", policy(), enforce(10_000, date!(2026 - 01 - 20)), Contribution,
             (Active, Some(date!(2026 - 02 - 01)), 50_000, 50_000, true, "enforced with 500.00 still due")),
            ("partial, enforced, ready", policy(), enforce(10_000, date!(2026 - 02 - 10)), ByPayment,
             (Ready, Some(date!(2026 - 02 - 10)), 50_000, 50_000, true, "ready")),
            ("partial, enforced but late", policy(), enforce(10_000, date!(2026 - 04 - 01)), Contribution,
             (Idle, None, 50_000, 50_000, false, "partial payment recorded, but the policy stays idle")),
            ("active with a balance takes the rest", enforced_active, pay(60_000, date!(2026 - 04 - 10)), Contribution,
             (Active, None, 100_000, 0, false, "already active")),
            ("ready takes a top-up", ready, pay(10_000, date!(2026 - 02 - 10)), Contribution,
             (Ready, None, 50_000, 50_000, false, "already ready")),
        ];
        for (name, policy, payment, option, (status, effective, paid, balance, activated, words)) in
            cases
        {
            let out = apply(policy, payment, *option).unwrap();
            assert_eq!(out.status, *status, "{name}");
            assert_eq!(out.effective_date, *effective, "{name}");
            assert_eq!(
                (out.paid, out.balance, out.activated),
                (*paid, *balance, *activated),
                "{name}"
            );
            assert!(
                out.explanation.contains(words),
                "{name}: {}",
                out.explanation
            );
        }
    }

    fn any_status() -> impl Strategy<Value = PolicyStatus> {
        proptest::sample::select(PolicyStatus::ALL)
    }

    proptest! {
        #[test]
        fn never_paid_beyond_value(
            status in any_status(),
            value in prop_oneof![any::<i64>(), 0i64..1_000_000],
            paid in prop_oneof![any::<i64>(), 0i64..1_000_000],
            installments in prop_oneof![any::<i64>(), 0i64..5],
            max_installments in proptest::option::of(prop_oneof![any::<i64>(), 0i64..5]),
            (enroll, start, last, pay_date) in (any_date(), any_date(), any_date(), any_date()),
            amount in prop_oneof![any::<i64>(), 1i64..1_000_000],
            enforce in any::<bool>(),
            by_payment in any::<bool>(),
        ) {
            let policy = PolicyMoney { status, value, paid, installments, enroll, start, last_payment_date: last, max_installments };
            let payment = Payment { amount, pay_date, is_photo_fee: false, shortfall: if enforce { Enforce } else { Wait } };
            let option = if by_payment { ByPayment } else { Contribution };
            if let Ok(out) = apply(&policy, &payment, option) {
                prop_assert!(out.paid <= value);
                prop_assert!(out.balance >= 0);
                prop_assert_eq!(out.activated, out.status != status);
                if out.activated {
                    prop_assert_eq!(status, Idle);
                    prop_assert!(pay_date <= last);
                    prop_assert_eq!(out.effective_date, Some(pay_date.max(start)));
                } else {
                    prop_assert_eq!(out.effective_date, None);
                }
            }
        }
    }
}
