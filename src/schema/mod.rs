//! Schemas: what an event's payload must look like, and the check of a
//! payload against it.
//!
//! A [`Schema`] is compiled from the seed's descriptor notation
//! ([`descriptor`]) once, at registration. [`Schemas`] holds the registered
//! schemas and the *atoms*: every string literal of every literal union,
//! numbered, so the JS reader can report a literal as a small integer.
//! [`Schema::check`] validates a payload described by [`probe::Probe`]s.

use crate::prelude::*;

pub mod catalog;
pub mod descriptor;
pub mod probe;
pub mod typescript;

use alloc::rc::Rc;
use core::fmt;

pub use crate::base::Issue;
use crate::base::{cat, is_conventional, num, owned};
use crate::error::SchemaError;
use crate::intern::{slot, Interner};
use crate::limits::{MAX_DESCRIPTION_LEN, MAX_DESCRIPTOR_LEN, MAX_FIELDS, MAX_NAME_LEN, MAX_VERSION_LEN};
use descriptor::Parsed;
use probe::{Describe, Kind, Packed, Plan, Probe, ReadMode};

/// A field's type.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldType {
    /// A string.
    String,
    /// A finite number.
    Number,
    /// A boolean.
    Boolean,
    /// A valid `Date`.
    Date,
    /// An array of strings.
    StringArray,
    /// Any object but `null`, arrays and `Date`s (the seed's `Record<string, any>`).
    Object,
    /// Anything but `undefined`.
    Any,
    /// One of these atoms (see [`Schemas::atom`]).
    Literals(Vec<u32>),
}

/// One field of a payload.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// Its key.
    pub key: String,
    /// Its type.
    pub ty: FieldType,
    /// Whether it may be missing.
    pub optional: bool,
    /// The descriptor text it was compiled from, as given.
    pub descriptor: String,
    expected: String,
    /// The kinds it accepts whatever else the probe says, a bit per kind
    /// (see [`Field::sure`]).
    sure: u16,
}

/// A `MAJOR.MINOR.PATCH` version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u64, pub u64, pub u64);

impl Version {
    /// Parses `MAJOR.MINOR.PATCH` (decimal numbers, nothing else).
    pub fn parse(text: &str) -> Option<Version> {
        // By hand rather than `split` and `str::parse`: a third of the code.
        let mut parts = [0u64; 3];
        let mut at = 0usize;
        let mut digits = 0u8;
        for b in text.bytes() {
            if b == b'.' {
                if digits == 0 {
                    return None;
                }
                at = at.saturating_add(1);
                digits = 0;
                continue;
            }
            let part = parts.get_mut(at)?;
            let digit = char::from(b).to_digit(10)?;
            *part = part.checked_mul(10)?.checked_add(u64::from(digit))?;
            digits = 1;
        }
        (at == 2 && digits == 1).then_some(Version(parts[0], parts[1], parts[2]))
    }
}

impl Version {
    /// `MAJOR.MINOR.PATCH`.
    pub fn text(&self) -> String {
        cat(&[&num(self.0), ".", &num(self.1), ".", &num(self.2)])
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

/// Who receives an event through kaiwa-relay (relay/PROTOCOL.md, "Who sees
/// what"). The bus itself delivers every event to every handler of the page;
/// the audience is part of an event's definition so that the relay reads it
/// from the same schemas it validates with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Audience {
    /// The connections of one user: the publisher's own (its token's
    /// `sub`), or, when an admin publishes, the user named by the payload's
    /// `userId`. The default, and what an event without a schema gets.
    #[default]
    User,
    /// Every connection whose token lets it subscribe to the name.
    All,
    /// The members of the group named by the payload's `groupId` (tokens
    /// list theirs in a `groups` claim): a chat room, a team, a shared
    /// document.
    Group,
}

impl Audience {
    /// Every audience, in the order messages list them.
    pub const ALL: [Audience; 3] = [Audience::User, Audience::All, Audience::Group];

