//! The bounds of one investigation (steps, tokens, cost, wall time) and what it has spent.
//! When a bound is reached the loop stops asking and ends with the best report it has.

use crate::config::investigator::{Budgets, Prices};
use crate::llm::Usage;
use std::time::Duration;

/// What an investigation has spent so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Spend {
    pub(crate) steps: u32,
    pub(crate) usage: Usage,
    pub(crate) dollars: f64,
}

/// Cache reads cost a tenth of the input price, cache writes a quarter more (the providers'
/// published ratios).
const CACHE_READ_FACTOR: f64 = 0.1;
const CACHE_WRITE_FACTOR: f64 = 1.25;

/// The dollars `usage` costs at `prices`.
pub(crate) fn cost(usage: &Usage, prices: &Prices) -> f64 {
    let input = usage.input_tokens as f64
        + usage.cache_read_tokens as f64 * CACHE_READ_FACTOR
        + usage.cache_write_tokens as f64 * CACHE_WRITE_FACTOR;
    (input * prices.input_per_million + usage.output_tokens as f64 * prices.output_per_million)
        / 1e6
}

impl Spend {
    /// Adds one model turn.
    pub(crate) fn turn(&mut self, usage: Usage, prices: &Prices) {
        self.steps += 1;
        self.usage += usage;
        self.dollars += cost(&usage, prices);
    }

    /// Tokens in and out.
    pub(crate) fn tokens(&self) -> u64 {
        self.usage.input_tokens
            + self.usage.cache_read_tokens
            + self.usage.cache_write_tokens
            + self.usage.output_tokens
    }

    /// The bound reached, in words, if any.
    pub(crate) fn exhausted(&self, budgets: &Budgets, elapsed: Duration) -> Option<String> {
        if self.steps >= budgets.max_steps {
            return Some(format!(
                "the step budget ({}) was used up",
                budgets.max_steps
            ));
        }
        if self.tokens() >= budgets.max_tokens {
            return Some(format!(
                "the token budget ({}) was used up",
                budgets.max_tokens
            ));
        }
        if self.dollars >= budgets.max_cost {
            return Some(format!(
                "the cost budget (${:.2}) was used up",
                budgets.max_cost
            ));
        }
        if elapsed >= budgets.max_duration {
            return Some(format!(
                "the time budget ({}) ran out",
                crate::humanize::duration(budgets.max_duration)
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prices() -> Prices {
        Prices {
            input_per_million: 3.0,
            output_per_million: 15.0,
        }
    }

    #[test]
    fn cost_follows_the_prices_and_cache_ratios() {
        let usage = Usage {
            input_tokens: 1_000_000,
            output_tokens: 100_000,
            cache_read_tokens: 1_000_000,
            cache_write_tokens: 0,
        };
        let dollars = cost(&usage, &prices());
        assert!((dollars - (3.0 + 1.5 + 0.3)).abs() < 1e-9, "{dollars}");
    }

    #[test]
    fn each_bound_is_named_when_reached() {
        let budgets = Budgets {
            max_steps: 2,
            max_tokens: 10_000,
            max_cost: 0.01,
            ..Budgets::default()
        };
        let mut spend = Spend::default();
        assert_eq!(spend.exhausted(&budgets, Duration::ZERO), None);
        spend.turn(
            Usage {
                input_tokens: 100,
                ..Usage::default()
            },
            &prices(),
        );
        assert_eq!(spend.exhausted(&budgets, Duration::ZERO), None);
        spend.turn(Usage::default(), &prices());
        assert!(
            spend
                .exhausted(&budgets, Duration::ZERO)
                .unwrap()
                .contains("step")
        );
        let mut tokens = Spend::default();
        tokens.turn(
            Usage {
                output_tokens: 20_000,
                ..Usage::default()
            },
            &Prices {
                input_per_million: 0.0,
                output_per_million: 0.0,
            },
        );
        assert!(
            tokens
                .exhausted(&budgets, Duration::ZERO)
                .unwrap()
                .contains("token")
        );
        let time = Spend::default().exhausted(&budgets, budgets.max_duration);
        assert!(time.unwrap().contains("time"));
    }
}
