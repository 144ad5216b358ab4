//! The emails Cohort sends: their default wording, the placeholders each may
//! use, sample data for previews, and rendering with minijinja (HTML escaped,
//! unknown placeholders refused).

use cohort_api_types::{FieldError, RenderedEmail};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde_json::{json, Value};

/// One email of the product, with its default wording.
pub struct EmailKind {
    pub key: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub subject: &'static str,
    pub html: &'static str,
    pub text: &'static str,
    /// Placeholders besides the common ones.
    pub extra: &'static [&'static str],
}

/// Placeholders every email offers.
pub const COMMON: [&str; 6] = [
    "organization.name",
    "recipient.first_name",
    "recipient.name",
    "recipient.email",
    "program.name",
    "link",
];

pub const KINDS: [EmailKind; 12] = [
    EmailKind {
        key: "invitation",
        name: "Invitation: submit your mentor preferences",
        description: "Sent to a mentee whom an admin invites to choose a mentor.",
        subject: "Submit your mentor preferences for {{ program.name }}",
        html: "<p>Hi {{ recipient.first_name }},</p>\n<p>{{ organization.name }} invites you to choose a mentor for \
               {{ program.name }}.</p>\n<p><a href=\"{{ link }}\">Submit your mentor preferences</a></p>",
        text: "Hi {{ recipient.first_name }},\n\n{{ organization.name }} invites you to choose a mentor for \
               {{ program.name }}.\n\nSubmit your mentor preferences: {{ link }}",
        extra: &[],
    },
    EmailKind {
        key: "mentor_request",
        name: "Mentor request",
        description: "Sent to a mentor when a mentee asks them to be their mentor.",
        subject: "{{ mentee.name }} would like you as their mentor",
        html: "<p>Hi {{ recipient.first_name }},</p>\n<p>{{ mentee.name }} asked you to be their mentor in \
               {{ program.name }}.</p>\n<p>Click on one of the two options:</p>\n\
               <p><a href=\"{{ accept_link }}\">Accept</a> &middot; <a href=\"{{ decline_link }}\">Decline</a></p>\n\
               <p>Each link shows the request and asks you to confirm. <a href=\"{{ link }}\">Your program</a></p>",
        text: "Hi {{ recipient.first_name }},\n\n{{ mentee.name }} asked you to be their mentor in {{ program.name }}.\n\n\
               Click on one of the two options:\n\nAccept: {{ accept_link }}\n\nDecline: {{ decline_link }}\n\n\
               Each link shows the request and asks you to confirm.",
        extra: &["mentee.first_name", "mentee.name", "accept_link", "decline_link"],
    },
    EmailKind {
        key: "request_declined",
        name: "Request declined",
        description: "Sent to a mentee whose request a mentor declined, with the mentor's message.",
        subject: "{{ mentor.first_name }} cannot be your mentor",
        html: "<p>Hi {{ recipient.first_name }},</p>\n<p>{{ mentor.name }} declined your request in {{ program.name }}.</p>\n\
               {% if message %}<blockquote>{{ message }}</blockquote>\n{% endif %}\
               <p><a href=\"{{ link }}\">Choose another mentor</a></p>",
        text: "Hi {{ recipient.first_name }},\n\n{{ mentor.name }} declined your request in {{ program.name }}.\n\
               {% if message %}\n\"{{ message }}\"\n{% endif %}\nChoose another mentor: {{ link }}",
        extra: &["mentor.first_name", "mentor.name", "message"],
    },
    EmailKind {
        key: "request_expired",
        name: "Request expired",
        description: "Sent to a mentee whose request got no answer in time, with mentors who have room.",
        subject: "Your request to {{ mentor.first_name }} has expired",
        html: "<p>Hi {{ recipient.first_name }},</p>\n<p>{{ mentor.name }} did not answer in time. These mentors have room:</p>\n\
               <ul>{% for m in suggestions %}<li>{{ m.name }}</li>{% endfor %}</ul>\n\
               <p><a href=\"{{ link }}\">Choose someone else</a></p>",
        text: "Hi {{ recipient.first_name }},\n\n{{ mentor.name }} did not answer in time. These mentors have room:\n\
               {% for m in suggestions %}- {{ m.name }}\n{% endfor %}\nChoose someone else: {{ link }}",
        extra: &["mentor.first_name", "mentor.name", "suggestions"],
    },
    EmailKind {
        key: "mentorship_assignment",
        name: "Mentorship assignment",
        description: "Sent to both people of a new pairing.",
        subject: "You have been paired in {{ program.name }}",
        html: "<p>Hi {{ recipient.first_name }},</p>\n<p>{{ mentee.name }} and {{ mentor.name }} are now paired in \
               {{ program.name }}.</p>\n<p><a href=\"{{ link }}\">Say hello</a></p>",
        text: "Hi {{ recipient.first_name }},\n\n{{ mentee.name }} and {{ mentor.name }} are now paired in \
               {{ program.name }}.\n\nSay hello: {{ link }}",
        extra: &["mentee.first_name", "mentee.name", "mentor.first_name", "mentor.name"],
    },
    EmailKind {
        key: "step_published",
        name: "Step published",
        description: "Sent to a participant when a program step reaches them.",
        subject: "New in {{ program.name }}: {{ step.title }}",
        html: "<p>Hi {{ recipient.first_name }},</p>\n<p>{{ step.title }}</p>\n<p><a href=\"{{ link }}\">Open the step</a></p>",
        text: "Hi {{ recipient.first_name }},\n\n{{ step.title }}\n\nOpen the step: {{ link }}",
        extra: &["step.title", "step.description"],
    },
    EmailKind {
        key: "booking_confirmed",
        name: "Booking confirmed",
        description: "Sent to the student and the provider of a new booking, with a calendar attachment.",
        subject: "Confirmed: {{ booking.service }} on {{ booking.starts_at }}",
        html: "<p>Hi {{ recipient.first_name }},</p>\n<p>{{ booking.service }} with {{ booking.provider }} on \
               {{ booking.starts_at }} ({{ booking.location }}).</p>\n<p><a href=\"{{ link }}\">Manage the booking</a></p>",
        text: "Hi {{ recipient.first_name }},\n\n{{ booking.service }} with {{ booking.provider }} on {{ booking.starts_at }} \
               ({{ booking.location }}).\n\nManage the booking: {{ link }}",
        extra: &["booking.service", "booking.provider", "booking.starts_at", "booking.location"],
    },
    EmailKind {
        key: "booking_cancelled",
        name: "Booking cancelled",
        description: "Sent to the student and the provider when a booking is cancelled.",
        subject: "Cancelled: {{ booking.service }} on {{ booking.starts_at }}",
        html: "<p>Hi {{ recipient.first_name }},</p>\n<p>{{ booking.service }} with {{ booking.provider }} on \
               {{ booking.starts_at }} is cancelled.</p>\n<p><a href=\"{{ link }}\">Book another time</a></p>",
        text: "Hi {{ recipient.first_name }},\n\n{{ booking.service }} with {{ booking.provider }} on {{ booking.starts_at }} \
               is cancelled.\n\nBook another time: {{ link }}",
        extra: &["booking.service", "booking.provider", "booking.starts_at", "booking.location"],
    },
    EmailKind {
        key: "booking_slot_freed",
        name: "Waitlist: a time is free",
        description: "Sent to the first student on a provider's waitlist for a day when a booking that day is cancelled.",
        subject: "A time with {{ booking.provider }} is free",
        html: "<p>Hi {{ recipient.first_name }},</p>\n<p>{{ booking.service }} with {{ booking.provider }} on \
               {{ booking.starts_at }} is free again.</p>\n<p><a href=\"{{ link }}\">Book it</a></p>",
        text: "Hi {{ recipient.first_name }},\n\n{{ booking.service }} with {{ booking.provider }} on {{ booking.starts_at }} \
               is free again.\n\nBook it: {{ link }}",
        extra: &["booking.service", "booking.provider", "booking.starts_at", "booking.location"],
    },
    EmailKind {
        key: "account_invitation",
        name: "Invitation: set your password",
        description: "Sent to a person an admin invites to Cohort; the link sets their first password and \
                      works once, for 7 days.",
        subject: "{{ organization.name }} invites you to Cohort",
        html: "<p>Hi {{ recipient.first_name }},</p>\n<p>{{ organization.name }} invites you to take part in \
               {{ program.name }}.</p>\n<p><a href=\"{{ link }}\">Set your password</a></p>\n\
               <p>The link works once, for 7 days.</p>",
        text: "Hi {{ recipient.first_name }},\n\n{{ organization.name }} invites you to take part in \
               {{ program.name }}.\n\nSet your password: {{ link }}\n\nThe link works once, for 7 days.",
        extra: &[],
    },
    EmailKind {
        key: "password_reset",
        name: "Password reset",
        description: "Sent to a person who asked for a new password; the link works once, for an hour.",
        subject: "Your new password for {{ organization.name }}",
        html: "<p>Hi {{ recipient.first_name }},</p>\n<p>Someone, probably you, asked for a new password for \
               {{ recipient.email }} at {{ organization.name }}.</p>\n\
               <p><a href=\"{{ link }}\">Choose a new password</a></p>\n\
               <p>The link works once, for an hour. If you did not ask, ignore this email: your password stays \
               as it is.</p>",
        text: "Hi {{ recipient.first_name }},\n\nSomeone, probably you, asked for a new password for \
               {{ recipient.email }} at {{ organization.name }}.\n\nChoose a new password: {{ link }}\n\n\
               The link works once, for an hour. If you did not ask, ignore this email: your password stays as \
               it is.",
        extra: &[],
    },
    EmailKind {
        key: "test",
        name: "Test email",
        description: "Sent to an admin who checks that email delivery works.",
        subject: "Test email from {{ organization.name }}",
        html: "<p>Hi {{ recipient.first_name }},</p>\n<p>Email from {{ organization.name }} reaches you.</p>",
        text: "Hi {{ recipient.first_name }},\n\nEmail from {{ organization.name }} reaches you.",
        extra: &[],
    },
];

