//! Field checks that collect every problem of a request at once, so a form can show them all.

use crate::error::{Error, FieldError};

#[derive(Debug, Default)]
pub struct Checks(Vec<FieldError>);

impl Checks {
    pub fn new() -> Self {
        Checks::default()
    }

    pub fn push(&mut self, field: impl Into<String>, code: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, code, message));
    }

    /// A required text: trimmed, not empty, at most `max` characters.
    pub fn required(&mut self, field: &str, value: &str, max: usize) -> String {
        let value = value.trim();
        if value.is_empty() {
            self.push(field, "required", format!("{field} is required"));
        } else {
            self.max_len(field, value, max);
        }
        value.to_string()
    }

    /// An optional text: trimmed, empty means absent, at most `max` characters.
    pub fn optional(&mut self, field: &str, value: Option<&str>, max: usize) -> Option<String> {
        let value = value.map(str::trim).filter(|v| !v.is_empty())?;
        self.max_len(field, value, max);
        Some(value.to_string())
    }

    fn max_len(&mut self, field: &str, value: &str, max: usize) {
        let len = value.chars().count();
        if len > max {
            self.push(
                field,
                "too_long",
                format!("{field} has {len} characters; at most {max} are allowed"),
            );
        }
    }

    /// One of a fixed set of codes.
    pub fn one_of(&mut self, field: &str, value: &str, allowed: &[&str]) {
        if !allowed.contains(&value) {
            self.push(
                field,
                "not_allowed",
                format!(
                    "{field} must be one of {}; got \"{value}\"",
                    allowed.join(", ")
                ),
            );
        }
    }

    /// A count that cannot be negative.
    pub fn non_negative(&mut self, field: &str, value: Option<i64>) {
        if let Some(v) = value
            && v < 0
        {
            self.push(field, "negative", format!("{field} cannot be negative"));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn finish(self) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_reported() {
        let mut c = Checks::new();
        assert_eq!(c.required("code", "  R1 ", 8), "R1");
        c.required("name", "", 50);
        c.required("code2", "123456789", 8);
        assert_eq!(c.optional("email", Some("  "), 5), None);
        c.one_of("type", "X", &["R", "D"]);
        c.non_negative("families", Some(-1));
        match c.finish() {
            Err(Error::Invalid(f)) => {
                let codes: Vec<_> = f
                    .iter()
                    .map(|e| (e.field.as_str(), e.code.as_str()))
                    .collect();
                assert_eq!(
                    codes,
                    vec![
                        ("name", "required"),
                        ("code2", "too_long"),
                        ("type", "not_allowed"),
                        ("families", "negative")
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
