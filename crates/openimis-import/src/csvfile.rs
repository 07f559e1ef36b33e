//! Reading one openIMIS table export: a CSV with a header row, `t`/`f` booleans, timestamps with
//! a `+00` offset, and empty fields for NULL.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use time::{Date, OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;

/// One data row, with its line number in the file for error reports.
pub struct Row {
    pub line: u64,
    /// The file's header: column → position, shared by all its rows.
    columns: Arc<HashMap<String, usize>>,
    /// Where the row's own id is (the first `…ID` column that is not `LegacyID`).
    own_id: Option<usize>,
    record: csv::StringRecord,
}

impl Row {
    /// The trimmed value of `column`; `None` when empty or absent.
    pub fn get(&self, column: &str) -> Option<&str> {
        let at = *self.columns.get(column)?;
        self.record.get(at).map(str::trim).filter(|s| !s.is_empty())
    }

    /// Every non-empty column, by name: the row as openIMIS held it (for the audit history).
    pub fn fields(&self) -> BTreeMap<&str, &str> {
        self.columns
            .iter()
            .filter_map(|(name, at)| {
                let v = self.record.get(*at)?.trim();
                (!v.is_empty()).then_some((name.as_str(), v))
            })
            .collect()
    }

    pub fn text(&self, column: &str) -> Result<&str, String> {
        self.get(column).ok_or_else(|| format!("{column} is empty"))
    }

    pub fn uuid(&self, column: &str) -> Result<Uuid, String> {
        let v = self.text(column)?;
        Uuid::parse_str(v).map_err(|_| format!("{column} \"{v}\" is not a UUID"))
    }

    pub fn int(&self, column: &str) -> Result<Option<i64>, String> {
        self.get(column)
            .map(|v| {
                v.parse::<i64>()
                    .or_else(|_| v.parse::<f64>().map(|f| f as i64))
                    .map_err(|_| format!("{column} \"{v}\" is not a number"))
            })
            .transpose()
    }

    /// A decimal amount ("12.50") in minor units, exactly.
    pub fn money(&self, column: &str) -> Result<Option<i64>, String> {
        self.get(column)
            .map(|v| kernel::money::parse_money(v).map_err(|e| format!("{column}: {e}")))
            .transpose()
    }

    /// A decimal that must be a whole number ("2.00").
    pub fn whole(&self, column: &str) -> Result<Option<i64>, String> {
        self.get(column)
            .map(|v| kernel::money::parse_whole(v).map_err(|e| format!("{column}: {e}")))
            .transpose()
    }

    pub fn bool(&self, column: &str) -> bool {
        matches!(self.get(column), Some("t" | "true" | "1" | "True" | "TRUE"))
    }

    pub fn date(&self, column: &str) -> Result<Option<Date>, String> {
        self.get(column)
            .map(|v| {
                let day = v.get(..10).unwrap_or(v);
                Date::parse(
                    day,
                    time::macros::format_description!("[year]-[month]-[day]"),
                )
                .map_err(|_| format!("{column} \"{v}\" is not a date"))
            })
            .transpose()
    }

    pub fn timestamp(&self, column: &str) -> Result<Option<OffsetDateTime>, String> {
        self.get(column)
            .map(|v| {
                parse_timestamp(v).ok_or_else(|| format!("{column} \"{v}\" is not a timestamp"))
            })
            .transpose()
    }

    /// A current row: `ValidityTo` is empty. Other rows are history or deleted records.
    pub fn is_current(&self) -> bool {
        self.get("ValidityTo").is_none()
    }

    /// A record deleted in openIMIS: its row is closed (`ValidityTo`) and continues no other
    /// (no `LegacyID`, or its own id: some exports' current rows name themselves). Its older
    /// versions are history rows whose `LegacyID` names it.
    pub fn is_deleted(&self) -> bool {
        if self.is_current() {
            return false;
        }
        match self.get("LegacyID").or(self.get("LegacyId")) {
            None => true,
            Some(legacy) => self
                .own_id
                .and_then(|at| self.record.get(at))
                .is_some_and(|own| own.trim() == legacy),
        }
    }

    /// When a deleted record was deleted (its `ValidityTo`); `None` for any other row.
    pub fn deleted_at(&self) -> Result<Option<OffsetDateTime>, String> {
        if self.is_deleted() {
            self.timestamp("ValidityTo")
        } else {
            Ok(None)
        }
    }
}

