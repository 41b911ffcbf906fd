//! Why the guard refused a statement, in words an operator can act on. Identifiers are quoted
//! as they were written; parser jargon never reaches the message.

/// Why the guard refused a statement. `Display` explains the reason and what to do instead;
/// every message starts with "refused:".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A statement run for one customer does not take the customer's value as its one
    /// placeholder.
    #[error("refused: {reason}")]
    BoundValue { reason: String },
    /// The input held no statement at all.
    #[error("refused: no SQL statement was given")]
    Empty,
    /// The parser could not read the input, so nothing about it can be vouched for.
    #[error(
        "refused: the statement cannot be parsed{location}, so it is refused; only plain read queries (SELECT, WITH ... SELECT, VALUES, SHOW, EXPLAIN) are accepted"
    )]
    Unparseable {
        /// Where the parser stopped, as ` (near line L, column C)`, or empty.
        location: String,
    },
    /// More than one statement was given.
    #[error(
        "refused: statement 2 of {count} — only one statement per query is allowed; send each query on its own"
    )]
    MultipleStatements {
        /// How many statements the input held.
        count: usize,
    },
    /// The statement (or one nested in it) is not a read.
    #[error(
        "refused: {statement} is not allowed ({reason}); only SELECT, VALUES, WITH ... SELECT, SHOW and EXPLAIN are accepted"
    )]
    NotARead {
        /// Leading keywords of the offending statement, e.g. `DELETE`.
        statement: String,
        /// Why statements of this kind are refused.
        reason: &'static str,
    },
    /// A CTE holds INSERT / UPDATE / DELETE / MERGE.
    #[error(
        "refused: CTE {cte} modifies data (data-modifying CTE); every CTE must be a plain SELECT"
    )]
    DataModifyingCte {
        /// Name of the offending CTE, as written.
        cte: String,
    },
    /// `SELECT ... FOR UPDATE` and friends.
    #[error("refused: SELECT ... {clause} takes row locks; remove the locking clause")]
    LockingClause {
        /// The locking clause as written, e.g. `FOR UPDATE`.
        clause: String,
    },
    /// `SELECT ... INTO`.
    #[error(
        "refused: SELECT ... INTO writes its result (into a new table, a file or a variable); remove the INTO clause"
    )]
    SelectInto,
    /// MySQL `@variable := value` inside a query.
    #[error(
        "refused: assigning a variable (:=) changes session state; compute the value in the query instead"
    )]
    VariableAssignment,
    /// `EXPLAIN ANALYZE` (in any spelling).
    #[error("refused: EXPLAIN ANALYZE executes the statement; use EXPLAIN without ANALYZE")]
    ExplainAnalyze,
    /// SHOW while the policy disables it.
    #[error("refused: SHOW statements are disabled for this database (allow_show = false)")]
    ShowDisabled,
    /// EXPLAIN or DESCRIBE while the policy disables it.
    #[error("refused: EXPLAIN and DESCRIBE are disabled for this database (allow_explain = false)")]
    ExplainDisabled,
    /// Re-rendering the statement did not reproduce it exactly, so the text
    /// that would be executed cannot be trusted to be the one checked.
    #[error(
        "refused: the statement could not be normalized faithfully; simplify the query (for example, avoid unusual syntax or quoting)"
    )]
    UnfaithfulNormalization,
    /// A call to a function known to have side effects, or one the source's configuration
    /// denies. No configuration can allow these.
    #[error("refused: function {function} is not allowed ({reason})")]
    DeniedFunction {
        /// The function name as written (possibly schema-qualified).
        function: String,
        /// What the function does that makes it unsafe.
        reason: &'static str,
    },
    /// A call to a function that is not on the allowlist of functions known to be free of
    /// side effects.
    #[error(
        "refused: function {function} is not on the list of functions known to be free of side effects ({reason}); if it is your own function and only reads, add it to allow_functions on this source"
    )]
    FunctionNotAllowlisted {
        /// The function name as written (possibly schema-qualified).
        function: String,
        /// Why the allowlist does not hold it.
        reason: String,
    },
    /// An operator whose implementing function may have side effects.
    #[error(
        "refused: operator {operator} is implemented by a function that may have side effects ({reason})"
    )]
    OperatorNotAllowlisted {
        /// The operator as written.
        operator: String,
        /// What the server's catalog says about it.
        reason: String,
    },
    /// A cast to a type whose conversion runs code that may have side effects.
    #[error("refused: a cast to {type_name} is not allowed ({reason})")]
    CastNotAllowed {
        /// The target type as written.
        type_name: String,
        /// What runs during the conversion.
        reason: &'static str,
    },
    /// The server's catalog could not be consulted, so the functions the statement calls
    /// cannot be vouched for.
    #[error(
        "refused: the functions this statement calls could not be checked against the server's catalog ({reason})"
    )]
    CatalogUnavailable {
        /// Why the catalog could not be read.
        reason: String,
    },
}
