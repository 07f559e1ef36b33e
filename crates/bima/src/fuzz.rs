//! What the fuzzer drives (`fuzz/fuzz_targets/rest_json.rs`): a REST request body of any bytes,
//! read by the API's own extractor (`kernel::extract::parse_json`) as each kind of input the API
//! takes, and put through the pure checks that follow. A bad body must come back as a 400 or a
//! 422 naming the field; nothing may panic.

use kernel::Checks;
use kernel::extract::parse_json;

/// The first byte picks the kind of body, the rest is the body.
pub fn rest_body(data: &[u8]) {
    let Some((&kind, body)) = data.split_first() else {
        return;
    };
    macro_rules! parse {
        ($t:ty) => {
            parse_json::<$t>(body).ok()
        };
    }
    let mut checks = Checks::new();
    match kind % 30 {
        0 => {
            parse!(claim::model::ClaimInput);
        }
        1 => {
            parse!(claim::model::SubmitInput);
        }
        2 => {
            parse!(claim::model::SelectInput);
        }
        3 => {
            parse!(claim::model::DrawInput);
        }
        4 => {
            parse!(claim::model::ReviewInput);
        }
        5 => {
            parse!(claim::model::FeedbackRequestInput);
        }
        6 => {
            parse!(claim::model::FeedbackInput);
        }
        7 => {
            parse!(claim::model::BatchRunInput);
        }
        8 => {
            parse!(identity::model::UserInput);
        }
        9 => {
            parse!(identity::model::RoleInput);
        }
        10 => {
            parse!(identity::model::PasswordChange);
        }
        11 => {
            parse!(location::model::LocationInput);
        }
        12 => {
            if let Some(input) = parse!(location::model::HealthFacilityInput) {
                location::rules::check_facility(&input, &mut checks);
            }
        }
        13 => {
            if let Some(input) = parse!(medical::model::DiagnosisInput) {
                medical::rules::check_diagnosis(&input, &mut checks);
            }
        }
        14 => {
            if let Some(input) = parse!(medical::model::MedicalItemInput) {
                medical::rules::check_item(&input, &mut checks);
            }
        }
        15 => {
            if let Some(input) = parse!(medical::model::MedicalServiceInput) {
                medical::rules::check_service(&input, &mut checks);
            }
        }
        16 => {
            parse!(medical::model::ItemPriceListInput);
        }
        17 => {
            parse!(medical::model::ServicePriceListInput);
        }
        18 => {
            parse!(medical::model::DuplicateInput);
        }
        19 => {
            parse!(policy::model::PolicyInput);
        }
        20 => {
            parse!(policy::model::PolicyChange);
        }
        21 => {
            parse!(policy::model::StatusChange);
        }
        22 => {
            parse!(policy::model::RenewInput);
        }
        23 => {
            parse!(policy::model::PayerInput);
        }
        24 => {
            parse!(policy::model::ContributionInput);
        }
        25 => {
            if let Some(input) = parse!(product::model::ProductInput) {
                product::rules::check_product(&input, None, &mut checks);
            }
        }
        26 => {
            parse!(product::model::DuplicateInput);
        }
        27 => {
            if let Some(input) = parse!(registry::model::FamilyInput) {
                registry::rules::check_family(&input, &mut checks);
            }
        }
        28 => {
            parse!(registry::model::InsureeInput);
        }
        _ => {
            parse!(serde_json::Value);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn odd_bodies_are_refused_without_panicking() {
        let bodies = [
            "{}",
            "null",
            r#"{"code":"\u0000","name":"x"}"#,
            r#"{"price": 1e400, "qty": -9223372036854775808, "date_from": "2026-02-30"}"#,
            r#"{"claims": ["not-a-uuid", null, 1.5]}"#,
            r#"{"ceiling_interpretation":"I","date_from":"9999-12-31","date_to":"0000-01-01","code":"","name":""}"#,
            "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
        ];
        for kind in 0..30u8 {
            for body in bodies {
                let mut data = vec![kind];
                data.extend_from_slice(body.as_bytes());
                super::rest_body(&data);
            }
        }
    }
}