/// `2019-05-10 05:08:23.167+00` as PostgreSQL exports it (SQL Server: without the offset).
pub fn parse_timestamp(v: &str) -> Option<OffsetDateTime> {
    let v = v.trim();
    // An offset after the time: `+00`, `+05:30`, `+0530` or `-03`; none means UTC.
    let (body, offset) = match v.rfind(['+', '-']) {
        Some(i) if i > 10 => (&v[..i], parse_offset(&v[i..])?),
        _ => (v, time::UtcOffset::UTC),
    };
    let format = time::macros::format_description!(
        version = 2,
        "[year]-[month]-[day][first [T] [ ]][hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    let naive = PrimitiveDateTime::parse(body, format).ok()?;
    Some(naive.assume_offset(offset).to_offset(time::UtcOffset::UTC))
}

/// `+05`, `+05:30`, `+0530`, `-03`: a sign, hours, and optional minutes.
fn parse_offset(v: &str) -> Option<time::UtcOffset> {
    let (sign, digits) = v.split_at(1);
    let digits = digits.replace(':', "");
    if !digits.chars().all(|c| c.is_ascii_digit()) || ![2, 4].contains(&digits.len()) {
        return None;
    }
    let hours: i8 = digits[..2].parse().ok()?;
    let minutes: i8 = digits
        .get(2..)
        .filter(|m| !m.is_empty())
        .map_or(Some(0), |m| m.parse().ok())?;
    let (hours, minutes) = if sign == "-" {
        (-hours, -minutes)
    } else {
        (hours, minutes)
    };
    time::UtcOffset::from_hms(hours, minutes, 0).ok()
}

/// Read a table export; a missing file is an empty table.
pub fn read(dir: &Path, table: &str) -> anyhow::Result<Option<Vec<Row>>> {
    let path = dir.join(format!("{table}.csv"));
    if !path.exists() {
        return Ok(None);
    }
    let file = std::fs::File::open(&path)?;
    read_from(file, &path.display().to_string()).map(Some)
}

/// Read the rows of one table export from `input`; `name` says where it comes from in errors.
pub fn read_from(input: impl std::io::Read, name: &str) -> anyhow::Result<Vec<Row>> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let mut columns = HashMap::new();
    let mut own_id = None;
    for (at, name) in reader.headers()?.iter().enumerate() {
        // Exports from Windows may start with a byte-order mark.
        let name = name.trim_start_matches('\u{feff}').trim().to_string();
        if own_id.is_none() && is_own_id(&name) {
            own_id = Some(at);
        }
        columns.insert(name, at);
    }
    let columns = Arc::new(columns);
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        rows.push(Row {
            line,
            columns: columns.clone(),
            own_id,
            record,
        });
    }
    Ok(rows)
}

/// A table's own id column comes first among its `…ID` / `…Id` columns (`HfID`, `PremiumId`,
/// `ClaimID`); references to other tables follow it.
fn is_own_id(name: &str) -> bool {
    (name.ends_with("ID") || name.ends_with("Id")) && !name.eq_ignore_ascii_case("legacyid")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(header: &[&str], values: &[&str]) -> Row {
        let columns: HashMap<String, usize> = header
            .iter()
            .enumerate()
            .map(|(i, h)| (h.to_string(), i))
            .collect();
        Row {
            line: 2,
            own_id: header.iter().position(|h| is_own_id(h)),
            columns: Arc::new(columns),
            record: csv::StringRecord::from(values.to_vec()),
        }
    }

    #[test]
    fn a_closed_row_is_a_deleted_record_unless_it_continues_another() {
        let h = [
            "ValidityFrom",
            "ValidityTo",
            "LegacyID",
            "HfID",
            "LocationId",
        ];
        let closed = "2020-01-01 00:00:00+00";
        assert!(!row(&h, &["2019-01-01", "", "", "18", "3"]).is_deleted());
        assert!(!row(&h, &["2019-01-01", "", "18", "18", "3"]).is_deleted());
        assert!(row(&h, &["2019-01-01", closed, "", "18", "3"]).is_deleted());
        // Naming itself (as some current rows do) is not continuing another row.
        assert!(row(&h, &["2019-01-01", closed, "18", "18", "3"]).is_deleted());
        // An older version of 18, even where another id column holds 18.
        assert!(!row(&h, &["2019-01-01", closed, "18", "20", "18"]).is_deleted());
    }

    #[test]
    fn timestamps_as_exported() {
        let t = parse_timestamp("2019-05-10 05:08:23.167+00").unwrap();
        assert_eq!((t.year(), t.hour(), t.millisecond()), (2019, 5, 167));
        assert_eq!(
            parse_timestamp("2017-01-01 00:00:00+02").unwrap().hour(),
            22
        );
        assert!(parse_timestamp("2017-01-01T00:00:00").is_some());
        // Offsets of half hours, with or without a colon, and west of Greenwich.
        let india = parse_timestamp("2017-01-01 05:30:00+05:30").unwrap();
        assert_eq!((india.day(), india.hour(), india.minute()), (1, 0, 0));
        assert_eq!(parse_timestamp("2017-01-01 05:30:00+0530"), Some(india));
        let brazil = parse_timestamp("2017-01-01 21:00:00-03").unwrap();
        assert_eq!((brazil.day(), brazil.hour()), (2, 0));
        assert!(parse_timestamp("2017-01-01 00:00:00+5x").is_none());
        assert!(parse_timestamp("yesterday").is_none());
    }
}
