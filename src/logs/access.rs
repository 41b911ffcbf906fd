//! Access-log line parsing: nginx/Apache "combined" and "common" (with optional trailing
//! fields such as `$request_time` and a request id) through a hand-written byte-level parser,
//! and JSON lines (nginx `escape=json`, Caddy, Traefik, app loggers) through field-name
//! auto-detection. A line that does not parse yields `None`; no input makes the parser panic.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use serde_json::{Map, Value};

/// Which access-log format a source writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccessFormat {
    /// A line starting with `{` is read as JSON, anything else as combined/common.
    #[default]
    Auto,
    /// nginx/Apache combined or common, optionally with trailing fields.
    Combined,
    /// One JSON object per line.
    Json,
}

/// One HTTP request as the access log recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessRecord {
    pub time: Option<DateTime<FixedOffset>>,
    pub client: String,
    /// Empty when the request line had no method (garbage or TLS bytes on a plain port).
    pub method: String,
    /// Request target without the query string, as logged (not percent-decoded).
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    pub bytes: Option<u64>,
    pub duration_ms: Option<f64>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

/// Parses one line in `format`; `None` for blank or malformed lines.
pub fn parse_access_line(line: &str, format: AccessFormat) -> Option<AccessRecord> {
    let line = line.trim_end_matches(['\n', '\r']);
    match format {
        AccessFormat::Combined => parse_combined(line),
        AccessFormat::Json => parse_json(line),
        AccessFormat::Auto => {
            if line.trim_start().starts_with('{') {
                parse_json(line)
            } else {
                parse_combined(line)
            }
        }
    }
}

/// Byte cursor over a combined-format line. All split points are ASCII delimiters, so every
/// slice taken from the line is a valid `str`.
struct Cursor<'a> {
    line: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.line.as_bytes()
    }

    fn skip_spaces(&mut self) {
        while self.bytes().get(self.pos) == Some(&b' ') {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.line.len()
    }

    /// A run of non-space bytes.
    fn token(&mut self) -> Option<&'a str> {
        self.skip_spaces();
        let start = self.pos;
        let rest = self.bytes().get(start..)?;
        let len = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
        if len == 0 {
            return None;
        }
        self.pos = start + len;
        self.line.get(start..start + len)
    }

    /// The text between `[` and the next `]`.
    fn bracketed(&mut self) -> Option<&'a str> {
        self.skip_spaces();
        if self.peek() != Some(b'[') {
            return None;
        }
        let start = self.pos + 1;
        let len = self.bytes().get(start..)?.iter().position(|&b| b == b']')?;
        self.pos = start + len + 1;
        self.line.get(start..start + len)
    }

    /// The raw text between `"` and the matching unescaped `"`, and whether it had escapes.
    fn quoted(&mut self) -> Option<(&'a str, bool)> {
        self.skip_spaces();
        if self.peek() != Some(b'"') {
            return None;
        }
        let start = self.pos + 1;
        let bytes = self.bytes();
        let mut i = start;
        let mut escaped = false;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'\\' => {
                    escaped = true;
                    i += 2;
                }
                b'"' => {
                    self.pos = i + 1;
                    return Some((self.line.get(start..i)?, escaped));
                }
                _ => i += 1,
            }
        }
        None
    }
}

