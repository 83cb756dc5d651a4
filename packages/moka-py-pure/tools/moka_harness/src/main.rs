use moka::common::time::Clock;
use moka::notification::RemovalCause;
use moka::sync::Cache;
use moka::Expiry;
use std::hash::{BuildHasher, Hash, Hasher};
use std::io::{self, BufRead, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, PartialEq, Eq, Debug)]
struct Key(i64);
impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) { state.write_u64(self.0 as u64); }
}
#[derive(Clone, Default)]
struct Fmix;
struct FmixHasher(u64);
fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33; k = k.wrapping_mul(0xff51afd7ed558ccd); k ^= k >> 33;
    k = k.wrapping_mul(0xc4ceb9fe1a85ec53); k ^= k >> 33; k
}
impl Hasher for FmixHasher {
    fn finish(&self) -> u64 { self.0 }
    fn write(&mut self, _b: &[u8]) { panic!("write") }
    fn write_u64(&mut self, x: u64) { self.0 = fmix64(x) }
}
impl BuildHasher for Fmix {
    type Hasher = FmixHasher;
    fn build_hasher(&self) -> FmixHasher { FmixHasher(0) }
}
#[derive(Clone, Debug)]
struct Val { v: u64, ttl: Option<u64>, tti: Option<u64> }
fn minopt(a: Option<u64>, b: Option<u64>) -> Option<Duration> {
    match (a, b) { (None, None) => None, (Some(x), None) | (None, Some(x)) => Some(Duration::from_nanos(x)),
        (Some(x), Some(y)) => Some(Duration::from_nanos(x.min(y))) }
}
struct Exp;
impl Expiry<Key, Val> for Exp {
    fn expire_after_create(&self, _k: &Key, v: &Val, _t: Instant) -> Option<Duration> { minopt(v.ttl, v.tti) }
    fn expire_after_update(&self, _k: &Key, v: &Val, _t: Instant, _d: Option<Duration>) -> Option<Duration> { minopt(v.ttl, v.tti) }
    fn expire_after_read(&self, _k: &Key, v: &Val, read_at: Instant, d: Option<Duration>, lm: Instant) -> Option<Duration> {
        match v.tti {
            None => d,
            Some(tti) => {
                let tti = Duration::from_nanos(tti);
                match v.ttl {
                    None => Some(tti),
                    Some(ttl) => Some(tti.min(Duration::from_nanos(ttl).saturating_sub(read_at.duration_since(lm)))),
                }
            }
        }
    }
}
fn opt(s: &str) -> Option<u64> { if s == "-" { None } else { Some(s.parse().unwrap()) } }

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cap: i64 = args[1].parse().unwrap();
    let lru = args[2] == "lru";
    let weigher = args[3] == "1";
    let listener = args[4] == "1";
    let ttl: i64 = args[5].parse().unwrap();
    let tti: i64 = args[6].parse().unwrap();
    let events: Arc<Mutex<Vec<(i64, u64, &'static str)>>> = Arc::new(Mutex::new(Vec::new()));
    let (clock, mock) = Clock::mock();
    let mut b = Cache::builder().clock(clock).expire_after(Exp);
    if cap >= 0 { b = b.max_capacity(cap as u64); }
    if ttl >= 0 { b = b.time_to_live(Duration::from_nanos(ttl as u64)); }
    if tti >= 0 { b = b.time_to_idle(Duration::from_nanos(tti as u64)); }
    if lru { b = b.eviction_policy(moka::policy::EvictionPolicy::lru()); }
    if weigher { b = b.weigher(|_k: &Key, v: &Val| (v.v % 1000) as u32); }
    if listener {
        let ev = events.clone();
        b = b.eviction_listener(move |k: Arc<Key>, v: Val, c: RemovalCause| {
            let s = match c { RemovalCause::Explicit => "explicit", RemovalCause::Size => "size",
                RemovalCause::Expired => "expired", RemovalCause::Replaced => "replaced" };
            ev.lock().unwrap().push((k.0, v.v, s));
        });
    }
    let cache: Cache<Key, Val, Fmix> = b.build_with_hasher(Fmix);
    // The backends' size bound (API.md section 6): after a write, when the weight written since
    // their last own run_pending_tasks passes the slack, min(64, capacity / 8), they run it.
    let slack = if cap > 0 { Some((cap as u64 / 8).min(64)) } else { None };
    let weight_of = |v: u64| if weigher { v % 1000 } else { 1 };
    let mut written: u64 = 0;
    let after_write = |cache: &Cache<Key, Val, Fmix>, w: u64, written: &mut u64| {
        if let Some(slack) = slack {
            *written += w;
            if *written > slack { cache.run_pending_tasks(); *written = 0; }
        }
    };
    let stdin = io::stdin();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    for line in stdin.lock().lines() {
        let line = line.unwrap();
        let p: Vec<&str> = line.split_whitespace().collect();
        match p[0] {
            "S" => { let v: u64 = p[2].parse().unwrap();
                     cache.insert(Key(p[1].parse().unwrap()), Val { v, ttl: opt(p[3]), tti: opt(p[4]) });
                     after_write(&cache, weight_of(v), &mut written); }
            "G" => { let r = cache.get(&Key(p[1].parse().unwrap())).map(|v| v.v); writeln!(out, "g {:?}", r).unwrap(); }
            "H" => { let r = cache.contains_key(&Key(p[1].parse().unwrap())); writeln!(out, "h {}", r).unwrap(); }
            "W" => { let v = Val { v: p[2].parse().unwrap(), ttl: opt(p[3]), tti: opt(p[4]) };
                     let mut ran = false;
                     let r = cache.get_with(Key(p[1].parse().unwrap()), || { ran = true; v });
                     if ran { after_write(&cache, weight_of(r.v), &mut written); }
                     writeln!(out, "w {}", r.v).unwrap(); }
            // With a weigher, the backends apply the queued writes before a remove (so that none of
            // the key's is still queued when its entry leaves the map: moka 0.12.16 would skip it and
            // keep weighted_size off by the weight it changed); the harness does what they do.
            "R" => { if weigher { cache.run_pending_tasks(); written = 0; }
                     let r = cache.remove(&Key(p[1].parse().unwrap())).map(|v| v.v); writeln!(out, "r {:?}", r).unwrap(); }
            "C" => { cache.invalidate_all(); cache.run_pending_tasks(); written = 0; }
            "P" => { cache.run_pending_tasks(); written = 0; writeln!(out, "p {} {}", cache.entry_count(), cache.weighted_size()).unwrap(); }
            "T" => { mock.increment(Duration::from_nanos(p[1].parse().unwrap())); }
            _ => panic!("bad op"),
        }
        let mut ev = events.lock().unwrap();
        for (k, v, c) in ev.drain(..) { writeln!(out, "e {} {} {}", k, v, c).unwrap(); }
    }
}
