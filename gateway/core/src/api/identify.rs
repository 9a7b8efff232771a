//! Endpoint identification from method, path and query.

use std::fmt;

/// The provider family: decides the error shape and the native API of a destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    OpenAi,
    Anthropic,
    Azure,
    Gemini,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::OpenAi => "openai",
            Family::Anthropic => "anthropic",
            Family::Azure => "azure_openai",
            Family::Gemini => "gemini",
        }
    }

    pub fn parse(s: &str) -> Option<Family> {
        match s {
            "openai" => Some(Family::OpenAi),
            "anthropic" => Some(Family::Anthropic),
            "azure_openai" | "azure" => Some(Family::Azure),
            "gemini" => Some(Family::Gemini),
            _ => None,
        }
    }
}

/// The operation within a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    ChatCompletions,
    Responses,
    Embeddings,
    Completions,
    Models,
    Messages,
    CountTokens,
    GenerateContent,
    StreamGenerateContent,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::ChatCompletions => "chat",
            Op::Responses => "responses",
            Op::Embeddings => "embeddings",
            Op::Completions => "completions",
            Op::Models => "models",
            Op::Messages => "messages",
            Op::CountTokens => "count_tokens",
            Op::GenerateContent => "generate_content",
            Op::StreamGenerateContent => "stream_generate_content",
        }
    }

    /// Whether the request carries a body to inspect.
    pub fn has_body(self) -> bool {
        !matches!(self, Op::Models)
    }
}

/// An identified endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub family: Family,
    pub op: Op,
    /// A model named in the path (Azure deployment, Gemini model); others name it in the body.
    pub path_model: Option<String>,
}

impl Endpoint {
    /// `openai.chat`, `anthropic.messages`, ...: the label used in audit records and metrics.
    pub fn label(&self) -> String {
        format!("{}.{}", self.family.as_str(), self.op.as_str())
    }
}

/// A path on an LLM API that the gateway does not know. Refused by default: an unknown endpoint is
/// one the rules were never written for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    pub method: String,
    pub path: String,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} is not an LLM API endpoint Sovgate knows; it is refused rather than forwarded uninspected",
            self.method, self.path
        )
    }
}

/// Identifies the endpoint from the method and the path (without query string).
///
/// `family_hint` is the family of the provider whose host was addressed (forward and transparent
/// modes); on the reverse listener it is `None` and the path alone decides.
pub fn identify(
    method: &str,
    path: &str,
    family_hint: Option<Family>,
) -> Result<Endpoint, Unsupported> {
    let unsupported = || Unsupported {
        method: method.to_owned(),
        path: path.to_owned(),
    };
    let path = path.trim_end_matches('/');
    let post = method.eq_ignore_ascii_case("POST");
    let get = method.eq_ignore_ascii_case("GET");
    let ep = |family, op| Endpoint {
        family,
        op,
        path_model: None,
    };
    if let Some(rest) = path.strip_prefix("/openai/deployments/") {
        let (deployment, op) = rest.split_once('/').ok_or_else(unsupported)?;
        let op = match op {
            "chat/completions" => Op::ChatCompletions,
            "completions" => Op::Completions,
            "embeddings" => Op::Embeddings,
            _ => return Err(unsupported()),
        };
        if !post || deployment.is_empty() {
            return Err(unsupported());
        }
        return Ok(Endpoint {
            family: Family::Azure,
            op,
            path_model: Some(deployment.to_owned()),
        });
    }
    if let Some(rest) = path
        .strip_prefix("/v1beta/models/")
        .or_else(|| path.strip_prefix("/v1/models/").filter(|r| r.contains(':')))
    {
        let (model, verb) = rest.rsplit_once(':').ok_or_else(unsupported)?;
        let op = match verb {
            "generateContent" => Op::GenerateContent,
            "streamGenerateContent" => Op::StreamGenerateContent,
            _ => return Err(unsupported()),
        };
        if !post || model.is_empty() {
            return Err(unsupported());
        }
        return Ok(Endpoint {
            family: Family::Gemini,
            op,
            path_model: Some(model.to_owned()),
        });
    }
    let openai = match family_hint {
        Some(Family::Anthropic) => None,
        _ => Some(Family::OpenAi),
    };
    match (path, post, get) {
        ("/v1/chat/completions", true, _) => openai.map(|f| ep(f, Op::ChatCompletions)),
        ("/v1/responses", true, _) => openai.map(|f| ep(f, Op::Responses)),
        ("/v1/embeddings", true, _) => openai.map(|f| ep(f, Op::Embeddings)),
        ("/v1/completions", true, _) => openai.map(|f| ep(f, Op::Completions)),
        ("/v1/messages", true, _) => Some(ep(Family::Anthropic, Op::Messages)),
        ("/v1/messages/count_tokens", true, _) => Some(ep(Family::Anthropic, Op::CountTokens)),
        ("/v1/models", _, true) => Some(ep(family_hint.unwrap_or(Family::OpenAi), Op::Models)),
        _ => None,
    }
    .ok_or_else(unsupported)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn known_endpoints() {
        let cases = [
            ("POST", "/v1/chat/completions", "openai.chat"),
            ("POST", "/v1/responses", "openai.responses"),
            ("POST", "/v1/embeddings", "openai.embeddings"),
            ("POST", "/v1/completions", "openai.completions"),
            ("GET", "/v1/models", "openai.models"),
            ("POST", "/v1/messages", "anthropic.messages"),
            (
                "POST",
                "/v1/messages/count_tokens",
                "anthropic.count_tokens",
            ),
            (
                "POST",
                "/openai/deployments/gpt4o-eu/chat/completions",
                "azure_openai.chat",
            ),
            (
                "POST",
                "/v1beta/models/gemini-1.5-pro:generateContent",
                "gemini.generate_content",
            ),
            (
                "POST",
                "/v1beta/models/gemini-1.5-pro:streamGenerateContent",
                "gemini.stream_generate_content",
            ),
        ];
        for (m, p, label) in cases {
            assert_eq!(identify(m, p, None).unwrap().label(), label, "{m} {p}");
        }
    }

    #[test]
    fn path_models() {
        let e = identify("POST", "/openai/deployments/eu-4o/chat/completions", None).unwrap();
        assert_eq!(e.path_model.as_deref(), Some("eu-4o"));
        let g = identify(
            "POST",
            "/v1beta/models/gemini-2.0-flash:generateContent",
            None,
        )
        .unwrap();
        assert_eq!(g.path_model.as_deref(), Some("gemini-2.0-flash"));
    }

    #[test]
    fn unknown_and_wrong_method_refused() {
        for (m, p) in [
            ("POST", "/v1/files"),
            ("GET", "/v1/chat/completions"),
            ("POST", "/v1/fine_tuning/jobs"),
            ("POST", "/openai/deployments/x/images/generations"),
            ("POST", "/v1beta/models/x:countTokens"),
            ("DELETE", "/v1/messages"),
            ("POST", "/"),
        ] {
            assert!(identify(m, p, None).is_err(), "{m} {p}");
        }
    }

    #[test]
    fn anthropic_host_does_not_speak_openai_paths() {
        assert!(identify("POST", "/v1/chat/completions", Some(Family::Anthropic)).is_err());
        assert!(identify("POST", "/v1/messages", Some(Family::Anthropic)).is_ok());
    }
}
