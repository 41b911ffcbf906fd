//! What only PostgreSQL's own catalog can tell the guard, and how its answers decide: the
//! functions a statement calls, the operators it uses and the types it casts to. The
//! questions are collected by the guard while it walks a statement; the answers are read from
//! `pg_proc`, `pg_operator`, `pg_type` and `pg_cast` (see `source::sql::pg_catalog`) just
//! before the statement would run, so they are never stale.

use super::functions::{FunctionCall, postgres_pure_volatile};
use super::refusal::Refusal;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The names a statement needs the catalog's word on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogQuestions {
    /// Function calls by folded name: the first call of each name (for its message), and
    /// whether any call of that name is unqualified (and so resolved through the search path).
    pub functions: BTreeMap<String, (FunctionCall, bool)>,
    /// Operator symbols (`=`, `@@`, `->>`).
    pub operators: BTreeSet<String>,
    /// Folded names of non-built-in types cast to, with the name as written.
    pub types: BTreeMap<String, String>,
}

impl CatalogQuestions {
    /// Whether nothing needs asking.
    pub fn is_empty(&self) -> bool {
        self.functions.is_empty() && self.operators.is_empty() && self.types.is_empty()
    }

    /// The function names to look up.
    pub fn function_names(&self) -> Vec<String> {
        self.functions.keys().cloned().collect()
    }

    /// The operator symbols to look up.
    pub fn operator_names(&self) -> Vec<String> {
        self.operators.iter().cloned().collect()
    }

    /// The type names to look up.
    pub fn type_names(&self) -> Vec<String> {
        self.types.keys().cloned().collect()
    }
}

/// What the catalog says about the functions of one name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionFacts {
    /// `pg_catalog` has a function of this name.
    pub in_pg_catalog: bool,
    /// Some other schema has a function of this name too (an unqualified call could reach it).
    pub elsewhere: bool,
    /// No function of this name in `pg_catalog` is marked volatile.
    pub none_volatile: bool,
}

/// What the catalog says about every type of one name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeFacts {
    /// A type of this name is a domain (its constraints run on every conversion).
    pub is_domain: bool,
    /// A cast to a type of this name runs a function outside `pg_catalog` or a volatile one.
    pub has_user_cast: bool,
}

/// The catalog's answers to a statement's [`CatalogQuestions`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogAnswers {
    /// Facts by function name; a name missing here does not exist.
    pub functions: HashMap<String, FunctionFacts>,
    /// For each operator symbol: whether every operator of that symbol is implemented by an
    /// immutable or stable function. A symbol missing here does not exist.
    pub operators: HashMap<String, bool>,
    /// Facts by type name; a name missing here does not exist (the server will say so).
    pub types: HashMap<String, TypeFacts>,
}

