//! The two languages the bridge speaks to people in (its form, its SMS texts, its emails).

use serde::{Deserialize, Serialize};

/// Japanese or English; English wherever the person's language is unknown or another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Ja,
    En,
}

impl Language {
    pub const ALL: [Self; 2] = [Self::Ja, Self::En];

    /// From a `locale` attribute or a language tag (`ja`, `ja-JP`, `en-US`, ...); English
    /// otherwise.
    pub fn of(locale: Option<&str>) -> Self {
        if locale.is_some_and(|l| l.trim().to_ascii_lowercase().starts_with("ja")) { Self::Ja } else { Self::En }
    }

    /// The BCP 47 primary tag: `ja` or `en`.
    pub fn tag(self) -> &'static str {
        match self {
            Self::Ja => "ja",
            Self::En => "en",
        }
    }

    /// Exactly `ja` or `en`; `None` for anything else.
    pub fn parse(tag: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.tag() == tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_read_as_their_language_and_anything_else_as_english() {
        for (locale, language) in [
            (Some("ja"), Language::Ja),
            (Some("ja-JP"), Language::Ja),
            (Some(" JA_jp"), Language::Ja),
            (Some("en-GB"), Language::En),
            (Some("fr"), Language::En),
            (None, Language::En),
        ] {
            assert_eq!(Language::of(locale), language, "{locale:?}");
        }
        assert_eq!((Language::parse("ja"), Language::parse("ja-JP")), (Some(Language::Ja), None));
    }
}
