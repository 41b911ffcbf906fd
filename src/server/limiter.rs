//! Per-client budgets: every client (see [`ClientKey`]) has a request bucket and a separate,
//! smaller failure bucket, each a token bucket. A request not known to be valid reserves a
//! failure token before it runs and gets it back if it succeeds, so concurrent requests cannot
//! fail more often than the budget allows; a client whose failure bucket is empty is refused
//! before any work is done, except for work known to be valid (which is charged only when it
//! fails). The table of clients is
//! bounded: when full, clients whose buckets have refilled are forgotten (they lose nothing),
//! then the longest idle. Time is passed in, so the limiter is tested without sleeping.

use super::client::ClientKey;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How much each client may do.
#[derive(Debug, Clone, Copy)]
pub struct Budgets {
    /// Requests per second, and the burst (one second's worth).
    pub requests_per_second: u32,
    /// Failures per minute after the burst.
    pub failures_per_minute: u32,
    pub failure_burst: u32,
    /// Clients remembered at once.
    pub max_clients: usize,
}

/// What a request is, as far as the limiter cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Known to be valid before it runs (a ping with a known token, `/healthz`): never refused
    /// for someone's failures, only for the client's own request rate.
    Valid,
    /// Anything else: refused while the client's failure budget is spent.
    Other,
}

/// An admitted request, to be settled once it is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    client: ClientKey,
    /// A failure token was taken up front.
    reserved: bool,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The client spent its request budget.
    RateLimited,
    /// The client spent its failure budget.
    TooManyFailures,
}

impl Refusal {
    /// The `reason` label of `sentinel_rejected_requests_total`.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::RateLimited => "rate_limited",
            Refusal::TooManyFailures => "too_many_failures",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    refreshed: Instant,
}

impl Bucket {
    fn full(capacity: f64, now: Instant) -> Self {
        Self {
            tokens: capacity,
            refreshed: now,
        }
    }

    fn refill(&mut self, capacity: f64, per_second: f64, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refreshed).as_secs_f64();
        self.tokens = (self.tokens + elapsed * per_second).min(capacity);
        self.refreshed = now;
    }
}

#[derive(Debug, Clone, Copy)]
struct Client {
    requests: Bucket,
    failures: Bucket,
    seen: Instant,
}

/// The per-client limiter, shared by every connection.
#[derive(Debug)]
pub struct Limiter {
    budgets: Budgets,
    clients: Mutex<HashMap<ClientKey, Client>>,
}