    /// `'user'`, `'all'` or `'group'`, as schemas write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::User => "user",
            Audience::All => "all",
            Audience::Group => "group",
        }
    }

    /// The audience a schema names.
    pub fn parse(text: &str) -> Option<Audience> {
        Audience::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// The payload field that names the group of an [`Audience::Group`] event.
pub const GROUP_FIELD: &str = "groupId";

/// The seed's `EventSchema`, compiled.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    /// The event name.
    pub name: String,
    /// Its version.
    pub version: Version,
    /// What the event means.
    pub description: String,
    /// Who receives it through the relay.
    pub audience: Audience,
    /// The payload's fields, in descriptor order.
    pub fields: Vec<Field>,
    plan: Plan,
}

impl Schema {
    /// The reader's plan for this schema.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Checks a payload described by its probes (see [`probe`]): the payload
    /// itself, then one probe per field in schema order. Returns every
    /// issue; empty means valid.
    #[inline]
    pub fn check(&self, probes: &(impl Describe + ?Sized)) -> Vec<Issue> {
        let mut issues = Vec::new();
        let root = probes.probe(0, ReadMode::Kind);
        if root.kind != Kind::Object {
            issues.push(Issue {
                path: String::new(),
                expected: owned("object"),
                received: owned(root.kind.describe(root.aux)),
            });
            return issues;
        }
        for (i, (field, mode)) in (1..).zip(self.fields.iter().zip(&self.plan.modes)) {
            // Most fields are decided by their kind alone.
            if field.sure & 1 << probes.kind(i) as u16 != 0 {
                continue;
            }
            if let Some(issue) = field.check(probes.probe(i, *mode)) {
                issues.push(issue);
            }
        }
        issues
    }

    /// Whether [`Schema::check`] of a [`Packed`] description whose first
    /// word is `word` finds nothing, on the kinds in `word` alone: an
    /// object, of a schema of at most seven fields (all their kinds are in
    /// `word`), whose every field's kind is [`Field::sure`]. The common
    /// case, in a few instructions, for [`crate::core::Core::sure`]; `false`
    /// sends the emit the long way.
    #[inline]
    pub(crate) fn sure(&self, word: i32) -> bool {
        let mut kinds = word as u32;
        if self.fields.len() >= Packed::KINDS_PER_WORD || kinds & 15 != Kind::Object as u32 {
            return false;
        }
        self.fields.iter().all(|field| {
            kinds >>= 4;
            u32::from(field.sure) >> (kinds & 15) & 1 != 0
        })
    }
}

impl Field {
    /// The kinds a field of type `ty` accepts whatever else the probe says
    /// (a literal's atom, an array's items): the fast path of
    /// [`Schema::check`], which must agree with [`Field::check`].
    fn sure(ty: &FieldType, optional: bool) -> u16 {
        let bit = |kind: Kind| 1u16 << kind as u16;
        let kinds = match ty {
            FieldType::String => bit(Kind::String) | bit(Kind::Literal),
            FieldType::Number => bit(Kind::Number),
            FieldType::Boolean => bit(Kind::Boolean),
            FieldType::Date => bit(Kind::Date),
            FieldType::Object => bit(Kind::Object),
            FieldType::Any => Kind::ALL.iter().fold(0, |all, k| all | bit(*k)) & !bit(Kind::Missing),
            FieldType::Literals(_) | FieldType::StringArray => 0,
        };
        if optional {
            kinds | bit(Kind::Missing)
        } else {
            kinds
        }
    }

    fn check(&self, p: Probe) -> Option<Issue> {
        if p.kind == Kind::Missing && self.optional {
            return None;
        }
        let ok = match &self.ty {
            FieldType::String => matches!(p.kind, Kind::String | Kind::Literal),
            FieldType::Number => p.kind == Kind::Number,
            FieldType::Boolean => p.kind == Kind::Boolean,
            FieldType::Date => p.kind == Kind::Date,
            FieldType::Object => p.kind == Kind::Object,
            FieldType::Any => p.kind != Kind::Missing,
            FieldType::Literals(atoms) => p.kind == Kind::Literal && atoms.contains(&p.aux),
            FieldType::StringArray => match (p.kind, p.bad_item) {
                (Kind::Array, None) => true,
                (Kind::Array, Some((index, item))) => {
                    return Some(Issue {
                        path: cat(&[&self.key, "[", &num(u64::from(index)), "]"]),
                        expected: owned("string"),
                        received: owned(item.describe(0)),
                    })
                }
                _ => false,
            },
        };
        (!ok).then(|| Issue {
            path: self.key.clone(),
            expected: self.expected.clone(),
            received: owned(p.kind.describe(p.aux)),
        })
    }
}

