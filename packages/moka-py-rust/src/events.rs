//! Eviction-listener events, and the removal counts of the statistics.
//!
//! moka calls its eviction listener synchronously, on the thread that runs the
//! operation or the housekeeping that removed the entry, with moka locks held (key
//! locks, the housekeeping locks). Our callback only appends the event to a
//! thread-local list: no lock, no GIL, no Python, and it cannot panic. After the moka
//! call returns, the same thread takes the events (`take`) and calls the Python
//! listener with the GIL held and no moka lock held, in moka's order.
//!
//! Each event carries the id of the cache that produced it, so that an operation
//! only takes its own cache's events, even if some Python code ran on this thread
//! between another cache's moka call and that call's delivery.

use crate::key::Key;
use crate::stats::Stats;
use crate::value::Val;
use moka::notification::RemovalCause;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub struct Event {
    pub cache_id: u64,
    pub key: Arc<Key>,
    pub value: Val,
    pub cause: RemovalCause,
}

thread_local! {
    static EVENTS: RefCell<Vec<Event>> = const { RefCell::new(Vec::new()) };
}

static NEXT_CACHE_ID: AtomicU64 = AtomicU64::new(1);

pub fn new_cache_id() -> u64 {
    NEXT_CACHE_ID.fetch_add(1, Ordering::Relaxed)
}

/// The listener given to moka (every cache has one: moka reports removals only to a
/// listener). It counts the removal in `stats`, and queues the event for the Python
/// listener only when there is one (`forward`); otherwise moka drops key and value
/// (their references are released as every drop inside moka is, see `release`).
pub fn listener_for(
    cache_id: u64,
    stats: Arc<Stats>,
    forward: bool,
) -> impl Fn(Arc<Key>, Val, RemovalCause) + Send + Sync + 'static {
    move |key, value, cause| {
        stats.event(cause, value.weight);
        if !forward {
            return;
        }
        let ev = Event {
            cache_id,
            key,
            value,
            cause,
        };
        // `try_with`/`try_borrow_mut`: never panic inside moka. The list is never
        // borrowed across a moka call, and during thread teardown the event is
        // simply dropped (nobody could deliver it).
        let _ = EVENTS.try_with(|list| {
            if let Ok(mut list) = list.try_borrow_mut() {
                list.push(ev);
            }
        });
    }
}

/// Take this thread's pending events of cache `cache_id`, in order.
#[inline]
pub fn take(cache_id: u64) -> Vec<Event> {
    EVENTS
        .try_with(|list| {
            let mut list = match list.try_borrow_mut() {
                Ok(list) => list,
                Err(_) => return Vec::new(),
            };
            if list.is_empty() {
                return Vec::new();
            }
            if list.iter().all(|e| e.cache_id == cache_id) {
                return std::mem::take(&mut *list);
            }
            let (mine, others): (Vec<Event>, Vec<Event>) = std::mem::take(&mut *list)
                .into_iter()
                .partition(|e| e.cache_id == cache_id);
            *list = others;
            mine
        })
        .unwrap_or_default()
}

pub fn cause_name(cause: RemovalCause) -> &'static str {
    match cause {
        RemovalCause::Expired => "expired",
        RemovalCause::Explicit => "explicit",
        RemovalCause::Replaced => "replaced",
        RemovalCause::Size => "size",
    }
}
