//! Who a connection is and what it may do: HS256 tokens (JWT) and the
//! who-sees-what rules.
//!
//! | claim | meaning | default |
//! |---|---|---|
//! | `sub` | the user id | required |
//! | `exp` | expiry, seconds since the Unix epoch | required |
//! | `publish` | patterns this token may publish | none |
//! | `subscribe` | patterns it may subscribe to | `["*"]` |
//! | `admin` | sees every user's events, may publish for anyone | `false` |
//! | `groups` | the groups whose `'group'` events it receives and may publish | none |
//!
//! Who receives an event is its schema's audience ([`Grant::scope`] makes
//! it a [`Scope`] when it is published, and [`Grant::sees`] checks it for
//! each connection): `'user'` (the default, and every event without a
//! schema) the publishing user's connections, or, when an admin publishes,
//! the user its payload's `userId` names; `'all'` every connection; `'group'`
//! the members of the payload's `groupId`. Admin connections receive every
//! event. Whatever the audience, a non-admin may not publish a payload
//! whose `userId` is another user's.

use jsonwebtoken::{decode, errors::ErrorKind, Algorithm, DecodingKey, Validation};
use kaiwa_bus::core::names::{parse_pattern, Pattern};
use kaiwa_bus::schema::Audience;
use serde::Deserialize;
use std::sync::{Arc, LazyLock};

use crate::event::Scope;
use crate::filter::Filter;

/// How far ahead of the relay's clock a token's `nbf` may be (the app's
/// clock may be a little ahead): 60 seconds.
pub const NBF_LEEWAY: u64 = 60;

/// What a verified token (or `--insecure-dev` anonymity) grants.
#[derive(Clone, Debug, PartialEq)]
pub struct Grant {
    /// The user id; `None` for an anonymous `--insecure-dev` connection.
    pub user: Option<String>,
    /// When the grant ends, in seconds since the Unix epoch (`None`: never).
    pub exp: Option<u64>,
    /// Patterns it may publish (shared: an anonymous grant allocates nothing).
    pub publish: Arc<[String]>,
    /// Patterns it may subscribe to.
    pub subscribe: Arc<[String]>,
    /// Whether it sees and may publish every user's events.
    pub admin: bool,
    /// The groups it belongs to (the `groups` claim).
    pub groups: Arc<[String]>,
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
    #[serde(default)]
    nbf: Option<u64>,
    #[serde(default)]
    publish: Vec<String>,
    #[serde(default = "everything")]
    subscribe: Vec<String>,
    #[serde(default)]
    admin: bool,
    #[serde(default)]
    groups: Vec<String>,
}

fn everything() -> Vec<String> {
    vec!["*".into()]
}

/// `["*"]`, allocated once.
static EVERYTHING: LazyLock<Arc<[String]>> = LazyLock::new(|| everything().into());

impl Grant {
    /// The grant of an anonymous connection under `--insecure-dev`: anything.
    pub fn anonymous() -> Grant {
        Grant {
            user: None,
            exp: None,
            publish: EVERYTHING.clone(),
            subscribe: EVERYTHING.clone(),
            admin: true,
            groups: Arc::new([]),
        }
    }

    /// Whether this grant may publish `name` with this payload `userId`.
    pub fn may_publish(&self, name: &str, user: Option<&str>) -> Result<(), Forbidden> {
        if !self.publish.iter().any(|p| covers(p, name)) {
            return Err(Forbidden::Name(name.to_string()));
        }
        match user {
            Some(owner) if !self.admin && self.user.as_deref() != Some(owner) => {
                Err(Forbidden::OtherUser(owner.to_string()))
            }
            _ => Ok(()),
        }
    }

    /// What this grant may subscribe to, as a set to check patterns against
    /// (each check linear in the pattern, whatever the claim holds).
    pub fn subscriptions(&self) -> Filter {
        Filter::of(&self.subscribe)
    }

    /// Who receives an event of this `audience` that this grant publishes
    /// with this payload `userId` and `groupId` (each if a string), or why
    /// it may not publish it. Called after [`Grant::may_publish`], so a
    /// non-admin's `userId` is absent or its own.
    pub fn scope(&self, audience: Audience, user: Option<String>, group: Option<String>) -> Result<Scope, Forbidden> {
        Ok(match audience {
            Audience::All => Scope::All,
            Audience::Group => {
                let group = group.ok_or(Forbidden::NoGroupId)?;
                if !self.admin && !self.groups.contains(&group) {
                    return Err(Forbidden::NotInGroup(group));
                }
                Scope::Group(group)
            }
            Audience::User => match (user.filter(|_| self.admin), &self.user) {
                (Some(user), _) => Scope::User(user),
                (None, Some(own)) => Scope::User(own.clone()),
                (None, None) => Scope::Admins,
            },
        })
    }

