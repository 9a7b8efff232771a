//! Which hosts are LLM APIs, and which configured provider serves each.
//!
//! Two tables: the hosts of `[[providers]]` (exact names, IP literals, or patterns such as
//! `*.openai.azure.com`), and a built-in list of LLM API hosts people actually call. A host in
//! either is intercepted; a built-in host that no provider serves is intercepted and refused, so
//! an API whose traffic Sovgate cannot inspect is never tunneled past it.

use crate::config::{canonical_ip, Config};
use crate::error::GatewayError;
use sovgate_core::api::Family;
use sovgate_core::glob::Glob;
use std::collections::HashMap;
use std::net::IpAddr;

/// LLM API hosts intercepted even when no provider is configured for them. The family only
/// chooses the shape of the refusal a client gets.
pub const BUILTIN_HOSTS: &[(&str, Family)] = &[
    ("api.openai.com", Family::OpenAi),
    ("*.api.openai.com", Family::OpenAi), // regional: us.api.openai.com, eu.api.openai.com
    ("api.anthropic.com", Family::Anthropic),
    ("*.openai.azure.com", Family::Azure),
    ("*.cognitiveservices.azure.com", Family::Azure),
    ("*.services.ai.azure.com", Family::Azure),
    ("*.models.ai.azure.com", Family::Azure),
    ("generativelanguage.googleapis.com", Family::Gemini),
    ("aiplatform.googleapis.com", Family::Gemini),
    ("*-aiplatform.googleapis.com", Family::Gemini),
    ("bedrock-runtime.*.amazonaws.com", Family::OpenAi),
    ("bedrock-runtime-fips.*.amazonaws.com", Family::OpenAi),
    ("bedrock-agent-runtime.*.amazonaws.com", Family::OpenAi),
    ("api.mistral.ai", Family::OpenAi),
    ("codestral.mistral.ai", Family::OpenAi),
    ("api.cohere.com", Family::OpenAi),
    ("api.cohere.ai", Family::OpenAi),
    ("api.groq.com", Family::OpenAi),
    ("api.together.xyz", Family::OpenAi),
    ("api.together.ai", Family::OpenAi),
    ("api.fireworks.ai", Family::OpenAi),
    ("api.deepseek.com", Family::OpenAi),
    ("api.x.ai", Family::OpenAi),
    ("api.perplexity.ai", Family::OpenAi),
    ("openrouter.ai", Family::OpenAi),
    ("api-inference.huggingface.co", Family::OpenAi),
    ("router.huggingface.co", Family::OpenAi),
    ("api.ai21.com", Family::OpenAi),
    ("api.voyageai.com", Family::OpenAi),
    ("api.cerebras.ai", Family::OpenAi),
    ("api.replicate.com", Family::OpenAi),
];

/// An intercepted destination: the host the client addressed and who serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Normalized: lowercase, no trailing dot, IP literals in canonical form without brackets.
    pub host: String,
    pub port: u16,
    /// The configured provider; `None` for a built-in LLM host no provider serves.
    pub provider: Option<usize>,
    /// The API family the host speaks (the provider's, or the built-in table's).
    pub family: Family,
}

