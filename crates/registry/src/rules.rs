//! Pure rules of the registry: insurance numbers, field checks, statuses, photos, name keys.

use crate::config::Config;
use crate::model::*;
use kernel::Checks;
use time::Date;

/// Why a new insurance number is refused (openIMIS `validate_insuree_number` codes 2–4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberProblem {
    Empty,
    WrongLength { want: usize, got: usize },
    NotDigits,
    BadCheckDigit,
}

impl NumberProblem {
    pub fn code(&self) -> &'static str {
        match self {
            NumberProblem::Empty => "required",
            NumberProblem::WrongLength { .. } => "wrong_length",
            NumberProblem::NotDigits => "not_digits",
            NumberProblem::BadCheckDigit => "bad_check_digit",
        }
    }

    pub fn message(&self, number: &str) -> String {
        match self {
            NumberProblem::Empty => "the insurance number is required".into(),
            NumberProblem::WrongLength { want, got } => {
                format!("the insurance number {number} has {got} characters; it must have {want}")
            }
            NumberProblem::NotDigits => {
                format!("the insurance number {number} must be made of digits only")
            }
            NumberProblem::BadCheckDigit => format!(
                "the insurance number {number} is not valid: its last digit does not match (check digit)"
            ),
        }
    }
}

/// Longest insurance number stored.
pub const CHFID_MAX: usize = 50;

/// Check a new insurance number against the scheme's settings. Imported numbers skip this.
pub fn check_insuree_number(number: &str, config: &Config) -> Result<(), NumberProblem> {
    let number = number.trim();
    if number.is_empty() {
        return Err(NumberProblem::Empty);
    }
    let len = number.chars().count();
    match config.insuree_number_length {
        Some(want) if want != len => return Err(NumberProblem::WrongLength { want, got: len }),
        None if len > CHFID_MAX => {
            return Err(NumberProblem::WrongLength {
                want: CHFID_MAX,
                got: len,
            });
        }
        _ => {}
    }
    let Some(root) = config.insuree_number_modulo_root else {
        return Ok(());
    };
    if !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NumberProblem::NotDigits);
    }
    let ok = if root == 10 {
        luhn_valid(number)
    } else {
        modulo_valid(number, root)
    };
    if ok {
        Ok(())
    } else {
        Err(NumberProblem::BadCheckDigit)
    }
}

/// The Luhn check over a string of digits (the last one is the check digit).
pub fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

/// `int(number[..-1]) % root == last digit` (openIMIS's modulo check), on digits of any length.
pub fn modulo_valid(digits: &str, root: u32) -> bool {
    if digits.len() < 2 || root == 0 {
        return false;
    }
    let (body, last) = digits.split_at(digits.len() - 1);
    let rest = body.bytes().fold(0u64, |acc, b| {
        (acc * 10 + u64::from(b - b'0')) % u64::from(root)
    });
    rest == u64::from(last.as_bytes()[0] - b'0')
}

/// Field checks of a family that need no database.
pub fn check_family(input: &FamilyInput, checks: &mut Checks) {
    checks.optional("address", input.address.as_deref(), 200);
    checks.optional("ethnicity", input.ethnicity.as_deref(), 1);
    checks.optional("confirmation_no", input.confirmation_no.as_deref(), 12);
}

fn check_code(checks: &mut Checks, field: &str, value: Option<i16>, max: i16, what: &str) {
    if let Some(v) = value
        && !(1..=max).contains(&v)
    {
        checks.push(
            field,
            "not_allowed",
            format!("{field} must be a {what} code from 1 to {max}; got {v}"),
        );
    }
}

/// Field checks of an insuree that need no database. `today` bounds the birth and status dates;
/// `prefix` names the fields of a nested insuree (`head.`).
pub fn check_insuree(input: &InsureeInput, today: Date, prefix: &str, checks: &mut Checks) {
    let f = |name: &str| format!("{prefix}{name}");
    checks.required(&f("last_name"), &input.last_name, 100);
    checks.required(&f("other_names"), &input.other_names, 100);
    if input.dob > today {
        checks.push(
            f("dob"),
            "in_future",
            "the date of birth cannot be in the future",
        );
    }
    check_code(
        checks,
        &f("relationship"),
        input.relationship,
        8,
        "relationship",
    );
    check_code(checks, &f("profession"), input.profession, 4, "profession");
    check_code(checks, &f("education"), input.education, 7, "education");
    checks.optional(&f("passport"), input.passport.as_deref(), 25);
    checks.optional(&f("phone"), input.phone.as_deref(), 50);
    if let Some(email) = checks.optional(&f("email"), input.email.as_deref(), 100)
        && !email.contains('@')
    {
        checks.push(
            f("email"),
            "invalid_email",
            "email must be an e-mail address",
        );
    }
    checks.optional(&f("current_address"), input.current_address.as_deref(), 200);
    checks.optional(&f("geolocation"), input.geolocation.as_deref(), 250);
    check_status(
        input.status.unwrap_or(InsureeStatus::Active),
        input.status_date,
        input.status_reason.as_deref(),
        today,
        prefix,
        checks,
    );
}

