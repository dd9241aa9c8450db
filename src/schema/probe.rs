//! What the dispatcher tells the validator about a payload.
//!
//! Rust cannot read a JS object without crossing the boundary once per
//! property, so validation is split in two. For each schema, Rust hands the
//! JS layer a [`Plan`]: the field keys to read, and for each how to look at
//! it ([`ReadMode`]). The JS layer reads the payload once and describes each
//! value as a [`Probe`] (its kind, and for a few kinds a number or two more);
//! Rust checks the probes against the schema. The probe says *what* a value
//! is; only Rust decides whether that is acceptable.
//!
//! ## The packed description
//!
//! In the browser the description crosses as [`Packed`]: probe `j` is the
//! payload itself (`j = 0`) or field `j - 1`. The kind of every probe is four
//! bits: probes 0 to 7 in the word an emit passes as an argument (lowest bits
//! first), later ones eight to a word after the extras in the probe buffer.
//! The extras are two integers per probe at `2j` and `2j + 1` of the buffer,
//! written only for the kinds that have them: a literal's atom id and which
//! non-finite number at `2j`, and for an array read with
//! [`ReadMode::StringItems`], the kind of its first item that is not a
//! string (or `-1`) at `2j + 1`, with that item's index at `2j`. So the
//! payload of a plain schema of up to seven fields crosses as one integer
//! argument, with nothing written to memory.
//!
//! `js/core/probe.js` writes this encoding; [`Kind::NAMES`] and the layout numbers
//! reach it through the generated `js/core/contract.js`.

use crate::prelude::*;

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
    /// Every kind by code, named as JS users know them; `js/core/probe.js` must
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
    /// A probe of a value of this kind, with nothing more to say.
    pub fn of(kind: Kind) -> Probe {
        Probe {
            kind,
            aux: 0,
            bad_item: None,
        }
    }
}

/// A payload's probes, by index: 0 is the payload itself, `i + 1` field `i`
/// of the plan, read in `mode`. A probe missing from the description reads
/// as [`Kind::Threw`], so a short description can only fail validation.
pub trait Describe {
    /// Probe `index`.
    fn probe(&self, index: usize, mode: ReadMode) -> Probe;

    /// The kind of probe `index`, which may be found more cheaply than
    /// the whole probe.
    fn kind(&self, index: usize) -> Kind {
        self.probe(index, ReadMode::Kind).kind
    }
}

impl Describe for [Probe] {
    fn probe(&self, index: usize, _: ReadMode) -> Probe {
        self.get(index).copied().unwrap_or(Probe::of(Kind::Threw))
    }
}

/// The description `js/core/probe.js` writes (see the module documentation).
#[derive(Clone, Copy, Debug)]
pub struct Packed<'a> {
    /// The kinds of probes 0 to 7.
    pub word: i32,
    /// The probe buffer from where the reader wrote: the extras, two per
    /// probe, then the kinds of probes 8 and up.
    pub codes: &'a [i32],
    /// How many fields the plan has.
    pub fields: usize,
}

impl Packed<'_> {
    /// Kinds per word.
    pub const KINDS_PER_WORD: usize = 8;
    /// Bits per kind.
    pub const KIND_BITS: usize = 4;
    /// Extras per probe.
    pub const EXTRAS: usize = 2;

    /// Integers the reader may write for a plan of `fields` fields: the
    /// extras of every probe, then the words of kinds past the first.
    pub fn width(fields: usize) -> usize {
        let probes = fields.saturating_add(1);
        let words = probes.div_ceil(Self::KINDS_PER_WORD);
        probes
            .saturating_mul(Self::EXTRAS)
            .saturating_add(words.saturating_sub(1))
    }

    fn code(&self, at: usize) -> Option<i32> {
        self.codes.get(at).copied()
    }

    fn kind_of(&self, index: usize) -> Kind {
        let word = match index.checked_sub(Self::KINDS_PER_WORD) {
            None => Some(self.word),
            Some(later) => {
                let probes = self.fields.saturating_add(1);
                self.code(
                    probes
                        .saturating_mul(Self::EXTRAS)
                        .saturating_add(later / Self::KINDS_PER_WORD),
                )
            }
        };
        // An unwritten word fails closed: 15 is no kind.
        let shift = (index % Self::KINDS_PER_WORD).saturating_mul(Self::KIND_BITS);
        Kind::from_code(word.map_or(15, |w| w.wrapping_shr(shift as u32) & 15))
    }
}