pub fn kind(key: &str) -> Option<&'static EmailKind> {
    KINDS.iter().find(|k| k.key == key)
}

impl EmailKind {
    pub fn placeholders(&self) -> Vec<String> {
        COMMON.iter().chain(self.extra).map(|p| p.to_string()).collect()
    }

    /// Data of the right shape for previews and for checking a template before it is saved.
    pub fn sample(&self, organization: &str) -> Value {
        let mut context = json!({
            "organization": {"name": organization},
            "recipient": {"first_name": "Amara", "name": "Amara N", "email": "amara.n@example.org"},
            "program": {"name": "2027 Spring Cohort"},
            "link": format!("https://cohort.example/{}/sample", self.key),
        });
        let extra = json!({
            "mentee": {"first_name": "Amara", "name": "Amara N"},
            "mentor": {"first_name": "Talia", "name": "Talia K"},
            "message": "I'm at capacity this term, but Marcus would be a great fit!",
            "accept_link": "https://cohort.example/answer-request?token=sample&answer=accept",
            "decline_link": "https://cohort.example/answer-request?token=sample&answer=decline",
            "suggestions": [{"name": "Marcus O"}, {"name": "Priya S"}],
            "step": {"title": "Schedule your first meeting", "description": "Find a time that suits you both."},
            "booking": {"service": "Peer Mentoring", "provider": "Talia K",
                        "starts_at": "Tue 2 Feb 2027, 15:00 EST", "location": "Library room 2"},
        });
        for placeholder in self.extra {
            let root = placeholder.split('.').next().unwrap_or(placeholder);
            context[root] = extra[root].clone();
        }
        context
    }
}

