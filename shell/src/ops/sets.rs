//! Ops whose other input is a stored stream: `union`, `intersect`, `difference` and `join`,
//! with marcel's names and meanings. Each names reservoirs (`gen 3 | union r`), streamed when
//! they are needed: `union` after its input ends, the others into memory before the first
//! item is looked at (a key per distinct item, or per join key).
//!
//! `intersect` and `difference` count like multisets: an item that the input holds 3 times
//! and every other stream 2 times is kept 2 times by `intersect` and once by `difference`.
//! Items keep the input's order.

use super::{ArgValue, Filter, Flow, OpArgs, OpError, Reporter, Sink, Source};
use crate::value::{Key, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// The reservoirs an op names, as sources, in order.
fn streams(a: &OpArgs, keep_flag: bool) -> Result<(Vec<Box<dyn Source>>, bool), OpError> {
    let mut keep = false;
    let mut out = Vec::new();
    for arg in a.words_and_values()? {
        match arg {
            ArgValue::Word(w, false) if keep_flag && w == "-k" && out.is_empty() => keep = true,
            ArgValue::Word(w, _) if crate::syntax::is_identifier(&w) => {
                out.push(a.globals.stream(a.op, &w).map_err(|e| shadowed(a, e))?);
            }
            other => {
                return Err(shadowed(
                    a,
                    a.error(format!(
                        "expected the name of a reservoir, got {} (usage: {})",
                        other.describe(),
                        super::registry::find(a.op).map_or("", |s| s.usage)
                    )),
                ));
            }
        }
    }
    if out.is_empty() {
        return Err(a.error(format!("needs a reservoir to work with: P | {} r", a.op)));
    }
    Ok((out, keep))
}

/// `e`, telling how to run the program of the same name when there is one (`join`).
fn shadowed(a: &OpArgs, e: OpError) -> OpError {
    if a.op == "join" {
        OpError::new(
            a.op,
            format!("{}; the join program: {}", e.message, a.as_program()),
        )
    } else {
        e
    }
}

/// Gathers a stream's items.
struct Collect<F: FnMut(Value) -> Result<(), OpError> + Send>(F);

impl<F: FnMut(Value) -> Result<(), OpError> + Send> Sink for Collect<F> {
    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        (self.0)(item)?;
        Ok(Flow::Continue)
    }
    fn finish(&mut self) -> Result<(), OpError> {
        Ok(())
    }
}

/// How many times each item appears in `source`.
fn counts(source: &mut dyn Source) -> Result<HashMap<Key, u64>, OpError> {
    let mut counts = HashMap::new();
    source.run(&mut Collect(|item: Value| {
        *counts.entry(item.key()).or_insert(0) += 1;
        Ok(())
    }))?;
    Ok(counts)
}

// ---- union -----------------------------------------------------------------------------------

/// `union R...`: the input's items, then each reservoir's.
pub fn union(a: &OpArgs) -> Result<Filter, OpError> {
    let (others, _) = streams(a, false)?;
    Ok(Box::new(move |next| Box::new(Union { others, next })))
}

struct Union {
    others: Vec<Box<dyn Source>>,
    next: Box<dyn Sink>,
}

/// Passes items on and remembers whether downstream wants no more.
struct Forward<'a> {
    next: &'a mut dyn Sink,
    stopped: bool,
}

impl Sink for Forward<'_> {
    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        let flow = self.next.push(item)?;
        self.stopped |= flow == Flow::Stop;
        Ok(flow)
    }
    fn finish(&mut self) -> Result<(), OpError> {
        Ok(())
    }
}

impl Sink for Union {
    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        self.next.push(item)
    }
    fn finish(&mut self) -> Result<(), OpError> {
        for other in &mut self.others {
            let mut forward = Forward {
                next: &mut *self.next,
                stopped: false,
            };
            other.run(&mut forward)?;
            if forward.stopped {
                break;
            }
        }
        self.next.finish()
    }
}

// ---- intersect, difference -------------------------------------------------------------------

/// `intersect R...`: the input's items that every reservoir holds too.
pub fn intersect(a: &OpArgs) -> Result<Filter, OpError> {
    counting(a, Keep::InAll)
}

/// `difference R...`: the input's items that no reservoir holds.
pub fn difference(a: &OpArgs) -> Result<Filter, OpError> {
    counting(a, Keep::InNone)
}

#[derive(Clone, Copy, PartialEq)]
enum Keep {
    InAll,
    InNone,
}