    /// Whether this grant receives an event of `scope`.
    pub fn sees(&self, scope: &Scope) -> bool {
        self.admin
            || match scope {
                Scope::All => true,
                Scope::User(owner) => self.user.as_ref() == Some(owner),
                Scope::Group(group) => self.groups.contains(group),
                Scope::Admins => false,
            }
    }
}

/// Why a grant may not publish an event: a `forbidden` refusal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Forbidden {
    /// The `publish` claim does not cover this name.
    Name(String),
    /// A non-admin token published a payload with another user's `userId`.
    OtherUser(String),
    /// A `'group'` event without a string `groupId`.
    NoGroupId,
    /// A non-admin token published to a group its `groups` claim does not list.
    NotInGroup(String),
}

impl std::fmt::Display for Forbidden {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Forbidden::Name(name) => write!(f, "this token may not publish \"{name}\""),
            Forbidden::OtherUser(owner) => write!(
                f,
                "payload userId \"{owner}\" is not this token's user; only admin tokens publish for others"
            ),
            Forbidden::NoGroupId => f.write_str("a 'group' event needs a string groupId"),
            Forbidden::NotInGroup(group) => write!(
                f,
                "this token is not in group \"{group}\" (its groups claim); only admin tokens publish to other groups"
            ),
        }
    }
}

impl std::error::Error for Forbidden {}

/// Why a token is refused: the reason of the 4001 close, or of the HTTP 401.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// The relay has no `KAIWA_RELAY_SECRET` (`--insecure-dev`).
    NoSecret,
    /// Past its `exp`.
    Expired,
    /// Not signed with this relay's secret.
    BadSignature,
    /// Not a JWT, or a required claim missing or of the wrong type (what the JWT library calls it).
    Bad(String),
    /// Its `nbf` is this many seconds ahead of the relay's clock.
    NotYet(u64),
    /// A `publish` or `subscribe` pattern the bus refuses, and why.
    Pattern(String, String),
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            TokenError::NoSecret => {
                f.write_str("this relay has no KAIWA_RELAY_SECRET (--insecure-dev); connect without a token")
            }
            TokenError::Expired => f.write_str("token expired"),
            TokenError::BadSignature => f.write_str("bad token: invalid signature"),
            TokenError::Bad(kind) => write!(f, "bad token: {kind}"),
            TokenError::NotYet(ahead) => write!(
                f,
                "bad token: not valid yet (its nbf is {ahead} s ahead of this relay's clock)"
            ),
            TokenError::Pattern(pattern, why) => write!(f, "bad token: pattern {pattern:?}: {why}"),
        }
    }
}

impl std::error::Error for TokenError {}

/// Verifies an HS256 token.
pub fn verify(token: &str, secret: Option<&str>) -> Result<Grant, TokenError> {
    let Some(secret) = secret else {
        return Err(TokenError::NoSecret);
    };
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "sub"]);
    // `nbf` is checked below, with its own leeway (`exp` has none).
    validation.validate_nbf = false;
    let data =
        decode::<Claims>(token, &DecodingKey::from_secret(secret.as_bytes()), &validation).map_err(|e| {
            match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::InvalidSignature => TokenError::BadSignature,
                other => TokenError::Bad(format!("{other:?}")),
            }
        })?;
    let claims = data.claims;
    let now = crate::event::now_ms() / 1000;
    if let Some(nbf) = claims.nbf.filter(|&nbf| nbf > now + NBF_LEEWAY) {
        return Err(TokenError::NotYet(nbf - now));
    }
    for p in claims.publish.iter().chain(&claims.subscribe) {
        parse_pattern(p).map_err(|e| TokenError::Pattern(p.clone(), e.to_string()))?;
    }
    Ok(Grant {
        user: Some(claims.sub),
        exp: Some(claims.exp),
        publish: claims.publish.into(),
        subscribe: claims.subscribe.into(),
        admin: claims.admin,
        groups: claims.groups.into(),
    })
}

