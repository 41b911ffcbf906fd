//! Streaming log template miner in the Drain family.
//!
//! Each line is masked (see [`crate::logs::mask`]), then routed through a
//! fixed-depth prefix tree keyed on token count and a leading word, and
//! compared with the templates in that leaf by positional similarity. A
//! similar enough template absorbs the line (differing tokens become `<*>`);
//! otherwise the line starts a new template.
//!
//! Differences from plain Drain, each a general property of log messages:
//! * leading tokens that are not plain words (contain a digit, a wildcard,
//!   a dot, slash, `@`, ...) are values such as timestamps, hosts or file
//!   names, so routing uses the first plain word among the first three
//!   tokens; lines without one share a wildcard leaf, which every line of
//!   the same token count also consults;
//! * value lists collapse to one wildcard during masking, so lists of
//!   different lengths give the same token count;
//! * short messages (three tokens or fewer) need every token to agree,
//!   because one differing word out of two is a different event;
//! * two adjacent differing words are a different phrase, not a value (a
//!   value is a single token once masked), so such lines never merge;
//! * upper-case words (`RUNNING`, `HTTPS`) are enumerated states, levels or
//!   protocol names that tell events apart, so they are never generalised.
//!
//! Memory is bounded: at most [`MinerConfig::max_templates`] templates are
//! kept (least recently used ones are evicted), lines are truncated to
//! [`MinerConfig::max_line_bytes`] and the exact-match cache is capped.

use std::hash::{BuildHasher, Hasher};

use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::logs::mask::{MaskedLine, WILDCARD, mask_line};
use crate::logs::tokenize::{decode_lossy, truncate_on_char_boundary};

/// Stable identifier of a template; survives snapshot and restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TemplateId(pub u64);

/// Tuning of the miner. The default is meant for every kind of input.
#[derive(Debug, Clone)]
pub struct MinerConfig {
    /// Fraction of positions that must agree for a line to join a template.
    pub similarity_threshold: f64,
    /// Messages with at most this many tokens must agree on every constant
    /// token of the template to join it.
    pub short_message_tokens: usize,
    /// Maximum number of templates kept; least recently used are evicted.
    pub max_templates: usize,
    /// Lines longer than this (in bytes) are truncated before matching.
    pub max_line_bytes: usize,
}

impl Default for MinerConfig {
    fn default() -> Self {
        Self {
            similarity_threshold: 0.6,
            short_message_tokens: 3,
            max_templates: 10_000,
            max_line_bytes: 4096,
        }
    }
}

/// Outcome of adding one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchResult {
    /// Template the line belongs to.
    pub id: TemplateId,
    /// True when this line created the template.
    pub is_new: bool,
    /// True when the template text changed (a token became `<*>`).
    pub template_changed: bool,
}

/// Plain record of a template for persistence by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRecord {
    /// Stable template id.
    pub id: u64,
    /// Template text, tokens separated by single spaces, values as `<*>`.
    pub template: String,
    /// Number of lines matched.
    pub count: u64,
    /// Caller timestamp (or sequence number) of the first matching line.
    pub first_seen: i64,
    /// Caller timestamp (or sequence number) of the latest matching line.
    pub last_seen: i64,
}

/// Counters describing what the miner has processed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MinerStats {
    /// Lines added.
    pub lines: u64,
    /// Lines cut to `max_line_bytes` before matching.
    pub truncated_lines: u64,
    /// Templates evicted to respect `max_templates`.
    pub evicted_templates: u64,
}

/// Tokens stored as their space-joined text plus the end offset of each
/// token: two allocations per template however many tokens it has.
#[derive(Debug, Clone, Default)]
struct TokenString {
    text: String,
    ends: Vec<u32>,
}

