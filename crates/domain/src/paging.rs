//! Page sizes of lists.

use crate::Invalid;

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 200;

/// The page size a list returns: the default when none is asked, an error outside 1..=200.
pub fn page_size(requested: Option<u32>) -> Result<u32, Invalid> {
    match requested {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
        Some(_) => Err(Invalid(format!("must be between 1 and {MAX_PAGE_SIZE}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes() {
        assert_eq!(page_size(None), Ok(50));
        assert_eq!(page_size(Some(1)), Ok(1));
        assert_eq!(page_size(Some(200)), Ok(200));
        assert!(page_size(Some(0)).is_err());
        assert!(page_size(Some(201)).is_err());
    }
}
