//! What the dispatcher tells the validator about a payload.
//!
//! Rust cannot read a JS object without crossing the boundary once per
//! property, so validation is split in two. For each schema, Rust hands the
//! JS layer a [`Plan`]: the field keys to read, and for each how to look at
//! it ([`ReadMode`]). The JS layer reads the payload once, describes each
//! value as a [`Probe`] (its kind, three small integers), and Rust checks the
//! probes against the schema. The probe says *what* a value is; only Rust
//! decides whether that is acceptable.
//!
//! The integer encoding ([`Probe::from_codes`]) is shared with `js/probe.js`;
//! the JS layer checks at start-up that both sides agree on [`Kind::NAMES`].

/// How the reader looks at a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ReadMode {
    /// Only its kind.
    Kind = 0,
    /// Its kind, and for a string, which literal of the schema set it is.
    Literal = 1,
    /// Its kind, and for an array, the first item that is not a string.
    StringItems = 2,
}

/// The keys a reader reads, and how.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// Field keys, in schema order.
    pub keys: Vec<String>,
    /// One per key.
    pub modes: Vec<ReadMode>,
}

/// The kind of a JS value, as the reader sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Kind {
    /// `undefined`, or the key is absent.
    Missing = 0,
    /// `null`.
    Null = 1,
    /// A string (not one of the schema's literals, if it has any).
    String = 2,
    /// A string that is one of the literals; `aux` is its atom id.
    Literal = 3,
    /// A finite number.
    Number = 4,
    /// `NaN` (`aux` 0), `Infinity` (1) or `-Infinity` (2).
    NonFinite = 5,
    /// `true` or `false`.
    Boolean = 6,
    /// A `Date` with a valid time.
    Date = 7,
    /// A `Date` whose time is `NaN`.
    InvalidDate = 8,
    /// An array.
    Array = 9,
    /// Any other object.
    Object = 10,
    /// A function.
    Function = 11,
    /// A `BigInt`.
    BigInt = 12,
    /// A `Symbol`.
    Symbol = 13,
    /// Reading it threw (a throwing getter or `Proxy` trap).
    Threw = 14,
}

impl Kind {
    /// Every kind by code, named as JS users know them; `js/probe.js` must
    /// list the same names in the same order.
    pub const NAMES: [&'static str; 15] = [
        "undefined",
        "null",
        "string",
        "string",
        "number",
        "NaN",
        "boolean",
        "Date",
        "Invalid Date",
        "array",
        "object",
        "function",
        "bigint",
        "symbol",
        "a getter that threw",
    ];

    /// Every kind, by code.
    pub const ALL: [Kind; 15] = [
        Kind::Missing,
        Kind::Null,
        Kind::String,
        Kind::Literal,
        Kind::Number,
        Kind::NonFinite,
        Kind::Boolean,
        Kind::Date,
        Kind::InvalidDate,
        Kind::Array,
        Kind::Object,
        Kind::Function,
        Kind::BigInt,
        Kind::Symbol,
        Kind::Threw,
    ];

    /// The kind with this code; an unknown code reads as [`Kind::Threw`] so a
    /// broken reader can only make validation fail, never pass.
    pub fn from_code(code: i32) -> Kind {
        usize::try_from(code)
            .ok()
            .and_then(|i| Kind::ALL.get(i).copied())
            .unwrap_or(Kind::Threw)
    }

    /// How an issue names it.
    pub fn describe(self, aux: u32) -> &'static str {
        match (self, aux) {
            (Kind::NonFinite, 1) => "Infinity",
            (Kind::NonFinite, 2) => "-Infinity",
            _ => Kind::NAMES.get(self as usize).copied().unwrap_or("?"),
        }
    }
}

/// What the reader saw of one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    /// Its kind.
    pub kind: Kind,
    /// For [`Kind::Literal`], the atom id; for [`Kind::NonFinite`], which one.
    pub aux: u32,
    /// For an array read with [`ReadMode::StringItems`], the index and kind
    /// of the first item that is not a string.
    pub bad_item: Option<(u32, Kind)>,
}

impl Probe {
    /// Integers per probe in the encoded form.
    pub const WIDTH: usize = 3;

    /// A probe of a value of this kind, with nothing more to say.
    pub fn of(kind: Kind) -> Probe {
        Probe {
            kind,
            aux: 0,
            bad_item: None,
        }
    }

    /// The probe at `index` in a buffer of codes; [`Kind::Threw`] if the
    /// buffer is too short.
    pub fn at(codes: &[i32], index: usize) -> Probe {
        let at = index.saturating_mul(Probe::WIDTH);
        match codes.get(at..at.saturating_add(Probe::WIDTH)) {
            Some(&[kind, aux, item]) => Probe::from_codes([kind, aux, item]),
            _ => Probe::of(Kind::Threw),
        }
    }

    /// Encodes as `[kind, aux, item]` (see [`Probe::from_codes`]).
    pub fn to_codes(self) -> [i32; 3] {
        let clamp = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
        match self.bad_item {
            Some((index, item)) => [self.kind as i32, clamp(index), item as i32],
            None => [self.kind as i32, clamp(self.aux), -1],
        }
    }

    /// Decodes `[kind, aux, item]`, where `item` is `-1` or the kind of the
    /// first non-string item, whose index is then `aux`.
    pub fn from_codes(codes: [i32; 3]) -> Probe {
        let [kind, aux, item] = codes;
        let aux = u32::try_from(aux).unwrap_or(0);
        let kind = Kind::from_code(kind);
        if kind == Kind::Array && item >= 0 {
            return Probe {
                kind,
                aux: 0,
                bad_item: Some((aux, Kind::from_code(item))),
            };
        }
        Probe {
            kind,
            aux,
            bad_item: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_fail_closed() {
        for (i, k) in Kind::ALL.iter().enumerate() {
            assert_eq!(Kind::from_code(i as i32), *k);
        }
        assert_eq!(Kind::from_code(-1), Kind::Threw);
        assert_eq!(Kind::from_code(99), Kind::Threw);
        assert_eq!(
            Probe::from_codes([9, 4, 4]),
            Probe {
                kind: Kind::Array,
                aux: 0,
                bad_item: Some((4, Kind::Number))
            }
        );
        assert_eq!(Probe::from_codes([9, 0, -1]), Probe::of(Kind::Array));
        assert_eq!(Probe::from_codes([3, 7, -1]).aux, 7);
        assert_eq!(Kind::NonFinite.describe(1), "Infinity");
        for p in [
            Probe::of(Kind::Date),
            Probe {
                kind: Kind::Array,
                aux: 0,
                bad_item: Some((7, Kind::Null)),
            },
        ] {
            assert_eq!(Probe::from_codes(p.to_codes()), p);
        }
        assert_eq!(Probe::at(&[10, 0, -1, 2, 0, -1], 1), Probe::of(Kind::String));
        assert_eq!(Probe::at(&[10, 0, -1, 2], 1), Probe::of(Kind::Threw));
    }
}
