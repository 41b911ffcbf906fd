//! Recognizes app errors caused by bad client input: values the database could not parse
//! (PostgreSQL 22P02, MySQL "Incorrect integer value", Mongo casts), unparseable JSON bodies,
//! missing parameters and invalid parameter values or failed validation.
//!
//! Precision over recall: only messages that name an input-parsing or validation failure
//! match, and a message that also shows an infrastructure failure (connection refused,
//! timeouts, pool exhaustion, deadlocks, SQLSTATE classes 08/40/53/57/58) never matches.
//! Generic errors that are usually programming bugs (`KeyError`, `NoMethodError` on nil,
//! `TypeError: Cannot read properties of undefined`, unique-constraint violations) are not
//! client-input failures, nor is a JSON parse error on an *upstream* response (`Unexpected
//! token <`, `requests.exceptions.JSONDecodeError`, `resp.json()`).

use regex::Regex;
use std::sync::OnceLock;

/// The family of a client-input failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ClientInputKind {
    /// The database could not read a value as its column type (PG 22P02, MySQL 1366/1292).
    InvalidTextRepresentation,
    /// The request body was not valid JSON.
    JsonParse,
    /// A required parameter, field or header was absent.
    MissingParameter,
    /// A parameter was present but not a valid value of its type.
    InvalidParameter,
    /// Validation of the request data failed.
    Validation,
}

/// A recognized client-input failure with a short human label, e.g.
/// `invalid input syntax for type uuid`. Labels carry type and field names, never values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientInputFailure {
    pub kind: ClientInputKind,
    pub label: String,
}

struct Rule {
    kind: ClientInputKind,
    re: Regex,
    /// Label template; `$1` is the first capture group.
    label: &'static str,
}

struct Rules {
    infrastructure: Regex,
    upstream: Regex,
    rules: Vec<Rule>,
}

use ClientInputKind::*;

