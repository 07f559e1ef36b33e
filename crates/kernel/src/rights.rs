//! openIMIS's six-digit right codes (spec/health-insurance.md §1.3). Mobile apps, reports and the
//! FHIR module depend on the numbers, so they are kept exactly.

use serde::{Deserialize, Serialize};

/// One right, by its openIMIS number.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(transparent)]
pub struct Right(pub u32);

impl Right {
    pub const FAMILY_SEARCH: Right = Right(101001);
    pub const INSUREE_SEARCH: Right = Right(101101);
    pub const HF_SEARCH: Right = Right(121101);
    pub const HF_ADD: Right = Right(121102);
    pub const HF_EDIT: Right = Right(121103);
    pub const HF_DELETE: Right = Right(121104);
    pub const USER_SEARCH: Right = Right(121701);
    pub const USER_ADD: Right = Right(121702);
    pub const USER_EDIT: Right = Right(121703);
    pub const USER_DELETE: Right = Right(121704);
    pub const LOCATION_SEARCH: Right = Right(121901);
    pub const LOCATION_ADD: Right = Right(121902);
    pub const LOCATION_EDIT: Right = Right(121903);
    pub const LOCATION_DELETE: Right = Right(121904);
    pub const LOCATION_MOVE: Right = Right(121905);
    pub const REGION_ADD: Right = Right(121906);
    pub const ROLE_SEARCH: Right = Right(122001);
    pub const ROLE_ADD: Right = Right(122002);
    pub const ROLE_EDIT: Right = Right(122003);
    pub const ROLE_DELETE: Right = Right(122004);
    pub const USER_ACTIVITY: Right = Right(131207);

    /// The right's name, if openIMIS defines it.
    pub fn name(self) -> Option<&'static str> {
        CATALOGUE
            .binary_search_by_key(&self.0, |(code, _)| *code)
            .ok()
            .map(|i| CATALOGUE[i].1)
    }

    pub fn is_known(self) -> bool {
        self.name().is_some()
    }
}

