//! Ops that transform a stream item by item or gather it: `map`, `select`, `head`, `tail`,
//! `sort`, `unique`, `reverse`, `expand`, `window`.

use super::{ArgValue, Filter, Flow, OpArgs, OpError, Reporter, Sink, func_arg, int_arg};
use crate::expr::CompiledFn;
use crate::value::{Key, Value, total_cmp};
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

fn filter(
    f: impl FnOnce(Box<dyn Sink>) -> Box<dyn Sink> + Send + 'static,
) -> Result<Filter, OpError> {
    Ok(Box::new(f))
}

/// The single function argument of `map`/`select`.
fn one_func(a: &OpArgs) -> Result<CompiledFn, OpError> {
    a.expect_count(1..=1)?;
    let arg = a.words_and_values()?.pop().expect("one argument");
    func_arg(a.op, arg)
}

/// A non-negative count argument.
fn count_arg(a: &OpArgs, what: &str) -> Result<usize, OpError> {
    a.expect_count(1..=1)?;
    let args = a.words_and_values()?;
    let n = int_arg(a.op, what, &args[0])?;
    usize::try_from(n).map_err(|_| a.error(format!("{what} must not be negative, got {n}")))
}

// ---- map -------------------------------------------------------------------------------------

pub fn map(a: &OpArgs) -> Result<Filter, OpError> {
    let func = one_func(a)?;
    let reporter = a.reporter.clone();
    filter(move |next| {
        Box::new(Map {
            func,
            next,
            reporter,
        })
    })
}

/// A bare function stage: `gen 3 | (x: x + 1)`.
pub fn map_with(func: CompiledFn, reporter: Arc<Reporter>) -> super::Filter {
    Box::new(move |next| {
        Box::new(Map {
            func,
            next,
            reporter,
        })
    })
}

struct Map {
    func: CompiledFn,
    next: Box<dyn Sink>,
    reporter: Arc<Reporter>,
}

impl Sink for Map {
    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        match self.func.call(&item) {
            Ok(v) => self.next.push(v),
            Err(e) => {
                self.reporter.item_error("map", &item, &e);
                Ok(Flow::Continue)
            }
        }
    }
    fn finish(&mut self) -> Result<(), OpError> {
        self.next.finish()
    }
}

// ---- select ----------------------------------------------------------------------------------

pub fn select(a: &OpArgs) -> Result<Filter, OpError> {
    let func = one_func(a)?;
    let reporter = a.reporter.clone();
    filter(move |next| {
        Box::new(Select {
            func,
            next,
            reporter,
        })
    })
}

struct Select {
    func: CompiledFn,
    next: Box<dyn Sink>,
    reporter: Arc<Reporter>,
}

impl Sink for Select {
    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        match self.func.call(&item) {
            Ok(v) if v.truthy() => self.next.push(item),
            Ok(_) => Ok(Flow::Continue),
            Err(e) => {
                self.reporter.item_error("select", &item, &e);
                Ok(Flow::Continue)
            }
        }
    }
    fn finish(&mut self) -> Result<(), OpError> {
        self.next.finish()
    }
}

// ---- head / tail -----------------------------------------------------------------------------

pub fn head(a: &OpArgs) -> Result<Filter, OpError> {
    let n = count_arg(a, "N")?;
    filter(move |next| Box::new(Head { left: n, next }))
}

struct Head {
    left: usize,
    next: Box<dyn Sink>,
}

impl Sink for Head {
    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        if self.left == 0 {
            return Ok(Flow::Stop);
        }
        self.left -= 1;
        let flow = self.next.push(item)?;
        // Stop as soon as the last wanted item is through, so the producer ends without
        // computing one more item.
        Ok(if self.left == 0 { Flow::Stop } else { flow })
    }
    fn finish(&mut self) -> Result<(), OpError> {
        self.next.finish()
    }
}

pub fn tail(a: &OpArgs) -> Result<Filter, OpError> {
    let n = count_arg(a, "N")?;
    filter(move |next| {
        Box::new(Tail {
            n,
            kept: VecDeque::new(),
            next,
        })
    })
}

