//! moka-floor: what the `moka` crate alone costs per operation.
//!
//! The cache is built the way the moka-py Rust backend builds it (`backend_like.rs`): the
//! pass-through hasher, the per-entry expiry, the policy, capacity `n_keys` and
//! `time_to_live(60 s)` for the ttl operation. Keys are `u64` (already the mixed hash, as the
//! backend's keys write theirs) and values `u64`, so only moka is measured. Each loop is
//! `benches/timing.py`'s: the cache settled before it, the keys it consumes made (or the cache
//! refilled) before it, untimed; `benches/floor.py` calibrates and repeats it like any subject's.
//!
//! It serves `floor.py` one command per stdin line, so moka alone runs in the same alternating
//! rounds as the Python subjects: `prepare OP POLICY` (replies a handle), `run H N` (one loop of
//! `N` calls, or of every key for `remove`: replies the elapsed ns and the calls), `release H`
//! (`ok`); else `error: ...`.
//!
//! Usage: `moka-floor [N_KEYS [MAX_KEYS]]`

mod backend_like;

use backend_like::{fmix64, NoPerEntryDeadline, PassThrough};
use moka::policy::EvictionPolicy;
use moka::sync::Cache;
use std::collections::HashSet;
use std::hint::black_box;
use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

const SEED: u64 = 20_240_531;
const VALUE: u64 = 7;

type Moka = Cache<u64, u64, PassThrough>;

fn new_cache(policy: &str, capacity: u64, ttl: Option<Duration>) -> Moka {
    let policy = match policy {
        "lru" => EvictionPolicy::lru(),
        _ => EvictionPolicy::tiny_lfu(),
    };
    let mut builder = Cache::builder()
        .eviction_policy(policy)
        .expire_after(NoPerEntryDeadline)
        .max_capacity(capacity);
    if let Some(d) = ttl {
        builder = builder.time_to_live(d);
    }
    builder.build_with_hasher(PassThrough)
}

fn fill(cache: &Moka, keys: &[u64]) {
    for &k in keys {
        cache.insert(k, VALUE);
    }
    cache.run_pending_tasks();
}

/// A small seeded generator (splitmix64): the key shapes matter here, not their values.
struct Rng(u64);