const RULES: &[(ClientInputKind, &str, &str)] = &[
    // Database type conversion.
    (
        InvalidTextRepresentation,
        r#"(?i)invalid input syntax for (?:type )?(double precision|timestamp with(?:out)? time zone|[a-z_][a-z0-9_]*)"#,
        "invalid input syntax for type $1",
    ),
    (
        InvalidTextRepresentation,
        r#"(?i)invalid input value for enum ([a-z0-9_."]+)"#,
        "invalid input value for enum $1",
    ),
    (
        InvalidTextRepresentation,
        r"(?i)out of range for type (integer|bigint|smallint|numeric|real|double precision)",
        "value out of range for type $1",
    ),
    (
        InvalidTextRepresentation,
        r"(?i)date/time field value out of range",
        "date/time field value out of range",
    ),
    (
        InvalidTextRepresentation,
        r"\b22P02\b|InvalidTextRepresentation",
        "invalid text representation (22P02)",
    ),
    (
        InvalidTextRepresentation,
        r"(?i)\btruncated incorrect (\w+) value",
        "truncated incorrect $1 value",
    ),
    (
        InvalidTextRepresentation,
        r"(?i)\bincorrect (integer|decimal|double|datetime|date|time|string) value\b",
        "incorrect $1 value",
    ),
    (
        InvalidTextRepresentation,
        r"(?i)\bout of range value for column\b",
        "out of range value for column",
    ),
    (
        InvalidTextRepresentation,
        r"\bCast to (\w+) failed for value\b",
        "cast to $1 failed",
    ),
    (
        InvalidTextRepresentation,
        r"(?i)conversion failed when converting|error converting data type \w+ to \w+",
        "type conversion failed",
    ),
    // Missing parameters.
    (
        MissingParameter,
        r"missing field `(\w{1,64})`",
        "missing field `$1`",
    ),
    (
        MissingParameter,
        r"Missing(?:ServletRequestParameter|RequestHeader|PathVariable|RequestValue|RequestCookie)Exception|Required (?:request )?(?:parameter|header) '\w+' (?:for method parameter type \w+ )?is not present",
        "missing request parameter",
    ),
    (
        MissingParameter,
        r"ActionController::ParameterMissing|param is missing or the value is empty",
        "param is missing",
    ),
    (
        MissingParameter,
        r"\b(?:BadRequestKeyError|MultiValueDictKeyError)\b",
        "missing form field",
    ),
    (
        MissingParameter,
        r#"(?i)\bmissing required (?:request |query |path |body |form )?(?:param(?:eter)?|argument|field)s?\b|\brequired (?:request |query |path |body |form )?(?:param(?:eter)?|field) ['"`]?\w+['"`]? (?:is )?(?:missing|not present|not provided)"#,
        "missing required parameter",
    ),
    (
        MissingParameter,
        r#"Variable "\$\w+" of required type "[^"]{1,64}" was not provided"#,
        "missing GraphQL variable",
    ),
    // Validation.
    (
        Validation,
        r"\b(\d+) validation errors? for (\w+)",
        "validation error for $2",
    ),
    (
        Validation,
        r"MethodArgumentNotValidException|(?:jakarta|javax)\.validation\.ConstraintViolationException|WebExchangeBindException",
        "request validation failed",
    ),
    (
        Validation,
        r"ActiveRecord::RecordInvalid|ActiveModel::ValidationError",
        "validation failed",
    ),
    (Validation, r"\bValidationError\b", "validation error"),
    // Invalid parameter values.
    (
        InvalidParameter,
        r"(?i)badly formed hexadecimal UUID string|is not a valid UUID|invalid UUID (?:string|length|format|character)|\binvalid uuid\b|UUID parsing failed|Error creating UUID|invalid character: expected an optional prefix of `urn:uuid:`|invalid group (?:count|length)",
        "invalid uuid",
    ),
    (
        InvalidParameter,
        r"input must be a 24 character hex string|must be a string of 12 bytes or a string of 24 hex characters|is not a valid ObjectId",
        "invalid ObjectId",
    ),
    (
        InvalidParameter,
        r"invalid literal for (int|float)\(\) with base \d+",
        "invalid literal for $1()",
    ),
    (
        InvalidParameter,
        r"could not convert string to (float|int)",
        "could not convert string to $1",
    ),
    (
        InvalidParameter,
        r"\bNumberFormatException\b",
        "number format error",
    ),
    (
        InvalidParameter,
        r"MethodArgumentTypeMismatchException|\bTypeMismatchException\b|MismatchedInputException|InvalidFormatException|\bDateTimeParseException\b",
        "argument type mismatch",
    ),
    (
        InvalidParameter,
        r"\bParseIntError\b|invalid digit found in string|cannot parse integer from empty string",
        "integer parse error",
    ),
    (
        InvalidParameter,
        r"\bParseFloatError\b|invalid float literal",
        "float parse error",
    ),
    (
        InvalidParameter,
        r#"(?i)cannot parse [`"'][^`"']{0,64}[`"'] to an? [`"']?(\w+)"#,
        "cannot parse parameter as $1",
    ),
    (
        InvalidParameter,
        r"Failed to deserialize query string|Failed to deserialize path param",
        "invalid query or path parameter",
    ),
    (
        InvalidParameter,
        r#"strconv\.(Atoi|Parse\w+): parsing "[^"]{0,64}": (?:invalid syntax|value out of range)"#,
        "strconv.$1: invalid syntax",
    ),
    (
        InvalidParameter,
        r"json: cannot unmarshal \w+ into Go (?:struct field|value of type)",
        "JSON type mismatch",
    ),
    (
        InvalidParameter,
        r"invalid type: [a-z ]{1,30}(?: `[^`]{0,64}`)?, expected|unknown variant `[^`]{0,64}`, expected",
        "invalid value type in request body",
    ),
    (
        InvalidParameter,
        r"time data .{0,80} does not match format|Invalid isoformat string",
        "invalid date/time",
    ),
    (
        InvalidParameter,
        r"invalid value for (Integer|Float|BigDecimal)\(\)",
        "invalid value for $1()",
    ),
    (
        InvalidParameter,
        r"Input string was not in a correct format|The input string '[^']{0,64}' was not in a correct format|Guid should contain 32 digits",
        "format error",
    ),
    // Unparseable JSON bodies.
    (
        JsonParse,
        r"JSONDecodeError|Expecting (?:value|property name enclosed in double quotes|',' delimiter): line \d+ column \d+",
        "JSON decode error",
    ),
    (
        JsonParse,
        r"Unexpected token .{1,20} in JSON at position|Unexpected end of JSON input|is not valid JSON|Unexpected non-whitespace character after JSON|(?i:unexpected end of json input)",
        "invalid JSON body",
    ),
    (
        JsonParse,
        r"\bJsonParseException\b|\bJsonEOFException\b|JSON parse error|JSON::ParserError|ActionDispatch::Http::Parameters::ParseError|JsonException:? Syntax error|Failed to parse the request body as JSON",
        "JSON parse error",
    ),
    (
        JsonParse,
        r"(?:expected value|EOF while parsing an? \w+|trailing characters|key must be a string|expected `[,:}\]]`[^\n]{0,30}|invalid escape|control character \(\\u0000-\\u001F\) found while parsing a string) at line \d+ column \d+",
        "JSON parse error",
    ),
    (
        JsonParse,
        r"invalid character '.{1,4}' (?:looking for beginning of (?:object key string|value)|after (?:object key|top-level value|array element|object key:value pair))",
        "invalid JSON body",
    ),
];