/// The work one part may do: about one unit per instruction and per 64 bytes of data, so it
/// bounds both time (a few milliseconds) and memory (about 3 MB). A product email uses a few
/// hundred.
const FUEL: u64 = 50_000;
/// The largest rendered part.
pub const MAX_RENDERED_BYTES: usize = 256 * 1024;

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // Admins write templates: none may loop or repeat its way into stalling the server.
    env.set_fuel(Some(FUEL));
    // A placeholder the email does not offer is an error, not an empty string.
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.set_auto_escape_callback(|name| {
        if name == "html" {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env
}

/// Renders the three parts; the errors name the part (`subject`, `html`, `text`) that failed.
pub fn render(subject: &str, html: &str, text: &str, context: &Value) -> Result<RenderedEmail, Vec<FieldError>> {
    let env = environment();
    let context = minijinja::Value::from(minijinja::value::Serde(context));
    let mut errors = Vec::new();
    let mut part = |name: &str, source: &str| match env.render_named_str(name, source, context.clone()) {
        Ok(out) if out.len() > MAX_RENDERED_BYTES => {
            errors.push(FieldError::new(
                name,
                format!("renders to more than {} KB", MAX_RENDERED_BYTES / 1024),
            ));
            String::new()
        }
        Ok(out) => out,
        Err(e) => {
            errors.push(FieldError::new(name, describe(&e)));
            String::new()
        }
    };
    let rendered = RenderedEmail {
        subject: part("subject", subject),
        html: part("html", html),
        text: part("text", text),
    };
    if errors.is_empty() {
        Ok(rendered)
    } else {
        Err(errors)
    }
}

fn describe(e: &minijinja::Error) -> String {
    let what = match e.kind() {
        minijinja::ErrorKind::UndefinedError => "uses a placeholder this email does not offer".to_owned(),
        minijinja::ErrorKind::SyntaxError => "is not a valid template".to_owned(),
        minijinja::ErrorKind::OutOfFuel => {
            format!("does too much work: its loops or repetitions are too large (a budget of {FUEL} steps)")
        }
        _ => "cannot be rendered".to_owned(),
    };
    match (e.line(), e.detail()) {
        (Some(line), Some(detail)) => format!("{what} (line {line}: {detail})"),
        (Some(line), None) => format!("{what} (line {line})"),
        (None, Some(detail)) => format!("{what} ({detail})"),
        (None, None) => what,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_renders_with_its_sample_data() {
        for kind in &KINDS {
            let out = render(kind.subject, kind.html, kind.text, &kind.sample("Peer Mentoring Demo"))
                .unwrap_or_else(|e| panic!("{}: {e:?}", kind.key));
            assert!(!out.subject.is_empty() && out.text.contains("Amara"), "{}", kind.key);
        }
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let invitation = kind("invitation").unwrap();
        let out = render(
            "{{ organization.name }}",
            "{{ organization.name }}",
            "{{ organization.name }}",
            &invitation.sample("Tom & Jerry <Mentoring>"),
        )
        .unwrap();
        assert_eq!(out.html, "Tom &amp; Jerry &lt;Mentoring&gt;");
        assert_eq!(out.text, "Tom & Jerry <Mentoring>");
        assert_eq!(out.subject, "Tom & Jerry <Mentoring>");
    }

    #[test]
    fn runaway_loops_and_huge_output_are_refused_quickly_naming_their_part() {
        let sample = kind("invitation").unwrap().sample("Demo");
        let started = std::time::Instant::now();
        let errors = render(
            "Hi",
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            "{{ 'x' * 10000000 }}",
            &sample,
        )
        .unwrap_err();
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        let fields: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.message.as_str())).collect();
        assert_eq!(fields.len(), 2, "{fields:?}");
        assert_eq!(fields[0].0, "html");
        assert!(fields[0].1.contains("too much work"), "{fields:?}");
        assert_eq!(fields[1].0, "text");
        // A loop that stays within the budget still renders.
        let out = render("Hi", "{% for i in range(100) %}{{ i }}{% endfor %}", "ok", &sample).unwrap();
        assert!(out.html.ends_with("9899"));
    }

    #[test]
    fn unknown_placeholders_and_broken_templates_name_their_part() {
        let sample = kind("invitation").unwrap().sample("Org");
        let errors = render("Hi {{ mentor.name }}", "<p>{% if %}</p>", "fine", &sample).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["subject", "html"]);
        assert!(errors[0].message.contains("placeholder"), "{}", errors[0].message);
        assert!(
            errors[1].message.contains("not a valid template"),
            "{}",
            errors[1].message
        );
    }
}
