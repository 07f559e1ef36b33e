//! The twelve openIMIS system roles and the rights openIMIS grants each of them
//! (`5_base_data.sql`, as exported in the demo database's tblRole and tblRoleRight: 183 grants).
//! The role UUIDs are openIMIS's own, so that an import maps onto them directly.

/// A built-in role: its `IsSystem` bitmask, UUID, name and rights.
pub struct SystemRole {
    pub code: i64,
    pub id: &'static str,
    pub name: &'static str,
    pub rights: &'static [u32],
}

pub const SYSTEM_ROLES: &[SystemRole] = &[
    SystemRole {
        code: 1,
        id: "fe17fee9-a501-48c2-966e-091b765f3718",
        name: "Enrolment Officer",
        rights: &[
            101001, 101002, 101003, 101004, 101101, 101102, 101103, 101104, 101105, 101201, 101202,
            101203, 101204, 101205, 101301, 101302, 101303, 101304,
        ],
    },
    SystemRole {
        code: 2,
        id: "10824c66-f7dc-4eb7-a4c9-481f514e35ac",
        name: "Manager",
        rights: &[101105, 131201, 131202, 131203, 131208],
    },
    SystemRole {
        code: 4,
        id: "496d7cdc-16d2-4d36-ae35-313a5795158b",
        name: "Accountant",
        rights: &[
            101001, 101101, 101105, 101201, 101301, 101401, 101402, 101403, 101404, 111101, 111102,
            111103, 131204, 131205, 131206, 131210, 131211, 131212, 131213, 131214, 131215, 131216,
            131217, 131218, 131219, 131220, 131221, 131222, 131401,
        ],
    },
    SystemRole {
        code: 8,
        id: "caa6fe3c-b59d-4b2f-b9e6-9df6ef35f7de",
        name: "Clerk",
        rights: &[
            101001, 101002, 101003, 101004, 101101, 101102, 101103, 101104, 101105, 101201, 101202,
            101203, 101204, 101205, 101301, 101302, 101303, 101304,
        ],
    },
    SystemRole {
        code: 16,
        id: "47b0f22f-29f6-41f7-b17e-469aae76e7d3",
        name: "Medical Officer",
        rights: &[111001, 111008, 111009, 111010, 111011, 131223],
    },
    SystemRole {
        code: 32,
        id: "335a2380-211b-44dc-bb69-7ad6c4de7dce",
        name: "Scheme Administrator",
        rights: &[
            101105, 121001, 121002, 121003, 121004, 121005, 121101, 121102, 121103, 121104, 121201,
            121202, 121203, 121204, 121205, 121301, 121302, 121303, 121304, 121305, 121401, 121402,
            121403, 121404, 121501, 121502, 121503, 121504, 121601, 121602, 121603, 121604, 121801,
            121802, 121803, 121804, 122101, 122102, 122103, 122104, 131001, 131002, 131003, 131004,
            131101, 131102, 131103, 131104, 131105, 131106, 131209,
        ],
    },
    SystemRole {
        code: 64,
        id: "e794c4ab-3554-4f14-98c4-a5c72d6c3e9a",
        name: "IMIS Administrator",
        rights: &[
            101105, 121701, 121702, 121703, 121704, 121901, 121902, 121903, 121904, 121905, 122000,
            122001, 122002, 122003, 122004, 122005, 131005, 131006, 131207, 131301, 131302, 131303,
            131304,
        ],
    },
    SystemRole {
        code: 128,
        id: "f9725efc-a649-4af9-962b-003d24d4e863",
        name: "Receptionist",
        rights: &[101001, 101101, 101105, 101201],
    },
    SystemRole {
        code: 256,
        id: "20f7fc37-c0c3-427c-8241-04af84fcf876",
        name: "Claim Administrator",
        rights: &[111001, 111002, 111004, 111005, 111006, 111007],
    },
    SystemRole {
        code: 512,
        id: "577f654d-4ace-49fe-9abd-0e6d1ca2c95f",
        name: "Claim Contributor",
        rights: &[111001, 111002, 111005],
    },
    SystemRole {
        code: 524288,
        id: "b5a31366-35a1-466d-b814-213ca76adf30",
        name: "HF Administrator",
        rights: &[
            121701, 121702, 121703, 121704, 131101, 131103, 131301, 131302, 131303, 131304,
        ],
    },
    SystemRole {
        code: 1048576,
        id: "009436c3-6066-4c34-a96f-cee3b4aa7329",
        name: "Offline Administrator",
        rights: &[
            121701, 121702, 121703, 121704, 131101, 131103, 131301, 131302, 131303, 131304,
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openimis_grants_183_rights_to_12_roles() {
        assert_eq!(SYSTEM_ROLES.len(), 12);
        assert_eq!(
            SYSTEM_ROLES.iter().map(|r| r.rights.len()).sum::<usize>(),
            183
        );
        for role in SYSTEM_ROLES {
            for right in role.rights {
                assert!(
                    kernel::Right(*right).is_known(),
                    "{} grants unknown right {right}",
                    role.name
                );
            }
        }
    }
}