const INFRASTRUCTURE: &str = r"(?i)connection refused|connection reset|could not connect|couldn't connect|failed to connect|unable to connect|timed out|\btimeout\b|too many connections|remaining connection slots|pool timed out|pool is closed|connection pool|deadlock|lock wait timeout|out of memory|no space left|broken pipe|server closed the connection|terminating connection|database system is (?:starting up|shutting down|in recovery|not yet accepting)|econnrefused|econnreset|etimedout|ehostunreach|name or service not known|temporary failure in name resolution|too many open files|read-only transaction|could not serialize access|canceling statement due to|sqlstate[ =:\[]*(?:08|40|53|57|58)[0-9a-z]{3}|\b(?:08001|08003|08006|40001|40p01|53300|57014|57p01)\b";

const UPSTREAM: &str = r"(?i)unexpected token '?<|requests\.exceptions\.JSONDecodeError|\bresp(?:onse)?\.json\(\)|httpx\.|aiohttp\.client";

fn rules() -> Option<&'static Rules> {
    static RULES_CELL: OnceLock<Option<Rules>> = OnceLock::new();
    RULES_CELL
        .get_or_init(|| {
            let rules = RULES
                .iter()
                .map(|(kind, re, label)| {
                    Some(Rule {
                        kind: *kind,
                        re: Regex::new(re).ok()?,
                        label,
                    })
                })
                .collect::<Option<Vec<_>>>()?;
            Some(Rules {
                infrastructure: Regex::new(INFRASTRUCTURE).ok()?,
                upstream: Regex::new(UPSTREAM).ok()?,
                rules,
            })
        })
        .as_ref()
}

/// Most text examined per message (a long stack trace keeps its head).
const MAX_SCAN: usize = 16 * 1024;
const MAX_LABEL: usize = 80;

