//! The `[evidence]` section: the SQL source exists, the customer query and every section are
//! single reads the statement guard accepts, each takes the customer as its one placeholder
//! (so no section can read another customer's rows), section names are unique and kinds known.

use super::Validator;
use crate::config::evidence::{EvidenceConfig, SectionSpec, default_title};
use crate::config::raw::RawConfig;
use crate::config::{SourceSpec, SourceSpecKind, StoreConfig};
use crate::evidence::pack::SectionKind;
use crate::source::sql::guard::{self, GuardPolicy};
use crate::source::sql::parameters;
use std::collections::BTreeSet;
use std::ops::Range;
use std::path::PathBuf;
use toml::Spanned;

impl Validator<'_> {
    pub(super) fn evidence(
        &mut self,
        raw: &RawConfig,
        sources: &[SourceSpec],
        store: &StoreConfig,
    ) -> Option<EvidenceConfig> {
        let section = raw.evidence.as_ref()?;
        let evidence = section.get_ref();
        let Some(source) = &evidence.source else {
            self.error(
                section.span(),
                "[evidence] needs source = \"<name of the [sources.NAME] holding the app's customers>\"",
            );
            return None;
        };
        self.sql_policy(sources, source)?;
        let customer = match &evidence.customer {
            Some(query) => {
                self.customer_statement(query, sources, source.get_ref());
                query.get_ref().trim().to_string()
            }
            None => {
                self.error(
                    section.span(),
                    "[evidence] needs customer = \"SELECT id, email, name FROM users WHERE id::text = $1 OR lower(email) = lower($1)\": how to find the customer from the email or id given",
                );
                String::new()
            }
        };
        let mut names = BTreeSet::new();
        let mut sections = Vec::new();
        for raw_section in &evidence.sections {
            if let Some(spec) = self.evidence_section(raw_section, sources, source.get_ref()) {
                if !names.insert(spec.name.clone()) {
                    let span = raw_section
                        .get_ref()
                        .name
                        .as_ref()
                        .map_or(raw_section.span(), |n| n.span());
                    self.error(
                        span,
                        format!(
                            "section name `{}` is used twice: give each its own",
                            spec.name
                        ),
                    );
                }
                sections.push(spec);
            }
        }
        if evidence.sections.is_empty() {
            self.error(
                section.span(),
                "[evidence] has no sections: add [[evidence.sections]] with name, kind and query (`sentinel init --evidence list` shows ready ones)",
            );
        }
        let geoip = evidence.geoip.as_ref().and_then(|path| {
            let expanded = self.expanded(path)?;
            let path_buf = PathBuf::from(&expanded);
            if !path_buf.is_file() {
                self.error(
                    path.span(),
                    format!("no GeoIP database at {expanded}: point geoip at a GeoLite2-City.mmdb (or GeoIP2/DB-IP in MaxMind format), or leave it out to show IP addresses only"),
                );
                return None;
            }
            Some(path_buf)
        });
        let out = match &evidence.out {
            Some(out) => self.expanded(out).map(PathBuf::from),
            None => Some(EvidenceConfig::default_out(&store.path)),
        }?;
        let product = evidence
            .product
            .as_ref()
            .map(|p| p.get_ref().trim().to_string())
            .filter(|p| !p.is_empty());
        Some(EvidenceConfig {
            source: source.get_ref().clone(),
            customer,
            sections,
            geoip,
            product,
            out,
        })
    }

    /// The guard policy of the SQL source named `source`, or an error at its place.
    fn sql_policy(
        &mut self,
        sources: &[SourceSpec],
        source: &Spanned<String>,
    ) -> Option<GuardPolicy> {
        match sources.iter().find(|s| &s.name == source.get_ref()) {
            Some(SourceSpec {
                kind: SourceSpecKind::Sql(settings),
                ..
            }) => Some(settings.policy.clone()),
            Some(_) => {
                self.error(
                    source.span(),
                    format!(
                        "source `{}` is not a SQL database: evidence is read from a postgres, mysql or sqlite source",
                        source.get_ref()
                    ),
                );
                None
            }
            None => {
                let known: Vec<&str> = sources
                    .iter()
                    .filter(|s| matches!(s.kind, SourceSpecKind::Sql(_)))
                    .map(|s| s.name.as_str())
                    .collect();
                let hint = if known.is_empty() {
                    "no SQL sources are defined".to_string()
                } else {
                    format!("SQL sources: {}", known.join(", "))
                };
                self.error(
                    source.span(),
                    format!("source `{}` is not defined ({hint})", source.get_ref()),
                );
                None
            }
        }
    }

    fn customer_statement(
        &mut self,
        query: &Spanned<String>,
        sources: &[SourceSpec],
        source: &str,
    ) {
        if let Some(policy) = sources.iter().find_map(|s| match &s.kind {
            SourceSpecKind::Sql(settings) if s.name == source => Some(settings.policy.clone()),
            _ => None,
        }) {
            self.statement(query.get_ref(), query.span(), &policy, "customer");
        }
    }

    /// A statement the guard accepts, taking the customer as its one placeholder.
    fn statement(&mut self, sql: &str, span: Range<usize>, policy: &GuardPolicy, what: &str) {
        if let Err(refusal) = guard::check(sql, policy) {
            self.error(span, format!("the {what} query: {refusal}"));
            return;
        }
        if let Err(error) = parameters::bindings(sql, policy.dialect) {
            self.error(span, format!("the {what} query: {error}"));
        }
    }

    fn evidence_section(
        &mut self,
        raw: &Spanned<crate::config::raw::RawEvidenceSection>,
        sources: &[SourceSpec],
        default_source: &str,
    ) -> Option<SectionSpec> {
        let section = raw.get_ref();
        let Some(kind_name) = &section.kind else {
            self.error(
                raw.span(),
                format!(
                    "this section needs kind = one of {}",
                    kind_names().join(", ")
                ),
            );
            return None;
        };
        let Some(kind) = SectionKind::from_name(kind_name.get_ref().trim()) else {
            self.error(
                kind_name.span(),
                format!(
                    "unknown section kind `{}`: one of {}",
                    kind_name.get_ref(),
                    kind_names().join(", ")
                ),
            );
            return None;
        };
        let name = section.name.as_ref().map_or_else(
            || kind.name().to_string(),
            |n| n.get_ref().trim().to_string(),
        );
        let source = match &section.source {
            Some(source) => {
                self.sql_policy(sources, source)?;
                source.get_ref().clone()
            }
            None => default_source.to_string(),
        };
        let Some(query) = &section.query else {
            self.error(
                raw.span(),
                format!("section `{name}` needs query = \"SELECT ... WHERE user_id = $1\""),
            );
            return None;
        };
        let policy = sources.iter().find_map(|s| match &s.kind {
            SourceSpecKind::Sql(settings) if s.name == source => Some(settings.policy.clone()),
            _ => None,
        })?;
        self.statement(
            query.get_ref(),
            query.span(),
            &policy,
            &format!("section `{name}`"),
        );
        let title = section
            .title
            .as_ref()
            .map(|t| t.get_ref().trim().to_string())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| default_title(kind).to_string());
        Some(SectionSpec {
            name,
            title,
            kind,
            source,
            query: query.get_ref().trim().to_string(),
        })
    }
}

