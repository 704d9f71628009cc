//! Work on numbered items by up to N threads, with the results seen in item order.
//!
//! Invariants:
//! - `emit` runs on the calling thread, and sees item 0's results then its end, then item 1's,
//!   and so on, exactly as a serial loop would produce them: the order of the output does not
//!   depend on which worker finishes first.
//! - With one job nothing is spawned: each result is emitted as soon as it is produced.
//! - With more, each item is worked on by one thread from start to end (its results are
//!   produced in order by that thread); a result of a later item waits until every earlier
//!   item has ended.
//! - Once `emit` breaks, nothing more is emitted and no item is started.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

/// What an item gives, as `emit` sees it.
#[derive(Debug)]
pub enum Output<T> {
    /// One result of the item.
    Result(T),
    /// The item has no more results.
    End,
}

/// Run `work(i, sink)` for every item `i` in `0..count` on up to `jobs` threads (at least one),
/// and give each result (`sink(t)`) and each item's end to `emit`, in item order.
pub fn ordered<T, W, E>(count: usize, jobs: usize, work: W, mut emit: E)
where
    T: Send,
    W: Fn(usize, &mut dyn FnMut(T)) + Sync,
    E: FnMut(usize, Output<T>) -> ControlFlow<()>,
{
    let jobs = jobs.clamp(1, count.max(1));
    if jobs == 1 {
        serial(count, &work, &mut emit);
        return;
    }
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<(usize, Output<T>)>();
        for _ in 0..jobs {
            let tx = tx.clone();
            let (next, stop, work) = (&next, &stop, &work);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= count || stop.load(Ordering::SeqCst) {
                        break;
                    }
                    work(i, &mut |t| {
                        let _ = tx.send((i, Output::Result(t)));
                    });
                    let _ = tx.send((i, Output::End));
                }
            });
        }
        drop(tx);
        let mut order = Reorder::default();
        for (i, out) in rx {
            if order.take(i, out, &mut emit).is_break() {
                stop.store(true, Ordering::SeqCst);
                break;
            }
        }
    });
}

/// One job: every item on this thread, each result emitted at once.
fn serial<T>(
    count: usize,
    work: &impl Fn(usize, &mut dyn FnMut(T)),
    emit: &mut impl FnMut(usize, Output<T>) -> ControlFlow<()>,
) {
    let mut stopped = false;
    for i in 0..count {
        work(i, &mut |t| {
            if !stopped {
                stopped = emit(i, Output::Result(t)).is_break();
            }
        });
        if stopped || emit(i, Output::End).is_break() {
            return;
        }
    }
}

/// Outputs that arrive in any order, passed on in item order.
struct Reorder<T> {
    /// The item whose outputs are passed on as they come.
    current: usize,
    /// Outputs of later items, in arrival order per item.
    waiting: BTreeMap<usize, Vec<Output<T>>>,
}

impl<T> Default for Reorder<T> {
    fn default() -> Self {
        Reorder {
            current: 0,
            waiting: BTreeMap::new(),
        }
    }
}

impl<T> Reorder<T> {
    /// Take output `out` of item `i`: pass on what is now in order.
    fn take(
        &mut self,
        i: usize,
        out: Output<T>,
        emit: &mut impl FnMut(usize, Output<T>) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        if i != self.current {
            self.waiting.entry(i).or_default().push(out);
            return ControlFlow::Continue(());
        }
        let ended = out.is_end();
        emit(i, out)?;
        if ended {
            self.current += 1;
            // Pass on the next items' outputs that arrived early, up to one that has not ended.
            while let Some(outs) = self.waiting.remove(&self.current) {
                for out in outs {
                    let ended = out.is_end();
                    emit(self.current, out)?;
                    if ended {
                        self.current += 1;
                    }
                }
            }
        }
        ControlFlow::Continue(())
    }
}

impl<T> Output<T> {
    /// Whether this is the item's end.
    fn is_end(&self) -> bool {
        matches!(self, Output::End)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// What `ordered` emits, as (item, result or None for the end).
    fn collect(count: usize, jobs: usize) -> (Vec<(usize, Option<usize>)>, Vec<usize>) {
        // Item i gives i % 3 results; later items finish first (earlier ones spin longer).
        let started = Mutex::new(Vec::new());
        let mut seen = Vec::new();
        ordered(
            count,
            jobs,
            |i, sink| {
                started.lock().unwrap().push(i);
                let spin = (count - i) * 20_000;
                let mut x = 0u64;
                for k in 0..spin {
                    x = std::hint::black_box(x.wrapping_add(k as u64));
                }
                for r in 0..i % 3 {
                    sink(i * 10 + r);
                }
            },
            |i, out| {
                seen.push((
                    i,
                    match out {
                        Output::Result(t) => Some(t),
                        Output::End => None,
                    },
                ));
                ControlFlow::Continue(())
            },
        );
        let started = started.into_inner().unwrap();
        (seen, started)
    }

    fn expected(count: usize) -> Vec<(usize, Option<usize>)> {
        let mut v = Vec::new();
        for i in 0..count {
            v.extend((0..i % 3).map(|r| (i, Some(i * 10 + r))));
            v.push((i, None));
        }
        v
    }

    #[test]
    fn results_come_in_item_order_whatever_the_jobs() {
        for jobs in [0, 1, 2, 4, 64] {
            let (seen, mut started) = collect(40, jobs);
            assert_eq!(seen, expected(40), "jobs {jobs}");
            started.sort();
            assert_eq!(started, (0..40).collect::<Vec<_>>(), "each item once");
        }
    }

    #[test]
    fn no_items_emit_nothing() {
        assert_eq!(collect(0, 4).0, Vec::new());
    }

    #[test]
    fn a_break_stops_the_output() {
        for jobs in [1, 3] {
            let mut seen = Vec::new();
            ordered(
                50,
                jobs,
                |i, sink| sink(i),
                |i, out| {
                    if let Output::Result(t) = out {
                        seen.push(t);
                    }
                    if i == 5 {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                },
            );
            assert_eq!(seen, vec![0, 1, 2, 3, 4, 5], "jobs {jobs}");
        }
    }
}
