//! Payload validation with the bus's own schemas: the seed's catalog plus
//! `--schemas FILE`, compiled by `kaiwa_bus::schema` exactly as the browser
//! compiles them, and checked through the same [`Payload`] probe interface.
//!
//! JSON has no `Date`: a field the schema types `Date` must hold an
//! ISO-8601 string (RFC 3339, or a plain `YYYY-MM-DD`), which reads as a
//! `Date`; any other string reads as an `Invalid Date`.
//!
//! `kaiwa_bus::schema::Schemas` is single-threaded (`Rc`), so each worker
//! thread compiles its own copy once, from the definitions installed at start.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::OnceLock;

use kaiwa_bus::core::names::{check_event_name, is_conventional};
use kaiwa_bus::local::Payload;
use kaiwa_bus::schema::probe::{Kind, Plan, Probe, ReadMode};
use kaiwa_bus::schema::{Audience, FieldType, Issue, Schema, Schemas};
use kaiwa_bus::Mode;
use kaiwa_bus::SchemaError;
use serde::Deserialize;
use serde_json::Value;

/// One schema of a `--schemas` file.
#[derive(Clone, Debug, Deserialize)]
pub struct SchemaDef {
    /// The event name.
    pub name: String,
    /// `MAJOR.MINOR.PATCH`.
    pub version: String,
    /// What it means.
    #[serde(default)]
    pub description: String,
    /// Who receives it: `user` (the default), `all` or `group`.
    #[serde(default = "user")]
    pub audience: String,
    /// Field key → descriptor text, in order.
    pub payload: serde_json::Map<String, Value>,
}

fn user() -> String {
    Audience::User.as_str().into()
}

#[derive(Debug)]
struct Rules {
    defs: Vec<SchemaDef>,
    mode: Mode,
}

static RULES: OnceLock<Rules> = OnceLock::new();

thread_local! {
    static SCHEMAS: RefCell<Option<Schemas>> = const { RefCell::new(None) };
}

/// Why a payload was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Invalid {
    /// The name is empty, too long or has a `*`.
    Name(String),
    /// No schema (or an unconventional name) in strict mode.
    Unknown(String),
    /// The payload does not match its schema.
    Issues(String, Vec<Issue>),
}

/// Reads a `--schemas` file: a JSON array of `{name, version, description,
/// audience, payload}` (what `defineEvents` returns as `events.schemas`).
pub fn read_file(text: &str) -> Result<Vec<SchemaDef>, SchemasError> {
    serde_json::from_str(text).map_err(SchemasError::File)
}

/// Why the `--schemas` file (or the catalog with it) cannot be installed.
#[derive(Debug)]
pub enum SchemasError {
    /// The file is not a JSON array of schemas.
    File(serde_json::Error),
    /// A field's type is not a string (event, field).
    FieldType(String, String),
    /// A schema the bus refuses (a bad descriptor, audience, or version).
    Schema(SchemaError),
    /// [`install`] was called twice.
    Installed,
}

impl std::fmt::Display for SchemasError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            SchemasError::File(e) => write!(f, "schemas file: {e}"),
            SchemasError::FieldType(event, field) => {
                write!(f, "schema {event}: field {field}: the type must be a string")
            }
            SchemasError::Schema(e) => write!(f, "{e}"),
            SchemasError::Installed => f.write_str("schemas are already installed"),
        }
    }
}

impl std::error::Error for SchemasError {}

/// Compiles the catalog and `defs` (failing with the first bad descriptor)
/// and installs them for every thread. Call once, before serving.
pub fn install(defs: Vec<SchemaDef>, mode: Mode) -> Result<(), SchemasError> {
    let schemas = compile(&defs)?;
    RULES.set(Rules { defs, mode }).map_err(|_| SchemasError::Installed)?;
    SCHEMAS.with(|s| *s.borrow_mut() = Some(schemas));
    Ok(())
}

