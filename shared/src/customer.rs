//! The customer an event is about: a validated e-mail and a name, and how they are masked
//! in logs (full e-mail addresses and names never reach a log line).

use std::fmt;

/// A syntactically plausible e-mail address (one `@`, non-empty local part, a dotted
/// domain, no whitespace), trimmed and lower-cased: Connectif keys contacts by e-mail, so
/// `Mario.Rossi@Example.IT` and `mario.rossi@example.it` must be one contact. Every e-mail
/// the bridge sends goes through here. Connectif decides the rest.
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

/// Why a text is not an [`Email`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid e-mail address")]
pub struct InvalidEmail;

impl TryFrom<&str> for Email {
    type Error = InvalidEmail;

    fn try_from(raw: &str) -> Result<Self, InvalidEmail> {
        let s = raw.trim();
        let (local, domain) = s.split_once('@').ok_or(InvalidEmail)?;
        let ok = !local.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(Email(s.to_lowercase()))
        } else {
            Err(InvalidEmail)
        }
    }
}

impl Email {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `g***@example.com`: enough to tell contacts apart in a log, not enough to write to.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.split_once('@').unwrap_or((&self.0, ""));
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }
}

/// Debug prints the masked form, so an `Email` in a `?field` cannot leak.
impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.masked())
    }
}

/// `G. R.` for `Giulia Rossi`: initials only.
pub fn mask_name(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .map(|c| format!("{c}."))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_addresses_parse_and_are_trimmed() {
        let e = Email::try_from(" giulia.rossi@example.com ").expect("valid");
        assert_eq!(e.as_str(), "giulia.rossi@example.com");
    }

    #[test]
    fn addresses_differing_only_in_case_are_one_contact() {
        let a = Email::try_from("Mario.Rossi@Example.IT").expect("valid");
        let b = Email::try_from(" mario.rossi@example.it").expect("valid");
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "mario.rossi@example.it");
        assert_eq!(a.masked(), "m***@example.it");
    }

    #[test]
    fn invalid_addresses_are_refused() {
        for bad in [
            "",
            "giulia",
            "@example.com",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@.com",
            "a@com.",
        ] {
            assert_eq!(Email::try_from(bad), Err(InvalidEmail), "{bad:?}");
        }
    }

    #[test]
    fn masks_hide_the_address_and_the_name() {
        let e = Email::try_from("giulia.rossi@example.com").expect("valid");
        assert_eq!(e.masked(), "g***@example.com");
        assert!(!format!("{e:?}").contains("giulia"));
        assert_eq!(mask_name("José Martínez Núñez"), "J. M. N.");
    }
}