/// Whether the pattern `allowed` covers everything `wanted` (a name or a
/// pattern) matches: `*` covers all, `a.*` covers `a.b`, `a.b.*` and `a.*`.
pub fn covers(allowed: &str, wanted: &str) -> bool {
    let (Ok(allowed), Ok(wanted)) = (parse_pattern(allowed), parse_pattern(wanted)) else {
        return false;
    };
    let under = |prefix: &str, text: &str| {
        text.len() > prefix.len() && text.starts_with(prefix) && text.as_bytes().get(prefix.len()) == Some(&b'.')
    };
    match (allowed, wanted) {
        (Pattern::All, _) => true,
        (_, Pattern::All) => false,
        (Pattern::Prefix(a), Pattern::Prefix(w)) => a == w || under(a, w),
        (Pattern::Prefix(a), Pattern::Exact(w)) => under(a, w),
        (Pattern::Exact(a), Pattern::Exact(w)) => a == w,
        (Pattern::Exact(_), Pattern::Prefix(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};

    fn token(claims: serde_json::Value, secret: &str) -> String {
        encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn later() -> u64 {
        crate::event::now_ms() / 1000 + 3600
    }

    #[test]
    fn patterns_cover() {
        assert!(covers("*", "*"));
        assert!(covers("*", "auth.user.login"));
        assert!(covers("auth.*", "auth.user.login"));
        assert!(covers("auth.*", "auth.user.*"));
        assert!(covers("auth.*", "auth.*"));
        assert!(!covers("auth.*", "*"));
        assert!(!covers("auth.*", "authx.user"));
        assert!(!covers("auth.*", "auth"));
        assert!(covers("a.b", "a.b"));
        assert!(!covers("a.b", "a.*"));
        assert!(!covers("a.*.b", "a.x.b"));
    }

    #[test]
    fn tokens_verify_with_defaults() {
        let t = token(serde_json::json!({"sub": "u1", "exp": later()}), "s");
        let g = verify(&t, Some("s")).unwrap();
        assert_eq!(g.user.as_deref(), Some("u1"));
        assert_eq!(*g.subscribe, ["*"]);
        assert!(g.publish.is_empty() && !g.admin);
        assert!(g.may_publish("a.b", None).is_err(), "no publish claim, no publishing");
        assert_eq!(
            verify(&t, Some("other")).unwrap_err().to_string(),
            "bad token: invalid signature"
        );
        assert_eq!(verify(&t, None).unwrap_err(), TokenError::NoSecret);
        let old = token(serde_json::json!({"sub": "u1", "exp": 1000}), "s");
        assert_eq!(verify(&old, Some("s")).unwrap_err().to_string(), "token expired");
        assert!(verify("not.a.token", Some("s")).is_err());
        let no_sub = token(serde_json::json!({"exp": later()}), "s");
        assert!(verify(&no_sub, Some("s")).is_err());
        let now = crate::event::now_ms() / 1000;
        let early = token(serde_json::json!({"sub": "u1", "exp": later(), "nbf": now + 3600}), "s");
        let why = verify(&early, Some("s")).unwrap_err().to_string();
        assert!(why.contains("not valid yet") && why.contains("3600 s ahead"), "{why}");
        let skewed = token(
            serde_json::json!({"sub": "u1", "exp": later(), "nbf": now + NBF_LEEWAY / 2}),
            "s",
        );
        assert!(verify(&skewed, Some("s")).is_ok(), "within the leeway");
    }

    #[test]
    fn scoping() {
        let user = Grant {
            user: Some("u1".into()),
            exp: None,
            publish: ["auth.*".to_string()].into(),
            subscribe: ["*".to_string()].into(),
            admin: false,
            groups: ["g1".to_string()].into(),
        };
        assert!(user.may_publish("auth.user.login", Some("u1")).is_ok());
        assert!(user.may_publish("auth.user.login", None).is_ok());
        assert!(user
            .may_publish("auth.user.login", Some("u2"))
            .unwrap_err()
            .to_string()
            .contains("u2"));
        assert!(user.may_publish("audio.playback.started", None).is_err());
        let u = |s: &str| Scope::User(s.into());
        let g = |s: &str| Scope::Group(s.into());
        assert!(user.sees(&Scope::All) && user.sees(&u("u1")) && user.sees(&g("g1")));
        assert!(!user.sees(&u("u2")) && !user.sees(&u("")) && !user.sees(&g("g2")) && !user.sees(&Scope::Admins));
        // Its own events are its own, whatever their userId says (absent or its own).
        assert_eq!(user.scope(Audience::User, None, None), Ok(u("u1")));
        assert_eq!(user.scope(Audience::All, Some("u1".into()), None), Ok(Scope::All));
        assert_eq!(user.scope(Audience::Group, None, Some("g1".into())), Ok(g("g1")));
        assert!(user
            .scope(Audience::Group, None, Some("g2".into()))
            .unwrap_err()
            .to_string()
            .contains("g2"));
        let admin = Grant { admin: true, ..user };
        assert!(admin.sees(&u("u2")) && admin.sees(&g("g2")) && admin.sees(&Scope::Admins));
        assert!(admin.may_publish("auth.user.login", Some("u2")).is_ok());
        assert_eq!(admin.scope(Audience::User, Some("u2".into()), None), Ok(u("u2")));
        assert_eq!(admin.scope(Audience::User, Some(String::new()), None), Ok(u("")));
        assert_eq!(
            admin.scope(Audience::User, None, None),
            Ok(u("u1")),
            "its own, without a userId"
        );
        assert_eq!(admin.scope(Audience::Group, None, Some("g2".into())), Ok(g("g2")));
        let anonymous = Grant::anonymous();
        assert_eq!(anonymous.scope(Audience::User, None, None), Ok(Scope::Admins));
    }
}
