//! Cells written for spreadsheets. A cell starting with `=`, `+`, `-` or `@` (or a tab or carriage
//! return before one) is a formula to Excel, LibreOffice and Google Sheets; exports prefix it with
//! an apostrophe so it shows as text (OWASP's advice on CSV injection).

use std::borrow::Cow;

pub fn safe_cell(value: &str) -> Cow<'_, str> {
    if needs_escape(value) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// A formula start, possibly behind apostrophes: those are escaped too, so that `unescape_cell`
/// can tell Cohort's apostrophe from one that belongs to the value.
fn needs_escape(value: &str) -> bool {
    matches!(
        value.trim_start_matches('\'').chars().next(),
        Some('=' | '+' | '-' | '@' | '\t' | '\r')
    )
}

/// Undoes `safe_cell` on a cell read back from an exported file, so that exporting, editing
/// and importing again changes nothing.
pub fn unescape_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_escape(rest) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formulas_become_text() {
        assert_eq!(safe_cell("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        assert_eq!(safe_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(safe_cell("-2+3"), "'-2+3");
        assert_eq!(safe_cell("\t=1"), "'\t=1");
        assert_eq!(safe_cell("Amara N"), "Amara N");
        assert_eq!(safe_cell(""), "");
        assert_eq!(safe_cell("'=1"), "''=1");
        assert_eq!(safe_cell("'quoted'"), "'quoted'");
        assert_eq!(unescape_cell("'=1"), "=1");
        assert_eq!(unescape_cell("'quoted'"), "'quoted'");
    }

    proptest! {
        #[test]
        fn no_cell_starts_a_formula(value in ".*") {
            let cell = safe_cell(&value);
            prop_assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']));
            prop_assert!(cell.ends_with(value.as_str()));
            prop_assert_eq!(unescape_cell(&cell), value.as_str());
        }

        #[test]
        fn round_trips_formula_like_values(value in "'{0,3}[=+@\\-]?.{0,10}") {
            let cell = safe_cell(&value);
            prop_assert_eq!(unescape_cell(&cell), value.as_str());
        }
    }
}