/// Runs `f` on the catalog, compiled at the first call of the thread.
#[cfg(not(all(target_arch = "wasm32", feature = "wasm-no-std")))]
fn with_compiled_catalog<R>(f: impl FnOnce(&Schemas) -> R) -> R {
    std::thread_local! {
        static CATALOG: Schemas = Schemas::compile_catalog();
    }
    CATALOG.with(f)
}

/// Runs `f` on the catalog, compiled at the first call of the page. The
/// `no_std` build has no `thread_local!`; wasm32 without the atomics
/// feature has one thread.
#[cfg(all(target_arch = "wasm32", feature = "wasm-no-std"))]
fn with_compiled_catalog<R>(f: impl FnOnce(&Schemas) -> R) -> R {
    struct PageOnce(core::cell::OnceCell<Schemas>);
    // SAFETY: wasm32 without the atomics feature has no threads.
    unsafe impl Sync for PageOnce {}
    static CATALOG: PageOnce = PageOnce(core::cell::OnceCell::new());
    // `get` and `set` rather than `get_or_init`, whose reentrancy panic kept
    // its message in the .wasm; nothing here can re-enter.
    if CATALOG.0.get().is_none() {
        let _ = CATALOG.0.set(Schemas::compile_catalog());
    }
    let empty = Schemas::default();
    f(CATALOG.0.get().unwrap_or(&empty))
}

/// The registered schemas and the atoms of their literal unions.
#[derive(Clone, Debug, Default)]
pub struct Schemas {
    names: Interner,
    /// By interned name; shared with the core's per-name cache.
    schemas: Vec<Option<Rc<Schema>>>,
    atoms: Interner,
}

impl Schemas {
    /// An empty set, or one holding the seed's catalog. The catalog is
    /// compiled once per thread (once per page) and shared: a new bus copies
    /// only the two small interners and one pointer per schema.
    pub fn new(with_catalog: bool) -> Schemas {
        if with_catalog {
            with_compiled_catalog(Schemas::clone)
        } else {
            Schemas::default()
        }
    }

    fn compile_catalog() -> Schemas {
        let mut schemas = Schemas::default();
        for def in catalog::CATALOG {
            let compiled = schemas.compile(def.name, def.version, def.description, def.audience, def.payload);
            // The catalog is checked by the `catalog_compiles` test.
            if let Ok(schema) = compiled {
                schemas.insert(schema);
            }
        }
        schemas
    }