/// An inactive or dead insuree needs the date and the reason; an active one has neither.
pub fn check_status(
    status: InsureeStatus,
    date: Option<Date>,
    reason: Option<&str>,
    today: Date,
    prefix: &str,
    checks: &mut Checks,
) {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    match status {
        InsureeStatus::Active => {
            if date.is_some() {
                checks.push(
                    format!("{prefix}status_date"),
                    "not_allowed",
                    "an active insuree has no status date",
                );
            }
            if reason.is_some() {
                checks.push(
                    format!("{prefix}status_reason"),
                    "not_allowed",
                    "an active insuree has no status reason",
                );
            }
        }
        InsureeStatus::Inactive | InsureeStatus::Dead => {
            match date {
                None => checks.push(
                    format!("{prefix}status_date"),
                    "required",
                    format!("say since when the insuree is {}", status.code()),
                ),
                Some(d) if d > today => checks.push(
                    format!("{prefix}status_date"),
                    "in_future",
                    "the status date cannot be in the future",
                ),
                _ => {}
            }
            match reason {
                None => checks.push(
                    format!("{prefix}status_reason"),
                    "required",
                    format!("say why the insuree is {}", status.code()),
                ),
                Some(r) if r.chars().count() > 5 => checks.push(
                    format!("{prefix}status_reason"),
                    "too_long",
                    "status_reason is a code of at most 5 characters",
                ),
                _ => {}
            }
        }
    }
}

/// Why a member cannot be moved to another family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveProblem {
    SameFamily,
    HeadOfFamily,
}

/// A member may move to another family; the head only once another head is named.
pub fn check_move(
    from: Option<uuid::Uuid>,
    to: uuid::Uuid,
    is_head: bool,
) -> Result<(), MoveProblem> {
    if from == Some(to) {
        Err(MoveProblem::SameFamily)
    } else if is_head && from.is_some() {
        Err(MoveProblem::HeadOfFamily)
    } else {
        Ok(())
    }
}

/// What kind of image these bytes are, by their signature (the header a client sends may lie).
pub fn image_kind(bytes: &[u8]) -> Option<ImageKind> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageKind::Jpeg)
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(ImageKind::Png)
    } else {
        None
    }
}

