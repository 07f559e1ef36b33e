//! Dynamic SQL (list filters) built once and bound on either engine.

use uuid::Uuid;

/// A value to bind to a numbered placeholder.
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Uuid(Uuid),
    Int(i64),
    Bool(bool),
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_string())
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}
impl From<Uuid> for Arg {
    fn from(v: Uuid) -> Self {
        Arg::Uuid(v)
    }
}
impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

/// SQL text with `$n` placeholders and the values that fill them.
#[derive(Debug, Clone, Default)]
pub struct Sql {
    pub text: String,
    pub args: Vec<Arg>,
}

impl Sql {
    pub fn new(text: &str) -> Self {
        Sql {
            text: text.to_string(),
            args: Vec::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Append a placeholder bound to `arg`.
    pub fn arg(&mut self, arg: impl Into<Arg>) -> &mut Self {
        self.args.push(arg.into());
        self.text.push_str(&format!("${}", self.args.len()));
        self
    }

    /// Append `(…)` for an `IN` list; an empty list matches nothing.
    pub fn list(&mut self, values: impl IntoIterator<Item = impl Into<Arg>>) -> &mut Self {
        self.text.push('(');
        let mut any = false;
        for value in values {
            if any {
                self.text.push_str(", ");
            }
            self.arg(value);
            any = true;
        }
        if !any {
            self.text.push_str("NULL");
        }
        self.text.push(')');
        self
    }
}

/// Bind every [`Arg`] of a [`Sql`] to a query (inside [`on_db!`](crate::on_db) or
/// [`on_tx!`](crate::on_tx), where the engine is concrete).
#[macro_export]
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args.iter() {
            query = match arg {
                $crate::Arg::Text(v) => query.bind(v.clone()),
                $crate::Arg::Uuid(v) => query.bind(*v),
                $crate::Arg::Int(v) => query.bind(*v),
                $crate::Arg::Bool(v) => query.bind(*v),
            };
        }
        query
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered() {
        let mut sql = Sql::new("SELECT * FROM t WHERE a = ");
        sql.arg("x")
            .push(" AND b IN ")
            .list([1i64, 2])
            .push(" AND c IN ")
            .list(Vec::<i64>::new());
        assert_eq!(
            sql.text,
            "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3) AND c IN (NULL)"
        );
        assert_eq!(sql.args.len(), 3);
    }
}