/// Parses nginx/Apache combined or common format, with an optional leading virtual host and
/// optional trailing fields (see [`apply_extra`]).
pub fn parse_combined(line: &str) -> Option<AccessRecord> {
    let mut cur = Cursor { line, pos: 0 };
    // client ident user, possibly preceded by a virtual host (`vhost_combined`).
    let mut heads: [&str; 4] = [""; 4];
    let mut n = 0;
    loop {
        cur.skip_spaces();
        match cur.peek() {
            Some(b'[') => break,
            None => return None,
            _ => {}
        }
        if n == heads.len() {
            return None;
        }
        heads[n] = cur.token()?;
        n += 1;
    }
    if n < 3 {
        return None;
    }
    let client = heads[n - 3];
    let time = parse_clf_time(cur.bracketed()?.as_bytes());
    let (request, escaped) = cur.quoted()?;
    let request = unescape(request, escaped);
    let status = parse_status(cur.token()?)?;
    let bytes = match cur.token() {
        Some("-") | None => None,
        Some(t) => Some(t.parse::<u64>().ok()?),
    };
    let (method, target) = split_request_line(&request);
    let (path, query) = split_target(target);
    let mut record = AccessRecord {
        time,
        client: client.to_string(),
        method: method.to_string(),
        path: path.to_string(),
        query: query.map(str::to_string),
        status,
        bytes,
        duration_ms: None,
        user_agent: None,
        request_id: None,
    };
    // Combined: referer then user agent, both quoted.
    let mut quoted_seen = 0;
    while !cur.at_end() {
        cur.skip_spaces();
        if cur.at_end() {
            break;
        }
        if cur.peek() == Some(b'"') {
            let (raw, escaped) = cur.quoted()?;
            quoted_seen += 1;
            match quoted_seen {
                1 => {}
                2 => {
                    if raw != "-" && !raw.is_empty() {
                        record.user_agent = Some(unescape(raw, escaped).into_owned());
                    }
                }
                _ => apply_extra(&mut record, raw),
            }
        } else {
            // Once bare fields start, later quoted fields are extras too.
            quoted_seen = quoted_seen.max(2);
            let tok = cur.token()?;
            apply_extra(&mut record, tok);
        }
    }
    Some(record)
}

/// Reads a trailing field: `key=value` pairs (`rt`/`request_time`, `request_id`/`rid`/...),
/// a bare float (nginx `$request_time`, seconds; only the first one counts, the next is usually
/// `$upstream_response_time`), a bare integer (Apache `%D`, microseconds), or an id-like token
/// of 16+ characters (`$request_id`, a trace id).
fn apply_extra(record: &mut AccessRecord, field: &str) {
    let field = field.trim_matches('"');
    if field.is_empty() || field == "-" {
        return;
    }
    if let Some((key, value)) = field.split_once('=') {
        let value = value.trim_matches('"');
        match key.to_ascii_lowercase().as_str() {
            "rt" | "request_time" | "rtime" => {
                if record.duration_ms.is_none()
                    && let Ok(secs) = value.parse::<f64>()
                    && secs.is_finite()
                {
                    record.duration_ms = Some(secs * 1000.0);
                }
            }
            "rid" | "request_id" | "req_id" | "reqid" | "x_request_id" | "trace_id"
                if record.request_id.is_none() && looks_like_id(value) =>
            {
                record.request_id = Some(value.to_string());
            }
            _ => {}
        }
        return;
    }
    let bytes = field.as_bytes();
    if bytes.iter().all(u8::is_ascii_digit) && bytes.len() <= 12 {
        if record.duration_ms.is_none()
            && let Ok(micros) = field.parse::<u64>()
        {
            record.duration_ms = Some(micros as f64 / 1000.0);
        }
        return;
    }
    if bytes.iter().all(|b| b.is_ascii_digit() || *b == b'.') {
        if record.duration_ms.is_none()
            && let Ok(secs) = field.parse::<f64>()
            && secs.is_finite()
        {
            record.duration_ms = Some(secs * 1000.0);
        }
        return;
    }
    if record.request_id.is_none() && looks_like_id(field) {
        record.request_id = Some(field.to_string());
    }
}

fn looks_like_id(s: &str) -> bool {
    (8..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && s.bytes().any(|b| b.is_ascii_digit())
        && (s.len() >= 16 || s.bytes().filter(u8::is_ascii_digit).count() >= 4)
}

fn parse_status(tok: &str) -> Option<u16> {
    let b = tok.as_bytes();
    if b.len() != 3 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let status =
        u16::from(b[0] - b'0') * 100 + u16::from(b[1] - b'0') * 10 + u16::from(b[2] - b'0');
    (100..=599).contains(&status).then_some(status)
}

/// `"GET /x HTTP/1.1"` into method and target. A request line without a method (garbage, a
/// lone `-`) keeps its text as the target and an empty method.
fn split_request_line(request: &str) -> (&str, &str) {
    let mut parts = request.splitn(3, ' ');
    match (parts.next(), parts.next()) {
        (Some(method), Some(target))
            if !method.is_empty()
                && method.len() <= 16
                && method
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b == b'-' || b == b'_') =>
        {
            (method, target)
        }
        _ => ("", request),
    }
}

