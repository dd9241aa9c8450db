//! The schemas: checks against probes, versions, descriptors, audiences.

use super::*;

fn login(schemas: &mut Schemas) -> Schema {
    schemas
        .compile(
            "auth.user.login",
            "1.0.0",
            "User successfully logged in",
            "user",
            &[
                ("userId", "string"),
                ("email", "string"),
                ("tier", "string"),
                ("timestamp", "Date"),
            ],
        )
        .unwrap()
}

fn object_with(fields: &[Probe]) -> Vec<Probe> {
    [&[Probe::of(Kind::Object)], fields].concat()
}

/// One descriptor of every field type.
pub(crate) const EVERY_TYPE: [&str; 8] = [
    "string",
    "number",
    "boolean",
    "Date",
    "string[]",
    "object",
    "any",
    "'a' | 'b'",
];

/// The fast path of [`Schema::check`] takes a field's kinds in `sure`
/// without looking further: every probe of such a kind must pass
/// [`Field::check`] too, whatever else it says.
#[test]
fn a_fields_sure_kinds_always_pass_its_full_check() {
    let mut schemas = Schemas::new(false);
    let types = EVERY_TYPE;
    let fields: Vec<(String, String)> = types
        .iter()
        .enumerate()
        .flat_map(|(i, ty)| [(format!("f{i}"), ty.to_string()), (format!("o{i}"), format!("{ty}?"))])
        .collect();
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, t)| (k.as_str(), t.as_str())).collect();
    let schema = schemas.compile("every.type", "1.0.0", "", "user", &fields).unwrap();
    let mut seen = 0;
    for field in &schema.fields {
        for kind in Kind::ALL {
            if field.sure & 1 << kind as u16 == 0 {
                continue;
            }
            seen += 1;
            for aux in [0, 1, 2, 99] {
                for bad_item in [None, Some((0, Kind::Number)), Some((3, Kind::Threw))] {
                    let probe = Probe { kind, aux, bad_item };
                    assert_eq!(field.check(probe), None, "{} given {probe:?}", field.descriptor);
                }
            }
        }
    }
    assert!(seen > 2 * types.len(), "most types have sure kinds ({seen})");
}

#[test]
fn versions() {
    assert_eq!(Version::parse("1.2.3"), Some(Version(1, 2, 3)));
    assert!(Version::parse("1.10.0") > Version::parse("1.9.9"));
    for bad in ["1.2", "1.2.3.4", "v1.2.3", "1.2.x", "", "1..3", "-1.2.3", "1.2.3-beta"] {
        assert_eq!(Version::parse(bad), None, "{bad}");
    }
}

#[test]
fn valid_payload_has_no_issues() {
    let mut s = Schemas::default();
    let schema = login(&mut s);
    let p = object_with(&[
        Probe::of(Kind::String),
        Probe::of(Kind::String),
        Probe::of(Kind::String),
        Probe::of(Kind::Date),
    ]);
    assert!(schema.check(&p[..]).is_empty());
}

#[test]
fn issues_name_the_field() {
    let mut s = Schemas::default();
    let schema = login(&mut s);
    let p = object_with(&[
        Probe::of(Kind::Number),
        Probe::of(Kind::String),
        Probe::of(Kind::Missing),
        Probe::of(Kind::InvalidDate),
    ]);
    let issues = schema.check(&p[..]);
    assert_eq!(issues.len(), 3);
    assert_eq!(issues[0].to_string(), "userId: expected string, received number");
    assert_eq!(issues[1].to_string(), "tier: expected string, received undefined");
    assert_eq!(issues[2].to_string(), "timestamp: expected Date, received Invalid Date");
    let root = schema.check(&[Probe::of(Kind::Null)][..]);
    assert_eq!(root[0].to_string(), "payload: expected object, received null");
    assert_eq!(root[0].path, "");
}

#[test]
fn literals_optional_and_arrays() {
    let mut s = Schemas::default();
    let schema = s
        .compile(
            "x.y",
            "1.0.0",
            "",
            "user",
            &[("mode", "'a' | 'b'"), ("note", "string?"), ("words", "string[]")],
        )
        .unwrap();
    let a = s.atom("a");
    let other = s.atom("zzz");
    let lit = |id| Probe {
        kind: Kind::Literal,
        aux: id,
        bad_item: None,
    };
    let ok = object_with(&[lit(a), Probe::of(Kind::Missing), Probe::of(Kind::Array)]);
    assert!(schema.check(&ok[..]).is_empty());
    let bad = object_with(&[
        lit(other),
        Probe::of(Kind::Null),
        Probe {
            kind: Kind::Array,
            aux: 0,
            bad_item: Some((2, Kind::Number)),
        },
    ]);
    let issues = schema.check(&bad[..]);
    assert_eq!(issues[0].to_string(), "mode: expected 'a' | 'b', received string");
    assert_eq!(issues[1].to_string(), "note: expected string, received null");
    assert_eq!(issues[2].to_string(), "words[2]: expected string, received number");
    assert_eq!(
        schema.plan().modes,
        [ReadMode::Literal, ReadMode::Kind, ReadMode::StringItems]
    );
}

#[test]
fn registration_needs_a_higher_version() {
    let mut s = Schemas::default();
    let first = login(&mut s);
    s.register(first.clone()).unwrap();
    let again = s.register(first.clone());
    assert!(matches!(again, Err(SchemaError::VersionNotHigher { .. })));
    let mut newer = first;
    newer.version = Version(1, 0, 1);
    s.register(newer).unwrap();
    assert_eq!(s.get("auth.user.login").unwrap().version, Version(1, 0, 1));
}

#[test]
fn bad_descriptors_name_field_and_text() {
    let mut s = Schemas::default();
    let err = s
        .compile("a.b", "1.0.0", "", "user", &[("when", "Datetime")])
        .unwrap_err();
    assert!(
        err.to_string().starts_with("schema a.b: field when: unknown type"),
        "{err}"
    );
    assert!(err.to_string().ends_with("\"Datetime\""), "{err}");
    assert!(s.compile("a.b", "1.0", "", "user", &[]).is_err());
    assert!(s.compile("userLogin", "1.0.0", "", "user", &[]).is_err());
    assert!(s
        .compile("a.b", "1.0.0", "", "user", &[("k", "string"), ("k", "number")])
        .is_err());
}

#[test]
fn audiences_and_the_group_field() {
    let mut s = Schemas::default();
    for (audience, want) in [("user", Audience::User), ("all", Audience::All)] {
        assert_eq!(s.compile("a.b", "1.0.0", "", audience, &[]).unwrap().audience, want);
    }
    let err = s.compile("a.b", "1.0.0", "", "public", &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "schema a.b: audience must be 'user', 'all' or 'group': \"public\""
    );
    let group = s.compile("room.message.sent", "1.0.0", "", "group", &[("groupId", "string")]);
    assert_eq!(group.unwrap().audience, Audience::Group);
    for fields in [
        &[][..],
        &[("groupId", "string?")],
        &[("groupId", "number")],
        &[("room", "string")],
    ] {
        let err = s
            .compile("room.message.sent", "1.0.0", "", "group", fields)
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("schema room.message.sent: field groupId: audience 'group' needs"),
            "{err}"
        );
    }
}
