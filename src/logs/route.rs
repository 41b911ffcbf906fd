//! Path-to-route normalization and the route learner.
//!
//! [`normalize_path`] replaces variable segments by shape: digits -> `:id`, UUIDs -> `:uuid`,
//! 16+ hex digits -> `:hex`, e-mail addresses -> `:email`, long mixed letter/digit tokens ->
//! `:token`. [`RouteBook`] remembers, for every normalized prefix, which segment shapes and
//! literal values came back successful (2xx/3xx) at the next position, so that `/orders/abc`
//! resolves to `/orders/:uuid` with `malformed_param: Some("abc")` once `/orders/<uuid>` has
//! been seen succeeding, while `/orders/new` stays a literal route if it ever succeeded.
//!
//! Memory is bounded: at most [`RouteBookConfig::max_slots`] prefixes are kept (each with at
//! most `max_literals_per_slot` remembered literal values). When the cap is exceeded the least
//! recently reinforced eighth of the prefixes is evicted (LRU by last success, amortized).
//!
//! What was learned can be saved as JSON ([`RouteBook::to_json`]) and restored
//! ([`RouteBook::from_json`]), so a restart does not forget the app's routes.

use std::collections::HashMap;

/// What a single path segment looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SegmentShape {
    Literal,
    Int,
    Uuid,
    Hex,
    Token,
    Email,
}

impl SegmentShape {
    /// The route placeholder, `None` for literals.
    pub fn placeholder(self) -> Option<&'static str> {
        match self {
            SegmentShape::Literal => None,
            SegmentShape::Int => Some(":id"),
            SegmentShape::Uuid => Some(":uuid"),
            SegmentShape::Hex => Some(":hex"),
            SegmentShape::Token => Some(":token"),
            SegmentShape::Email => Some(":email"),
        }
    }
}

/// Shape of one segment (no slashes).
pub(crate) fn segment_shape(seg: &str) -> SegmentShape {
    let b = seg.as_bytes();
    if b.is_empty() {
        return SegmentShape::Literal;
    }
    if b.len() <= 20 && b.iter().all(u8::is_ascii_digit) {
        return SegmentShape::Int;
    }
    if is_uuid(b) {
        return SegmentShape::Uuid;
    }
    if b.len() >= 16 && b.iter().all(u8::is_ascii_hexdigit) {
        return SegmentShape::Hex;
    }
    if is_email(seg) {
        return SegmentShape::Email;
    }
    if is_token(b) || (b.len() >= 12 && looks_random(seg)) {
        return SegmentShape::Token;
    }
    SegmentShape::Literal
}

fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn is_email(seg: &str) -> bool {
    let at = seg.find('@').or_else(|| seg.find("%40"));
    match at {
        Some(i) if i > 0 => seg[i..].contains('.') && !seg.contains(' '),
        _ => false,
    }
}

/// Words joined by `-`, `_` or `.` where each word is all letters or all digits
/// (`my-post-2024`, `report_q3.pdf` is not one because of `q3`).
fn is_slug(b: &[u8]) -> bool {
    b.split(|c| matches!(c, b'-' | b'_' | b'.'))
        .all(|w| w.iter().all(u8::is_ascii_alphabetic) || w.iter().all(u8::is_ascii_digit))
}

fn is_token(b: &[u8]) -> bool {
    b.len() >= 16
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'=' | b'~'))
        && b.iter().any(u8::is_ascii_digit)
        && b.iter().any(u8::is_ascii_alphabetic)
        && !is_slug(b)
}

/// A segment that looks machine-generated rather than chosen: 8+ alphanumerics mixing at least
/// two character classes, switching class often, with few vowels among its letters.
pub(crate) fn looks_random(seg: &str) -> bool {
    let b = seg.as_bytes();
    if b.len() < 8 || !b.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let class = |c: u8| {
        if c.is_ascii_digit() {
            0u8
        } else if c.is_ascii_uppercase() {
            1
        } else {
            2
        }
    };
    let mut seen = [false; 3];
    let mut switches = 0usize;
    for (i, &c) in b.iter().enumerate() {
        seen[class(c) as usize] = true;
        if i > 0 && class(c) != class(b[i - 1]) {
            switches += 1;
        }
    }
    let letters = b.iter().filter(|c| c.is_ascii_alphabetic()).count();
    let vowels = b
        .iter()
        .filter(|c| matches!(c.to_ascii_lowercase(), b'a' | b'e' | b'i' | b'o' | b'u'))
        .count();
    seen.iter().filter(|s| **s).count() >= 2
        && switches * 5 >= (b.len() - 1) * 2
        && letters > 0
        && vowels * 10 <= letters * 3
}

