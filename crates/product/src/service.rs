//! Use cases of this module.

/// Audit-history guards of this module's entities.
pub fn audit_guards() -> Vec<(&'static str, kernel::AuditGuard)> {
    Vec::new()
}
