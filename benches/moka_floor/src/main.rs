//! moka-floor: what the `moka` crate alone costs per operation.
//!
//! The cache is built the way the moka-py Rust backend builds it
//! (`packages/moka-py-rust/src/cache.rs`): `build_with_hasher` with a hasher that hands
//! back a pre-mixed 64-bit key hash, an `expire_after` per-entry expiry, the
//! `tiny_lfu` or `lru` policy, capacity 10,000, and `time_to_live(60 s)` for the ttl
//! operation. Keys are `u64` (already the mixed hash, as the backend's keys write
//! theirs) and values are `u64`, so no key or value wrapper is measured: only moka.
//!
//! The operations and the method are those of `benches/timing.py`: calibrated loops
//! of about `--target-s`, `--repeats` loops per subject, median ns/op, the cache
//! settled with `run_pending_tasks()` before each loop, keys that a loop consumes
//! made (or the cache refilled) before it, untimed.
//!
//! It answers one command per stdin line, so that the harness times moka alone in the
//! same alternating rounds as the Python subjects (`benches/floor.py`, `FloorExecutor`):
//!
//! * `prepare OP POLICY`: build, fill and calibrate; replies `{"handle": H, "n": N}`;
//! * `measure H`: one loop; replies `{"ns": X}` (ns/op);
//! * `release H`: drop it; replies `{"ok": true}`;
//!
//! and `{"error": "..."}` to a command it cannot run.
//!
//! Usage: `moka-floor --serve [--target-s S] [--n-keys N] [--max-keys N]`

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
const TTL: Duration = Duration::from_secs(60);

type Moka = Cache<u64, u64, PassThrough>;

fn new_cache(policy: &str, capacity: u64, ttl: Option<Duration>) -> Moka {
    let mut builder = Cache::builder()
        .eviction_policy(match policy {
            "lru" => EvictionPolicy::lru(),
            _ => EvictionPolicy::tiny_lfu(),
        })
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

// --------------------------------------------------------------------------------- keys

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

/// `len` uniform draws over `universe`.
fn access_order(universe: &[u64], len: usize, salt: u64) -> Vec<u64> {
    let mut rng = Rng::new(salt + 7);
    (0..len)
        .map(|_| universe[rng.below(universe.len())])
        .collect()
}

/// Ints never used before (from 2**50 with a stride, as `timing.FreshInts`), mixed.
struct Fresh(u64);

impl Fresh {
    fn take(&mut self, n: usize) -> Vec<u64> {
        let start = self.0;
        self.0 += 7 * n as u64;
        (0..n as u64).map(|i| fmix64(start + 7 * i)).collect()
    }
}

// ---------------------------------------------------------------------------- operations

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Get,
    GetWith,
    Insert,
    Remove,
}

/// One timed loop over `keys`; returns the elapsed time.
fn timed(op: Op, cache: &Moka, keys: &[u64]) -> Duration {
    let t0 = Instant::now();
    match op {
        Op::Get => {
            for k in keys {
                black_box(cache.get(k));
            }
        }
        // How a get_with binding serves a hit: one `get`; `get_with` only on a miss.
        Op::GetWith => {
            for &k in keys {
                let v = match cache.get(&k) {
                    Some(v) => v,
                    None => cache.get_with(k, || VALUE),
                };
                black_box(v);
            }
        }
        Op::Insert => {
            for &k in keys {
                cache.insert(k, VALUE);
            }
        }
        Op::Remove => {
            for k in keys {
                black_box(cache.remove(k));
            }
        }
    }
    t0.elapsed()
}

/// How each loop gets its keys.
enum Keys {
    /// The first `n` of a fixed access order.
    Order(Vec<u64>),
    /// `n` keys never seen before (set_evict).
    Fresh,
    /// Refill these before each loop and remove them all in this order (remove).
    Refill { stored: Vec<u64>, order: Vec<u64> },
}

struct Prepared {
    op: Op,
    cache: Moka,
    keys: Keys,
    n: usize,
    /// Loops summed into one sample: a `Refill` loop has a fixed length, so it is the number
    /// of loops, not their length, that makes a sample last about `--target-s`.
    passes: usize,
}

impl Prepared {
    /// One sample: `passes` loops; ns/op over all of them.
    fn run_once(&mut self, n: usize, fresh: &mut Fresh) -> f64 {
        let (mut total, mut calls) = (0.0, 0usize);
        for _ in 0..self.passes {
            let (ns, len) = self.run_loop(n, fresh);
            total += ns;
            calls += len;
        }
        total / calls as f64
    }

    /// One loop: its time in ns and its number of calls.
    fn run_loop(&mut self, n: usize, fresh: &mut Fresh) -> (f64, usize) {
        let owned;
        let keys: &[u64] = match &self.keys {
            Keys::Order(order) => {
                self.cache.run_pending_tasks();
                &order[..n.min(order.len())]
            }
            Keys::Fresh => {
                owned = fresh.take(n);
                self.cache.run_pending_tasks();
                &owned
            }
            Keys::Refill { stored, order } => {
                fill(&self.cache, stored);
                order
            }
        };
        (
            timed(self.op, &self.cache, keys).as_nanos() as f64,
            keys.len(),
        )
    }

