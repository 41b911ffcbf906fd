//! The appendix: where each section's rows came from, its source and its statement as
//! configured.

use super::flow::Flow;
use super::style;

const QUERY_INDENT: f32 = 12.0;

pub(super) fn lay_sources(flow: &mut Flow<'_>, pack: &crate::evidence::pack::Pack) {
    if pack.sections.is_empty() {
        return;
    }
    flow.heading("Appendix: sources", 3.0 * style::BODY.line_height());
    for section in &pack.sections {
        flow.gap(4.0);
        flow.paragraph(
            0.0,
            style::SUBHEADING,
            &format!("{} (source: {})", section.title, section.source.source),
        );
        flow.paragraph(QUERY_INDENT, style::NOTE, &section.source.query);
        if flow.is_full() {
            return;
        }
    }
}
