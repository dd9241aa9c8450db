//! Type names for messages, and the TypeScript event map generated from the
//! catalog (`js/core/events.d.ts`, checked by the `events_d_ts_is_current` test and
//! rewritten by `make types`).

use crate::prelude::*;

use crate::schema::catalog::{CATALOG, DOMAINS};
use crate::schema::descriptor::{self, Parsed};
use crate::schema::FieldType;

/// A non-literal type in descriptor notation, as validation issues name it.
pub fn plain_type(ty: &FieldType) -> &'static str {
    match ty {
        FieldType::String => "string",
        FieldType::Number => "number",
        FieldType::Boolean => "boolean",
        FieldType::Date => "Date",
        FieldType::StringArray => "string[]",
        FieldType::Object => "object",
        FieldType::Any => "any",
        FieldType::Literals(_) => "string",
    }
}

/// `'a' | 'b'`.
pub fn literal_union(values: &[String]) -> String {
    let mut out = String::new();
    for value in values {
        if !out.is_empty() {
            out.push_str(" | ");
        }
        out.push('\'');
        out.push_str(value);
        out.push('\'');
    }
    out
}

fn ts_type(text: &str) -> (String, bool) {
    match descriptor::parse(text) {
        Ok((Parsed::Plain(FieldType::Object), optional)) => ("Record<string, any>".into(), optional),
        Ok((Parsed::Plain(ty), optional)) => (plain_type(&ty).into(), optional),
        Ok((Parsed::Literals(values), optional)) => (literal_union(&values), optional),
        Err(_) => ("unknown".into(), false),
    }
}

/// The TypeScript declarations of the catalog: one interface per domain, as
/// in the seed, and `KaiwaEvents` extending them all.
pub fn catalog_declarations() -> String {
    let mut out = String::from(
        "// Generated from src/schema/catalog.rs by `make types`. Do not edit by hand.\n\
         // The seed's event catalog as a TypeScript event map.\n",
    );
    let mut interfaces = Vec::new();
    for domain in DOMAINS {
        let mut chars = domain.chars();
        let first: String = chars.next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
        let interface = format!("{first}{}Events", chars.as_str());
        out.push_str(&format!("\nexport interface {interface} {{\n"));
        for def in CATALOG.iter().filter(|d| d.name.split('.').next() == Some(domain)) {
            out.push_str(&format!(
                "\t/** {} (v{}; relay audience '{}') */\n\t'{}': {{\n",
                def.description, def.version, def.audience, def.name
            ));
            for (key, text) in def.payload {
                let (ty, optional) = ts_type(text);
                let mark = if optional { "?" } else { "" };
                out.push_str(&format!("\t\t{key}{mark}: {ty};\n"));
            }
            out.push_str("\t};\n");
        }
        out.push_str("}\n");
        interfaces.push(interface);
    }
    out.push_str(&format!(
        "\n/** Every catalog event by name. Extend it with declaration merging for your own events. */\n\
         export interface KaiwaEvents\n\textends {} {{}}\n",
        interfaces.join(",\n\t\t")
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_d_ts_is_current() {
        crate::contract::assert_current("js/core/events.d.ts", &catalog_declarations());
    }

    #[test]
    fn login_renders_like_the_seed() {
        let ts = catalog_declarations();
        assert!(ts.contains(
            "\t'auth.user.login': {\n\t\tuserId: string;\n\t\temail: string;\n\t\ttier: string;\n\t\ttimestamp: Date;\n\t};"
        ));
        assert!(ts.contains("\t\tmode: 'traditional' | 'realtime';"));
        assert!(ts.contains("\t\tuserId?: string;"));
        assert!(ts.contains("\t\tcontext: Record<string, any>;"));
        assert!(ts.contains("\t\twordsLearned: string[];"));
    }
}