    fn calibrate(&mut self, cfg: &Config, fresh: &mut Fresh) {
        if let Keys::Refill { order, .. } = &self.keys {
            self.n = order.len();
            self.run_once(self.n, fresh); // warm up
            let ns = self.run_once(self.n, fresh).max(1.0) * self.n as f64;
            let most = (cfg.max_keys / self.n.max(1)).max(1);
            self.passes = ((cfg.target_s * 1e9 / ns).round() as usize).clamp(1, most);
            return;
        }
        // Grow the probe until it lasts a tenth of the target, so one slow housekeeping
        // run in a short probe cannot shrink the loop (moka alone is fast).
        let mut probe = 2_000.min(cfg.max_keys);
        self.run_once(probe, fresh); // warm up
        let mut ns = self.run_once(probe, fresh).max(1.0);
        while ns * (probe as f64) < cfg.target_s * 1e8 && probe < cfg.max_keys {
            probe = (probe * 4).min(cfg.max_keys);
            ns = self.run_once(probe, fresh).max(1.0);
        }
        let n = (cfg.target_s * 1e9 / ns).round() as usize;
        self.n = n.clamp(probe / 2, cfg.max_keys);
    }
}

struct Config {
    target_s: f64,
    n_keys: usize,
    max_keys: usize,
}

const OPS: [&str; 7] = [
    "get_hit_int",
    "get_miss_int",
    "set_replace",
    "set_evict",
    "get_with_hit",
    "remove",
    "get_hit_ttl",
];

const POLICIES: [&str; 2] = ["tiny_lfu", "lru"];

/// Panics unless `probe` finds exactly `expect` of `keys`: the loop must time the
/// shape it claims (every hit a hit, every miss a miss).
fn check_hits(cache: &Moka, keys: &[u64], expect: usize, what: &str) {
    let found = keys.iter().filter(|&k| cache.get(k).is_some()).count();
    assert_eq!(
        found,
        expect,
        "{what}: {found} of {} keys found",
        keys.len()
    );
}

fn prepare(op_name: &str, policy: &str, cfg: &Config) -> Prepared {
    let n = cfg.n_keys;
    let stored = int_keys(n, 1);
    // A cache of capacity n holding `keys` (all of them: checked).
    let filled = |keys: &[u64], ttl| {
        let cache = new_cache(policy, n as u64, ttl);
        fill(&cache, keys);
        check_hits(&cache, keys, n, op_name);
        cache
    };
    let make = |ttl| filled(&stored, ttl);
    let order = |universe: &[u64], salt| access_order(universe, cfg.max_keys, salt);
    let (op, cache, keys) = match op_name {
        "get_hit_int" => (Op::Get, make(None), Keys::Order(order(&stored, 1))),
        "get_miss_int" => {
            let missing = int_keys(n, 3);
            let cache = make(None);
            check_hits(&cache, &missing, 0, op_name);
            (Op::Get, cache, Keys::Order(order(&missing, 3)))
        }
        "set_replace" => (Op::Insert, make(None), Keys::Order(order(&stored, 1))),
        "set_evict" => (Op::Insert, make(None), Keys::Fresh),
        "get_with_hit" => (Op::GetWith, make(None), Keys::Order(order(&stored, 1))),
        "get_hit_ttl" => (Op::Get, make(Some(TTL)), Keys::Order(order(&stored, 1))),
        // The cache has every other operation's size (the harness's `_remove`).
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
        other => panic!("unknown operation {other:?}"),
    };
    Prepared {
        op,
        cache,
        keys,
        n: 0,
        passes: 1,
    }
}

fn parse<T: std::str::FromStr>(flag: &str, value: &str) -> T {
    value
        .parse()
        .unwrap_or_else(|_| panic!("bad value for {flag}: {value}"))
}

fn parse_args() -> Config {
    let mut cfg = Config {
        target_s: 0.1,
        n_keys: 10_000,
        max_keys: 1 << 22,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "--serve" {
            continue; // the only mode
        }
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--target-s" => cfg.target_s = parse(flag, value),
            "--n-keys" => cfg.n_keys = parse(flag, value),
            "--max-keys" => cfg.max_keys = parse(flag, value),
            _ => panic!("unknown option {flag}"),
        }
    }
    assert!(cfg.n_keys > 0 && cfg.max_keys >= 2);
    cfg
}

/// The `--serve` loop: one command per stdin line, one JSON reply per stdout line.
fn serve(cfg: &Config) {
    let mut fresh = Fresh(1 << 50);
    let mut prepared: Vec<Option<Prepared>> = Vec::new();
    let stdout = std::io::stdout();
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin");
        let words: Vec<&str> = line.split_whitespace().collect();
        let handle = |w: Option<&&str>| w.and_then(|h| h.parse::<usize>().ok());
        let reply = match words.as_slice() {
            [] => continue,
            ["prepare", op, policy] if OPS.contains(op) && POLICIES.contains(policy) => {
                let mut p = prepare(op, policy, cfg);
                p.calibrate(cfg, &mut fresh);
                let n = p.n * p.passes;
                prepared.push(Some(p));
                format!("{{\"handle\": {}, \"n\": {n}}}", prepared.len() - 1)
            }
            ["measure", _] => match handle(words.get(1)).and_then(|h| prepared.get_mut(h)) {
                Some(Some(p)) => {
                    let n = p.n;
                    format!("{{\"ns\": {:.3}}}", p.run_once(n, &mut fresh))
                }
                _ => "{\"error\": \"no such handle\"}".to_string(),
            },
            ["release", _] => match handle(words.get(1)).and_then(|h| prepared.get_mut(h)) {
                Some(slot @ Some(_)) => {
                    *slot = None;
                    "{\"ok\": true}".to_string()
                }
                _ => "{\"error\": \"no such handle\"}".to_string(),
            },
            _ => "{\"error\": \"unknown command\"}".to_string(),
        };
        let mut out = stdout.lock();
        writeln!(out, "{reply}")
            .and_then(|()| out.flush())
            .expect("stdout");
    }
}

fn main() {
    serve(&parse_args());
}