impl TokenString {
    fn from_tokens<'a>(tokens: impl Iterator<Item = &'a str>) -> Self {
        let mut built = Self::default();
        for token in tokens {
            if !built.ends.is_empty() {
                built.text.push(' ');
            }
            built.text.push_str(token);
            built.ends.push(built.text.len() as u32);
        }
        built.text.shrink_to_fit();
        built.ends.shrink_to_fit();
        built
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn token(&self, index: usize) -> &str {
        let start = if index == 0 {
            0
        } else {
            self.ends[index - 1] as usize + 1
        };
        &self.text[start..self.ends[index] as usize]
    }

    fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|index| self.token(index))
    }

    fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * 4
    }
}

#[derive(Debug, Clone)]
struct Template {
    tokens: TokenString,
    count: u64,
    first_seen: i64,
    last_seen: i64,
    last_used: u64,
    leaf: u64,
}

/// Streaming template miner. See the module documentation.
#[derive(Debug, Clone)]
pub struct Miner {
    config: MinerConfig,
    templates: FxHashMap<u64, Template>,
    leaves: FxHashMap<u64, Vec<u64>>,
    exact: FxHashMap<u64, u64>,
    next_id: u64,
    tick: u64,
    stats: MinerStats,
    scratch: MaskedLine,
}

/// How many leading tokens are searched for a plain word to route on.
const ROUTING_POSITIONS: usize = 3;

/// Exact-match cache entries per allowed template before the cache resets.
const EXACT_CACHE_FACTOR: usize = 4;

