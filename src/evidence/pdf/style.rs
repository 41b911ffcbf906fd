//! The few type sizes, faces and colours the evidence pack uses, so every page looks alike.

/// Which of the two bundled faces a run of text is set in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Face {
    Regular,
    Bold,
}

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Rgb(pub(super) u8, pub(super) u8, pub(super) u8);

pub(super) const INK: Rgb = Rgb(25, 25, 25);
pub(super) const MUTED: Rgb = Rgb(95, 95, 95);
pub(super) const RULE: Rgb = Rgb(200, 200, 200);
pub(super) const HEADER_FILL: Rgb = Rgb(236, 236, 236);
pub(super) const GOOD: Rgb = Rgb(20, 110, 50);
pub(super) const BAD: Rgb = Rgb(160, 30, 30);
pub(super) const LOGINS: Rgb = Rgb(52, 101, 164);
pub(super) const USAGE: Rgb = Rgb(230, 145, 56);

/// A size, a face and a colour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Style {
    pub(super) size: f32,
    pub(super) face: Face,
    pub(super) color: Rgb,
}

impl Style {
    const fn new(size: f32, face: Face, color: Rgb) -> Style {
        Style { size, face, color }
    }

    /// The distance from one line's top to the next one's.
    pub(super) fn line_height(self) -> f32 {
        self.size * 1.35
    }

    pub(super) fn colored(self, color: Rgb) -> Style {
        Style { color, ..self }
    }
}

pub(super) const TITLE: Style = Style::new(22.0, Face::Bold, INK);
pub(super) const HEADING: Style = Style::new(13.0, Face::Bold, INK);
pub(super) const SUBHEADING: Style = Style::new(10.0, Face::Bold, INK);
pub(super) const BODY: Style = Style::new(9.5, Face::Regular, INK);
pub(super) const LABEL: Style = Style::new(9.5, Face::Bold, MUTED);
pub(super) const NOTE: Style = Style::new(8.5, Face::Regular, MUTED);
pub(super) const CELL: Style = Style::new(7.5, Face::Regular, INK);
pub(super) const CELL_HEADER: Style = Style::new(7.5, Face::Bold, INK);
pub(super) const FOOTER: Style = Style::new(7.5, Face::Regular, MUTED);
