//! Walks every node of a parsed statement: stops at the first construct that is not a pure
//! read, judges every function call against the allowlist, and collects what only the
//! server's catalog can decide (PostgreSQL's functions, operators and cast types).

use super::catalog::CatalogQuestions;
use super::functions::{self, FunctionCall, Judgement};
use super::refusal::Refusal;
use super::statements::classify_statement;
use super::{GuardPolicy, SqlDialectKind};
use sqlparser::ast::{
    ArrayElemTypeDef, BinaryOperator, DataType, Expr, ObjectName, ObjectNamePart, Query, Select,
    SetExpr, Statement, TableFactor, UnaryOperator, Visitor,
};
use std::ops::ControlFlow;

/// The walk's state: the policy it judges by and the questions it has for the catalog.
pub(super) struct ReadOnlyWalker<'policy> {
    pub(super) policy: &'policy GuardPolicy,
    pub(super) questions: CatalogQuestions,
}

impl Visitor for ReadOnlyWalker<'_> {
    type Break = Refusal;

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<Refusal> {
        match classify_statement(statement, self.policy) {
            Ok(_) => ControlFlow::Continue(()),
            Err(refusal) => ControlFlow::Break(refusal),
        }
    }

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<Refusal> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                if is_data_modifying(&cte.query.body) {
                    return ControlFlow::Break(Refusal::DataModifyingCte {
                        cte: cte.alias.name.to_string(),
                    });
                }
            }
        }
        if let Some(lock) = query.locks.first() {
            return ControlFlow::Break(Refusal::LockingClause {
                clause: lock.to_string(),
            });
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<Refusal> {
        if select.into.is_some() {
            return ControlFlow::Break(Refusal::SelectInto);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<Refusal> {
        match expr {
            Expr::Function(function) => self.call(&function.name),
            Expr::BinaryOp {
                op: BinaryOperator::Assignment,
                ..
            } => ControlFlow::Break(Refusal::VariableAssignment),
            Expr::BinaryOp { op, .. }
            | Expr::AnyOp { compare_op: op, .. }
            | Expr::AllOp { compare_op: op, .. } => self.binary_operator(op),
            Expr::UnaryOp { op, .. } => self.unary_operator(*op),
            Expr::Cast { data_type, .. } => self.cast(data_type),
            Expr::TypedString(typed) => self.cast(&typed.data_type),
            _ => ControlFlow::Continue(()),
        }
    }

    fn pre_visit_table_factor(&mut self, table_factor: &TableFactor) -> ControlFlow<Refusal> {
        match table_factor {
            TableFactor::Table {
                name,
                args: Some(_),
                ..
            }
            | TableFactor::Function { name, .. } => self.call(name),
            _ => ControlFlow::Continue(()),
        }
    }
}

impl ReadOnlyWalker<'_> {
    fn call(&mut self, name: &ObjectName) -> ControlFlow<Refusal> {
        let Some(call) = FunctionCall::from_name(name, self.policy.dialect) else {
            return ControlFlow::Continue(());
        };
        match functions::judge(&call, self.policy) {
            Judgement::Allowed => ControlFlow::Continue(()),
            Judgement::AskCatalog => {
                let unqualified = call.schema.is_none();
                let entry = self
                    .questions
                    .functions
                    .entry(call.name.clone())
                    .or_insert((call, unqualified));
                entry.1 |= unqualified;
                ControlFlow::Continue(())
            }
            Judgement::Refused(refusal) => ControlFlow::Break(refusal),
        }
    }

    fn binary_operator(&mut self, op: &BinaryOperator) -> ControlFlow<Refusal> {
        if self.policy.dialect != SqlDialectKind::Postgres {
            return ControlFlow::Continue(());
        }
        if let BinaryOperator::PGCustomBinaryOperator(parts) = op {
            // OPERATOR(schema.symbol): only pg_catalog's operators are known.
            let symbol = parts.last().cloned().unwrap_or_default();
            let schema_ok = match parts.len() {
                1 => true,
                2 => parts[0].eq_ignore_ascii_case("pg_catalog"),
                _ => false,
            };
            if !schema_ok {
                return ControlFlow::Break(Refusal::OperatorNotAllowlisted {
                    operator: op.to_string(),
                    reason: "only operators of pg_catalog are known".to_string(),
                });
            }
            self.ask_operator(symbol);
            return ControlFlow::Continue(());
        }
        self.ask_operator(op.to_string());
        ControlFlow::Continue(())
    }

    fn unary_operator(&mut self, op: UnaryOperator) -> ControlFlow<Refusal> {
        if self.policy.dialect == SqlDialectKind::Postgres {
            self.ask_operator(op.to_string());
        }
        ControlFlow::Continue(())
    }

    /// Operators are functions in PostgreSQL: ask about every symbol (keywords such as AND,
    /// IS or OVERLAPS are grammar, not operators of the catalog).
    fn ask_operator(&mut self, symbol: String) {
        let is_symbol =
            !symbol.is_empty() && symbol.chars().all(|c| "+-*/<>=~!@#%^&|`?".contains(c));
        if is_symbol {
            self.questions.operators.insert(symbol);
        }
    }

    fn cast(&mut self, data_type: &DataType) -> ControlFlow<Refusal> {
        if self.policy.dialect != SqlDialectKind::Postgres {
            return ControlFlow::Continue(());
        }
        match data_type {
            DataType::Custom(name, _) => {
                let folded = name.0.last().and_then(|part| match part {
                    ObjectNamePart::Identifier(ident) if ident.quote_style.is_some() => {
                        Some(ident.value.clone())
                    }
                    ObjectNamePart::Identifier(ident) => Some(ident.value.to_lowercase()),
                    ObjectNamePart::Function(_) => None,
                });
                match folded {
                    Some(folded) => {
                        self.questions.types.insert(folded, name.to_string());
                        ControlFlow::Continue(())
                    }
                    None => ControlFlow::Break(Refusal::CastNotAllowed {
                        type_name: name.to_string(),
                        reason: "a computed type name cannot be checked",
                    }),
                }
            }
            DataType::Array(
                ArrayElemTypeDef::AngleBracket(inner)
                | ArrayElemTypeDef::SquareBracket(inner, _)
                | ArrayElemTypeDef::Parenthesis(inner)
                | ArrayElemTypeDef::ParenthesisNotNull(inner)
                | ArrayElemTypeDef::Qualified(inner, _),
            ) => self.cast(inner),
            _ => ControlFlow::Continue(()),
        }
    }
}

fn is_data_modifying(body: &SetExpr) -> bool {
    match body {
        SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => true,
        SetExpr::Query(inner) => is_data_modifying(&inner.body),
        SetExpr::SetOperation { left, right, .. } => {
            is_data_modifying(left) || is_data_modifying(right)
        }
        SetExpr::Select(_) | SetExpr::Values(_) | SetExpr::Table(_) => false,
    }
}
