//! The seed's event catalog: 21 events in six domains, written in the seed's
//! own descriptor notation (see [`super::descriptor`]) and compiled when a bus
//! is created. Field names, types, optional fields and literal unions are
//! exactly those of "Event Schema Definitions" in
//! `event-system-architecture.md`.
//!
//! Every catalog event's audience is `'user'`: each one is about one
//! learner's account, session, conversation, audio, words, subscription or
//! telemetry, and none of them is news for another user. Through the relay
//! they reach that learner's own connections (every tab and device) and
//! admin ones, which is where dashboards of analytics events belong. An
//! app's own public events (a maintenance notice, a new lesson published)
//! say `audience: 'all'` in `defineEvents`.

/// One catalog entry, as the seed's `EventSchema` minus `validate`.
#[derive(Clone, Copy, Debug)]
pub struct EventDef {
    /// The event name.
    pub name: &'static str,
    /// Its semver version.
    pub version: &'static str,
    /// What it means.
    pub description: &'static str,
    /// Who receives it through the relay: `'user'`, `'all'` or `'group'`
    /// (see [`super::Audience`]).
    pub audience: &'static str,
    /// Its fields: key and type text.
    pub payload: &'static [(&'static str, &'static str)],
}

const fn def(
    name: &'static str,
    description: &'static str,
    payload: &'static [(&'static str, &'static str)],
) -> EventDef {
    EventDef {
        name,
        version: "1.0.0",
        description,
        audience: "user",
        payload,
    }
}

/// The six domains, in the seed's order.
pub const DOMAINS: [&str; 6] = [
    "auth",
    "conversation",
    "audio",
    "vocabulary",
    "subscription",
    "analytics",
];

