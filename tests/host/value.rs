//! A small JS-like value for host tests, and its [`Payload`] reader, which
//! follows the same rules as `js/core/probe.js`.

use std::rc::Rc;

use kaiwa_bus::local::Payload;
use kaiwa_bus::schema::probe::{Kind, Plan, Probe, ReadMode};

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Undefined,
    Null,
    Str(String),
    Num(f64),
    Bool(bool),
    /// A `Date`; `None` is an Invalid Date.
    Date(Option<f64>),
    Arr(Vec<Value>),
    Obj(Rc<Vec<(String, Value)>>),
}

pub fn obj(fields: &[(&str, Value)]) -> Value {
    Value::Obj(Rc::new(
        fields.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
    ))
}

pub fn s(text: &str) -> Value {
    Value::Str(text.into())
}

pub fn date() -> Value {
    Value::Date(Some(1_700_000_000_000.0))
}

impl Value {
    pub fn get(&self, key: &str) -> Value {
        match self {
            Value::Obj(fields) => fields
                .iter()
                .find(|(k, _)| k == key)
                .map_or(Value::Undefined, |(_, v)| v.clone()),
            _ => Value::Undefined,
        }
    }

    /// The same object with one field replaced (or removed, for `Undefined`).
    pub fn with(&self, key: &str, value: Value) -> Value {
        let Value::Obj(fields) = self else { return self.clone() };
        let mut fields: Vec<(String, Value)> = fields.iter().filter(|(k, _)| k != key).cloned().collect();
        if value != Value::Undefined {
            fields.push((key.into(), value));
        }
        Value::Obj(Rc::new(fields))
    }

    fn kind(&self) -> Kind {
        match self {
            Value::Undefined => Kind::Missing,
            Value::Null => Kind::Null,
            Value::Str(_) => Kind::String,
            Value::Num(n) if n.is_finite() => Kind::Number,
            Value::Num(_) => Kind::NonFinite,
            Value::Bool(_) => Kind::Boolean,
            Value::Date(Some(_)) => Kind::Date,
            Value::Date(None) => Kind::InvalidDate,
            Value::Arr(_) => Kind::Array,
            Value::Obj(_) => Kind::Object,
        }
    }
}

// The atoms the reader knows: a test sets them from the bus.
thread_local! {
    pub static ATOMS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Payload for Value {
    fn probe(&self, plan: &Plan, out: &mut Vec<Probe>) {
        out.push(Probe::of(self.kind()));
        for (key, mode) in plan.keys.iter().zip(&plan.modes) {
            let v = self.get(key);
            let mut p = Probe::of(v.kind());
            match (&v, mode) {
                (Value::Str(text), ReadMode::Literal) => {
                    if let Some(at) = ATOMS.with(|a| a.borrow().iter().position(|x| x == text)) {
                        p = Probe {
                            kind: Kind::Literal,
                            aux: at as u32,
                            bad_item: None,
                        };
                    }
                }
                (Value::Arr(items), ReadMode::StringItems) => {
                    if let Some((i, item)) = items.iter().enumerate().find(|(_, x)| !matches!(x, Value::Str(_))) {
                        p.bad_item = Some((i as u32, item.kind()));
                    }
                }
                _ => {}
            }
            out.push(p);
        }
    }
}
