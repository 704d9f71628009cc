//! Dicts: mappings from keys to values, in insertion order, as Python's `dict`.
//!
//! A dict is a shared [`KeyTable`] (its keys, in order, and an index from each key's [`Key`]
//! to its slot) plus one value per slot. Many dicts share one table when they have the same
//! keys in the same order, which is what `read --csv --headers` yields: one table for the
//! header, so each row costs its values and nothing more.
//!
//! Invariants: a table holds each key once (a later duplicate replaces the value and keeps the
//! first position, as in Python), and a dict has exactly as many values as its table has keys.
//! Dicts are values: they never change after they are built.

use super::{Key, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// The keys of one or more dicts, in order, each once.
#[derive(Debug, Default)]
pub struct KeyTable {
    keys: Vec<Value>,
    index: HashMap<Key, usize>,
}

impl KeyTable {
    /// A table of `keys` when they are all distinct, else `None`.
    pub fn distinct(keys: Vec<Value>) -> Option<KeyTable> {
        let mut index = HashMap::with_capacity(keys.len());
        for (slot, k) in keys.iter().enumerate() {
            if index.insert(k.key(), slot).is_some() {
                return None;
            }
        }
        Some(KeyTable { keys, index })
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys, in order.
    pub fn keys(&self) -> &[Value] {
        &self.keys
    }

    pub fn contains(&self, key: &Value) -> bool {
        self.slot(key).is_some()
    }

    fn slot(&self, key: &Value) -> Option<usize> {
        self.index.get(&key.key()).copied()
    }
}

/// One dict: a key table and a value per key.
#[derive(Debug)]
pub struct Dict {
    table: Arc<KeyTable>,
    values: Box<[Value]>,
}

/// A dict's values do not fit its key table.
#[derive(Debug, thiserror::Error)]
#[error("{values} values for {keys} keys")]
pub struct ShapeError {
    pub values: usize,
    pub keys: usize,
}

impl Dict {
    /// A dict of `pairs` in order; a key given twice keeps its first place and its last value.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (Value, Value)>) -> Dict {
        let mut table = KeyTable::default();
        let mut values: Vec<Value> = Vec::new();
        for (k, v) in pairs {
            match table.index.entry(k.key()) {
                std::collections::hash_map::Entry::Occupied(slot) => values[*slot.get()] = v,
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(values.len());
                    table.keys.push(k);
                    values.push(v);
                }
            }
        }
        Dict {
            table: Arc::new(table),
            values: values.into_boxed_slice(),
        }
    }

    /// A dict with the keys of `table` and `values`, one per key in the same order.
    pub fn with_table(table: Arc<KeyTable>, values: Vec<Value>) -> Result<Dict, ShapeError> {
        if values.len() != table.len() {
            return Err(ShapeError {
                values: values.len(),
                keys: table.len(),
            });
        }
        Ok(Dict {
            table,
            values: values.into_boxed_slice(),
        })
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The value of `key`, if the dict has it.
    pub fn get(&self, key: &Value) -> Option<&Value> {
        self.table.slot(key).map(|slot| &self.values[slot])
    }

    pub fn contains(&self, key: &Value) -> bool {
        self.table.slot(key).is_some()
    }

    /// The keys, in order.
    pub fn keys(&self) -> &[Value] {
        self.table.keys()
    }

    /// The values, in the order of their keys.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// The key table, to share with dicts of the same keys.
    pub fn table(&self) -> &Arc<KeyTable> {
        &self.table
    }

    /// The `(key, value)` pairs, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&Value, &Value)> {
        self.table.keys.iter().zip(self.values.iter())
    }
}

/// Two dicts are equal when they have the same pairs, whatever their order (as in Python).
impl PartialEq for Dict {
    fn eq(&self, other: &Dict) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_key_keeps_its_place_and_its_last_value() {
        let d = Dict::from_pairs([
            (Value::str("a"), Value::Int(1)),
            (Value::str("b"), Value::Int(2)),
            (Value::str("a"), Value::Int(3)),
        ]);
        assert_eq!(d.keys(), &[Value::str("a"), Value::str("b")]);
        assert_eq!(d.get(&Value::str("a")), Some(&Value::Int(3)));
        assert_eq!(d.len(), 2);
    }

    #[test]
    fn keys_compare_as_values_do() {
        let d = Dict::from_pairs([(Value::Int(1), Value::str("one"))]);
        assert_eq!(d.get(&Value::Float(1.0)), Some(&Value::str("one")));
        assert!(!d.contains(&Value::str("1")));
    }

    #[test]
    fn order_does_not_matter_for_equality() {
        let a = Dict::from_pairs([(Value::Int(1), Value::None), (Value::Int(2), Value::None)]);
        let b = Dict::from_pairs([(Value::Int(2), Value::None), (Value::Int(1), Value::None)]);
        assert_eq!(a, b);
    }

    #[test]
    fn a_shared_table_needs_one_value_per_key() {
        let table = Arc::new(KeyTable::distinct(vec![Value::str("a")]).expect("distinct"));
        assert!(Dict::with_table(table.clone(), vec![]).is_err());
        let d = Dict::with_table(table, vec![Value::Int(5)]).expect("fits");
        assert_eq!(d.get(&Value::str("a")), Some(&Value::Int(5)));
        assert!(KeyTable::distinct(vec![Value::Int(1), Value::Float(1.0)]).is_none());
    }
}
