//! Sovgate's policy core.
//!
//! Everything that decides what happens to a request lives here and is pure: no async runtime, no
//! proxy framework, no sockets. The gateway, `sovgate scan`, `sovgate rules test`, the benchmarks
//! and the fuzzers all call these same functions, so what a dry run reports is what the proxy does.
//!
//! The pieces, in pipeline order:
//! - [`json`]: a strict JSON parser that keeps byte spans, and a splicing editor, so a body is
//!   changed only where a rule fired and stays byte-identical elsewhere.
//! - [`normalize`]: folds text for matching (NFKC, format characters, confusables, separators)
//!   while keeping a map back to the original offsets.
//! - [`decode`]: base64 payloads, PDF text, image metadata, entities, percent-encoding and tag
//!   characters decoded before matching; unreadable parts are opaque and classified.
//! - [`rules`]: rule files parsed with spans, compiled once into one multi-pattern automaton.
//! - [`channels`]: the path, query and headers, scanned with the same rules as the body.
//! - [`inspect`]: walks every key and string of a body (and JSON embedded in strings) and
//!   collects findings with JSON paths.
//! - [`records`]: records pasted into text (JSON after prose, CSV, XML, `Label: value` lines), so
//!   field rules act inside strings as on JSON members.
//! - [`transform`]: drops, redacts, pseudonymizes or blocks, producing the bytes that may leave.
//! - [`policy`], [`residency`] and [`geo`]: where a classified request may go.
//! - [`translate`]: Anthropic Messages ⇄ OpenAI chat, requests, answers and streams.
//! - [`sse`] and [`restore`]: the response path — SSE framing and streaming pseudonym restoration.
//! - [`types`]: the small vocabulary shared by all of them (class, action, mode, ...).

pub mod api;
pub mod channels;
pub mod cidr;
pub mod decode;
pub mod geo;
pub mod glob;
pub mod inspect;
pub mod json;
pub mod normalize;
pub mod output;
pub mod policy;
pub mod records;
pub mod residency;
pub mod respond;
pub mod restore;
pub mod rules;
pub mod sse;
pub mod transform;
pub mod translate;
pub mod types;
pub mod vault;