#[cfg(test)]
/// Route by segment shape alone, e.g. `/users/42/orders/7f1c...` -> `/users/:id/orders/:hex`.
/// Empty segments are dropped; the root is `/`.
pub(crate) fn normalize_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        out.push_str(segment_shape(seg).placeholder().unwrap_or(seg));
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// Limits of a [`RouteBook`].
#[derive(Debug, Clone)]
pub struct RouteBookConfig {
    /// Most prefixes remembered (default 4096).
    pub max_slots: usize,
    /// Most distinct successful literal values remembered per prefix (default 16); a prefix
    /// that reaches it is treated as free-form (slugs), never as an id position.
    pub max_literals_per_slot: usize,
    /// Successful id-shaped requests needed before a position counts as an id (default 2).
    pub min_id_evidence: u32,
}

impl Default for RouteBookConfig {
    fn default() -> Self {
        RouteBookConfig {
            max_slots: 4096,
            max_literals_per_slot: 16,
            min_id_evidence: 2,
        }
    }
}

/// What came back successful at the position after one prefix, and at the prefix itself.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Slot {
    ints: u32,
    uuids: u32,
    hexes: u32,
    others: u32,
    literals: Vec<Box<str>>,
    /// Successful requests whose whole route is this prefix.
    terminal_ok: u32,
    last_used: u64,
}

impl Slot {
    fn shape_count(&self, shape: SegmentShape) -> u32 {
        match shape {
            SegmentShape::Int => self.ints,
            SegmentShape::Uuid => self.uuids,
            SegmentShape::Hex => self.hexes,
            _ => 0,
        }
    }
}

/// How a path resolved against a [`RouteBook`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    pub route: String,
    /// The first segment that sits where successful requests carried an id of another shape.
    pub malformed_param: Option<String>,
    /// The shape successful requests had at that position.
    pub expected: Option<SegmentShape>,
}

/// Learns route shapes from successful requests; bounded (see the module docs).
#[derive(Debug)]
pub struct RouteBook {
    config: RouteBookConfig,
    slots: HashMap<Box<str>, Slot>,
    extensions: Vec<Box<str>>,
    tick: u64,
}

/// What is saved of a [`RouteBook`]: everything but its limits.
#[derive(serde::Serialize, serde::Deserialize)]
struct SavedBook {
    slots: HashMap<Box<str>, Slot>,
    extensions: Vec<Box<str>>,
    tick: u64,
}

const MAX_EXTENSIONS: usize = 32;
const MAX_LITERAL_LEN: usize = 64;

impl Default for RouteBook {
    fn default() -> Self {
        RouteBook::new(RouteBookConfig::default())
    }
}

impl RouteBook {
    pub fn new(config: RouteBookConfig) -> Self {
        RouteBook {
            config,
            slots: HashMap::new(),
            extensions: Vec::new(),
            tick: 0,
        }
    }