fn counting(a: &OpArgs, keep: Keep) -> Result<Filter, OpError> {
    let (others, _) = streams(a, false)?;
    Ok(Box::new(move |next| {
        Box::new(Counting {
            keep,
            others: Some(others),
            counts: Vec::new(),
            next,
        })
    }))
}

struct Counting {
    keep: Keep,
    /// The reservoirs, until they are counted (before the first item).
    others: Option<Vec<Box<dyn Source>>>,
    counts: Vec<HashMap<Key, u64>>,
    next: Box<dyn Sink>,
}

impl Counting {
    fn load(&mut self) -> Result<(), OpError> {
        if let Some(others) = self.others.take() {
            for mut other in others {
                self.counts.push(counts(&mut *other)?);
            }
            if self.keep == Keep::InNone {
                // Only the sum matters: an item goes while any stream still holds a copy.
                let mut all: HashMap<Key, u64> = HashMap::new();
                for c in self.counts.drain(..) {
                    for (k, n) in c {
                        *all.entry(k).or_insert(0) += n;
                    }
                }
                self.counts.push(all);
            }
        }
        Ok(())
    }

    /// Whether `item` goes on, using up one copy of it in the other streams.
    fn take(&mut self, key: &Key) -> bool {
        match self.keep {
            Keep::InAll => {
                if self
                    .counts
                    .iter()
                    .all(|c| c.get(key).is_some_and(|n| *n > 0))
                {
                    for c in &mut self.counts {
                        *c.get_mut(key).expect("checked above") -= 1;
                    }
                    true
                } else {
                    false
                }
            }
            Keep::InNone => match self.counts[0].get_mut(key) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    false
                }
                _ => true,
            },
        }
    }
}

impl Sink for Counting {
    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        self.load()?;
        if self.take(&item.key()) {
            self.next.push(item)
        } else {
            Ok(Flow::Continue)
        }
    }
    fn finish(&mut self) -> Result<(), OpError> {
        self.next.finish()
    }
}

// ---- join ------------------------------------------------------------------------------------

/// `join [-k] R`: each input item joined with the items of R that have the same first field:
/// `(k, a...)` and `(k, b...)` give `(k, a..., b...)`, once per match, in R's order. `-k`
/// keeps input items that match nothing, unchanged.
pub fn join(a: &OpArgs) -> Result<Filter, OpError> {
    let (mut others, keep) = streams(a, true)?;
    if others.len() != 1 {
        return Err(a.error("joins with one reservoir: P | join [-k] r"));
    }
    let other = others.pop().expect("one stream");
    let reporter = a.reporter.clone();
    Ok(Box::new(move |next| {
        Box::new(Join {
            keep,
            other: Some(other),
            table: HashMap::new(),
            next,
            reporter,
        })
    }))
}

struct Join {
    keep: bool,
    other: Option<Box<dyn Source>>,
    /// First field → the other fields of each item of R with it.
    table: HashMap<Key, Vec<Arc<[Value]>>>,
    next: Box<dyn Sink>,
    reporter: Arc<Reporter>,
}

const NO_FIELDS: &str = "an item with no fields has no first field to join on";

impl Join {
    fn load(&mut self) -> Result<(), OpError> {
        let Some(mut other) = self.other.take() else {
            return Ok(());
        };
        let table = &mut self.table;
        other.run(&mut Collect(|item: Value| {
            let fields = item.fields();
            let Some((first, rest)) = fields.split_first() else {
                return Err(OpError::new(
                    "join",
                    format!("the reservoir holds {}: {NO_FIELDS}", item.repr()),
                ));
            };
            table.entry(first.key()).or_default().push(Arc::from(rest));
            Ok(())
        }))
    }
}

impl Sink for Join {
    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        self.load()?;
        let fields = item.fields();
        let Some(first) = fields.first() else {
            self.reporter.item_error("join", &item, &NO_FIELDS);
            return Ok(Flow::Continue);
        };
        let Some(matches) = self.table.get(&first.key()) else {
            return if self.keep {
                self.next.push(item)
            } else {
                Ok(Flow::Continue)
            };
        };
        for rest in matches {
            let mut out = Vec::with_capacity(fields.len() + rest.len());
            out.extend_from_slice(fields);
            out.extend_from_slice(rest);
            if self.next.push(Value::tuple(out))? == Flow::Stop {
                return Ok(Flow::Stop);
            }
        }
        Ok(Flow::Continue)
    }
    fn finish(&mut self) -> Result<(), OpError> {
        self.next.finish()
    }
}