impl Describe for Packed<'_> {
    fn probe(&self, index: usize, mode: ReadMode) -> Probe {
        let kind = self.kind(index);
        let at = index.saturating_mul(Self::EXTRAS);
        let aux = || u32::try_from(self.code(at).unwrap_or(0)).unwrap_or(0);
        match kind {
            Kind::Literal | Kind::NonFinite => Probe {
                kind,
                aux: aux(),
                bad_item: None,
            },
            Kind::Array if mode == ReadMode::StringItems => match self.code(at.saturating_add(1)) {
                Some(-1) => Probe::of(kind),
                // A missing item code fails closed too.
                item => Probe {
                    kind,
                    aux: 0,
                    bad_item: Some((aux(), item.map_or(Kind::Threw, Kind::from_code))),
                },
            },
            _ => Probe::of(kind),
        }
    }

    fn kind(&self, index: usize) -> Kind {
        if index > self.fields {
            return Kind::Threw;
        }
        self.kind_of(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kinds, packed as `js/core/probe.js` packs them.
    fn word(kinds: &[Kind]) -> i32 {
        kinds.iter().enumerate().fold(0, |w, (i, k)| w | (*k as i32) << (4 * i))
    }

    #[test]
    fn unknown_codes_fail_closed() {
        for (i, k) in Kind::ALL.iter().enumerate() {
            assert_eq!(Kind::from_code(i as i32), *k);
        }
        assert_eq!(Kind::from_code(-1), Kind::Threw);
        assert_eq!(Kind::from_code(15), Kind::Threw);
        assert_eq!(Kind::from_code(99), Kind::Threw);
        assert_eq!(Kind::NonFinite.describe(1), "Infinity");
    }

    #[test]
    fn packed_kinds_and_extras() {
        use Kind::*;
        use ReadMode::{Kind as K, Literal as L, StringItems as S};
        // The payload, a literal (atom 7), -Infinity, an array whose item 4
        // is a number, an array of strings, a Date.
        let codes = [0, 0, 7, 0, 2, 0, 4, 4, 0, -1, 0, 0];
        let packed = Packed {
            word: word(&[Object, Literal, NonFinite, Array, Array, Date]),
            codes: &codes,
            fields: 5,
        };
        assert_eq!(packed.probe(0, K), Probe::of(Object));
        assert_eq!(packed.probe(1, L).aux, 7);
        assert_eq!(packed.probe(2, K).kind.describe(packed.probe(2, K).aux), "-Infinity");
        assert_eq!(packed.probe(3, S).bad_item, Some((4, Number)));
        assert_eq!(packed.probe(4, S), Probe::of(Array));
        // An array read for its kind only has no item code.
        assert_eq!(packed.probe(3, K), Probe::of(Array));
        assert_eq!(packed.probe(5, K), Probe::of(Date));
        assert_eq!(packed.probe(6, K), Probe::of(Threw), "past the plan");
    }

    #[test]
    fn kinds_past_the_eighth_probe_are_read_from_the_buffer() {
        assert_eq!(Packed::width(0), 2);
        assert_eq!(Packed::width(7), 16);
        assert_eq!(Packed::width(8), 19);
        assert_eq!(Packed::width(15), 33);
        assert_eq!(Packed::width(16), 36);
        let fields = 9;
        let mut codes = vec![0; Packed::width(fields)];
        // Probes 8 and 9 (fields 7 and 8): a Date and a boolean.
        codes[2 * (fields + 1)] = Kind::Date as i32 | (Kind::Boolean as i32) << 4;
        let packed = Packed {
            word: word(&[Kind::Object; 8]),
            codes: &codes,
            fields,
        };
        assert_eq!(packed.probe(7, ReadMode::Kind), Probe::of(Kind::Object));
        assert_eq!(packed.probe(8, ReadMode::Kind), Probe::of(Kind::Date));
        assert_eq!(packed.probe(9, ReadMode::Kind), Probe::of(Kind::Boolean));
        // The same with the buffer cut short: what is missing fails closed.
        let short = Packed {
            codes: &codes[..5],
            ..packed
        };
        assert_eq!(short.probe(8, ReadMode::Kind), Probe::of(Kind::Threw));
        let literal = Packed {
            word: word(&[Kind::Object, Kind::Array]),
            codes: &[],
            fields: 1,
        };
        assert_eq!(literal.probe(1, ReadMode::StringItems).bad_item, Some((0, Kind::Threw)));
    }

    /// The word holds the kinds of seven fields: a schema of eight is never
    /// decided from it, whatever it says (the eighth field's kind is in
    /// the probe buffer, which the word does not cover).
    #[test]
    fn the_packed_word_does_not_decide_for_eight_fields() {
        use crate::schema::Schemas;
        let keys = ["a", "b", "c", "d", "e", "f", "g", "h"];
        let fields: Vec<(&str, &str)> = keys.iter().map(|k| (*k, "string?")).collect();
        let mut schemas = Schemas::new(false);
        let eight = schemas.compile("eight.fields", "1.0.0", "", "user", &fields).unwrap();
        let seven = schemas
            .compile("seven.fields", "1.0.0", "", "user", &fields[..7])
            .unwrap();
        // An object whose seven first fields are strings; the eighth's kind
        // (a number, say) is not in the word.
        let word = word(&[
            Kind::Object,
            Kind::String,
            Kind::String,
            Kind::String,
            Kind::String,
            Kind::String,
            Kind::String,
            Kind::String,
        ]);
        assert!(
            seven.sure(word),
            "the positive control: seven fields are decided from the word"
        );
        assert!(!eight.sure(word));
    }

    /// Most valid emits are decided from the packed word alone
    /// ([`Schema::sure`](crate::schema::Schema::sure), for
    /// `Core::sure`): whenever it says sure, the full check of the same
    /// description (as a slice of probes) must find nothing. Random words
    /// over every field type, most nibbles drawn from kinds the fields are
    /// sure of, so that both ways are taken often.
    #[test]
    fn the_packed_word_fast_path_agrees_with_the_full_check() {
        use crate::schema::{tests::EVERY_TYPE as types, Schemas};
        let mut schemas = Schemas::new(false);
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut random = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let (mut fast, mut long) = (0, 0);
        for round in 0..64 {
            let fields: Vec<(String, String)> = (0..1 + round % 7)
                .map(|i| {
                    let ty = types[(random() % 8) as usize];
                    let optional = if random() % 2 == 0 { "?" } else { "" };
                    (format!("f{i}"), format!("{ty}{optional}"))
                })
                .collect();
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, t)| (k.as_str(), t.as_str())).collect();
            let schema = schemas.compile("every.type", "1.0.0", "", "user", &fields).unwrap();
            let codes: Vec<i32> = (0..Packed::width(fields.len()))
                .map(|_| (random() % 4) as i32 - 1)
                .collect();
            for _ in 0..2000 {
                // Object, then per field a likely kind (String, Number, Date,
                // Missing...) or any nibble at all.
                let mut word = Kind::Object as u32;
                for j in 1..=fields.len() {
                    let likely = [
                        Kind::String,
                        Kind::Number,
                        Kind::Boolean,
                        Kind::Date,
                        Kind::Missing,
                        Kind::Object,
                    ];
                    let r = random();
                    let nibble = if r % 4 == 0 {
                        (r >> 8) as u32 % 16
                    } else {
                        likely[(r >> 8) as usize % 6] as u32
                    };
                    word |= nibble << (4 * j);
                }
                if random() % 16 == 0 {
                    word = (word & !15) | (random() % 16) as u32;
                }
                let packed = Packed {
                    word: word as i32,
                    codes: &codes,
                    fields: fields.len(),
                };
                let probes: Vec<Probe> = (0..=fields.len())
                    .map(|i| {
                        packed.probe(
                            i,
                            if i == 0 {
                                ReadMode::Kind
                            } else {
                                schema.plan().modes[i - 1]
                            },
                        )
                    })
                    .collect();
                let issues = schema.check(probes.as_slice());
                assert_eq!(issues, schema.check(&packed), "{fields:?} word {word:#x}");
                if schema.sure(word as i32) {
                    assert_eq!(issues, [], "sure, yet invalid: {fields:?} word {word:#x}");
                    fast += 1;
                } else {
                    long += 1;
                }
            }
        }
        assert!(
            fast > 2_000 && long > 2_000,
            "both ways taken: {fast} sure, {long} the long way"
        );
    }
}