/// Every catalog event, in the seed's order.
pub const CATALOG: &[EventDef] = &[
    // 1. Authentication
    def(
        "auth.user.login",
        "User successfully logged in",
        &[
            ("userId", "string"),
            ("email", "string"),
            ("tier", "string"),
            ("timestamp", "Date"),
        ],
    ),
    def(
        "auth.user.logout",
        "User logged out",
        &[("userId", "string"), ("timestamp", "Date")],
    ),
    def(
        "auth.user.registered",
        "A new user account was created",
        &[
            ("userId", "string"),
            ("email", "string"),
            ("tier", "string"),
            ("timestamp", "Date"),
        ],
    ),
    def(
        "auth.subscription.updated",
        "A user's subscription tier changed",
        &[
            ("userId", "string"),
            ("oldTier", "string"),
            ("newTier", "string"),
            ("timestamp", "Date"),
        ],
    ),
    // 2. Conversation
    def(
        "conversation.started",
        "A conversation began",
        &[
            ("conversationId", "string"),
            ("userId", "string"),
            ("targetLanguage", "string"),
            ("mode", "'traditional' | 'realtime'"),
            ("timestamp", "Date"),
        ],
    ),
    def(
        "conversation.message.sent",
        "A message was added to a conversation",
        &[
            ("conversationId", "string"),
            ("messageId", "string"),
            ("role", "'user' | 'assistant'"),
            ("content", "string"),
            ("timestamp", "Date"),
        ],
    ),
    def(
        "conversation.ended",
        "A conversation finished",
        &[
            ("conversationId", "string"),
            ("userId", "string"),
            ("duration", "number"),
            ("messageCount", "number"),
            ("timestamp", "Date"),
        ],
    ),
    def(
        "conversation.error",
        "A conversation failed",
        &[
            ("conversationId", "string"),
            ("error", "string"),
            ("context", "Record<string, any>"),
            ("timestamp", "Date"),
        ],
    ),
    // 3. Audio
    def(
        "audio.recording.started",
        "Microphone recording began",
        &[("sessionId", "string"), ("userId", "string?"), ("timestamp", "Date")],
    ),
    def(
        "audio.recording.stopped",
        "Microphone recording ended",
        &[
            ("sessionId", "string"),
            ("duration", "number"),
            ("audioSize", "number"),
            ("timestamp", "Date"),
        ],
    ),
    def(
        "audio.transcription.completed",
        "Recorded speech was transcribed",
        &[
            ("sessionId", "string"),
            ("transcription", "string"),
            ("confidence", "number"),
            ("language", "string"),
            ("timestamp", "Date"),
        ],
    ),
    def(
        "audio.playback.started",
        "Audio playback began",
        &[("sessionId", "string"), ("audioId", "string"), ("timestamp", "Date")],
    ),
    // 4. Vocabulary
    def(
        "vocabulary.word.encountered",
        "A learner met a word in context",
        &[
            ("userId", "string"),
            ("word", "string"),
            ("language", "string"),
            ("context", "string"),
            ("timestamp", "Date"),
        ],
    ),
    def(
        "vocabulary.word.mastered",
        "A word reached a new mastery level",
        &[
            ("userId", "string"),
            ("word", "string"),
            ("language", "string"),
            ("masteryLevel", "'new' | 'learning' | 'practicing' | 'mastered'"),
            ("timestamp", "Date"),
        ],
    ),
    def(
        "vocabulary.lesson.completed",
        "A vocabulary lesson was finished",
        &[
            ("userId", "string"),
            ("lessonId", "string"),
            ("wordsLearned", "string[]"),
            ("score", "number"),
            ("timestamp", "Date"),
        ],
    ),
    // 5. Subscription
    def(
        "subscription.created",
        "A paid subscription started",
        &[
            ("userId", "string"),
            ("subscriptionId", "string"),
            ("tier", "string"),
            ("amount", "number"),
            ("currency", "string"),
            ("timestamp", "Date"),
        ],
    ),
    def(
        "subscription.canceled",
        "A subscription was canceled",
        &[
            ("userId", "string"),
            ("subscriptionId", "string"),
            ("reason", "string?"),
            ("timestamp", "Date"),
        ],
    ),
    def(
        "subscription.renewed",
        "A subscription renewed for another period",
        &[
            ("userId", "string"),
            ("subscriptionId", "string"),
            ("nextBillingDate", "Date"),
            ("timestamp", "Date"),
        ],
    ),
    // 6. Analytics
    def(
        "analytics.feature.used",
        "A feature was used",
        &[
            ("userId", "string?"),
            ("sessionId", "string"),
            ("feature", "string"),
            ("action", "string"),
            ("properties", "Record<string, any>"),
            ("timestamp", "Date"),
        ],
    ),
    def(
        "analytics.error.occurred",
        "An error was reported for analytics",
        &[
            ("userId", "string?"),
            ("sessionId", "string"),
            ("error", "string"),
            ("context", "Record<string, any>"),
            ("timestamp", "Date"),
        ],
    ),
    def(
        "analytics.performance.metric",
        "A performance measurement was taken",
        &[
            ("userId", "string?"),
            ("sessionId", "string"),
            ("metric", "string"),
            ("value", "number"),
            ("unit", "string"),
            ("timestamp", "Date"),
        ],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{FieldType, Schemas};

    #[test]
    fn catalog_compiles() {
        let mut schemas = Schemas::default();
        for def in CATALOG {
            let schema = schemas
                .compile(def.name, def.version, def.description, def.audience, def.payload)
                .unwrap_or_else(|e| panic!("{}: {e}", def.name));
            schemas.register(schema).unwrap();
        }
        assert_eq!(Schemas::new(true).iter().count(), 21);
    }

    #[test]
    fn six_domains_with_the_seeds_counts() {
        let count = |d: &str| CATALOG.iter().filter(|e| e.name.split('.').next() == Some(d)).count();
        let counts: Vec<usize> = DOMAINS.iter().map(|d| count(d)).collect();
        assert_eq!(counts, [4, 4, 4, 3, 3, 3]);
    }

    #[test]
    fn every_catalog_event_is_private_to_its_user() {
        let schemas = Schemas::new(true);
        assert!(schemas.iter().all(|s| s.audience == crate::schema::Audience::User));
    }

    #[test]
    fn every_event_has_a_required_date_timestamp() {
        let schemas = Schemas::new(true);
        for schema in schemas.iter() {
            let ts = schema.fields.iter().find(|f| f.key == "timestamp").expect(&schema.name);
            assert_eq!(ts.ty, FieldType::Date, "{}", schema.name);
            assert!(!ts.optional, "{}", schema.name);
        }
    }
}