/// Decides `questions` by `answers`: `Ok` only if every function, operator and cast is known
/// to be free of side effects.
pub(crate) fn decide(
    questions: &CatalogQuestions,
    answers: &CatalogAnswers,
) -> Result<(), Refusal> {
    for (name, (call, unqualified)) in &questions.functions {
        let refuse = |reason: &str| {
            Err(Refusal::FunctionNotAllowlisted {
                function: call.written.clone(),
                reason: reason.to_string(),
            })
        };
        match answers.functions.get(name) {
            None => return refuse("the server has no such function"),
            Some(facts) if !facts.in_pg_catalog => {
                return refuse("it is not a built-in of pg_catalog");
            }
            Some(facts) if facts.elsewhere && *unqualified => {
                return refuse(
                    "a function of this name is also defined outside pg_catalog; call pg_catalog's by its qualified name",
                );
            }
            Some(facts) if facts.none_volatile || postgres_pure_volatile(name) => {}
            Some(_) => return refuse("the server marks it volatile: it may change state"),
        }
    }
    for operator in &questions.operators {
        match answers.operators.get(operator) {
            Some(true) => {}
            Some(false) => {
                return Err(Refusal::OperatorNotAllowlisted {
                    operator: operator.clone(),
                    reason: "an operator of this name is implemented by a volatile function"
                        .to_string(),
                });
            }
            None => {
                return Err(Refusal::OperatorNotAllowlisted {
                    operator: operator.clone(),
                    reason: "the server has no such operator".to_string(),
                });
            }
        }
    }
    for (name, written) in &questions.types {
        if let Some(facts) = answers.types.get(name) {
            if facts.is_domain {
                return Err(Refusal::CastNotAllowed {
                    type_name: written.clone(),
                    reason: "it is a domain, whose constraints can run any function; cast to its base type",
                });
            }
            if facts.has_user_cast {
                return Err(Refusal::CastNotAllowed {
                    type_name: written.clone(),
                    reason: "a cast to it runs a function that is not a known-pure built-in",
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn questions(function: &str) -> CatalogQuestions {
        let mut questions = CatalogQuestions::default();
        questions.functions.insert(
            function.to_string(),
            (
                FunctionCall {
                    written: function.to_string(),
                    schema: None,
                    name: function.to_string(),
                    quoted: false,
                },
                true,
            ),
        );
        questions
    }

    fn answers(function: &str, facts: FunctionFacts) -> CatalogAnswers {
        let mut answers = CatalogAnswers::default();
        answers.functions.insert(function.to_string(), facts);
        answers
    }

    const PURE_BUILT_IN: FunctionFacts = FunctionFacts {
        in_pg_catalog: true,
        elsewhere: false,
        none_volatile: true,
    };

    #[test]
    fn a_stable_built_in_is_allowed() {
        assert_eq!(
            decide(&questions("lower"), &answers("lower", PURE_BUILT_IN)),
            Ok(())
        );
    }

    #[test]
    fn a_namesake_outside_pg_catalog_is_refused_unless_the_call_names_pg_catalog() {
        let facts = FunctionFacts {
            elsewhere: true,
            ..PURE_BUILT_IN
        };
        assert!(decide(&questions("lower"), &answers("lower", facts)).is_err());
        let mut qualified = questions("lower");
        if let Some((_, unqualified)) = qualified.functions.get_mut("lower") {
            *unqualified = false;
        }
        assert_eq!(decide(&qualified, &answers("lower", facts)), Ok(()));
        let only_elsewhere = FunctionFacts {
            in_pg_catalog: false,
            ..facts
        };
        assert!(decide(&qualified, &answers("lower", only_elsewhere)).is_err());
    }

    #[test]
    fn volatile_built_ins_are_refused_unless_they_only_read() {
        let volatile = FunctionFacts {
            none_volatile: false,
            ..PURE_BUILT_IN
        };
        assert!(decide(&questions("amvalidate"), &answers("amvalidate", volatile)).is_err());
        assert_eq!(
            decide(
                &questions("clock_timestamp"),
                &answers("clock_timestamp", volatile)
            ),
            Ok(())
        );
    }

    #[test]
    fn an_unknown_function_is_refused() {
        assert!(decide(&questions("nothing_here"), &CatalogAnswers::default()).is_err());
    }

    #[test]
    fn operators_and_casts_follow_the_catalog() {
        let mut questions = CatalogQuestions::default();
        questions.operators.insert("@@".to_string());
        let mut answers = CatalogAnswers::default();
        answers.operators.insert("@@".to_string(), true);
        assert_eq!(decide(&questions, &answers), Ok(()));
        answers.operators.insert("@@".to_string(), false);
        assert!(decide(&questions, &answers).is_err());

        let mut questions = CatalogQuestions::default();
        questions
            .types
            .insert("email".to_string(), "Email".to_string());
        let mut answers = CatalogAnswers::default();
        answers.types.insert(
            "email".to_string(),
            TypeFacts {
                is_domain: true,
                has_user_cast: false,
            },
        );
        assert!(matches!(
            decide(&questions, &answers),
            Err(Refusal::CastNotAllowed { .. })
        ));
    }
}
