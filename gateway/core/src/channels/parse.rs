//! Reading the head's channels: which headers are scanned, path segments, query pieces, and the
//! decoded forms of each under which a rule must see them.

use percent_encoding::percent_decode_str;

/// Headers that are never scanned, because what they carry never leaves as sent:
/// - credentials: the gateway removes every client credential and injects the destination's own
///   key (scanning them would only make a client's key trip the token rules);
/// - hop-by-hop headers (RFC 9110 §7.6.1), which are not forwarded;
/// - framing and coding headers the gateway rewrites (`host` is covered by routing).
///
/// The proxy's own drop lists are checked against this one by a test, so the two cannot drift.
pub const UNSCANNED_HEADERS: [&str; 17] = [
    "authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "proxy-authorization",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "content-encoding",
    "accept-encoding",
];

/// Whether header `name` (lower case) is scanned, given the names listed in `Connection`
/// (those are hop-by-hop too and never forwarded).
pub(super) fn scanned_header(name: &str, connection_named: &[String]) -> bool {
    !UNSCANNED_HEADERS.contains(&name) && !connection_named.iter().any(|c| c == name)
}

/// The header names a `Connection` header lists, lower case.
pub(super) fn connection_named(headers: &[(&str, &[u8])]) -> Vec<String> {
    headers
        .iter()
        .filter(|(n, _)| *n == "connection")
        .flat_map(|(_, v)| {
            String::from_utf8_lossy(v)
                .split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// The segments of a path after its leading `/`, raw, numbered from 0.
pub(super) fn path_segments(path: &str) -> impl Iterator<Item = (usize, &str)> {
    path.strip_prefix('/')
        .unwrap_or(path)
        .split('/')
        .enumerate()
}

/// The `&`-separated pieces of a query, raw, numbered from 0 (an edit removes pieces and keeps
/// the others' exact bytes).
pub(super) fn query_pieces(query: &str) -> impl Iterator<Item = (usize, &str)> {
    query.split('&').enumerate()
}

/// A query piece split at its first `=`.
pub(super) fn split_piece(piece: &str) -> (&str, Option<&str>) {
    match piece.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (piece, None),
    }
}

/// Every distinct decoded form of a raw URL component a server might act on, the most likely
/// first. `form` says the component is from a query, where `+` is a space to form decoders but a
/// plus to others (`jane+crm@example.com`), so both readings are scanned. A second decode is
/// scanned too when the first still holds escapes: `%2540` must not hide an `@` from the rules
/// just because some layer decodes once more.
pub(super) fn decoded_forms(raw: &str, form: bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(2);
    let primary = if form && raw.contains('+') {
        decode(&raw.replace('+', " "))
    } else {
        decode(raw)
    };
    let again = primary.contains('%').then(|| decode(&primary));
    out.push(primary);
    if form && raw.contains('+') {
        out.push(decode(raw));
    }
    if let Some(s) = again.filter(|s| !out.contains(s)) {
        out.push(s);
    }
    out
}

fn decode(raw: &str) -> String {
    percent_decode_str(raw).decode_utf8_lossy().into_owned()
}
