//! The rejection reasons of openIMIS (spec §7.5), with their codes.

use serde::{Serialize, Serializer};

/// Why a claim line was accepted or rejected: openIMIS's reason codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Rejected by a medical officer at review.
    MedicalOfficer,
    Accepted,
    /// The item or service is no longer in the registers; at claim level: every line rejected.
    NotInRegisters,
    NotInPriceList,
    /// No product of the patient's policies covers it.
    NotCovered,
    PatientCategory,
    Frequency,
    /// The insuree was deleted, or has no coverage on the claim's dates.
    InvalidInsuree,
    /// The target date is invalid (the claim is dated before the visit).
    TargetDate,
    CareType,
    MaxHospitalizations,
    MaxVisits,
    MaxConsultations,
    MaxSurgeries,
    MaxDeliveries,
    /// The product's most units of the item or service per policy period.
    MaxQuantity,
    WaitingPeriod,
    MaxAntenatal,
    /// Claim level: no policy window covers the whole stay.
    NoCoverage,
}

impl Reason {
    pub const ALL: &'static [Reason] = &[
        Reason::MedicalOfficer,
        Reason::Accepted,
        Reason::NotInRegisters,
        Reason::NotInPriceList,
        Reason::NotCovered,
        Reason::PatientCategory,
        Reason::Frequency,
        Reason::InvalidInsuree,
        Reason::TargetDate,
        Reason::CareType,
        Reason::MaxHospitalizations,
        Reason::MaxVisits,
        Reason::MaxConsultations,
        Reason::MaxSurgeries,
        Reason::MaxDeliveries,
        Reason::MaxQuantity,
        Reason::WaitingPeriod,
        Reason::MaxAntenatal,
        Reason::NoCoverage,
    ];

    /// The openIMIS code.
    pub fn code(self) -> i16 {
        match self {
            Reason::MedicalOfficer => -1,
            Reason::Accepted => 0,
            Reason::NotInRegisters => 1,
            Reason::NotInPriceList => 2,
            Reason::NotCovered => 3,
            Reason::PatientCategory => 4,
            Reason::Frequency => 5,
            Reason::InvalidInsuree => 7,
            Reason::TargetDate => 9,
            Reason::CareType => 10,
            Reason::MaxHospitalizations => 11,
            Reason::MaxVisits => 12,
            Reason::MaxConsultations => 13,
            Reason::MaxSurgeries => 14,
            Reason::MaxDeliveries => 15,
            Reason::MaxQuantity => 16,
            Reason::WaitingPeriod => 17,
            Reason::MaxAntenatal => 19,
            Reason::NoCoverage => 21,
        }
    }

    pub fn from_code(code: i64) -> Option<Reason> {
        Reason::ALL
            .iter()
            .copied()
            .find(|r| i64::from(r.code()) == code)
    }

    /// The rule's name, as the API reports it next to the code.
    pub fn rule(self) -> &'static str {
        match self {
            Reason::MedicalOfficer => "medical_officer",
            Reason::Accepted => "accepted",
            Reason::NotInRegisters => "register",
            Reason::NotInPriceList => "price_list",
            Reason::NotCovered => "product_coverage",
            Reason::PatientCategory => "patient_category",
            Reason::Frequency => "frequency",
            Reason::InvalidInsuree => "insuree",
            Reason::TargetDate => "target_date",
            Reason::CareType => "care_type",
            Reason::MaxHospitalizations => "max_hospitalizations",
            Reason::MaxVisits => "max_visits",
            Reason::MaxConsultations => "max_consultations",
            Reason::MaxSurgeries => "max_surgeries",
            Reason::MaxDeliveries => "max_deliveries",
            Reason::MaxQuantity => "max_quantity",
            Reason::WaitingPeriod => "waiting_period",
            Reason::MaxAntenatal => "max_antenatal",
            Reason::NoCoverage => "no_coverage",
        }
    }

    pub fn accepted(self) -> bool {
        self == Reason::Accepted
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i16(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        for &r in Reason::ALL {
            assert!(seen.insert(r.code()), "{r:?}");
            assert_eq!(Reason::from_code(i64::from(r.code())), Some(r));
        }
        assert_eq!(Reason::from_code(6), None, "6 (duplicate) is not raised");
        assert_eq!(Reason::from_code(18), None);
    }
}
