//! Ready-made `[evidence]` blocks for the schemas apps commonly have (Supabase Auth, Rails with
//! Devise, Django, a plain schema): the customer query and one section per kind of evidence,
//! commented and ready to paste into a configuration.

/// A schema an `[evidence]` block is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    Supabase,
    Devise,
    Django,
    Generic,
}

/// What stands for the name of the SQL source in the templates.
const SOURCE_PLACEHOLDER: &str = "__SOURCE__";

impl Preset {
    pub const ALL: [Preset; 4] = [
        Preset::Supabase,
        Preset::Devise,
        Preset::Django,
        Preset::Generic,
    ];

    /// The name `sentinel init --evidence NAME` takes.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Supabase => "supabase",
            Preset::Devise => "devise",
            Preset::Django => "django",
            Preset::Generic => "generic",
        }
    }

    /// The preset called `name` (any case), or an error listing the ones there are.
    pub fn from_name(name: &str) -> Result<Preset, String> {
        let wanted = name.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|preset| preset.name() == wanted)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|p| p.name()).collect();
                format!(
                    "no evidence preset is called {name:?}: use one of {} (`--evidence list` describes them)",
                    names.join(", ")
                )
            })
    }

    /// One line on the schema the preset reads.
    pub fn description(self) -> &'static str {
        match self {
            Preset::Supabase => {
                "Supabase Auth: auth.users, identities, sessions, audit log and MFA factors, with your own events and payments tables"
            }
            Preset::Devise => {
                "Rails with Devise (confirmable, trackable), Ahoy visits and events, and Pay charges"
            }
            Preset::Django => {
                "Django's auth_user, django-allauth verified addresses and django-axes sign-ins, with your own events and payments tables"
            }
            Preset::Generic => {
                "a plain schema: users, email_verifications, sessions, events, payments, refunds, terms_acceptances, disputes"
            }
        }
    }

    fn template(self) -> &'static str {
        match self {
            Preset::Supabase => include_str!("supabase.toml"),
            Preset::Devise => include_str!("devise.toml"),
            Preset::Django => include_str!("django.toml"),
            Preset::Generic => include_str!("generic.toml"),
        }
    }

    /// The commented `[evidence]` block, reading the SQL source named `source`.
    pub fn text(self, source: &str) -> String {
        self.template().replace(SOURCE_PLACEHOLDER, source)
    }
}

/// The list `sentinel init --evidence list` prints: each preset's name and description.
pub fn listing() -> String {
    let width = Preset::ALL
        .iter()
        .map(|p| p.name().len())
        .max()
        .unwrap_or(0);
    Preset::ALL
        .iter()
        .map(|p| format!("{:width$}  {}\n", p.name(), p.description()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table<'a>(value: &'a toml::Value, key: &str) -> &'a toml::Value {
        value
            .get(key)
            .unwrap_or_else(|| panic!("no {key} in {value:?}"))
    }

    #[test]
    fn every_preset_is_toml_naming_the_source_with_unique_sections_of_known_kinds() {
        for preset in Preset::ALL {
            let text = preset.text("shop-db");
            assert!(!text.contains(SOURCE_PLACEHOLDER), "{}", preset.name());
            let value: toml::Value =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", preset.name()));
            let evidence = table(&value, "evidence");
            assert_eq!(table(evidence, "source").as_str(), Some("shop-db"));
            let customer = table(evidence, "customer").as_str().unwrap();
            assert!(customer.contains("$1"), "{}", preset.name());
            let sections = table(evidence, "sections").as_array().unwrap();
            assert!(sections.len() >= 6, "{}", preset.name());
            let mut names: Vec<&str> = sections
                .iter()
                .map(|s| table(s, "name").as_str().unwrap())
                .collect();
            for section in sections {
                let kind = table(section, "kind").as_str().unwrap();
                assert!(
                    crate::evidence::pack::SectionKind::from_name(kind).is_some(),
                    "{}: {kind}",
                    preset.name()
                );
                assert!(table(section, "query").as_str().unwrap().contains("$1"));
            }
            let count = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(
                names.len(),
                count,
                "{}: duplicate section names",
                preset.name()
            );
        }
    }

    #[test]
    fn presets_are_found_by_name_and_an_unknown_name_lists_them() {
        for preset in Preset::ALL {
            assert_eq!(Preset::from_name(preset.name()), Ok(preset));
        }
        assert_eq!(Preset::from_name(" Supabase "), Ok(Preset::Supabase));
        let error = Preset::from_name("laravel").unwrap_err();
        assert!(
            error.contains("supabase, devise, django, generic"),
            "{error}"
        );
        let listing = listing();
        for preset in Preset::ALL {
            assert!(listing.contains(preset.description()));
        }
    }
}