impl Miner {
    /// Creates an empty miner.
    pub fn new(config: MinerConfig) -> Self {
        Self {
            config,
            templates: FxHashMap::default(),
            leaves: FxHashMap::default(),
            exact: FxHashMap::default(),
            next_id: 1,
            tick: 0,
            stats: MinerStats::default(),
            scratch: MaskedLine::new(),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &MinerConfig {
        &self.config
    }

    /// Adds a line, using the running line count as its timestamp.
    pub fn add(&mut self, line: &str) -> MatchResult {
        let timestamp = self.stats.lines as i64;
        self.add_at(line, timestamp)
    }

    /// Adds raw bytes (decoded lossily), using the running line count as its
    /// timestamp.
    pub fn add_bytes(&mut self, bytes: &[u8]) -> MatchResult {
        let timestamp = self.stats.lines as i64;
        self.add_bytes_at(bytes, timestamp)
    }

    /// Adds raw bytes (decoded lossily) seen at `timestamp`.
    pub fn add_bytes_at(&mut self, bytes: &[u8], timestamp: i64) -> MatchResult {
        let limit = self
            .config
            .max_line_bytes
            .saturating_add(4)
            .min(bytes.len());
        let decoded = decode_lossy(&bytes[..limit]);
        if limit < bytes.len() {
            // Count the cut even if the decoded prefix fits.
            self.stats.truncated_lines += 1;
            let (line, _) = truncate_on_char_boundary(&decoded, self.config.max_line_bytes);
            return self.add_prepared(line, timestamp);
        }
        self.add_at(&decoded, timestamp)
    }

    /// Adds a line seen at `timestamp` (any monotonic caller clock).
    pub fn add_at(&mut self, line: &str, timestamp: i64) -> MatchResult {
        let (line, truncated) = truncate_on_char_boundary(line, self.config.max_line_bytes);
        if truncated {
            self.stats.truncated_lines += 1;
        }
        self.add_prepared(line, timestamp)
    }

    fn add_prepared(&mut self, line: &str, timestamp: i64) -> MatchResult {
        self.stats.lines += 1;
        self.tick += 1;
        let mut masked = std::mem::take(&mut self.scratch);
        mask_line(line, &mut masked);
        let result = self.match_masked(&masked, timestamp);
        self.scratch = masked;
        result
    }

    fn match_masked(&mut self, masked: &MaskedLine, timestamp: i64) -> MatchResult {
        let line_hash = hash_tokens(masked);
        if let Some(&id) = self.exact.get(&line_hash)
            && let Some(template) = self.templates.get_mut(&id)
            && covers(&template.tokens, masked)
        {
            template.record_use(timestamp, self.tick);
            return MatchResult {
                id: TemplateId(id),
                is_new: false,
                template_changed: false,
            };
        }

        let own_leaf = leaf_key(masked.len(), routing_token(masked));
        let wildcard_leaf = leaf_key(masked.len(), None);
        let mut best: Option<(u64, f64)> = None;
        for leaf in [own_leaf, wildcard_leaf] {
            if let Some(ids) = self.leaves.get(&leaf) {
                for &id in ids {
                    let Some(template) = self.templates.get(&id) else {
                        continue;
                    };
                    if let Some(score) = self.similarity(&template.tokens, masked)
                        && best.is_none_or(|(_, best_score)| score > best_score)
                    {
                        best = Some((id, score));
                    }
                }
            }
            if own_leaf == wildcard_leaf {
                break;
            }
        }

        let result = match best {
            Some((id, _)) => {
                let tick = self.tick;
                let Some(template) = self.templates.get_mut(&id) else {
                    return self.create(masked, timestamp);
                };
                let changed = template.absorb(masked);
                template.record_use(timestamp, tick);
                MatchResult {
                    id: TemplateId(id),
                    is_new: false,
                    template_changed: changed,
                }
            }
            None => self.create(masked, timestamp),
        };
        if self.exact.len() >= self.config.max_templates.max(1) * EXACT_CACHE_FACTOR {
            self.exact.clear();
        }
        self.exact.insert(line_hash, result.id.0);
        result
    }

    /// Similarity of a line to a template, or `None` if it must not join.
    fn similarity(&self, template: &TokenString, masked: &MaskedLine) -> Option<f64> {
        if template.len() != masked.len() {
            return None;
        }
        if template.len() == 0 {
            return Some(1.0);
        }
        let length = template.len();
        let short = length <= self.config.short_message_tokens;
        // Mismatches allowed before the threshold becomes unreachable.
        let allowed_mismatches = if short {
            0
        } else {
            length
                .saturating_sub((self.config.similarity_threshold * length as f64).ceil() as usize)
        };
        let mut mismatches = 0;
        let mut equal_constants = 0;
        let mut previous_constant_mismatch = false;
        for (index, template_token) in template.iter().enumerate() {
            let token = masked.token(index);
            if template_token == token {
                if token != WILDCARD {
                    equal_constants += 1;
                }
                previous_constant_mismatch = false;
            } else if template_token != WILDCARD {
                // Two adjacent differing words are a different phrase (a
                // value is one token once masked), and upper-case words are
                // enumerated states, levels or protocol names that tell
                // events apart.
                if previous_constant_mismatch
                    || is_enumeration_word(template_token)
                    || is_enumeration_word(token)
                {
                    return None;
                }
                previous_constant_mismatch = true;
                mismatches += 1;
                if mismatches > allowed_mismatches {
                    return None;
                }
            } else {
                previous_constant_mismatch = false;
                if short {
                    mismatches += 1;
                    if mismatches > allowed_mismatches {
                        return None;
                    }
                }
            }
        }
        if equal_constants == 0 && mismatches > 0 {
            return None;
        }
        Some(1.0 - mismatches as f64 / length as f64 + equal_constants as f64 * 1e-6)
    }

    fn create(&mut self, masked: &MaskedLine, timestamp: i64) -> MatchResult {
        if self.templates.len() >= self.config.max_templates.max(1) {
            self.evict_least_recently_used();
        }
        let id = self.next_id;
        self.next_id += 1;
        let tokens = TokenString::from_tokens(masked.tokens());
        let leaf = template_leaf(&tokens);
        let template = Template {
            tokens,
            count: 1,
            first_seen: timestamp,
            last_seen: timestamp,
            last_used: self.tick,
            leaf,
        };
        self.insert_template(id, template);
        MatchResult {
            id: TemplateId(id),
            is_new: true,
            template_changed: false,
        }
    }

    fn insert_template(&mut self, id: u64, template: Template) {
        self.leaves.entry(template.leaf).or_default().push(id);
        self.templates.insert(id, template);
    }

    /// Evicts the least recently used tenth of the allowed templates, so the
    /// cost of eviction is spread over many insertions.
    fn evict_least_recently_used(&mut self) {
        let cap = self.config.max_templates.max(1);
        let evict_count = (cap / 10).max(1).min(self.templates.len());
        if evict_count == 0 {
            return;
        }
        let mut by_age: Vec<(u64, u64)> = self
            .templates
            .iter()
            .map(|(&id, template)| (template.last_used, id))
            .collect();
        by_age.select_nth_unstable(evict_count - 1);
        for &(_, id) in &by_age[..evict_count] {
            self.remove_template(id);
        }
        self.stats.evicted_templates += evict_count as u64;
    }

    fn remove_template(&mut self, id: u64) {
        let Some(template) = self.templates.remove(&id) else {
            return;
        };
        if let Some(ids) = self.leaves.get_mut(&template.leaf) {
            if let Some(position) = ids.iter().position(|&other| other == id) {
                ids.swap_remove(position);
            }
            if ids.is_empty() {
                self.leaves.remove(&template.leaf);
            }
        }
    }

    /// Template text for `id`, if the template is still held.
    pub fn template(&self, id: TemplateId) -> Option<&str> {
        self.templates
            .get(&id.0)
            .map(|template| template.tokens.text.as_str())
    }

    /// Full record (text and statistics) for `id`.
    pub fn record(&self, id: TemplateId) -> Option<TemplateRecord> {
        self.templates
            .get(&id.0)
            .map(|template| template.to_record(id.0))
    }

    /// Number of templates held.
    pub fn template_count(&self) -> usize {
        self.templates.len()
    }

    /// Processing counters.
    pub fn stats(&self) -> MinerStats {
        self.stats
    }

    /// Estimate of the heap bytes held by the miner's tables.
    pub fn approx_memory_bytes(&self) -> usize {
        let template_bytes: usize = self
            .templates
            .values()
            .map(|template| std::mem::size_of::<Template>() + 8 + template.tokens.heap_bytes())
            .sum();
        let leaf_bytes: usize = self
            .leaves
            .values()
            .map(|ids| 8 + std::mem::size_of::<Vec<u64>>() + ids.capacity() * 8)
            .sum();
        template_bytes + leaf_bytes + self.exact.capacity() * 17
    }

    /// All templates, ordered by id, for persistence.
    pub fn snapshot(&self) -> Vec<TemplateRecord> {
        let mut records: Vec<TemplateRecord> = self
            .templates
            .iter()
            .map(|(&id, template)| template.to_record(id))
            .collect();
        records.sort_unstable_by_key(|record| record.id);
        records
    }

    /// Replaces all templates with `records` (as produced by [`Self::snapshot`]).
    /// Ids are kept; new templates get ids above the largest restored one.
    /// If there are more records than `max_templates`, the most recently seen
    /// ones are kept.
    pub fn restore(&mut self, mut records: Vec<TemplateRecord>) {
        self.templates.clear();
        self.leaves.clear();
        self.exact.clear();
        records.sort_by_key(|record| (record.last_seen, record.id));
        let cap = self.config.max_templates.max(1);
        if records.len() > cap {
            let excess = records.len() - cap;
            records.drain(..excess);
        }
        let mut max_id = 0;
        for record in records {
            self.tick += 1;
            max_id = max_id.max(record.id);
            let tokens = TokenString::from_tokens(
                record.template.split(' ').filter(|token| !token.is_empty()),
            );
            let leaf = template_leaf(&tokens);
            let template = Template {
                tokens,
                count: record.count,
                first_seen: record.first_seen,
                last_seen: record.last_seen,
                last_used: self.tick,
                leaf,
            };
            self.remove_template(record.id);
            self.insert_template(record.id, template);
        }
        self.next_id = self.next_id.max(max_id.saturating_add(1));
    }
}

impl Template {
    fn record_use(&mut self, timestamp: i64, tick: u64) {
        self.count += 1;
        self.last_seen = self.last_seen.max(timestamp);
        self.first_seen = self.first_seen.min(timestamp);
        self.last_used = tick;
    }

    /// Generalises positions that differ from `masked`; returns whether the
    /// template changed.
    fn absorb(&mut self, masked: &MaskedLine) -> bool {
        let changed = self
            .tokens
            .iter()
            .enumerate()
            .any(|(index, token)| token != WILDCARD && token != masked.token(index));
        if changed {
            let tokens = &self.tokens;
            self.tokens =
                TokenString::from_tokens(tokens.iter().enumerate().map(|(index, token)| {
                    if token == masked.token(index) {
                        token
                    } else {
                        WILDCARD
                    }
                }));
        }
        changed
    }

    fn to_record(&self, id: u64) -> TemplateRecord {
        TemplateRecord {
            id,
            template: self.tokens.text.clone(),
            count: self.count,
            first_seen: self.first_seen,
            last_seen: self.last_seen,
        }
    }
}

/// True when every template position equals the line token or is `<*>`.
fn covers(template: &TokenString, masked: &MaskedLine) -> bool {
    let text = template.text.as_bytes();
    if text == masked.text_bytes() {
        return true;
    }
    if template.len() != masked.len() {
        return false;
    }
    let mut start = 0;
    for (index, &end) in template.ends.iter().enumerate() {
        let token = &text[start..end as usize];
        if token != WILDCARD.as_bytes() && token != masked.token_bytes(index) {
            return false;
        }
        start = end as usize + 1;
    }
    true
}

/// A leading token routes only if it is a plain word: letters with `_`, `-`
/// or `'` inside and optional trailing `:`/`,`. Anything else (digits, dots,
/// slashes, wildcards) is likely a value such as a host or file name.
fn is_routing_word(token: &str) -> bool {
    let word = token.trim_end_matches([':', ',']);
    !word.is_empty()
        && word.chars().any(char::is_alphabetic)
        && word
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, '_' | '-' | '\''))
}