fn compile(defs: &[SchemaDef]) -> Result<Schemas, SchemasError> {
    let mut schemas = Schemas::new(true);
    for def in defs {
        let mut fields = Vec::new();
        for (key, text) in &def.payload {
            let text = text
                .as_str()
                .ok_or_else(|| SchemasError::FieldType(def.name.clone(), key.clone()))?;
            fields.push((key.as_str(), text));
        }
        let schema = schemas
            .compile(&def.name, &def.version, &def.description, &def.audience, &fields)
            .map_err(SchemasError::Schema)?;
        // A file may replace a catalog schema only with a higher version.
        schemas.register(schema).map_err(SchemasError::Schema)?;
    }
    Ok(schemas)
}

/// The audience of the schema installed for `name`, or `None` without one
/// (then [`check`] does not read the payload, and the event is `'user'`).
pub fn audience(name: &str) -> Option<Audience> {
    let rules = RULES.get()?;
    SCHEMAS.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = compile(&rules.defs).ok();
        }
        slot.as_ref()?.get(name).map(|schema| schema.audience)
    })
}

/// Checks an event's name and payload against the installed rules.
pub fn check(name: &str, payload: &Value) -> Result<(), Invalid> {
    check_event_name(name).map_err(|e| Invalid::Name(e.to_string()))?;
    let Some(rules) = RULES.get() else {
        return Err(Invalid::Unknown("the relay has no schemas installed".into()));
    };
    SCHEMAS.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = compile(&rules.defs).ok();
        }
        let Some(schemas) = slot.as_ref() else {
            return Err(Invalid::Unknown("the schemas failed to compile".into()));
        };
        let Some(schema) = schemas.get(name) else {
            return match rules.mode {
                Mode::Development => Ok(()),
                Mode::Strict => Err(Invalid::Unknown(
                    kaiwa_bus::EmitError::UnknownEvent {
                        event: name.into(),
                        bad_name: !is_conventional(name),
                    }
                    .to_string(),
                )),
            };
        };
        let mut probes = Vec::new();
        Json {
            value: payload,
            schema,
            atoms: schemas.atoms(),
        }
        .probe(schema.plan(), &mut probes);
        let issues = schema.check(&probes[..]);
        if issues.is_empty() {
            Ok(())
        } else {
            Err(Invalid::Issues(name.into(), issues))
        }
    })
}

/// A JSON payload as the bus's validator reads it.
struct Json<'a> {
    value: &'a Value,
    schema: &'a Schema,
    atoms: &'a [Rc<str>],
}

impl Payload for Json<'_> {
    fn probe(&self, plan: &Plan, out: &mut Vec<Probe>) {
        out.push(Probe::of(kind(self.value)));
        let fields = plan.keys.iter().zip(&plan.modes).zip(&self.schema.fields);
        for ((key, mode), field) in fields {
            let Some(v) = self.value.get(key) else {
                out.push(Probe::of(Kind::Missing));
                continue;
            };
            let mut p = Probe::of(kind(v));
            match (v, mode) {
                (Value::String(text), _) if field.ty == FieldType::Date => {
                    p = Probe::of(if is_iso_date(text) {
                        Kind::Date
                    } else {
                        Kind::InvalidDate
                    });
                }
                (Value::String(text), ReadMode::Literal) => {
                    if let Some(at) = self.atoms.iter().position(|a| **a == **text) {
                        p.kind = Kind::Literal;
                        p.aux = u32::try_from(at).unwrap_or(u32::MAX);
                    }
                }
                (Value::Array(items), ReadMode::StringItems) => {
                    if let Some((i, item)) = items.iter().enumerate().find(|(_, x)| !x.is_string()) {
                        p.bad_item = Some((u32::try_from(i).unwrap_or(u32::MAX), kind(item)));
                    }
                }
                _ => {}
            }
            out.push(p);
        }
    }
}

fn kind(v: &Value) -> Kind {
    match v {
        Value::Null => Kind::Null,
        Value::Bool(_) => Kind::Boolean,
        Value::Number(_) => Kind::Number,
        Value::String(_) => Kind::String,
        Value::Array(_) => Kind::Array,
        Value::Object(_) => Kind::Object,
    }
}