fn split_target(target: &str) -> (&str, Option<&str>) {
    match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    }
}

/// Undoes `\"`, `\\` and `\xHH` escapes (Apache and nginx escape styles).
fn unescape(raw: &str, escaped: bool) -> std::borrow::Cow<'_, str> {
    if !escaped {
        return std::borrow::Cow::Borrowed(raw);
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\\' && i + 1 < bytes.len() {
            let next = bytes[i + 1];
            if next == b'x'
                && let Some(hex) = bytes.get(i + 2..i + 4)
                && let (Some(h), Some(l)) = (hex_val(hex[0]), hex_val(hex[1]))
            {
                out.push(h * 16 + l);
                i += 4;
                continue;
            }
            if next == b'"' || next == b'\\' {
                out.push(next);
                i += 2;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    std::borrow::Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn two_digits(b: &[u8]) -> Option<u32> {
    match b {
        [h, l] if h.is_ascii_digit() && l.is_ascii_digit() => {
            Some(u32::from(h - b'0') * 10 + u32::from(l - b'0'))
        }
        _ => None,
    }
}

/// `10/Oct/2000:13:55:36 -0700` without going through a format-string parser.
pub fn parse_clf_time(s: &[u8]) -> Option<DateTime<FixedOffset>> {
    if s.len() != 26 || s[2] != b'/' || s[6] != b'/' || s[11] != b':' || s[20] != b' ' {
        return None;
    }
    let day = two_digits(&s[0..2])?;
    let month = match &s[3..6] {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    };
    let year = two_digits(&s[7..9])? * 100 + two_digits(&s[9..11])?;
    let hour = two_digits(&s[12..14])?;
    let min = two_digits(&s[15..17])?;
    let sec = two_digits(&s[18..20])?;
    let sign = match s[21] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let off_h = two_digits(&s[22..24])? as i32;
    let off_m = two_digits(&s[24..26])? as i32;
    let offset = FixedOffset::east_opt(sign * (off_h * 3600 + off_m * 60))?;
    let naive = NaiveDate::from_ymd_opt(year as i32, month, day)?.and_hms_opt(hour, min, sec)?;
    offset.from_local_datetime(&naive).single()
}

/// Parses one JSON object, auto-detecting common field names (see the module docs).
pub fn parse_json(line: &str) -> Option<AccessRecord> {
    let value: Value = serde_json::from_str(line.trim()).ok()?;
    let obj = value.as_object()?;
    let nested = obj.get("request").and_then(Value::as_object);
    let request_line = obj.get("request").and_then(Value::as_str);
    let (line_method, line_target) = request_line.map_or(("", None), |r| {
        let (m, t) = split_request_line(r);
        (m, Some(t))
    });

    let status = get(
        obj,
        &[
            "status",
            "status_code",
            "DownstreamStatus",
            "OriginStatus",
            "code",
        ],
    )
    .and_then(as_u64)
    .and_then(|s| u16::try_from(s).ok())
    .filter(|s| (100..=599).contains(s))?;

    let target = get(obj, &["request_uri", "uri", "path", "url", "RequestPath"])
        .and_then(Value::as_str)
        .or_else(|| nested.and_then(|n| get(n, &["uri", "path", "url"])?.as_str()))
        .or(line_target)?;
    let (path, mut query) = split_target(target);
    if query.is_none() {
        query = get(obj, &["query", "query_string", "args"])
            .and_then(Value::as_str)
            .filter(|q| !q.is_empty() && *q != "-");
    }
    let method = get(obj, &["method", "request_method", "RequestMethod", "verb"])
        .and_then(Value::as_str)
        .or_else(|| nested.and_then(|n| n.get("method")?.as_str()))
        .unwrap_or(line_method);

    let client = get(
        obj,
        &[
            "remote_addr",
            "client",
            "client_ip",
            "ip",
            "remote_ip",
            "ClientHost",
            "ClientAddr",
        ],
    )
    .and_then(Value::as_str)
    .or_else(|| nested.and_then(|n| get(n, &["client_ip", "remote_ip", "remote_addr"])?.as_str()))
    .map(strip_port)
    .unwrap_or("-");

    let time = get(
        obj,
        &[
            "time",
            "timestamp",
            "@timestamp",
            "time_local",
            "time_iso8601",
            "ts",
            "StartUTC",
        ],
    )
    .and_then(json_time);

    let headers = nested
        .and_then(|n| n.get("headers"))
        .and_then(Value::as_object);
    let user_agent = get(
        obj,
        &[
            "http_user_agent",
            "user_agent",
            "userAgent",
            "ua",
            "request_User-Agent",
        ],
    )
    .and_then(Value::as_str)
    .or_else(|| headers.and_then(|h| header(h, "user-agent")))
    .filter(|s| !s.is_empty() && *s != "-")
    .map(str::to_string);
    let request_id = get(
        obj,
        &[
            "request_id",
            "req_id",
            "x_request_id",
            "requestId",
            "trace_id",
            "traceId",
            "request_X-Request-Id",
        ],
    )
    .and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
    .or_else(|| {
        headers
            .and_then(|h| header(h, "x-request-id"))
            .map(str::to_string)
    })
    .filter(|s| !s.is_empty() && s != "-");

    let bytes = get(
        obj,
        &[
            "body_bytes_sent",
            "bytes_sent",
            "bytes",
            "size",
            "DownstreamContentSize",
        ],
    )
    .and_then(as_u64);

    Some(AccessRecord {
        time,
        client: client.to_string(),
        method: method.to_string(),
        path: path.to_string(),
        query: query.map(str::to_string),
        status,
        bytes,
        duration_ms: json_duration_ms(obj),
        user_agent,
        request_id,
    })
}

fn get<'a>(obj: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter()
        .find_map(|k| obj.get(*k).filter(|v| !v.is_null()))
}

/// First value of a header in Caddy's `{"Name": ["value"]}` shape, case-insensitive.
fn header<'a>(headers: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    let (_, v) = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))?;
    match v {
        Value::Array(items) => items.first()?.as_str(),
        Value::String(s) => Some(s),
        _ => None,
    }
}

fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|f: &f64| f.is_finite())
}

/// `1.2.3.4:5678` -> `1.2.3.4`, `[::1]:443` -> `::1`; a bare IPv6 address is kept whole.
fn strip_port(addr: &str) -> &str {
    if let Some(rest) = addr.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match addr.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host
        }
        _ => addr,
    }
}

/// Duration by field name: `*_ms` fields in milliseconds, Traefik's `Duration` in nanoseconds,
/// `request_time`/`duration`/`latency` numbers in seconds; strings with a unit (`"1.5ms"`,
/// `"250µs"`, `"2s"`) are read by their unit.
fn json_duration_ms(obj: &Map<String, Value>) -> Option<f64> {
    const MS: &[&str] = &[
        "duration_ms",
        "latency_ms",
        "elapsed_ms",
        "response_time_ms",
        "responseTime",
    ];
    const SECS: &[&str] = &[
        "request_time",
        "duration",
        "latency",
        "elapsed",
        "response_time",
    ];
    if let Some(v) = get(obj, MS) {
        return as_f64(v);
    }
    if let Some(v) = obj.get("Duration") {
        return as_f64(v).map(|ns| ns / 1e6);
    }
    let v = get(obj, SECS)?;
    if let Value::String(s) = v
        && let Some(ms) = duration_with_unit(s)
    {
        return Some(ms);
    }
    as_f64(v).map(|s| s * 1000.0)
}