/// Every right openIMIS defines, sorted by number.
pub const CATALOGUE: &[(u32, &str)] = &[
    (101001, "Family: search"),
    (101002, "Family: add"),
    (101003, "Family: edit"),
    (101004, "Family: delete"),
    (101101, "Insuree: search"),
    (101102, "Insuree: add"),
    (101103, "Insuree: edit"),
    (101104, "Insuree: delete"),
    (101105, "Insuree: enquire"),
    (101201, "Policy: search"),
    (101202, "Policy: add"),
    (101203, "Policy: edit"),
    (101204, "Policy: delete"),
    (101205, "Policy: renew"),
    (101301, "Contribution: search"),
    (101302, "Contribution: add"),
    (101303, "Contribution: edit"),
    (101304, "Contribution: delete"),
    (101401, "Payment: search"),
    (101402, "Payment: add"),
    (101403, "Payment: edit"),
    (101404, "Payment: delete"),
    (101500, "Insuree policy: search"),
    (111001, "Claim: search"),
    (111002, "Claim: add"),
    (111003, "Claim: edit"),
    (111004, "Claim: delete"),
    (111005, "Claim: load"),
    (111006, "Claim: print"),
    (111007, "Claim: submit"),
    (111008, "Claim: review"),
    (111009, "Claim: feedback"),
    (111010, "Claim: update"),
    (111011, "Claim: process"),
    (111012, "Claim: restore"),
    (111101, "Batch run: process"),
    (111102, "Batch run: filter"),
    (111103, "Batch run: preview"),
    (121001, "Product: search"),
    (121002, "Product: add"),
    (121003, "Product: edit"),
    (121004, "Product: delete"),
    (121005, "Product: duplicate"),
    (121101, "Health facility: search"),
    (121102, "Health facility: add"),
    (121103, "Health facility: edit"),
    (121104, "Health facility: delete"),
    (121201, "Service price list: search"),
    (121202, "Service price list: add"),
    (121203, "Service price list: edit"),
    (121204, "Service price list: delete"),
    (121205, "Service price list: duplicate"),
    (121301, "Item price list: search"),
    (121302, "Item price list: add"),
    (121303, "Item price list: edit"),
    (121304, "Item price list: delete"),
    (121305, "Item price list: duplicate"),
    (121401, "Medical service: search"),
    (121402, "Medical service: add"),
    (121403, "Medical service: edit"),
    (121404, "Medical service: delete"),
    (121501, "Enrolment officer: search"),
    (121502, "Enrolment officer: add"),
    (121503, "Enrolment officer: edit"),
    (121504, "Enrolment officer: delete"),
    (121601, "Claim administrator: search"),
    (121602, "Claim administrator: add"),
    (121603, "Claim administrator: edit"),
    (121604, "Claim administrator: delete"),
    (121701, "User: search"),
    (121702, "User: add"),
    (121703, "User: edit"),
    (121704, "User: delete"),
    (121801, "Payer: search"),
    (121802, "Payer: add"),
    (121803, "Payer: edit"),
    (121804, "Payer: delete"),
    (121901, "Location: search"),
    (121902, "Location: add"),
    (121903, "Location: edit"),
    (121904, "Location: delete"),
    (121905, "Location: move"),
    (121906, "Location: add a region"),
    (122000, "Role: menu"),
    (122001, "Role: search"),
    (122002, "Role: add"),
    (122003, "Role: edit"),
    (122004, "Role: delete"),
    (122005, "Role: duplicate"),
    (122006, "Role: replace"),
    (122101, "Medical item: search"),
    (122102, "Medical item: add"),
    (122103, "Medical item: edit"),
    (122104, "Medical item: delete"),
    (131000, "Registers: menu"),
    (131001, "Registers: diagnoses upload"),
    (131002, "Registers: diagnoses download"),
    (131003, "Registers: health facilities upload"),
    (131004, "Registers: health facilities download"),
    (131005, "Registers: locations upload"),
    (131006, "Registers: locations download"),
    (131007, "Registers: items upload"),
    (131008, "Registers: items download"),
    (131009, "Registers: services upload"),
    (131010, "Registers: services download"),
    (131101, "Extracts: offline phone extract"),
    (131102, "Extracts: offline extract"),
    (131103, "Extracts: offline import"),
    (131104, "Extracts: claims import"),
    (131105, "Extracts: enrolments import"),
    (131106, "Extracts: feedback import"),
    (131200, "Reports: menu"),
    (131201, "Report: primary operational indicators, policies"),
    (131202, "Report: primary operational indicators, claims"),
    (131203, "Report: derived operational indicators"),
    (131204, "Report: contribution collection"),
    (131205, "Report: product sales"),
    (131206, "Report: contribution distribution"),
    (131207, "Report: user activity"),
    (131208, "Report: enrolment performance indicators"),
    (131209, "Report: status of registers"),
    (131210, "Report: insurees without photos"),
    (131211, "Report: payment category overview"),
    (131212, "Report: matching funds"),
    (131213, "Report: claims overview"),
    (131214, "Report: percentage of referrals"),
    (131215, "Report: families and insurees overview"),
    (131216, "Report: pending insurees"),
    (131217, "Report: renewals"),
    (131218, "Report: capitation payment"),
    (131219, "Report: rejected photos"),
    (131220, "Report: contribution payment"),
    (131221, "Report: control number assignment"),
    (131222, "Report: overview of commissions"),
    (131223, "Report: claim history"),
    (131224, "Reports: edit"),
    (131225, "Reports: add"),
    (131226, "Reports: delete"),
    (131301, "Utilities: database backup"),
    (131302, "Utilities: database restore"),
    (131303, "Utilities: executable update"),
    (131304, "Utilities: email settings"),
    (131401, "Funding: add"),
];

/// The openIMIS system roles, by their `IsSystem` bitmask.
pub mod system_role {
    pub const ENROLMENT_OFFICER: i64 = 1;
    pub const MANAGER: i64 = 2;
    pub const ACCOUNTANT: i64 = 4;
    pub const CLERK: i64 = 8;
    pub const MEDICAL_OFFICER: i64 = 16;
    pub const SCHEME_ADMINISTRATOR: i64 = 32;
    pub const IMIS_ADMINISTRATOR: i64 = 64;
    pub const RECEPTIONIST: i64 = 128;
    pub const CLAIM_ADMINISTRATOR: i64 = 256;
    pub const CLAIM_CONTRIBUTOR: i64 = 512;
    pub const HF_ADMINISTRATOR: i64 = 524288;
    pub const OFFLINE_ADMINISTRATOR: i64 = 1048576;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_sorted_and_unique() {
        assert!(CATALOGUE.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn names_are_found() {
        assert_eq!(Right::LOCATION_ADD.name(), Some("Location: add"));
        assert_eq!(Right(999999).name(), None);
    }
}