impl Target {
    /// Refuses requests to an LLM host that no configured provider serves.
    pub fn admit(&self) -> Result<(), GatewayError> {
        match self.provider {
            Some(_) => Ok(()),
            None => Err(GatewayError::forbidden(
                "provider_not_configured",
                format!(
                    "{} is an LLM API that Sovgate intercepts, but no [[providers]] entry serves it; nothing was sent",
                    self.host
                ),
            )),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    provider: Option<usize>,
    family: Family,
}

#[derive(Debug, Default)]
struct Table {
    exact: HashMap<String, Entry>,
    patterns: Vec<(Glob, Entry)>,
}

impl Table {
    fn add(&mut self, host: &str, entry: Entry) {
        let Some(host) = normalize_host(host) else {
            return;
        };
        if host.contains(['*', '?']) {
            self.patterns.push((Glob::case_insensitive(&host), entry));
        } else {
            self.exact.entry(host).or_insert(entry);
        }
    }

    fn find(&self, host: &str) -> Option<Entry> {
        self.exact.get(host).copied().or_else(|| {
            self.patterns
                .iter()
                .find(|(g, _)| g.matches(host))
                .map(|(_, e)| *e)
        })
    }
}

/// The host tables, built once from the config.
#[derive(Debug, Default)]
pub struct HostTable {
    providers: Table,
    builtin: Table,
}

impl HostTable {
    pub fn new(config: &Config) -> HostTable {
        let mut t = HostTable::default();
        for (i, p) in config.providers.iter().enumerate() {
            for h in &p.hosts {
                let entry = Entry {
                    provider: Some(i),
                    family: p.family,
                };
                t.providers.add(h, entry);
            }
        }
        for (h, family) in BUILTIN_HOSTS {
            let entry = Entry {
                provider: None,
                family: *family,
            };
            t.builtin.add(h, entry);
        }
        t
    }

    /// The interception target for a normalized host, or `None` when it is no LLM API.
    pub fn target(&self, host: &str, port: u16) -> Option<Target> {
        let e = self
            .providers
            .find(host)
            .or_else(|| self.builtin.find(host))?;
        Some(Target {
            host: host.to_owned(),
            port,
            provider: e.provider,
            family: e.family,
        })
    }
}

/// Splits and normalizes an authority (`Api.OpenAI.com.:443`, `[::ffff:10.0.0.1]:443`,
/// `api.openai.com`) into host and port. `None` for anything that is not a plain host name or
/// IP literal, so nothing odd reaches a lookup or a DNS query.
pub fn normalize(authority: &str, default_port: u16) -> Option<(String, u16)> {
    let a = authority.trim();
    let (host, port) = if let Some(rest) = a.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        let port = match after {
            "" => default_port,
            p => p.strip_prefix(':')?.parse().ok()?,
        };
        (h, port)
    } else {
        match a.rsplit_once(':') {
            // A bare IPv6 literal has several colons and no port.
            Some((h, _)) if h.contains(':') => (a, default_port),
            Some((h, p)) => (h, p.parse().ok()?),
            None => (a, default_port),
        }
    };
    if port == 0 {
        return None;
    }
    Some((normalize_host(host)?, port))
}

/// Lowercase, without the trailing dot; IP literals in canonical form (IPv4-mapped IPv6 as
/// IPv4). Names may hold letters, digits, `-`, `_`, `.` and (for config patterns) `*`, `?`.
pub fn normalize_host(host: &str) -> Option<String> {
    let h = host
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if h.is_empty() || h.len() > 253 {
        return None;
    }
    if let Ok(ip) = h.parse::<IpAddr>() {
        return Some(canonical_ip(ip).to_string());
    }
    let ok = h
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'*' | b'?'));
    (ok && !h.contains("..")).then_some(h)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn authorities_normalize() {
        let n = |a| normalize(a, 443);
        assert_eq!(
            n("Api.OpenAI.com.:443"),
            Some(("api.openai.com".into(), 443))
        );
        assert_eq!(n("api.openai.com"), Some(("api.openai.com".into(), 443)));
        assert_eq!(
            n("api.openai.com:8443"),
            Some(("api.openai.com".into(), 8443))
        );
        assert_eq!(n("[::ffff:10.0.0.1]:443"), Some(("10.0.0.1".into(), 443)));
        assert_eq!(n("[2001:DB8::1]:443"), Some(("2001:db8::1".into(), 443)));
        assert_eq!(n("2001:db8::1"), Some(("2001:db8::1".into(), 443)));
        for bad in [
            "",
            ":443",
            "a b:443",
            "host:0",
            "host:x",
            "[::1",
            "evil.com/x",
            "a..b",
        ] {
            assert_eq!(n(bad), None, "{bad}");
        }
    }

    #[test]
    fn builtin_hosts_are_llm_apis() {
        let config = crate::config::build("t.toml", "", std::path::Path::new(".")).unwrap();
        let t = HostTable::new(&config);
        for h in [
            "api.openai.com",
            "eu.api.openai.com",
            "myres.openai.azure.com",
            "europe-west4-aiplatform.googleapis.com",
            "bedrock-runtime.eu-central-1.amazonaws.com",
            "api.mistral.ai",
            "api.cohere.com",
        ] {
            let target = t.target(h, 443).unwrap();
            assert!(target.provider.is_none(), "{h}");
            assert!(target.admit().is_err());
        }
        assert!(t.target("github.com", 443).is_none());
        assert!(t.target("openai.com.evil.example", 443).is_none());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod provider_tests {
    use super::*;

    #[test]
    fn provider_hosts_patterns_and_ip_literals() {
        let text = r#"
[[providers]]
name = "openai"
api = "openai"
hosts = ["api.openai.com", "203.0.113.7", "[2001:db8::7]"]

[[providers]]
name = "azure"
api = "azure_openai"
hosts = ["*.openai.azure.com"]
"#;
        let config = crate::config::build("t.toml", text, std::path::Path::new(".")).unwrap();
        let t = HostTable::new(&config);
        let find = |authority: &str| {
            let (h, p) = normalize(authority, 443).unwrap();
            t.target(&h, p).and_then(|t| t.provider)
        };
        assert_eq!(find("API.OPENAI.COM.:443"), Some(0));
        assert_eq!(find("203.0.113.7:443"), Some(0));
        assert_eq!(find("[::ffff:203.0.113.7]:443"), Some(0), "IPv4-mapped");
        assert_eq!(find("[2001:DB8:0::7]:443"), Some(0));
        assert_eq!(find("myres.openai.azure.com"), Some(1));
        assert_eq!(find("203.0.113.8:443"), None);
        assert_eq!(
            find("api.anthropic.com"),
            None,
            "built in: intercepted, no provider"
        );
        assert!(t.target("api.anthropic.com", 443).is_some());
        assert_eq!(
            config.providers[0].ports,
            vec![443],
            "CONNECT ports default to 443"
        );
    }

    #[test]
    fn provider_connect_ports() {
        let text = "[[providers]]\nname = \"x\"\napi = \"openai\"\nhosts = [\"api.x.ai\"]\nports = [443, 8443]\n";
        let config = crate::config::build("t.toml", text, std::path::Path::new(".")).unwrap();
        assert_eq!(config.providers[0].ports, vec![443, 8443]);
        let zero = text.replace("443, 8443", "0");
        let err = crate::config::build("t.toml", &zero, std::path::Path::new(".")).unwrap_err();
        assert!(err.to_string().contains("port 0"), "{err}");
    }
}