impl Limiter {
    pub fn new(budgets: Budgets) -> Self {
        let budgets = Budgets {
            requests_per_second: budgets.requests_per_second.max(1),
            failures_per_minute: budgets.failures_per_minute.max(1),
            failure_burst: budgets.failure_burst.max(1),
            max_clients: budgets.max_clients.max(1),
        };
        Self {
            budgets,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The table; a panic elsewhere while it was held leaves buckets that are still valid.
    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<ClientKey, Client>> {
        self.clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn request_capacity(&self) -> f64 {
        f64::from(self.budgets.requests_per_second)
    }

    fn failure_capacity(&self) -> f64 {
        f64::from(self.budgets.failure_burst)
    }

    fn failure_rate(&self) -> f64 {
        f64::from(self.budgets.failures_per_minute) / 60.0
    }

    /// How long a client must be idle before both its buckets are full again.
    fn refill_time(&self) -> Duration {
        let requests = 1.0_f64;
        let failures = self.failure_capacity() / self.failure_rate();
        Duration::from_secs_f64(requests.max(failures))
    }

    /// Admits one request of `client`, or says why not.
    pub fn admit(&self, client: ClientKey, work: Work, now: Instant) -> Result<Admission, Refusal> {
        let mut clients = self.table();
        if !clients.contains_key(&client) && clients.len() >= self.budgets.max_clients {
            self.make_room(&mut clients, now);
        }
        let (request_capacity, failure_capacity, failure_rate) = (
            self.request_capacity(),
            self.failure_capacity(),
            self.failure_rate(),
        );
        let entry = clients.entry(client).or_insert_with(|| Client {
            requests: Bucket::full(request_capacity, now),
            failures: Bucket::full(failure_capacity, now),
            seen: now,
        });
        entry.seen = now;
        entry.failures.refill(failure_capacity, failure_rate, now);
        if work == Work::Other && entry.failures.tokens < 1.0 {
            return Err(Refusal::TooManyFailures);
        }
        entry
            .requests
            .refill(request_capacity, request_capacity, now);
        if entry.requests.tokens < 1.0 {
            return Err(Refusal::RateLimited);
        }
        entry.requests.tokens -= 1.0;
        let reserved = work == Work::Other;
        if reserved {
            entry.failures.tokens -= 1.0;
        }
        Ok(Admission { client, reserved })
    }

    /// Settles an answered request: a failure is charged (once), a success gets its reserved
    /// failure token back.
    pub fn settle(&self, admission: Admission, failed: bool, now: Instant) {
        let change = match (admission.reserved, failed) {
            (true, false) => 1.0,
            (false, true) => -1.0,
            _ => return,
        };
        let mut clients = self.table();
        let (capacity, rate) = (self.failure_capacity(), self.failure_rate());
        if let Some(entry) = clients.get_mut(&admission.client) {
            entry.failures.refill(capacity, rate, now);
            entry.failures.tokens = (entry.failures.tokens + change).clamp(0.0, capacity);
        }
    }

    /// Clients currently remembered.
    pub fn clients(&self) -> usize {
        self.table().len()
    }

    /// Whether `client` has an entry (its budgets are not fresh ones).
    pub fn remembers(&self, client: ClientKey) -> bool {
        self.table().contains_key(&client)
    }

    /// Frees at least one slot: first every client whose buckets have refilled (forgetting
    /// them changes nothing), else the longest idle tenth, so a flood from many addresses
    /// costs one sweep per many insertions.
    fn make_room(&self, clients: &mut HashMap<ClientKey, Client>, now: Instant) {
        let refill = self.refill_time();
        clients.retain(|_, client| now.saturating_duration_since(client.seen) < refill);
        if clients.len() < self.budgets.max_clients {
            return;
        }
        let mut seen: Vec<Instant> = clients.values().map(|client| client.seen).collect();
        let evict = (seen.len() / 10).max(1);
        let (_, cutoff, _) = seen.select_nth_unstable(evict - 1);
        let cutoff = *cutoff;
        let mut left = evict;
        clients.retain(|_, client| {
            if left > 0 && client.seen <= cutoff {
                left -= 1;
                false
            } else {
                true
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn key(text: &str) -> ClientKey {
        ClientKey::of(text.parse::<IpAddr>().unwrap())
    }

    fn limiter(per_second: u32, per_minute: u32, burst: u32, max_clients: usize) -> Limiter {
        Limiter::new(Budgets {
            requests_per_second: per_second,
            failures_per_minute: per_minute,
            failure_burst: burst,
            max_clients,
        })
    }

    #[test]
    fn a_burst_beyond_the_rate_is_refused_and_refills_with_time() {
        let limiter = limiter(3, 60, 10, 100);
        let start = Instant::now();
        let client = key("127.0.0.2");
        let granted = (0..10)
            .filter(|_| limiter.admit(client, Work::Valid, start).is_ok())
            .count();
        assert_eq!(granted, 3);
        assert_eq!(
            limiter.admit(client, Work::Valid, start),
            Err(Refusal::RateLimited)
        );
        let later = start + Duration::from_millis(340);
        assert!(limiter.admit(client, Work::Valid, later).is_ok());
        assert_eq!(
            limiter.admit(client, Work::Valid, later),
            Err(Refusal::RateLimited)
        );
    }

    #[test]
    fn one_clients_flood_leaves_the_others_budgets_alone() {
        let limiter = limiter(5, 60, 10, 100);
        let now = Instant::now();
        for _ in 0..100 {
            let _ = limiter.admit(key("127.0.0.2"), Work::Other, now);
        }
        for _ in 0..5 {
            assert!(limiter.admit(key("127.0.0.3"), Work::Valid, now).is_ok());
        }
        assert_eq!(
            limiter.admit(key("127.0.0.3"), Work::Valid, now),
            Err(Refusal::RateLimited)
        );
    }

    #[test]
    fn spent_failures_refuse_other_work_but_never_valid_work() {
        let limiter = limiter(1000, 60, 3, 100);
        let client = key("10.0.0.1");
        let now = Instant::now();
        for _ in 0..3 {
            let admission = limiter.admit(client, Work::Other, now).unwrap();
            limiter.settle(admission, true, now);
        }
        assert_eq!(
            limiter.admit(client, Work::Other, now),
            Err(Refusal::TooManyFailures)
        );
        assert!(limiter.admit(client, Work::Valid, now).is_ok());
        // One failure a second comes back (60 per minute).
        let later = now + Duration::from_millis(1_001);
        let admission = limiter.admit(client, Work::Other, later).unwrap();
        limiter.settle(admission, true, later);
        assert_eq!(
            limiter.admit(client, Work::Other, later),
            Err(Refusal::TooManyFailures)
        );
    }

    #[test]
    fn refused_requests_do_not_spend_the_request_budget() {
        let limiter = limiter(5, 60, 1, 100);
        let client = key("10.0.0.1");
        let now = Instant::now();
        let admission = limiter.admit(client, Work::Other, now).unwrap();
        limiter.settle(admission, true, now);
        for _ in 0..1000 {
            assert_eq!(
                limiter.admit(client, Work::Other, now),
                Err(Refusal::TooManyFailures)
            );
        }
        for _ in 0..4 {
            assert!(limiter.admit(client, Work::Valid, now).is_ok());
        }
    }

    #[test]
    fn concurrent_requests_cannot_fail_more_often_than_the_budget() {
        let limiter = limiter(1000, 60, 3, 100);
        let client = key("10.0.0.1");
        let now = Instant::now();
        // Ten requests in flight at once: only three pass before any is answered.
        let admitted: Vec<_> = (0..10)
            .filter_map(|_| limiter.admit(client, Work::Other, now).ok())
            .collect();
        assert_eq!(admitted.len(), 3);
        // Two succeed and give their reservation back; one fails and keeps it spent.
        limiter.settle(admitted[0], false, now);
        limiter.settle(admitted[1], false, now);
        limiter.settle(admitted[2], true, now);
        let again = (0..10)
            .filter_map(|_| limiter.admit(client, Work::Other, now).ok())
            .count();
        assert_eq!(again, 2);
    }

    #[test]
    fn valid_work_is_charged_only_when_it_fails() {
        let limiter = limiter(1000, 60, 2, 100);
        let client = key("10.0.0.1");
        let now = Instant::now();
        for _ in 0..10 {
            let admission = limiter.admit(client, Work::Valid, now).unwrap();
            limiter.settle(admission, false, now);
        }
        let admission = limiter.admit(client, Work::Valid, now).unwrap();
        limiter.settle(admission, true, now);
        assert!(limiter.admit(client, Work::Other, now).is_ok());
        assert_eq!(
            limiter.admit(client, Work::Other, now),
            Err(Refusal::TooManyFailures)
        );
    }

    #[test]
    fn the_client_table_stays_bounded_under_a_flood_of_addresses() {
        let limiter = limiter(10, 60, 5, 1_000);
        let now = Instant::now();
        for i in 0..50_000u32 {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            let _ = limiter.admit(ClientKey::of(ip), Work::Other, now);
            assert!(limiter.clients() <= 1_000);
        }
        assert!(limiter.clients() >= 900, "{}", limiter.clients());
    }

    #[test]
    fn eviction_forgets_the_longest_idle_when_nobody_has_refilled() {
        let limiter = limiter(10, 60, 5, 3);
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        for (i, client) in ["10.0.0.1", "10.0.0.2", "10.0.0.3"].into_iter().enumerate() {
            limiter
                .admit(key(client), Work::Other, at(i as u64))
                .unwrap();
        }
        limiter.admit(key("10.0.0.1"), Work::Other, at(3)).unwrap();
        limiter.admit(key("10.0.0.4"), Work::Other, at(4)).unwrap();
        assert_eq!(limiter.clients(), 3);
        assert!(!limiter.remembers(key("10.0.0.2")), "the longest idle goes");
        for kept in ["10.0.0.1", "10.0.0.3", "10.0.0.4"] {
            assert!(limiter.remembers(key(kept)), "{kept}");
        }
    }

    #[test]
    fn eviction_forgets_every_refilled_client_at_once() {
        let limiter = limiter(10, 60, 5, 3);
        let start = Instant::now();
        for client in ["10.0.0.1", "10.0.0.2"] {
            limiter.admit(key(client), Work::Other, start).unwrap();
        }
        // Refilled after 5 s (5 failures at 60 a minute); 10.0.0.3 is recent.
        let later = start + Duration::from_secs(6);
        limiter.admit(key("10.0.0.3"), Work::Other, later).unwrap();
        limiter.admit(key("10.0.0.4"), Work::Other, later).unwrap();
        assert_eq!(limiter.clients(), 2);
        assert!(limiter.remembers(key("10.0.0.3")) && limiter.remembers(key("10.0.0.4")));
    }

    #[test]
    fn a_remembered_client_keeps_its_spent_failure_budget() {
        let limiter = limiter(100, 60, 2, 10);
        let client = key("2001:db8::1");
        let now = Instant::now();
        for _ in 0..2 {
            let admission = limiter.admit(client, Work::Other, now).unwrap();
            limiter.settle(admission, true, now);
        }
        // Another address in the same /64 is the same client.
        assert_eq!(
            limiter.admit(key("2001:db8::ffff"), Work::Other, now),
            Err(Refusal::TooManyFailures)
        );
    }
}