fn scan_head(text: &str) -> &str {
    let mut end = text.len().min(MAX_SCAN);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Whether the message shows an infrastructure failure (connection refused, timeout, pool
/// exhaustion, deadlock, ...): such an error is never a client-input failure.
pub(crate) fn is_infrastructure_failure(text: &str) -> bool {
    rules().is_some_and(|r| r.infrastructure.is_match(scan_head(text)))
}

/// Classifies an app error message or log line; `None` unless it is clearly a client-input
/// failure (see the module docs).
pub(crate) fn client_input_failure(text: &str) -> Option<ClientInputFailure> {
    let rules = rules()?;
    let text = scan_head(text);
    if rules.infrastructure.is_match(text) || rules.upstream.is_match(text) {
        return None;
    }
    rules.rules.iter().find_map(|rule| {
        let caps = rule.re.captures(text)?;
        let mut label = String::new();
        caps.expand(rule.label, &mut label);
        if label.len() > MAX_LABEL {
            let mut cut = MAX_LABEL;
            while !label.is_char_boundary(cut) {
                cut -= 1;
            }
            label.truncate(cut);
        }
        Some(ClientInputFailure {
            kind: rule.kind,
            label,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, kind: ClientInputKind, label: &str) {
        let got = client_input_failure(text).unwrap_or_else(|| panic!("no match: {text}"));
        assert_eq!((got.kind, got.label.as_str()), (kind, label), "{text}");
    }

    #[test]
    fn database_conversion_errors() {
        check(
            r#"ERROR:  invalid input syntax for type uuid: "abc" at character 42"#,
            InvalidTextRepresentation,
            "invalid input syntax for type uuid",
        );
        check(
            r#"error returned from database: invalid input syntax for type integer: "12x""#,
            InvalidTextRepresentation,
            "invalid input syntax for type integer",
        );
        check(
            r#"pq: invalid input syntax for uuid: "abc""#,
            InvalidTextRepresentation,
            "invalid input syntax for type uuid",
        );
        check(
            r#"ERROR: invalid input value for enum order_status: "shipped!""#,
            InvalidTextRepresentation,
            "invalid input value for enum order_status",
        );
        check(
            "PG::InvalidTextRepresentation: ERROR: malformed array literal",
            InvalidTextRepresentation,
            "invalid text representation (22P02)",
        );
        check(
            r#"db error: ERROR: value "99999999999" is out of range for type integer"#,
            InvalidTextRepresentation,
            "value out of range for type integer",
        );
        check(
            "(1366, \"Incorrect integer value: 'abc' for column 'id' at row 1\")",
            InvalidTextRepresentation,
            "incorrect integer value",
        );
        check(
            "Warning 1292: Truncated incorrect DOUBLE value: 'x1'",
            InvalidTextRepresentation,
            "truncated incorrect DOUBLE value",
        );
        check(
            r#"CastError: Cast to ObjectId failed for value "abc" (type string) at path "_id""#,
            InvalidTextRepresentation,
            "cast to ObjectId failed",
        );
    }

    #[test]
    fn json_body_errors() {
        check(
            "Failed to parse the request body as JSON: expected value at line 1 column 1",
            JsonParse,
            "JSON parse error",
        );
        check(
            "EOF while parsing an object at line 1 column 9",
            JsonParse,
            "JSON parse error",
        );
        check(
            "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)",
            JsonParse,
            "JSON decode error",
        );
        check(
            "SyntaxError: Unexpected token a in JSON at position 0\n    at JSON.parse (<anonymous>)\n    at parse (/app/node_modules/body-parser/lib/types/json.js:89:19)",
            JsonParse,
            "invalid JSON body",
        );
        check(
            r#"SyntaxError: Unexpected token 'a', "abc" is not valid JSON"#,
            JsonParse,
            "invalid JSON body",
        );
        check(
            "org.springframework.http.converter.HttpMessageNotReadableException: JSON parse error: Unexpected character ('a' (code 97))",
            JsonParse,
            "JSON parse error",
        );
        check(
            "com.fasterxml.jackson.core.JsonParseException: Unrecognized token 'abc'",
            JsonParse,
            "JSON parse error",
        );
        check(
            "invalid character 'a' looking for beginning of value",
            JsonParse,
            "invalid JSON body",
        );
    }

    #[test]
    fn missing_and_invalid_parameters() {
        check(
            "Failed to deserialize the JSON body into the target type: missing field `email` at line 1 column 2",
            MissingParameter,
            "missing field `email`",
        );
        check(
            "org.springframework.web.bind.MissingServletRequestParameterException: Required request parameter 'page' for method parameter type int is not present",
            MissingParameter,
            "missing request parameter",
        );
        check(
            "ActionController::ParameterMissing (param is missing or the value is empty: order)",
            MissingParameter,
            "param is missing",
        );
        check(
            "werkzeug.exceptions.BadRequestKeyError: 400 Bad Request: KeyError: 'name'",
            MissingParameter,
            "missing form field",
        );
        check(
            "ValueError: invalid literal for int() with base 10: 'abc'",
            InvalidParameter,
            "invalid literal for int()",
        );
        check(
            "java.lang.NumberFormatException: For input string: \"abc\"",
            InvalidParameter,
            "number format error",
        );
        check(
            "called `Result::unwrap()` on an `Err` value: ParseIntError { kind: InvalidDigit }",
            InvalidParameter,
            "integer parse error",
        );
        check(
            "Invalid URL: Cannot parse `abc` to a `u64`",
            InvalidParameter,
            "cannot parse parameter as u64",
        );
        check(
            "ValueError: badly formed hexadecimal UUID string",
            InvalidParameter,
            "invalid uuid",
        );
        check(
            "java.lang.IllegalArgumentException: Invalid UUID string: abc",
            InvalidParameter,
            "invalid uuid",
        );
        check(
            r#"strconv.Atoi: parsing "abc": invalid syntax"#,
            InvalidParameter,
            "strconv.Atoi: invalid syntax",
        );
        check(
            "pydantic_core._pydantic_core.ValidationError: 1 validation error for OrderIn\nquantity\n  Input should be a valid integer",
            Validation,
            "validation error for OrderIn",
        );
        check(
            "ActiveRecord::RecordInvalid (Validation failed: Email can't be blank)",
            Validation,
            "validation failed",
        );
    }

    #[test]
    fn infrastructure_and_bugs_do_not_match() {
        for text in [
            "connection to server at \"db\" (10.0.0.5), port 5432 failed: Connection refused",
            "sqlx::Error: pool timed out while waiting for an open connection",
            "ERROR: canceling statement due to statement timeout (SQLSTATE 57014)",
            "FATAL: terminating connection due to administrator command",
            "FATAL: sorry, too many clients already (SQLSTATE 53300)",
            "ERROR: deadlock detected",
            "Error: connect ECONNREFUSED 127.0.0.1:5432",
            "upstream timed out (110: Connection timed out) while reading response header",
            "KeyError: 'DATABASE_URL'",
            "NoMethodError (undefined method `name' for nil:NilClass)",
            "TypeError: Cannot read properties of undefined (reading 'id')",
            "ERROR: duplicate key value violates unique constraint \"users_email_key\"",
            "thread 'tokio-runtime-worker' panicked at src/main.rs:10:5: index out of bounds",
            "SyntaxError: Unexpected token < in JSON at position 0",
            "requests.exceptions.JSONDecodeError: Expecting value: line 1 column 1 (char 0)",
            "invalid input syntax for type uuid: \"abc\" ... then: connection reset by peer",
            "",
        ] {
            assert_eq!(client_input_failure(text), None, "{text}");
        }
        assert!(is_infrastructure_failure(
            "dial tcp 10.0.0.5:5432: connect: connection refused"
        ));
        assert!(!is_infrastructure_failure(
            "invalid input syntax for type uuid: \"abc\""
        ));
    }
}
