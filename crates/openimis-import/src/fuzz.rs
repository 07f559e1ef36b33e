//! What the fuzzer drives (`fuzz/fuzz_targets/openimis_csv.rs`): one table export of any bytes,
//! read as the importer reads it and every row turned into each kind of record the importer
//! makes without the database. Bad input must come back as a reason for skipping a row, never
//! as a panic.

use crate::LegacyIds;
use crate::csvfile::{Row, read_from};
use std::collections::HashMap;

/// Read `data` as an openIMIS CSV table and convert every row every way the importer can.
pub fn table(data: &[u8]) {
    let Ok(rows) = read_from(data, "fuzzed.csv") else {
        return;
    };
    let ids = LegacyIds::default();
    let placed = HashMap::new();
    for row in &rows {
        fields(row);
        let _ = crate::location_from_row(row, &ids);
        let _ = crate::facility_from_row(row, &ids);
        let _ = crate::medical::diagnosis_from_row(row);
        let _ = crate::medical::item_from_row(row);
        let _ = crate::medical::service_from_row(row);
        let _ = crate::product::product_from_row(row, &ids);
        let _ = crate::registry::family_from_row(row, &ids);
        let _ = crate::registry::insuree_from_row(row, &ids, &placed);
        let _ = crate::claim::used_from_row(row);
    }
}

/// Every accessor on every column of the row.
fn fields(row: &Row) {
    let names: Vec<String> = row.fields().keys().map(|k| k.to_string()).collect();
    for name in &names {
        let _ = row.get(name);
        let _ = row.text(name);
        let _ = row.uuid(name);
        let _ = row.int(name);
        let _ = row.money(name);
        let _ = row.whole(name);
        let _ = row.bool(name);
        let _ = row.date(name);
        let _ = row.timestamp(name);
    }
    let _ = row.is_current();
    let _ = row.is_deleted();
    let _ = row.deleted_at();
}

#[cfg(test)]
mod tests {
    use super::table;

    #[test]
    fn odd_tables_are_read_without_panicking() {
        let seeds: &[&[u8]] = &[
            b"",
            b"\xef\xbb\xbfLocationId,LocationUUID,LocationCode,LocationName,LocationType,ValidityFrom,ValidityTo\n1,not-a-uuid,R1,Region,R,2020-01-01 00:00:00+00,\n",
            b"ItemID,ItemUUID,ItemCode,ItemName,ItemType,ItemPrice,ItemCareType,ItemFrequency,ItemPatCat\n1,4a4e1b6e-0d2d-4d4c-9a53-0d8a3c1e2f10,X,,D,-99999999999999999999.99,B,9999999999999999999,15\n",
            b"InsureeID,InsureeUUID,CHFID,DOB,ValidityFrom\n2,4a4e1b6e-0d2d-4d4c-9a53-0d8a3c1e2f11,\xff\xfe,2020-02-30,9999-99-99 99:99:99+99:99\n",
            b"a,b\n\"unterminated\n",
            b"ClaimID,PolicyID,DedG,RemG\n1,,1e308,-0\n",
        ];
        for seed in seeds {
            table(seed);
        }
    }
}
