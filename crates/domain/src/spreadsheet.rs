//! Cells written for spreadsheets. A cell starting with `=`, `+`, `-` or `@` (or a tab or carriage
//! return before one) is a formula to Excel, LibreOffice and Google Sheets; exports prefix it with
//! an apostrophe so it shows as text (OWASP's advice on CSV injection).

use std::borrow::Cow;

pub fn safe_cell(value: &str) -> Cow<'_, str> {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{value}")),
        _ => Cow::Borrowed(value),
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
    }

    proptest! {
        #[test]
        fn no_cell_starts_a_formula(value in ".*") {
            let cell = safe_cell(&value);
            prop_assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']));
            prop_assert!(cell.ends_with(value.as_str()));
        }
    }
}