    /// What was learned, as JSON.
    pub fn to_json(&self) -> serde_json::Result<String> {
        #[derive(serde::Serialize)]
        struct Saving<'a> {
            slots: &'a HashMap<Box<str>, Slot>,
            extensions: &'a [Box<str>],
            tick: u64,
        }
        serde_json::to_string(&Saving {
            slots: &self.slots,
            extensions: &self.extensions,
            tick: self.tick,
        })
    }

    /// A book with what [`Self::to_json`] saved, held to `config`'s limits.
    pub fn from_json(config: RouteBookConfig, json: &str) -> serde_json::Result<Self> {
        let saved: SavedBook = serde_json::from_str(json)?;
        let mut book = RouteBook {
            config,
            slots: saved.slots,
            extensions: saved.extensions,
            tick: saved.tick,
        };
        book.extensions.truncate(MAX_EXTENSIONS);
        let max_literals = book.config.max_literals_per_slot;
        for slot in book.slots.values_mut() {
            slot.literals.truncate(max_literals);
        }
        if book.slots.len() > book.config.max_slots {
            book.evict();
        }
        Ok(book)
    }

    /// Successful requests learned so far (it changes exactly when the book does).
    pub fn learned(&self) -> u64 {
        self.tick
    }

    /// Number of remembered prefixes.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Runs `f` on the slot for `key`, creating it if needed, and marks it recently used.
    fn touch(&mut self, key: &str, f: impl FnOnce(&mut Slot)) {
        let tick = self.tick;
        if let Some(slot) = self.slots.get_mut(key) {
            slot.last_used = tick;
            f(slot);
            return;
        }
        let mut slot = Slot {
            last_used: tick,
            ..Slot::default()
        };
        f(&mut slot);
        self.slots.insert(key.into(), slot);
    }

    /// Records a successful (2xx/3xx) request for `path`.
    pub fn learn(&mut self, path: &str) {
        self.tick += 1;
        let max_literals = self.config.max_literals_per_slot;
        let mut prefix = String::with_capacity(path.len() + 8);
        prefix.push('/');
        let mut last = "";
        for seg in path.split('/').filter(|s| !s.is_empty()) {
            let shape = segment_shape(seg);
            self.touch(&prefix, |slot| match shape {
                SegmentShape::Int => slot.ints = slot.ints.saturating_add(1),
                SegmentShape::Uuid => slot.uuids = slot.uuids.saturating_add(1),
                SegmentShape::Hex => slot.hexes = slot.hexes.saturating_add(1),
                _ => {
                    slot.others = slot.others.saturating_add(1);
                    if shape == SegmentShape::Literal
                        && seg.len() <= MAX_LITERAL_LEN
                        && slot.literals.len() < max_literals
                        && !slot.literals.iter().any(|l| &**l == seg)
                    {
                        slot.literals.push(seg.into());
                    }
                }
            });
            if prefix.len() > 1 {
                prefix.push('/');
            }
            prefix.push_str(shape.placeholder().unwrap_or(seg));
            last = seg;
        }
        self.touch(&prefix, |slot| {
            slot.terminal_ok = slot.terminal_ok.saturating_add(1)
        });
        if let Some((_, ext)) = last.rsplit_once('.')
            && (1..=5).contains(&ext.len())
            && ext.bytes().all(|b| b.is_ascii_alphanumeric())
            && self.extensions.len() < MAX_EXTENSIONS
            && !self.extensions.iter().any(|e| e.eq_ignore_ascii_case(ext))
        {
            self.extensions.push(ext.to_ascii_lowercase().into());
        }
        if self.slots.len() > self.config.max_slots {
            self.evict();
        }
    }

    fn evict(&mut self) {
        let mut ages: Vec<u64> = self.slots.values().map(|s| s.last_used).collect();
        let drop = (self.slots.len() - self.config.max_slots) + self.config.max_slots / 8;
        let drop = drop.min(ages.len().saturating_sub(1));
        let (_, cutoff, _) = ages.select_nth_unstable(drop);
        let cutoff = *cutoff;
        self.slots.retain(|_, s| s.last_used >= cutoff);
    }

    /// The id shape successful requests carried after this prefix, if the position is an id
    /// position: enough id-shaped successes, at least three quarters of all successes there,
    /// and not a free-form position whose literal list filled up.
    fn expected_id(&self, slot: &Slot) -> Option<SegmentShape> {
        let ids = slot
            .ints
            .saturating_add(slot.uuids)
            .saturating_add(slot.hexes);
        let all = u64::from(ids) + u64::from(slot.others);
        if ids < self.config.min_id_evidence
            || u64::from(ids) * 4 < all * 3
            || slot.literals.len() >= self.config.max_literals_per_slot
        {
            return None;
        }
        [SegmentShape::Uuid, SegmentShape::Int, SegmentShape::Hex]
            .into_iter()
            .max_by_key(|s| slot.shape_count(*s))
    }

    /// Resolves `path` to a route, flagging a segment that sits in an id position with a shape
    /// that never succeeded there (`abc` or `123` where only UUIDs succeeded).
    pub fn resolve(&self, path: &str) -> RouteMatch {
        let mut route = String::with_capacity(path.len() + 8);
        route.push('/');
        let mut malformed_param = None;
        let mut expected = None;
        for seg in path.split('/').filter(|s| !s.is_empty()) {
            let shape = segment_shape(seg);
            let mut placeholder = shape.placeholder();
            if let Some(slot) = self.slots.get(route.as_str())
                && let Some(want) = self.expected_id(slot)
            {
                let fits = match shape {
                    SegmentShape::Int | SegmentShape::Uuid | SegmentShape::Hex => {
                        slot.shape_count(shape) > 0
                            || (shape == SegmentShape::Hex && seg.len() == 32 && slot.uuids > 0)
                    }
                    _ => slot.literals.iter().any(|l| &**l == seg),
                };
                if !fits {
                    placeholder = want.placeholder();
                    if malformed_param.is_none() {
                        malformed_param = Some(truncate(seg, MAX_LITERAL_LEN).to_string());
                        expected = Some(want);
                    }
                }
            }
            if route.len() > 1 {
                route.push('/');
            }
            route.push_str(placeholder.unwrap_or(seg));
        }
        RouteMatch {
            route,
            malformed_param,
            expected,
        }
    }

    /// Whether a request on exactly this (normalized) route ever succeeded.
    pub fn route_succeeded(&self, route: &str) -> bool {
        self.slots.get(route).is_some_and(|s| s.terminal_ok > 0)
    }

    /// Whether any successful request ended in `.ext` (case-insensitive, without the dot).
    pub fn extension_succeeded(&self, ext: &str) -> bool {
        self.extensions.iter().any(|e| e.eq_ignore_ascii_case(ext))
    }
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUIDS: [&str; 3] = [
        "3f2b8c1e-9d4a-4e6f-8b7c-1a2b3c4d5e6f",
        "0c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f",
        "a1b2c3d4-e5f6-4789-abcd-ef0123456789",
    ];

    #[test]
    fn shapes() {
        assert_eq!(segment_shape("42"), SegmentShape::Int);
        assert_eq!(segment_shape(UUIDS[0]), SegmentShape::Uuid);
        assert_eq!(segment_shape("507f1f77bcf86cd799439011"), SegmentShape::Hex);
        assert_eq!(segment_shape("alice%40example.com"), SegmentShape::Email);
        assert_eq!(segment_shape("bob@example.org"), SegmentShape::Email);
        assert_eq!(segment_shape("eyJhbGciOiJIUzI1NiJ9"), SegmentShape::Token);
        assert_eq!(segment_shape("my-blog-post-2024"), SegmentShape::Literal);
        assert_eq!(segment_shape("orders"), SegmentShape::Literal);
        assert_eq!(segment_shape("abc"), SegmentShape::Literal);
        assert_eq!(segment_shape("app.3f9a2b.js"), SegmentShape::Literal);
        // Too long for an integer id: read as a hex id.
        assert_eq!(segment_shape("123456789012345678901"), SegmentShape::Hex);
    }

    #[test]
    fn a_saved_book_resolves_as_the_original_and_keeps_to_smaller_limits() {
        let mut book = RouteBook::default();
        for uuid in UUIDS {
            book.learn(&format!("/orders/{uuid}"));
        }
        book.learn("/static/app.css");
        for i in 0..40 {
            book.learn(&format!("/blog/post-{i}/comments"));
        }
        let json = book.to_json().unwrap();
        let restored = RouteBook::from_json(RouteBookConfig::default(), &json).unwrap();
        assert_eq!(restored.learned(), book.learned());
        assert_eq!(restored.len(), book.len());
        for path in ["/orders/abc", "/orders/new", "/blog/x/comments"] {
            assert_eq!(restored.resolve(path), book.resolve(path), "{path}");
        }
        assert_eq!(
            restored.resolve("/orders/abc").malformed_param.as_deref(),
            Some("abc")
        );
        assert!(restored.extension_succeeded("css"));

        let small = RouteBookConfig {
            max_slots: 4,
            ..RouteBookConfig::default()
        };
        let bounded = RouteBook::from_json(small, &json).unwrap();
        assert!(bounded.len() <= 4, "{}", bounded.len());
        assert!(RouteBook::from_json(RouteBookConfig::default(), "{\"slots\": 3}").is_err());
    }

    #[test]
    fn randomness_heuristic() {
        for s in ["aX9kQ2zLw7", "Zq8RtY3pWm", "x7Kq2Vb9Nf1T"] {
            assert!(looks_random(s), "{s}");
        }
        for s in [
            "iPhone12Pro",
            "HelloWorld",
            "checkout",
            "v2",
            "index.php",
            "OrderItems2024",
        ] {
            assert!(!looks_random(s), "{s}");
        }
    }

    #[test]
    fn normalize() {
        assert_eq!(
            normalize_path(&format!("/users/42/orders/{}/", UUIDS[1])),
            "/users/:id/orders/:uuid"
        );
        assert_eq!(normalize_path(""), "/");
        assert_eq!(normalize_path("//a//b"), "/a/b");
        assert_eq!(normalize_path("/reset/k7Hq9x2Lm4Np8r3Z"), "/reset/:token");
    }

    fn trained() -> RouteBook {
        let mut book = RouteBook::default();
        for u in UUIDS {
            book.learn(&format!("/orders/{u}"));
            book.learn(&format!("/orders/{u}/items"));
        }
        book.learn("/orders/new");
        for id in 1..5 {
            book.learn(&format!("/users/{id}"));
        }
        book
    }

    #[test]
    fn malformed_id_resolves_to_learned_route() {
        let book = trained();
        let m = book.resolve("/orders/abc");
        assert_eq!(m.route, "/orders/:uuid");
        assert_eq!(m.malformed_param.as_deref(), Some("abc"));
        assert_eq!(m.expected, Some(SegmentShape::Uuid));
        assert!(book.route_succeeded(&m.route));

        let m = book.resolve("/orders/123/items");
        assert_eq!(m.route, "/orders/:uuid/items");
        assert_eq!(m.malformed_param.as_deref(), Some("123"));

        let m = book.resolve(&format!("/users/{}", UUIDS[0]));
        assert_eq!(m.route, "/users/:id");
        assert_eq!(m.malformed_param.as_deref(), Some(UUIDS[0]));
    }

    #[test]
    fn well_formed_and_known_literals_are_not_malformed() {
        let book = trained();
        let m = book.resolve("/orders/new");
        assert_eq!((m.route.as_str(), m.malformed_param), ("/orders/new", None));
        let m = book.resolve("/orders/ffffffff-ffff-4fff-8fff-ffffffffffff");
        assert_eq!(
            (m.route.as_str(), m.malformed_param),
            ("/orders/:uuid", None)
        );
        // UUID without dashes is accepted where UUIDs are.
        assert_eq!(
            book.resolve("/orders/ffffffffffff4fff8fffffffffffffff")
                .malformed_param,
            None
        );
        // Unknown prefix: plain shape normalization.
        let m = book.resolve("/products/abc");
        assert_eq!(
            (m.route.as_str(), m.malformed_param),
            ("/products/abc", None)
        );
        assert!(!book.route_succeeded("/products/abc"));
    }

    #[test]
    fn one_success_is_not_enough_and_slug_positions_are_free_form() {
        let mut book = RouteBook::default();
        book.learn(&format!("/orders/{}", UUIDS[0]));
        assert_eq!(book.resolve("/orders/abc").malformed_param, None);

        let mut book = RouteBook::default();
        for i in 0..40u8 {
            let word: String = [b'a' + i % 26, b'a' + i / 26, b'x']
                .iter()
                .map(|b| *b as char)
                .collect();
            book.learn(&format!("/blog/post-{word}"));
            book.learn(&format!("/blog/{i}"));
            book.learn(&format!("/blog/{i}"));
            book.learn(&format!("/blog/{i}"));
        }
        assert_eq!(book.resolve("/blog/whatever").malformed_param, None);
    }

    #[test]
    fn memory_is_bounded() {
        let mut book = RouteBook::new(RouteBookConfig {
            max_slots: 64,
            ..RouteBookConfig::default()
        });
        for i in 0..10_000 {
            book.learn(&format!("/a{i}/b{i}"));
        }
        assert!(book.len() <= 64, "{}", book.len());
        // The most recent routes survive eviction.
        assert!(book.route_succeeded("/a9999/b9999"));
        assert!(!book.route_succeeded("/a0/b0"));
    }

    #[test]
    fn extensions_are_tracked() {
        let mut book = RouteBook::default();
        book.learn("/index.php");
        assert!(book.extension_succeeded("PHP"));
        assert!(!book.extension_succeeded("asp"));
    }
}