fn duration_with_unit(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let factor = match unit.trim() {
        "ns" => 1e-6,
        "us" | "µs" | "μs" => 1e-3,
        "ms" => 1.0,
        "s" => 1000.0,
        "m" => 60_000.0,
        _ => return None,
    };
    Some(n * factor)
}

/// RFC 3339 strings, CLF time strings, or Unix epoch numbers (s, ms, µs or ns by magnitude).
fn json_time(v: &Value) -> Option<DateTime<FixedOffset>> {
    match v {
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .ok()
            .or_else(|| parse_clf_time(s.as_bytes()))
            .or_else(|| {
                chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
                    .ok()
                    .map(|n| Utc.from_utc_datetime(&n).fixed_offset())
            }),
        Value::Number(n) => {
            let f = n.as_f64()?;
            let secs = if f > 1e17 {
                f / 1e9
            } else if f > 1e14 {
                f / 1e6
            } else if f > 1e11 {
                f / 1e3
            } else {
                f
            };
            if !secs.is_finite() || !(0.0..=1e11).contains(&secs) {
                return None;
            }
            let whole = secs.trunc() as i64;
            let nanos = ((secs - secs.trunc()) * 1e9) as u32;
            DateTime::from_timestamp(whole, nanos.min(999_999_999)).map(|t| t.fixed_offset())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn combined(line: &str) -> AccessRecord {
        parse_access_line(line, AccessFormat::Auto).unwrap_or_else(|| panic!("no parse: {line}"))
    }

    #[test]
    fn apache_common_line() {
        let r = combined(
            r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#,
        );
        assert_eq!(r.client, "127.0.0.1");
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, "/apache_pb.gif");
        assert_eq!(r.query, None);
        assert_eq!(r.status, 200);
        assert_eq!(r.bytes, Some(2326));
        assert_eq!(r.user_agent, None);
        let t = r.time.unwrap();
        assert_eq!(t.to_rfc3339(), "2000-10-10T13:55:36-07:00");
    }

    #[test]
    fn nginx_combined_with_escaped_quotes_ipv6_query_and_http2() {
        let line = r#"2001:db8:85a3::8a2e:370:7334 - - [05/Mar/2024:09:12:44 +0100] "POST /api/v1/orders?ref=mail&x=1 HTTP/2.0" 500 187 "https://shop.example.com/cart" "Mozilla/5.0 (X11; Linux x86_64) \"quoted\" Gecko/20100101 Firefox/123.0""#;
        let r = combined(line);
        assert_eq!(r.client, "2001:db8:85a3::8a2e:370:7334");
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/api/v1/orders");
        assert_eq!(r.query.as_deref(), Some("ref=mail&x=1"));
        assert_eq!(r.status, 500);
        assert_eq!(
            r.user_agent.as_deref(),
            Some(r#"Mozilla/5.0 (X11; Linux x86_64) "quoted" Gecko/20100101 Firefox/123.0"#)
        );
        assert_eq!(r.time.unwrap().offset().local_minus_utc(), 3600);
    }

    #[test]
    fn nginx_hex_escapes_dash_fields_and_trailing_timing_and_request_id() {
        let line = r#"203.0.113.9 - - [05/Mar/2024:09:12:44 +0000] "GET /orders/abc HTTP/1.1" 500 - "-" "curl/8.5 \x22x\x22" 0.012 0.011 "7f3a9c0e4b2d4e8f9a1b2c3d4e5f6a7b""#;
        let r = combined(line);
        assert_eq!(r.bytes, None);
        assert_eq!(r.user_agent.as_deref(), Some(r#"curl/8.5 "x""#));
        assert_eq!(r.duration_ms, Some(12.0));
        assert_eq!(
            r.request_id.as_deref(),
            Some("7f3a9c0e4b2d4e8f9a1b2c3d4e5f6a7b")
        );
    }

    #[test]
    fn key_value_trailing_fields_and_apache_microseconds() {
        let r = combined(
            r#"10.0.0.7 - - [05/Mar/2024:09:12:44 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua" rt=0.250 uct="0.000" rid=req-0001-abcd"#,
        );
        assert_eq!(r.duration_ms, Some(250.0));
        assert_eq!(r.request_id.as_deref(), Some("req-0001-abcd"));
        let r = combined(
            r#"10.0.0.7 - - [05/Mar/2024:09:12:44 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua" 4500"#,
        );
        assert_eq!(r.duration_ms, Some(4.5));
    }

    #[test]
    fn vhost_prefix_and_garbage_request_line() {
        let r = combined(
            r#"shop.example.com:443 198.51.100.4 - - [05/Mar/2024:09:12:44 +0000] "GET / HTTP/1.1" 200 612 "-" "ua""#,
        );
        assert_eq!(r.client, "198.51.100.4");
        let r = combined(
            r#"198.51.100.4 - - [05/Mar/2024:09:12:44 +0000] "\x16\x03\x01\x00\xCA" 400 157 "-" "-""#,
        );
        assert_eq!(r.method, "");
        assert_eq!(r.status, 400);
        assert_eq!(r.user_agent, None);
    }

    #[test]
    fn malformed_combined_lines_are_rejected() {
        for line in [
            "",
            "hello world",
            r#"1.2.3.4 - - [05/Mar/2024:09:12:44 +0000] "GET / HTTP/1.1" 2000 1"#,
            r#"1.2.3.4 - - [05/Mar/2024:09:12:44 +0000] "GET / HTTP/1.1 200 1"#,
            r#"1.2.3.4 - - [05/Mar/2024:09:12:44 +0000 "GET / HTTP/1.1" 200 1"#,
            r#"1.2.3.4 - - [05/Mar/2024:09:12:44 +0000] "GET / HTTP/1.1" 200 12x"#,
            r#"1.2.3.4 - - [05/Mar/2024:09:12:44 +0000] "GET / HTTP/1.1" 099 1"#,
        ] {
            assert_eq!(
                parse_access_line(line, AccessFormat::Combined),
                None,
                "{line}"
            );
        }
    }

    #[test]
    fn bad_time_keeps_record_without_time() {
        let r = combined(r#"1.2.3.4 - - [31/Feb/2024:09:12:44 +0000] "GET / HTTP/1.1" 200 1"#);
        assert_eq!(r.time, None);
        assert_eq!(r.status, 200);
    }

    #[test]
    fn caddy_json() {
        let line = r#"{"level":"info","ts":1709629964.5123,"logger":"http.log.access.log0","msg":"handled request","request":{"remote_ip":"192.0.2.10","remote_port":"51234","client_ip":"192.0.2.10","proto":"HTTP/2.0","method":"GET","host":"api.example.com","uri":"/orders/abc?expand=items","headers":{"User-Agent":["Mozilla/5.0"],"X-Request-Id":["c1d2e3f4-0000-4000-8000-000000000001"]}},"bytes_read":0,"user_id":"","duration":0.004512,"size":91,"status":500,"resp_headers":{"Content-Type":["application/json"]}}"#;
        let r = parse_access_line(line, AccessFormat::Auto).unwrap();
        assert_eq!(r.client, "192.0.2.10");
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, "/orders/abc");
        assert_eq!(r.query.as_deref(), Some("expand=items"));
        assert_eq!(r.status, 500);
        assert_eq!(r.bytes, Some(91));
        assert_eq!(r.user_agent.as_deref(), Some("Mozilla/5.0"));
        assert_eq!(
            r.request_id.as_deref(),
            Some("c1d2e3f4-0000-4000-8000-000000000001")
        );
        assert!((r.duration_ms.unwrap() - 4.512).abs() < 1e-9);
        assert_eq!(r.time.unwrap().timestamp(), 1_709_629_964);
    }

    #[test]
    fn traefik_json() {
        let line = r#"{"ClientAddr":"[2001:db8::5]:40112","ClientHost":"2001:db8::5","ClientPort":"40112","DownstreamContentSize":19,"DownstreamStatus":404,"Duration":1523000,"OriginStatus":404,"RequestMethod":"GET","RequestPath":"/.env","RequestProtocol":"HTTP/1.1","StartUTC":"2024-03-05T09:12:44.123456789Z","request_User-Agent":"zgrab/0.x","time":"2024-03-05T09:12:44Z"}"#;
        let r = parse_access_line(line, AccessFormat::Json).unwrap();
        assert_eq!(r.client, "2001:db8::5");
        assert_eq!(r.status, 404);
        assert_eq!(r.path, "/.env");
        assert_eq!(r.user_agent.as_deref(), Some("zgrab/0.x"));
        assert!((r.duration_ms.unwrap() - 1.523).abs() < 1e-9);
        assert_eq!(r.bytes, Some(19));
        assert!(r.time.is_some());
    }

    #[test]
    fn nginx_escape_json_with_request_line_and_string_numbers() {
        let line = r#"{"time_local":"05/Mar/2024:09:12:44 +0000","remote_addr":"10.1.2.3","request":"PUT /users/42?dry=1 HTTP/1.1","status":"422","body_bytes_sent":"0","request_time":"0.031","http_user_agent":"okhttp/4.12","request_id":"0a1b2c3d4e5f60718293a4b5c6d7e8f9"}"#;
        let r = parse_access_line(line, AccessFormat::Auto).unwrap();
        assert_eq!(
            (r.method.as_str(), r.path.as_str(), r.status),
            ("PUT", "/users/42", 422)
        );
        assert_eq!(r.query.as_deref(), Some("dry=1"));
        assert!((r.duration_ms.unwrap() - 31.0).abs() < 1e-9);
        assert_eq!(r.time.unwrap().timestamp(), 1_709_629_964);
        assert_eq!(
            r.request_id.as_deref(),
            Some("0a1b2c3d4e5f60718293a4b5c6d7e8f9")
        );
    }

    #[test]
    fn app_json_with_unit_latency_and_port_in_client() {
        let line = r#"{"@timestamp":"2024-03-05T09:12:44.5+01:00","ip":"10.0.0.1:5555","method":"DELETE","url":"/items/7","status_code":204,"latency":"1.5ms","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}"#;
        let r = parse_access_line(line, AccessFormat::Auto).unwrap();
        assert_eq!(r.client, "10.0.0.1");
        assert_eq!(r.duration_ms, Some(1.5));
        assert_eq!(
            r.request_id.as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
    }

    #[test]
    fn json_without_status_or_path_is_rejected() {
        for line in [
            r#"{"method":"GET","path":"/"}"#,
            r#"{"status":200}"#,
            r#"{"status":999,"path":"/"}"#,
            "[1,2]",
            "{",
        ] {
            assert_eq!(parse_access_line(line, AccessFormat::Json), None, "{line}");
        }
    }

    /// Random bytes and random mutations of valid lines never panic.
    #[test]
    fn random_input_never_panics() {
        let seeds = [
            r#"2001:db8::1 - - [05/Mar/2024:09:12:44 +0100] "GET /a?b=c HTTP/2.0" 500 1 "-" "a \"b\" c" 0.1 abcdef0123456789abcdef"#,
            r#"{"request":{"method":"GET","uri":"/x","headers":{"User-Agent":["u"]}},"status":200,"ts":1.5e9}"#,
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = b" \"[]\\x0123456789:-/{}?,.\xff\xc3";
        for round in 0..20_000 {
            let mut bytes: Vec<u8> = if round % 3 == 0 {
                (0..next() % 200).map(|_| next() as u8).collect()
            } else {
                seeds[round % 2].as_bytes().to_vec()
            };
            for _ in 0..(next() % 6) {
                if bytes.is_empty() {
                    break;
                }
                let at = (next() as usize) % bytes.len();
                match next() % 3 {
                    0 => {
                        bytes.remove(at);
                    }
                    1 => bytes.insert(at, alphabet[(next() as usize) % alphabet.len()]),
                    _ => bytes.truncate(at),
                }
            }
            let text = String::from_utf8_lossy(&bytes);
            for format in [
                AccessFormat::Auto,
                AccessFormat::Combined,
                AccessFormat::Json,
            ] {
                let _ = parse_access_line(&text, format);
            }
        }
    }
}