impl Rng {
    fn new(salt: u64) -> Self {
        Rng(SEED.wrapping_mul(1_000).wrapping_add(salt))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        fmix64(self.0)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `n` distinct id-like 48-bit ints (as `timing.int_keys`), as the hashes moka sees.
fn int_keys(n: usize, salt: u64) -> Vec<u64> {
    let mut rng = Rng::new(salt);
    let mut seen = HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let k = (rng.next() & ((1 << 48) - 1)) | (1 << 47);
        if seen.insert(k) {
            out.push(fmix64(k));
        }
    }
    out
}

#[derive(Clone, Copy)]
enum Op {
    Get,
    GetWith,
    Insert,
    Remove,
}

/// One timed loop over `keys`, in ns.
fn timed(op: Op, cache: &Moka, keys: &[u64]) -> f64 {
    let t0 = Instant::now();
    match op {
        Op::Get => keys.iter().for_each(|k| {
            black_box(cache.get(k));
        }),
        // How a get_with binding serves a hit: one `get`; `get_with` only on a miss.
        Op::GetWith => keys.iter().for_each(|&k| {
            black_box(cache.get(&k).unwrap_or_else(|| cache.get_with(k, || VALUE)));
        }),
        Op::Insert => keys.iter().for_each(|&k| cache.insert(k, VALUE)),
        Op::Remove => keys.iter().for_each(|k| {
            black_box(cache.remove(k));
        }),
    }
    t0.elapsed().as_nanos() as f64
}

/// How each loop gets its keys.
enum Keys {
    /// The first `n` of a fixed access order.
    Order(Vec<u64>),
    /// `n` keys never seen before (set_evict), from 2**50 with a stride (as `timing.fresh_keys`).
    Fresh(u64),
    /// Refill `stored` before each loop and remove them all in `order` (remove).
    Refill { stored: Vec<u64>, order: Vec<u64> },
}

struct Prepared {
    op: Op,
    cache: Moka,
    keys: Keys,
}

impl Prepared {
    /// One loop of `n` calls (a `Refill` loop: of every key): elapsed ns and calls.
    fn run(&mut self, n: usize) -> (f64, usize) {
        let fresh;
        let keys: &[u64] = match &mut self.keys {
            Keys::Order(order) => &order[..n.min(order.len())],
            Keys::Fresh(next) => {
                fresh = (0..n as u64)
                    .map(|i| fmix64(*next + 7 * i))
                    .collect::<Vec<_>>();
                *next += 7 * n as u64;
                &fresh
            }
            Keys::Refill { stored, order } => {
                fill(&self.cache, stored);
                order
            }
        };
        self.cache.run_pending_tasks();
        (timed(self.op, &self.cache, keys), keys.len())
    }
}

struct Config {
    n_keys: usize,
    max_keys: usize,
}

/// Panics unless exactly `expect` of `keys` are in `cache`: the loop must time the shape it
/// claims (every hit a hit, every miss a miss).
fn check_hits(cache: &Moka, keys: &[u64], expect: usize, what: &str) {
    let found = keys.iter().filter(|&k| cache.get(k).is_some()).count();
    assert!(found == expect, "{what}: {found} keys found");
}

/// The cache and keys of one operation, or `None` for an operation or policy it does not know.
fn prepare(op_name: &str, policy: &str, cfg: &Config) -> Option<Prepared> {
    if !["tiny_lfu", "lru"].contains(&policy) {
        return None;
    }
    let n = cfg.n_keys;
    let filled = |keys: &[u64], ttl| {
        let cache = new_cache(policy, n as u64, ttl);
        fill(&cache, keys);
        check_hits(&cache, keys, n, op_name);
        cache
    };
    // `max_keys` uniform draws over `universe`.
    let order = |universe: &[u64], salt: u64| {
        let mut rng = Rng::new(salt + 7);
        let draws = (0..cfg.max_keys).map(|_| universe[rng.below(universe.len())]);
        Keys::Order(draws.collect())
    };
    let stored = int_keys(n, 1);
    let (op, cache, keys) = match op_name {
        "get_hit_int" => (Op::Get, filled(&stored, None), order(&stored, 1)),
        "get_miss_int" => {
            let missing = int_keys(n, 3);
            let cache = filled(&stored, None);
            check_hits(&cache, &missing, 0, op_name);
            (Op::Get, cache, order(&missing, 3))
        }
        "set_replace" => (Op::Insert, filled(&stored, None), order(&stored, 1)),
        "set_evict" => (Op::Insert, filled(&stored, None), Keys::Fresh(1 << 50)),
        "get_with_hit" => (Op::GetWith, filled(&stored, None), order(&stored, 1)),
        "get_hit_ttl" => {
            let cache = filled(&stored, Some(Duration::from_secs(60)));
            (Op::Get, cache, order(&stored, 1))
        }
        // A cache of every other operation's size, emptied in a shuffled order (as `timing.py`).
        "remove" => {
            let stored = int_keys(n, 5);
            let mut order = stored.clone();
            let mut rng = Rng::new(5);
            for i in (1..order.len()).rev() {
                order.swap(i, rng.below(i + 1));
            }
            let cache = filled(&stored, None);
            (Op::Remove, cache, Keys::Refill { stored, order })
        }
        _ => return None,
    };
    Some(Prepared { op, cache, keys })
}

fn main() {
    let args: Vec<f64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap_or_else(|_| panic!("not a number: {a}")))
        .collect();
    let arg = |i: usize, default: f64| args.get(i).copied().unwrap_or(default);
    let cfg = Config {
        n_keys: arg(0, 10_000.0) as usize,
        max_keys: (arg(1, 4_194_304.0) as usize).max(2),
    };
    let mut prepared: Vec<Option<Prepared>> = Vec::new();
    let mut out = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin");
        let words: Vec<&str> = line.split_whitespace().collect();
        let slot = |h: &str, prepared: &mut Vec<Option<Prepared>>| {
            h.parse::<usize>()
                .ok()
                .filter(|&h| prepared.get(h).is_some_and(|p| p.is_some()))
        };
        let reply = match words.as_slice() {
            [] => continue,
            ["prepare", op, policy] => match prepare(op, policy, &cfg) {
                Some(p) => {
                    prepared.push(Some(p));
                    format!("{}", prepared.len() - 1)
                }
                None => "error: unknown operation or policy".to_string(),
            },
            ["run", h, n] => match (slot(h, &mut prepared), n.parse::<usize>()) {
                (Some(h), Ok(n)) => {
                    let (ns, calls) = prepared[h].as_mut().expect("a live handle").run(n);
                    format!("{ns} {calls}")
                }
                _ => "error: no such handle, or not a count".to_string(),
            },
            ["release", h] => match slot(h, &mut prepared) {
                Some(h) => {
                    prepared[h] = None;
                    "ok".to_string()
                }
                None => "error: no such handle".to_string(),
            },
            _ => "error: unknown command".to_string(),
        };
        writeln!(out, "{reply}")
            .and_then(|()| out.flush())
            .expect("stdout");
    }
}