/// The searchable form of a name: trimmed and lower case.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// The smallest string greater than every string starting with `prefix` (for a range scan
/// `key >= prefix AND key < upper`); `None` when there is none (then `key >= prefix` suffices).
pub fn prefix_upper(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        // Skip the surrogate gap; char::MAX has no successor.
        let next = match last as u32 {
            0xD7FF => Some('\u{E000}'),
            n => char::from_u32(n + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn config(length: Option<usize>, root: Option<u32>) -> Config {
        Config {
            insuree_number_length: length,
            insuree_number_modulo_root: root,
            ..Config::default()
        }
    }

    #[test]
    fn insurance_numbers_table() {
        type Case = (
            &'static str,
            Option<usize>,
            Option<u32>,
            Result<(), NumberProblem>,
        );
        let cases: &[Case] = &[
            ("070707070", None, None, Ok(())),
            ("", None, None, Err(NumberProblem::Empty)),
            ("   ", Some(9), None, Err(NumberProblem::Empty)),
            (
                "12345",
                Some(9),
                None,
                Err(NumberProblem::WrongLength { want: 9, got: 5 }),
            ),
            ("79927398713", None, Some(10), Ok(())),
            (
                "79927398710",
                None,
                Some(10),
                Err(NumberProblem::BadCheckDigit),
            ),
            ("12A", None, Some(7), Err(NumberProblem::NotDigits)),
            // 070707070: 07070707 % 7 = 0 → last digit 0.
            ("070707070", Some(9), Some(7), Ok(())),
            (
                "070707071",
                Some(9),
                Some(7),
                Err(NumberProblem::BadCheckDigit),
            ),
            // 111111119: 11111111 % 9 = 8 ≠ 9.
            (
                "111111119",
                None,
                Some(9),
                Err(NumberProblem::BadCheckDigit),
            ),
            ("1", None, Some(7), Err(NumberProblem::BadCheckDigit)),
        ];
        for (number, length, root, want) in cases {
            assert_eq!(
                &check_insuree_number(number, &config(*length, *root)),
                want,
                "{number} {length:?} {root:?}"
            );
        }
        assert_eq!(
            check_insuree_number(&"1".repeat(51), &config(None, None)),
            Err(NumberProblem::WrongLength { want: 50, got: 51 })
        );
    }

    fn insuree() -> InsureeInput {
        InsureeInput {
            family_id: None,
            chfid: "070707070".into(),
            last_name: "Macintyre".into(),
            other_names: "Joseph".into(),
            gender: Gender::Male,
            dob: date!(1950 - 07 - 12),
            marital: None,
            relationship: None,
            profession: None,
            education: None,
            passport: None,
            type_of_id: None,
            phone: None,
            email: None,
            current_address: None,
            geolocation: None,
            current_village_id: None,
            health_facility_id: None,
            card_issued: false,
            status: None,
            status_date: None,
            status_reason: None,
            is_offline: false,
            version: None,
        }
    }

    fn fields(input: &InsureeInput, today: Date) -> Vec<(String, String)> {
        let mut c = Checks::new();
        check_insuree(input, today, "head.", &mut c);
        match c.finish() {
            Ok(()) => Vec::new(),
            Err(kernel::Error::Invalid(f)) => f.into_iter().map(|f| (f.field, f.code)).collect(),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn insuree_fields_are_checked_together() {
        let today = date!(2026 - 11 - 25);
        assert!(fields(&insuree(), today).is_empty());
        let mut bad = insuree();
        bad.last_name = " ".into();
        bad.dob = date!(2026 - 11 - 26);
        bad.relationship = Some(9);
        bad.profession = Some(0);
        bad.education = Some(8);
        bad.email = Some("nobody".into());
        bad.passport = Some("x".repeat(26));
        bad.status = Some(InsureeStatus::Dead);
        let got = fields(&bad, today);
        let want: Vec<(String, String)> = [
            ("head.last_name", "required"),
            ("head.dob", "in_future"),
            ("head.relationship", "not_allowed"),
            ("head.profession", "not_allowed"),
            ("head.education", "not_allowed"),
            ("head.passport", "too_long"),
            ("head.email", "invalid_email"),
            ("head.status_date", "required"),
            ("head.status_reason", "required"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(got, want);
        let mut born_today = insuree();
        born_today.dob = today;
        assert!(fields(&born_today, today).is_empty());
        let mut active_with_reason = insuree();
        active_with_reason.status_reason = Some("X".into());
        assert_eq!(
            fields(&active_with_reason, today)[0].0,
            "head.status_reason"
        );
    }

    #[test]
    fn heads_move_only_after_a_new_head_is_named() {
        let (a, b) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        assert_eq!(check_move(Some(a), b, false), Ok(()));
        assert_eq!(check_move(Some(a), b, true), Err(MoveProblem::HeadOfFamily));
        assert_eq!(check_move(Some(a), a, false), Err(MoveProblem::SameFamily));
        assert_eq!(check_move(None, b, false), Ok(()));
    }

    #[test]
    fn images_are_recognised_by_their_bytes() {
        assert_eq!(
            image_kind(&[0xFF, 0xD8, 0xFF, 0xE0, 0]),
            Some(ImageKind::Jpeg)
        );
        assert_eq!(image_kind(b"\x89PNG\r\n\x1a\n...."), Some(ImageKind::Png));
        assert_eq!(image_kind(b"GIF89a"), None);
        assert_eq!(image_kind(b""), None);
    }

    #[test]
    fn prefix_bounds() {
        assert_eq!(prefix_upper("mac").as_deref(), Some("mad"));
        assert_eq!(prefix_upper("az").as_deref(), Some("a{"));
        assert_eq!(prefix_upper(""), None);
        assert_eq!(prefix_upper("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_upper("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(name_key("  MacIntyre "), "macintyre");
    }

    proptest! {
        #[test]
        fn every_extension_of_a_prefix_falls_in_its_range(prefix in "\\PC{0,6}", rest in "\\PC{0,6}") {
            let key = format!("{prefix}{rest}");
            prop_assert!(key.as_str() >= prefix.as_str());
            if let Some(upper) = prefix_upper(&prefix) {
                prop_assert!(key < upper);
            }
        }

        #[test]
        fn strings_outside_the_prefix_fall_outside_its_range(prefix in "[a-z]{1,4}", other in "[a-z]{1,6}") {
            prop_assume!(!other.starts_with(&prefix));
            let upper = prefix_upper(&prefix).unwrap();
            prop_assert!(!(other.as_str() >= prefix.as_str() && other < upper));
        }

        #[test]
        fn a_luhn_check_digit_can_always_be_appended(body in "[0-9]{1,15}") {
            let valid: Vec<u8> = (0..10u8)
                .filter(|d| luhn_valid(&format!("{body}{d}")))
                .collect();
            prop_assert_eq!(valid.len(), 1);
        }

        #[test]
        fn the_modulo_check_matches_integer_arithmetic(body in 0u64..1_000_000_000_000, root in 2u32..10) {
            let check = body % u64::from(root);
            let number = format!("{body}{check}");
            prop_assert!(modulo_valid(&number, root));
            let wrong = format!("{body}{}", (check + 1) % 10);
            prop_assert_eq!(modulo_valid(&wrong, root), (check + 1) % 10 == check);
        }
    }
}
