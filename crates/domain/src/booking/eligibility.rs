//! Who may book what: enrollment and appointment formats. The booking itself, the slots and the
//! list of bookable services all ask these.

/// Whether a person may book a service: a service with enrolled students takes only them; one
/// without takes anyone. Admins book any service (for themselves or a student).
pub fn may_book(is_admin: bool, service_has_enrollments: bool, enrolled: bool) -> bool {
    is_admin || !service_has_enrollments || enrolled
}

/// Whether `format` is bookable for a service: the organisation's booking flow has it turned
/// on (`enabled`: its formats with their switch) and the service offers it.
pub fn format_offered<F: PartialEq>(enabled: &[(F, bool)], offered_by_service: &[F], format: &F) -> bool {
    enabled.iter().any(|(f, on)| f == format && *on) && offered_by_service.contains(format)
}

/// Whether a service can be booked in `format`, or in any format when `None`.
pub fn bookable_in<F: PartialEq>(enabled: &[(F, bool)], offered_by_service: &[F], format: Option<&F>) -> bool {
    match format {
        Some(f) => format_offered(enabled, offered_by_service, f),
        None => offered_by_service
            .iter()
            .any(|f| format_offered(enabled, offered_by_service, f)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enrollment_closes_a_service_to_everyone_else() {
        assert!(may_book(false, false, false), "no enrollments: open to all");
        assert!(may_book(false, true, true), "enrolled");
        assert!(!may_book(false, true, false), "not enrolled");
        assert!(may_book(true, true, false), "admins book any service");
    }

    #[test]
    fn a_format_needs_the_flow_and_the_service() {
        let flow = [("in_person", true), ("virtual", false)];
        assert!(format_offered(&flow, &["in_person", "virtual"], &"in_person"));
        assert!(
            !format_offered(&flow, &["in_person", "virtual"], &"virtual"),
            "turned off"
        );
        assert!(!format_offered(&flow, &["virtual"], &"in_person"), "not the service's");
        assert!(
            !format_offered(&[], &["in_person"], &"in_person"),
            "unknown to the flow"
        );
        assert!(bookable_in(&flow, &["virtual", "in_person"], None));
        assert!(!bookable_in(&flow, &["virtual"], None), "no format left");
        assert!(!bookable_in(&flow, &[], None));
        assert!(!bookable_in(&flow, &["in_person"], Some(&"virtual")));
    }
}