struct Tail {
    n: usize,
    kept: VecDeque<Value>,
    next: Box<dyn Sink>,
}

impl Sink for Tail {
    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        if self.n > 0 {
            if self.kept.len() == self.n {
                self.kept.pop_front();
            }
            self.kept.push_back(item);
        }
        Ok(Flow::Continue)
    }
    fn finish(&mut self) -> Result<(), OpError> {
        emit_all(self.kept.drain(..), &mut *self.next)
    }
}

/// Pushes gathered items downstream until it stops, then finishes it.
fn emit_all(items: impl IntoIterator<Item = Value>, next: &mut dyn Sink) -> Result<(), OpError> {
    for item in items {
        if next.push(item)? == Flow::Stop {
            break;
        }
    }
    next.finish()
}

// ---- sort / unique / reverse -----------------------------------------------------------------

pub fn sort(a: &OpArgs) -> Result<Filter, OpError> {
    let mut reverse = false;
    let mut key = None;
    for arg in a.words_and_values()? {
        match arg {
            ArgValue::Word(w, false) if w == "-r" => reverse = true,
            other if key.is_none() => key = Some(func_arg("sort", other)?),
            _ => return Err(a.error("usage: sort [-r] [KEY]")),
        }
    }
    let reporter = a.reporter.clone();
    filter(move |next| {
        Box::new(Sort {
            key,
            reverse,
            items: Vec::new(),
            next,
            reporter,
        })
    })
}

struct Sort {
    key: Option<CompiledFn>,
    reverse: bool,
    /// (sort key, item); the key is the item itself when there is no key function.
    items: Vec<(Value, Value)>,
    next: Box<dyn Sink>,
    reporter: Arc<Reporter>,
}

impl Sink for Sort {
    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        match &self.key {
            None => self.items.push((Value::None, item)),
            Some(f) => match f.call(&item) {
                Ok(k) => self.items.push((k, item)),
                Err(e) => self.reporter.item_error("sort", &item, &e),
            },
        }
        Ok(Flow::Continue)
    }
    fn finish(&mut self) -> Result<(), OpError> {
        let mut items = std::mem::take(&mut self.items);
        if self.key.is_some() {
            items.sort_by(|a, b| total_cmp(&a.0, &b.0));
        } else {
            items.sort_by(|a, b| total_cmp(&a.1, &b.1));
        }
        if self.reverse {
            items.reverse();
        }
        emit_all(items.into_iter().map(|(_, item)| item), &mut *self.next)
    }
}

pub fn unique(a: &OpArgs) -> Result<Filter, OpError> {
    a.expect_count(0..=0)?;
    filter(|next| {
        Box::new(Unique {
            seen: HashSet::new(),
            next,
        })
    })
}

struct Unique {
    seen: HashSet<Key>,
    next: Box<dyn Sink>,
}

impl Sink for Unique {
    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        if self.seen.insert(item.key()) {
            self.next.push(item)
        } else {
            Ok(Flow::Continue)
        }
    }
    fn finish(&mut self) -> Result<(), OpError> {
        self.next.finish()
    }
}

pub fn reverse(a: &OpArgs) -> Result<Filter, OpError> {
    a.expect_count(0..=0)?;
    filter(|next| {
        Box::new(Reverse {
            items: Vec::new(),
            next,
        })
    })
}

struct Reverse {
    items: Vec<Value>,
    next: Box<dyn Sink>,
}

impl Sink for Reverse {
    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        self.items.push(item);
        Ok(Flow::Continue)
    }
    fn finish(&mut self) -> Result<(), OpError> {
        let items = std::mem::take(&mut self.items);
        emit_all(items.into_iter().rev(), &mut *self.next)
    }
}

// ---- expand ----------------------------------------------------------------------------------

pub fn expand(a: &OpArgs) -> Result<Filter, OpError> {
    a.expect_count(0..=1)?;
    let position = match a.words_and_values()?.first() {
        Some(arg) => {
            let p = int_arg("expand", "POSITION", arg)?;
            Some(
                usize::try_from(p)
                    .map_err(|_| a.error(format!("POSITION must not be negative, got {p}")))?,
            )
        }
        None => None,
    };
    let reporter = a.reporter.clone();
    filter(move |next| {
        Box::new(Expand {
            position,
            next,
            reporter,
        })
    })
}