/// Whether `text` is an ISO-8601 date-time (RFC 3339) or date.
pub fn is_iso_date(text: &str) -> bool {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(text, &Rfc3339).is_ok()
        || time::Date::parse(text, time::macros::format_description!("[year]-[month]-[day]")).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ready() {
        let _ = install(Vec::new(), Mode::Development);
    }

    #[test]
    fn iso_dates() {
        for good in ["2026-01-02T03:04:05.678Z", "2026-01-02T03:04:05+02:00", "2026-01-02"] {
            assert!(is_iso_date(good), "{good}");
        }
        for bad in ["yesterday", "2026-13-01", "1700000000000", ""] {
            assert!(!is_iso_date(bad), "{bad}");
        }
    }

    #[test]
    fn catalog_payloads_validate_with_dates_as_strings() {
        ready();
        let login = json!({"userId": "u1", "email": "a@b.c", "tier": "pro", "timestamp": "2026-01-02T03:04:05.000Z"});
        assert_eq!(check("auth.user.login", &login), Ok(()));
        let bad = json!({"userId": 7, "email": "a@b.c", "timestamp": "soon"});
        let Err(Invalid::Issues(_, issues)) = check("auth.user.login", &bad) else {
            panic!()
        };
        let text: Vec<String> = issues.iter().map(|i| i.to_string()).collect();
        assert_eq!(
            text,
            [
                "userId: expected string, received number",
                "tier: expected string, received undefined",
                "timestamp: expected Date, received Invalid Date"
            ]
        );
    }

    #[test]
    fn literals_arrays_and_names() {
        ready();
        let started = |mode: &str| json!({"conversationId": "c", "userId": "u", "targetLanguage": "ja", "mode": mode, "timestamp": "2026-01-02"});
        assert_eq!(check("conversation.started", &started("realtime")), Ok(()));
        assert!(check("conversation.started", &started("telepathy")).is_err());
        let lesson =
            json!({"userId": "u", "lessonId": "l", "wordsLearned": ["a", 2], "score": 1, "timestamp": "2026-01-02"});
        let Err(Invalid::Issues(_, issues)) = check("vocabulary.lesson.completed", &lesson) else {
            panic!()
        };
        assert_eq!(issues[0].path, "wordsLearned[1]");
        assert!(matches!(check("a.*", &json!({})), Err(Invalid::Name(_))));
        assert_eq!(
            check("app.custom.thing", &json!(1)),
            Ok(()),
            "development mode lets unknown events through"
        );
    }

    #[test]
    fn schema_files_name_audiences_as_define_events_writes_them() {
        let defs = read_file(
            r#"[{"name":"app.notice.posted","version":"1.0.0","description":"","audience":"all","payload":{"text":"string"}},
                {"name":"app.item.added","version":"1.0.0","payload":{"id":"string"}},
                {"name":"room.message.sent","version":"1.0.0","audience":"group","payload":{"groupId":"string"}}]"#,
        )
        .unwrap();
        let schemas = compile(&defs).unwrap();
        let audience = |name: &str| schemas.get(name).unwrap().audience;
        assert_eq!(
            [
                audience("app.notice.posted"),
                audience("app.item.added"),
                audience("room.message.sent")
            ],
            [Audience::All, Audience::User, Audience::Group]
        );
        assert_eq!(audience("auth.user.login"), Audience::User, "the catalog's");
        let bad = read_file(r#"[{"name":"a.b","version":"1.0.0","audience":"public","payload":{}}]"#).unwrap();
        assert!(
            compile(&bad).unwrap_err().to_string().contains("audience must be"),
            "{:?}",
            compile(&bad)
        );
        let no_group = read_file(r#"[{"name":"a.b","version":"1.0.0","audience":"group","payload":{}}]"#).unwrap();
        assert!(compile(&no_group).unwrap_err().to_string().contains("groupId"));
    }

    #[test]
    fn schema_files_compile_or_name_the_mistake() {
        let defs = read_file(r#"[{"name":"app.item.added","version":"1.0.0","payload":{"id":"string","at":"Date"}}]"#)
            .unwrap();
        assert!(compile(&defs).unwrap().get("app.item.added").is_some());
        let bad = read_file(r#"[{"name":"app.item.added","version":"1.0.0","payload":{"id":"strin"}}]"#).unwrap();
        assert!(
            compile(&bad).unwrap_err().to_string().contains("field id"),
            "{:?}",
            compile(&bad)
        );
        assert!(read_file("{").is_err());
    }
}
