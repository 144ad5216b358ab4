//! Programs and their participants.

use crate::{bounded_text, Invalid};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProgramStatus {
    Draft,
    Published,
    Archived,
}

impl ProgramStatus {
    pub const ALL: [ProgramStatus; 3] = [Self::Draft, Self::Published, Self::Archived];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
            Self::Archived => "archived",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }

    /// A program is drafted, published, archived, and may be published again; once
    /// participants have seen it, it never goes back to draft.
    pub fn transition_to(self, next: Self) -> Result<Self, Invalid> {
        use ProgramStatus::*;
        match (self, next) {
            (a, b) if a == b => Ok(b),
            (Draft, Published) | (Draft, Archived) | (Published, Archived) | (Archived, Published) => Ok(next),
            (_, Draft) => Err(Invalid(format!("a {} program cannot return to draft", self.as_str()))),
            _ => Err(Invalid(format!(
                "a {} program cannot become {}",
                self.as_str(),
                next.as_str()
            ))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParticipantRole {
    Mentor,
    Mentee,
}

impl ParticipantRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mentor => "mentor",
            Self::Mentee => "mentee",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Mentor, Self::Mentee].into_iter().find(|role| role.as_str() == s)
    }
}

pub fn parse_program_name(value: &str) -> Result<String, Invalid> {
    bounded_text(value, 1, 120)
}

pub fn parse_program_description(value: &str) -> Result<String, Invalid> {
    bounded_text(value, 0, 10_000)
}

/// How many participants one bulk add may carry.
pub const MAX_BULK_PARTICIPANTS: usize = 1000;

#[cfg(test)]
mod tests {
    use super::ProgramStatus::*;
    use super::*;

    #[test]
    fn programs_move_forward_and_may_be_republished() {
        assert_eq!(Draft.transition_to(Published), Ok(Published));
        assert_eq!(Published.transition_to(Archived), Ok(Archived));
        assert_eq!(Draft.transition_to(Archived), Ok(Archived));
        assert_eq!(Archived.transition_to(Published), Ok(Published));
        assert_eq!(Published.transition_to(Published), Ok(Published));
    }

    #[test]
    fn nothing_returns_to_draft() {
        assert!(Published.transition_to(Draft).unwrap_err().0.contains("draft"));
        assert!(Archived.transition_to(Draft).is_err());
    }

    #[test]
    fn names_round_trip() {
        for status in ProgramStatus::ALL {
            assert_eq!(ProgramStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(ParticipantRole::parse("mentor"), Some(ParticipantRole::Mentor));
        assert_eq!(ParticipantRole::parse("admin"), None);
    }
}