struct Expand {
    position: Option<usize>,
    next: Box<dyn Sink>,
    reporter: Arc<Reporter>,
}

impl Sink for Expand {
    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        match self.position {
            None => match &item {
                Value::Tuple(xs) | Value::List(xs) => {
                    for x in xs.iter() {
                        if self.next.push(x.clone())? == Flow::Stop {
                            return Ok(Flow::Stop);
                        }
                    }
                    Ok(Flow::Continue)
                }
                Value::Dict(d) => {
                    for pair in dict_pairs(d) {
                        if self.next.push(pair)? == Flow::Stop {
                            return Ok(Flow::Stop);
                        }
                    }
                    Ok(Flow::Continue)
                }
                _ => self.next.push(item),
            },
            Some(p) => {
                let fields = item.fields();
                let Some(target) = fields.get(p) else {
                    self.reporter
                        .item_error("expand", &item, &format_args!("no field {p}"));
                    return Ok(Flow::Continue);
                };
                let elements: Vec<Value> = match target {
                    Value::Tuple(xs) | Value::List(xs) => xs.to_vec(),
                    Value::Dict(d) => dict_pairs(d).collect(),
                    other => vec![other.clone()],
                };
                for e in elements {
                    let mut out = fields.to_vec();
                    out[p] = e;
                    if self.next.push(Value::tuple(out))? == Flow::Stop {
                        return Ok(Flow::Stop);
                    }
                }
                Ok(Flow::Continue)
            }
        }
    }
    fn finish(&mut self) -> Result<(), OpError> {
        self.next.finish()
    }
}

/// A dict's pairs as `(key, value)` tuples: what `expand` spreads a dict into.
fn dict_pairs(d: &crate::value::Dict) -> impl Iterator<Item = Value> + '_ {
    d.iter()
        .map(|(k, v)| Value::tuple(vec![k.clone(), v.clone()]))
}

// ---- window ----------------------------------------------------------------------------------

pub fn window(a: &OpArgs) -> Result<Filter, OpError> {
    let usage = "usage: window -o N | -d N";
    a.expect_count(2..=2)?;
    let args = a.words_and_values()?;
    let overlap = match &args[0] {
        ArgValue::Word(w, false) if w == "-o" => true,
        ArgValue::Word(w, false) if w == "-d" => false,
        _ => return Err(a.error(usage)),
    };
    let n = int_arg("window", "N", &args[1])?;
    if n <= 0 {
        return Err(a.error(format!("N must be positive, got {n}")));
    }
    let n = n as usize;
    filter(move |next| {
        Box::new(Window {
            n,
            overlap,
            buf: VecDeque::new(),
            emitted: false,
            next,
        })
    })
}

struct Window {
    n: usize,
    overlap: bool,
    buf: VecDeque<Value>,
    emitted: bool,
    next: Box<dyn Sink>,
}

impl Window {
    fn emit(&mut self) -> Result<Flow, OpError> {
        let mut items: Vec<Value> = self.buf.iter().cloned().collect();
        items.resize(self.n, Value::None);
        self.emitted = true;
        self.next.push(Value::tuple(items))
    }
}

impl Sink for Window {
    fn push(&mut self, item: Value) -> Result<Flow, OpError> {
        self.buf.push_back(item);
        if self.buf.len() < self.n {
            return Ok(Flow::Continue);
        }
        let flow = self.emit()?;
        if self.overlap {
            self.buf.pop_front();
        } else {
            self.buf.clear();
        }
        Ok(flow)
    }
    fn finish(&mut self) -> Result<(), OpError> {
        // Disjoint windows: a short last window, padded. Overlapping: only when the whole
        // stream was shorter than one window.
        if !self.buf.is_empty() && (!self.overlap || !self.emitted) {
            self.emit()?;
        }
        self.next.finish()
    }
}