    /// Compiles a schema from descriptor notation without registering it.
    /// `audience` is `'user'`, `'all'` or `'group'` (which needs a required
    /// string field `groupId`).
    pub fn compile(
        &mut self,
        name: &str,
        version: &str,
        description: &str,
        audience: &str,
        payload: &[(&str, &str)],
    ) -> Result<Schema, SchemaError> {
        let bad = |field: &str, text: &str, reason: &str| SchemaError::Descriptor {
            event: owned(name),
            field: owned(field),
            text: owned(text),
            reason: owned(reason),
        };
        let too_long = |what: &'static str, len: usize, limit: usize| {
            (len > limit).then(|| SchemaError::TooLong {
                event: owned(name),
                what,
                len,
                limit,
            })
        };
        let longest_key = payload.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        let longest_type = payload.iter().map(|(_, t)| t.len()).max().unwrap_or(0);
        if let Some(error) = too_long("version", version.len(), MAX_VERSION_LEN)
            .or_else(|| too_long("description", description.len(), MAX_DESCRIPTION_LEN))
            .or_else(|| too_long("field count", payload.len(), MAX_FIELDS))
            .or_else(|| too_long("longest field key", longest_key, MAX_NAME_LEN))
            .or_else(|| too_long("longest field descriptor", longest_type, MAX_DESCRIPTOR_LEN))
        {
            return Err(error);
        }
        if !is_conventional(name) {
            return Err(bad(
                "",
                name,
                "the name breaks the naming convention (lower-case dot notation: domain.action[.result])",
            ));
        }
        let version = Version::parse(version).ok_or_else(|| bad("", version, "version must be MAJOR.MINOR.PATCH"))?;
        let audience =
            Audience::parse(audience).ok_or_else(|| bad("", audience, "audience must be 'user', 'all' or 'group'"))?;
        let mut fields: Vec<Field> = Vec::new();
        for &(key, text) in payload {
            if fields.iter().any(|f| f.key == key) {
                return Err(bad(key, text, "duplicate field"));
            }
            let (parsed, optional) = descriptor::parse(text).map_err(|reason| bad(key, text, reason))?;
            let (ty, expected) = match parsed {
                Parsed::Plain(ty) => {
                    let expected = owned(typescript::plain_type(&ty));
                    (ty, expected)
                }
                Parsed::Literals(values) => {
                    let expected = typescript::literal_union(&values);
                    (
                        FieldType::Literals(values.iter().map(|v| self.atom(v)).collect()),
                        expected,
                    )
                }
            };
            fields.push(Field {
                key: owned(key),
                sure: Field::sure(&ty, optional),
                ty,
                optional,
                descriptor: owned(text),
                expected,
            });
        }
        let names_group = |f: &&Field| f.key == GROUP_FIELD && f.ty == FieldType::String && !f.optional;
        if audience == Audience::Group && !fields.iter().any(|f| names_group(&f)) {
            let text = fields
                .iter()
                .find(|f| f.key == GROUP_FIELD)
                .map_or("", |f| &f.descriptor);
            return Err(bad(
                GROUP_FIELD,
                text,
                "audience 'group' needs a required field groupId of type 'string', the group that receives the event",
            ));
        }
        let plan = Plan {
            keys: fields.iter().map(|f| owned(&f.key)).collect(),
            modes: fields
                .iter()
                .map(|f| match f.ty {
                    FieldType::Literals(_) => ReadMode::Literal,
                    FieldType::StringArray => ReadMode::StringItems,
                    _ => ReadMode::Kind,
                })
                .collect(),
        };
        Ok(Schema {
            name: owned(name),
            version,
            description: owned(description),
            audience,
            fields,
            plan,
        })
    }

    /// Registers a compiled schema and returns it, shared. A name already
    /// registered needs a higher version.
    pub fn register(&mut self, schema: Schema) -> Result<Rc<Schema>, SchemaError> {
        if let Some(current) = self.get(&schema.name) {
            if schema.version <= current.version {
                return Err(SchemaError::VersionNotHigher {
                    event: schema.name,
                    current: current.version.text(),
                    offered: schema.version.text(),
                });
            }
        }
        Ok(self.insert(schema))
    }

    fn insert(&mut self, schema: Schema) -> Rc<Schema> {
        let schema = Rc::new(schema);
        let at = self.names.intern(&schema.name);
        if let Some(entry) = slot(&mut self.schemas, at, || None) {
            *entry = Some(schema.clone());
        }
        schema
    }

    /// The schema registered for `name`.
    pub fn get(&self, name: &str) -> Option<&Schema> {
        self.shared(name).map(|s| &**s)
    }

    /// The schema registered for `name`, as the shared pointer.
    pub fn shared(&self, name: &str) -> Option<&Rc<Schema>> {
        self.schemas.get(self.names.get(name)? as usize)?.as_ref()
    }

    /// Every registered schema, in order of first registration.
    pub fn iter(&self) -> impl Iterator<Item = &Schema> {
        self.schemas.iter().flatten().map(|s| &**s)
    }

    /// The atom id of a literal string, allocating one on first sight.
    pub fn atom(&mut self, value: &str) -> u32 {
        self.atoms.intern(value)
    }

    /// Every atom, by id.
    pub fn atoms(&self) -> &[Rc<str>] {
        self.atoms.texts()
    }
}

#[cfg(test)]
mod tests;