fn kind_names() -> Vec<&'static str> {
    SectionKind::ALL.iter().map(|k| k.name()).collect()
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::evidence::pack::SectionKind;
    use std::path::Path;

    const SOURCE: &str =
        "[sources.app]\nkind = \"postgres\"\nurl = \"postgres://reader@127.0.0.1/app\"\n";

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(Path::new("/etc/sentinel/sentinel.toml"), text, &|_| None)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn sections_keep_their_order_kind_and_default_title() {
        let config = parse(&format!(
            "{SOURCE}[evidence]\nsource = \"app\"\ncustomer = \"SELECT id::text AS id, email FROM users WHERE id::text = $1 OR email = $1\"\n\
             [[evidence.sections]]\nname = \"seen\"\nkind = \"logins\"\nquery = \"SELECT created_at AS time, ip FROM sessions WHERE user_id = $1::bigint\"\n\
             [[evidence.sections]]\nkind = \"terms\"\nquery = \"SELECT version, accepted_at AS time FROM terms WHERE user_id = $1::bigint\"\n"
        ))
        .unwrap();
        let evidence = config.evidence.unwrap();
        let names: Vec<(&str, SectionKind, &str)> = evidence
            .sections
            .iter()
            .map(|s| (s.name.as_str(), s.kind, s.title.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("seen", SectionKind::Logins, "Logins"),
                ("terms", SectionKind::Terms, "Acceptance of terms")
            ]
        );
        assert!(evidence.out.ends_with("evidence"), "{:?}", evidence.out);
        assert_eq!(evidence.geoip, None);
    }

    #[test]
    fn a_section_without_the_customer_placeholder_is_located_and_refused() {
        let error = parse(&format!(
            "{SOURCE}[evidence]\nsource = \"app\"\ncustomer = \"SELECT id FROM users WHERE email = $1\"\n\
             [[evidence.sections]]\nkind = \"logins\"\nquery = \"SELECT * FROM sessions\"\n"
        ))
        .unwrap_err();
        assert!(error.contains("sentinel.toml:9:9"), "{error}");
        assert!(error.contains("every customer"), "{error}");
    }

    #[test]
    fn a_write_an_unknown_kind_and_a_missing_source_are_each_reported() {
        let error = parse(&format!(
            "{SOURCE}[evidence]\nsource = \"app\"\ncustomer = \"DELETE FROM users WHERE id = $1\"\n\
             [[evidence.sections]]\nkind = \"visits\"\nquery = \"SELECT 1 WHERE $1 = ''\"\n\
             [[evidence.sections]]\nkind = \"usage\"\nsource = \"nope\"\nquery = \"SELECT 1 WHERE $1 = ''\"\n"
        ))
        .unwrap_err();
        assert!(error.contains("DELETE"), "{error}");
        assert!(error.contains("unknown section kind `visits`"), "{error}");
        assert!(
            error.contains("source `nope` is not defined (SQL sources: app)"),
            "{error}"
        );
    }

    #[test]
    fn a_missing_geoip_file_is_an_error_naming_it() {
        let error = parse(&format!(
            "{SOURCE}[evidence]\nsource = \"app\"\ngeoip = \"/nonexistent/City.mmdb\"\ncustomer = \"SELECT id FROM users WHERE email = $1\"\n\
             [[evidence.sections]]\nkind = \"usage\"\nquery = \"SELECT name FROM events WHERE user_id = $1::bigint\"\n"
        ))
        .unwrap_err();
        assert!(
            error.contains("no GeoIP database at /nonexistent/City.mmdb"),
            "{error}"
        );
    }
}
