//! Which web pages may talk to the relay: the `Origin` header a browser
//! sends with every WebSocket upgrade and every cross-origin `POST`.
//!
//! A browser lets a script on *any* page open a WebSocket to any address,
//! the relay on a developer's own machine included; only the `Origin` header
//! says which page it is. So, before anything else (the upgrade, a publish):
//!
//! - no `Origin` header: not a browser page (an app server, a script), allowed;
//! - `--allow-origin` lists origins (or `*`): only those;
//! - nothing listed: any origin with a token, but under `--insecure-dev`
//!   (where no token is needed and a connection is an admin) only pages
//!   served from this machine (`localhost`, `127.0.0.0/8`, `[::1]`).
//!
//! A refusal is `403 Forbidden` with the reason, before the upgrade.

/// The allowed origins (`--allow-origin`, `KAIWA_RELAY_ALLOW_ORIGIN`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origins {
    /// `*`: every origin.
    any: bool,
    /// Normalized: lower case, no default port, no trailing `/`.
    listed: Vec<String>,
}

impl Origins {
    /// Adds origins: one, or several separated by commas.
    pub fn add(&mut self, text: &str) -> Result<(), OriginError> {
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if item == "*" {
                self.any = true;
                continue;
            }
            let origin = normalize(item).ok_or_else(|| OriginError::NotAnOrigin(item.to_string()))?;
            if !self.listed.contains(&origin) {
                self.listed.push(origin);
            }
        }
        Ok(())
    }

    /// Adds the origins `other` lists.
    pub fn merge(&mut self, other: Origins) {
        self.any |= other.any;
        for origin in other.listed {
            if !self.listed.contains(&origin) {
                self.listed.push(origin);
            }
        }
    }

    /// Whether any origin was listed (or `*`).
    pub fn is_set(&self) -> bool {
        self.any || !self.listed.is_empty()
    }

    /// Whether a request with this `Origin` header may go on; the reason when not.
    pub fn check(&self, header: Option<&[u8]>, insecure_dev: bool) -> Result<(), OriginError> {
        let Some(header) = header else {
            return Ok(());
        };
        let text = String::from_utf8_lossy(header);
        let origin = normalize(text.trim());
        let allowed = self.any
            || origin.as_ref().is_some_and(|o| self.listed.contains(o))
            || (!insecure_dev && !self.is_set())
            || (insecure_dev && origin.as_deref().is_some_and(is_loopback));
        if allowed {
            return Ok(());
        }
        Err(if insecure_dev && !self.is_set() {
            OriginError::NotLocal(text.into_owned())
        } else {
            OriginError::NotAllowed(text.into_owned())
        })
    }
}

/// `Scheme://Host:port/` → `scheme://host[:port]`, without the scheme's
/// default port (as browsers send it); `null` stays `null`.
fn normalize(text: &str) -> Option<String> {
    if text == "null" {
        return Some(text.into());
    }
    let (scheme, rest) = text.split_once("://")?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let scheme = scheme.to_ascii_lowercase();
    let valid = |c: char| c.is_ascii_alphanumeric() || "-._~:[]".contains(c);
    if scheme.is_empty() || rest.is_empty() || !rest.chars().all(valid) {
        return None;
    }
    let host = rest.to_ascii_lowercase();
    let default = match scheme.as_str() {
        "http" | "ws" => Some(":80"),
        "https" | "wss" => Some(":443"),
        _ => None,
    };
    let host = match default {
        Some(port) => host.strip_suffix(port).map(String::from).unwrap_or(host),
        None => host,
    };
    Some(format!("{scheme}://{host}"))
}

/// Whether a normalized origin is a page served from this machine.
fn is_loopback(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let host = match rest.strip_prefix('[') {
        Some(v6) => return v6.split(']').next() == Some("::1"),
        None => rest.rsplit_once(':').map_or(rest, |(h, _)| h),
    };
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// An origin that `--allow-origin` cannot take, or a page that may not connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OriginError {
    /// `--allow-origin` was given something that is not an origin.
    NotAnOrigin(String),
    /// Under `--insecure-dev` without `--allow-origin`: a page from another machine.
    NotLocal(String),
    /// A page whose origin `--allow-origin` does not list.
    NotAllowed(String),
}

impl std::fmt::Display for OriginError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            OriginError::NotAnOrigin(item) => write!(
                f,
                "{item:?} is not an origin: expected scheme://host[:port] (no path), `null` or `*`"
            ),
            OriginError::NotLocal(origin) => write!(
                f,
                "origin {origin} may not connect: under --insecure-dev only pages served from this machine may \
                 (add it with --allow-origin)"
            ),
            OriginError::NotAllowed(origin) => {
                write!(f, "origin {origin} is not allowed by this relay's --allow-origin")
            }
        }
    }
}

impl std::error::Error for OriginError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins(list: &str) -> Origins {
        let mut o = Origins::default();
        o.add(list).unwrap();
        o
    }

    #[test]
    fn listed_origins_match_as_browsers_send_them() {
        let o = origins("https://App.example.com:443/, http://localhost:5173");
        let ok = |h: &str, dev| o.check(Some(h.as_bytes()), dev).is_ok();
        assert!(ok("https://app.example.com", false));
        assert!(ok("http://localhost:5173", false));
        assert!(!ok("https://evil.example", false));
        assert!(!ok("http://app.example.com", false), "another scheme is another origin");
        assert!(
            !ok("http://localhost:3000", false),
            "loopback is not implied when a list is set"
        );
        assert!(ok("http://localhost:3000", true), "but it is under --insecure-dev");
        assert!(o.check(None, false).is_ok(), "no Origin: not a browser page");
        assert!(origins("*").check(Some(b"https://any.where"), true).is_ok());
    }

    #[test]
    fn without_a_list_only_insecure_dev_restricts_to_this_machine() {
        let o = Origins::default();
        assert!(o.check(Some(b"https://evil.example"), false).is_ok());
        for local in [
            "http://localhost:5173",
            "http://127.0.0.1:8080",
            "http://[::1]:3000",
            "https://app.localhost",
        ] {
            assert!(o.check(Some(local.as_bytes()), true).is_ok(), "{local}");
        }
        for remote in [
            "https://evil.example",
            "null",
            "http://localhost.evil.example",
            "http://127.0.0.1.nip.io",
            "file://",
        ] {
            let why = o.check(Some(remote.as_bytes()), true).unwrap_err().to_string();
            assert!(why.contains("--insecure-dev"), "{why}");
        }
        assert!(
            origins("null").check(Some(b"null"), true).is_ok(),
            "null only when listed"
        );
    }

    #[test]
    fn bad_origins_are_named() {
        let mut o = Origins::default();
        assert!(o
            .add("https://a.example/app")
            .unwrap_err()
            .to_string()
            .contains("a.example/app"));
        assert!(o.add("a.example").is_err());
    }
}