/// An upper-case word of two or more letters (underscores and a version
/// digit allowed, surrounding quotes and brackets ignored): `RUNNING`,
/// `HTTPS`, `SOCKS5`, `JOB_SETUP`, `"GET`.
fn is_enumeration_word(token: &str) -> bool {
    let word = token
        .trim_start_matches(['"', '\'', '(', '['])
        .trim_end_matches(['"', '\'', ':', ',', '.', ';', ')', ']']);
    let letters = word.bytes().filter(u8::is_ascii_uppercase).count();
    letters >= 2
        && word
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit())
}

/// The routing word of a token sequence: the first plain word among the
/// first [`ROUTING_POSITIONS`] tokens, with its position. Leading values
/// (timestamps, hosts, ids) are skipped rather than routed on.
fn routing_word<'a>(tokens: impl Iterator<Item = &'a str>) -> Option<(usize, &'a str)> {
    tokens
        .take(ROUTING_POSITIONS)
        .enumerate()
        .find(|(_, token)| is_routing_word(token))
}

fn routing_token(masked: &MaskedLine) -> Option<(usize, &str)> {
    routing_word(masked.tokens())
}

fn template_leaf(tokens: &TokenString) -> u64 {
    leaf_key(tokens.len(), routing_word(tokens.iter()))
}

/// Leaf of the prefix tree: token count plus routing word and position, or
/// the shared wildcard leaf of that token count when there is none.
fn leaf_key(token_count: usize, routing: Option<(usize, &str)>) -> u64 {
    let mut hasher = FxBuildHasher.build_hasher();
    hasher.write_usize(token_count);
    match routing {
        Some((position, word)) => {
            hasher.write_u8(1);
            hasher.write_usize(position);
            hasher.write(word.as_bytes());
        }
        None => hasher.write_u8(0),
    }
    hasher.finish()
}

fn hash_tokens(masked: &MaskedLine) -> u64 {
    // Tokens never contain spaces, so the joined text identifies them.
    let mut hasher = FxBuildHasher.build_hasher();
    hasher.write_usize(masked.len());
    hasher.write(masked.text_bytes());
    hasher.finish()
}

#[cfg(test)]
#[path = "miner_tests.rs"]
mod tests;
