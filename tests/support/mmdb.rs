//! A small MaxMind DB writer, following the format's specification (version 2.0): a binary
//! search tree of 24-bit records over IPv6 (IPv4 networks sit at `::a.b.c.d`, where readers
//! look for them), 16 zero bytes, a data section of maps, strings and unsigned integers, then
//! `\xAB\xCD\xEFMaxMind.com` and the metadata map. Enough to write GeoLite2-shaped files the
//! real reader opens.

use std::net::IpAddr;

/// A value in the data section.
#[derive(Debug, Clone)]
pub enum Value {
    Str(String),
    U16(u16),
    U32(u32),
    U64(u64),
    Map(Vec<(String, Value)>),
    Array(Vec<Value>),
}

impl Value {
    pub fn map(pairs: &[(&str, Value)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(key, value)| (key.to_string(), value.clone()))
                .collect(),
        )
    }

    pub fn str(text: &str) -> Value {
        Value::Str(text.to_owned())
    }
}

/// `{"names": {"en": name}}`, as GeoLite2 stores cities and countries.
fn named(name: &str, extra: &[(&str, Value)]) -> Value {
    let mut pairs = vec![("names", Value::map(&[("en", Value::str(name))]))];
    pairs.extend(extra.iter().cloned());
    Value::map(&pairs)
}

/// A GeoLite2-City record.
pub fn city_record(city: &str, country: &str, iso_code: &str) -> Value {
    Value::map(&[
        ("city", named(city, &[("geoname_id", Value::U32(1))])),
        (
            "country",
            named(country, &[("iso_code", Value::str(iso_code))]),
        ),
    ])
}

/// A GeoLite2-Country record.
pub fn country_record(country: &str, iso_code: &str) -> Value {
    Value::map(&[(
        "country",
        named(country, &[("iso_code", Value::str(iso_code))]),
    )])
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Empty,
    Node(u32),
    Data(u32),
}

/// Networks and their records, written out by `to_bytes`.
pub struct MmdbWriter {
    database_type: String,
    build_epoch: u64,
    nodes: Vec<[Slot; 2]>,
    data: Vec<u8>,
}

impl MmdbWriter {
    pub fn new(database_type: &str, build_epoch: u64) -> MmdbWriter {
        MmdbWriter {
            database_type: database_type.to_owned(),
            build_epoch,
            nodes: vec![[Slot::Empty; 2]],
            data: Vec::new(),
        }
    }

    /// Adds "203.0.113.0/24" (or an IPv6 network); networks must not overlap.
    pub fn insert(&mut self, network: &str, value: &Value) {
        let (address, prefix) = network.split_once('/').expect("network/prefix");
        let prefix: u32 = prefix.parse().expect("prefix length");
        let (bits, prefix) = match address.parse::<IpAddr>().expect("address") {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), prefix + 96),
            IpAddr::V6(v6) => (u128::from(v6), prefix),
        };
        assert!((1..=128).contains(&prefix), "prefix {prefix}");
        let offset = u32::try_from(self.data.len()).expect("data section size");
        encode(value, &mut self.data);
        let mut node = 0usize;
        for depth in 0..prefix {
            let bit = ((bits >> (127 - depth)) & 1) as usize;
            if depth == prefix - 1 {
                assert!(matches!(self.nodes[node][bit], Slot::Empty), "overlap");
                self.nodes[node][bit] = Slot::Data(offset);
                return;
            }
            node = match self.nodes[node][bit] {
                Slot::Node(next) => next as usize,
                Slot::Empty => {
                    self.nodes.push([Slot::Empty; 2]);
                    let next = self.nodes.len() - 1;
                    self.nodes[node][bit] = Slot::Node(next as u32);
                    next
                }
                Slot::Data(_) => panic!("{network} lies inside a network already written"),
            };
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let node_count = self.nodes.len() as u32;
        let mut out = Vec::new();
        for node in &self.nodes {
            for slot in node {
                let record = match *slot {
                    Slot::Empty => node_count,
                    Slot::Node(next) => next,
                    Slot::Data(offset) => node_count + 16 + offset,
                };
                assert!(record < 1 << 24, "record {record} does not fit 24 bits");
                out.extend_from_slice(&record.to_be_bytes()[1..]);
            }
        }
        out.extend_from_slice(&[0; 16]);
        out.extend_from_slice(&self.data);
        out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
        let metadata = Value::map(&[
            ("binary_format_major_version", Value::U16(2)),
            ("binary_format_minor_version", Value::U16(0)),
            ("build_epoch", Value::U64(self.build_epoch)),
            ("database_type", Value::str(&self.database_type)),
            (
                "description",
                Value::map(&[("en", Value::str("Test database"))]),
            ),
            ("ip_version", Value::U16(6)),
            ("languages", Value::Array(vec![Value::str("en")])),
            ("node_count", Value::U32(node_count)),
            ("record_size", Value::U16(24)),
        ]);
        encode(&metadata, &mut out);
        out
    }
}

/// The data section's encoding of one value.
fn encode(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Str(text) => {
            control(2, text.len(), out);
            out.extend_from_slice(text.as_bytes());
        }
        Value::U16(number) => unsigned(5, u64::from(*number), out),
        Value::U32(number) => unsigned(6, u64::from(*number), out),
        Value::U64(number) => unsigned(9, *number, out),
        Value::Map(pairs) => {
            control(7, pairs.len(), out);
            for (key, value) in pairs {
                encode(&Value::Str(key.clone()), out);
                encode(value, out);
            }
        }
        Value::Array(items) => {
            control(11, items.len(), out);
            for item in items {
                encode(item, out);
            }
        }
    }
}

/// Unsigned integers take as few big-endian bytes as their value needs.
fn unsigned(kind: u8, number: u64, out: &mut Vec<u8>) {
    let bytes = number.to_be_bytes();
    let skip = bytes.iter().take_while(|byte| **byte == 0).count();
    control(kind, bytes.len() - skip, out);
    out.extend_from_slice(&bytes[skip..]);
}

/// The control byte: type in the top three bits (extended types as a second byte, less 7),
/// size in the low five (29, 30 and 31 say one, two or three more bytes of size follow).
fn control(kind: u8, size: usize, out: &mut Vec<u8>) {
    let (size_bits, extra): (u8, Vec<u8>) = match size {
        0..=28 => (size as u8, Vec::new()),
        29..=284 => (29, vec![(size - 29) as u8]),
        285..=65_820 => (30, ((size - 285) as u16).to_be_bytes().to_vec()),
        _ => (31, ((size - 65_821) as u32).to_be_bytes()[1..].to_vec()),
    };
    if kind <= 7 {
        out.push((kind << 5) | size_bits);
    } else {
        out.push(size_bits);
        out.push(kind - 7);
    }
    out.extend_from_slice(&extra);
}
