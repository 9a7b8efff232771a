//! Server-sent events: an incremental, bounded parser and the matching writer.
//!
//! Every streamed LLM answer (OpenAI, Azure, Anthropic, Gemini `alt=sse`) is an `text/event-stream`
//! body. The gateway must look inside each event to restore pseudonyms, but the network hands it
//! arbitrary byte chunks: an event, a line, even a UTF-8 character or a `\r\n` pair can be cut in
//! two. [`SseParser`] follows the WHATWG rules exactly:
//!
//! - a line ends in `\n`, `\r\n` or a lone `\r`; a `\r` at the end of one chunk followed by `\n` at
//!   the start of the next is one line ending, not two;
//! - `field: value` lines, with one optional space after the colon removed; a line without a colon
//!   is a field with an empty value; `:` starts a comment;
//! - `data` lines accumulate, joined with `\n`; `event`, `id` (ignored if it contains NUL) and
//!   `retry` (ASCII digits only) set their field; unknown fields are ignored;
//! - a blank line dispatches the block; a UTF-8 byte order mark at the very start is skipped.
//!
//! Unlike a browser, the parser also hands back blocks that carry no `data` line (keep-alive
//! comments, a bare `id:`), flagged [`SseEvent::comment_only`], so a proxy can relay them instead
//! of silently swallowing them. One event may hold at most `max_event_bytes` bytes of lines: a
//! client-controlled upstream must not make the gateway buffer without limit.
//!
//! [`write_event`] and [`write_sse`] produce the canonical framing (`event: X\n`, one `data: ` line
//! per data line, a blank line), which the parser reads back to the same event.

use std::fmt;

/// One dispatched block of an event stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, if the block had one (`None` means the default `message` type).
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The `id:` field, if the block had one.
    pub id: Option<String>,
    /// The `retry:` field, if the block had a valid one.
    pub retry: Option<u64>,
    /// True when the block had no `data:` line. Per the spec such a block dispatches no message
    /// (it may still carry comments, an `id` or a `retry`), so it must be relayed, never parsed
    /// as a payload.
    pub comment_only: bool,
    /// The text after `:` of the block's comment lines, joined with `\n`, if it had any.
    pub comment: Option<String>,
}

/// Why a stream could not be parsed. Either is fatal for the stream: the parser stays failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseError {
    kind: SseErrorKind,
}

/// The kinds of [`SseError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SseErrorKind {
    /// One event's lines exceeded the parser's bound.
    EventTooLarge { limit: usize },
    /// A line was not valid UTF-8.
    InvalidUtf8,
}

impl SseError {
    pub fn kind(&self) -> SseErrorKind {
        self.kind
    }

    pub fn is_too_large(&self) -> bool {
        matches!(self.kind, SseErrorKind::EventTooLarge { .. })
    }
}

impl fmt::Display for SseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            SseErrorKind::EventTooLarge { limit } => write!(
                f,
                "upstream event stream: one event exceeds {limit} bytes; raise the event size limit if this upstream legitimately sends larger events"
            ),
            SseErrorKind::InvalidUtf8 => {
                f.write_str("upstream event stream: a line is not valid UTF-8")
            }
        }
    }
}

impl std::error::Error for SseError {}

/// The fields of the block being read.
#[derive(Debug, Default)]
struct Block {
    event: Option<String>,
    data: String,
    has_data: bool,
    id: Option<String>,
    retry: Option<u64>,
    comment: Option<String>,
    /// Whether any field or comment was seen: consecutive blank lines dispatch nothing.
    any: bool,
}

impl Block {
    fn take_event(&mut self) -> Option<SseEvent> {
        let block = std::mem::take(self);
        block.any.then_some(SseEvent {
            event: block.event,
            data: block.data,
            id: block.id,
            retry: block.retry,
            comment_only: !block.has_data,
            comment: block.comment,
        })
    }
}

/// Incremental event-stream parser; feed it chunks as they arrive.
#[derive(Debug)]
pub struct SseParser {
    max_event_bytes: usize,
    /// Bytes of a line whose ending has not arrived yet.
    line: Vec<u8>,
    /// The previous chunk ended in `\r`: a `\n` starting the next chunk belongs to that ending.
    skip_lf: bool,
    /// Bytes of the current block's complete lines, checked against the bound.
    block_bytes: usize,
    /// Whether the first line (where a BOM may sit) has been read.
    started: bool,
    block: Block,
    failed: Option<SseError>,
}

impl SseParser {
    /// A parser that fails once one event holds more than `max_event_bytes` bytes of lines
    /// (line endings not counted).
    pub fn new(max_event_bytes: usize) -> Self {
        Self {
            max_event_bytes,
            line: Vec::new(),
            skip_lf: false,
            block_bytes: 0,
            started: false,
            block: Block::default(),
            failed: None,
        }
    }

    /// Parses the next chunk and returns the events it completed, in order.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let mut events = Vec::new();
        match self.feed_inner(chunk, &mut events) {
            Ok(()) => Ok(events),
            Err(err) => {
                self.line.clear();
                self.block = Block::default();
                self.failed = Some(err.clone());
                Err(err)
            }
        }
    }

    fn feed_inner(&mut self, chunk: &[u8], events: &mut Vec<SseEvent>) -> Result<(), SseError> {
        let mut i = 0;
        if self.skip_lf && !chunk.is_empty() {
            self.skip_lf = false;
            if chunk[0] == b'\n' {
                i = 1;
            }
        }
        while i < chunk.len() {
            let Some(off) = memchr::memchr2(b'\n', b'\r', &chunk[i..]) else {
                self.line.extend_from_slice(&chunk[i..]);
                self.check_bound(self.line.len())?;
                break;
            };
            let end = i + off;
            if self.line.is_empty() {
                self.check_bound(end - i)?;
                self.line_complete(&chunk[i..end], events)?;
            } else {
                self.line.extend_from_slice(&chunk[i..end]);
                self.check_bound(self.line.len())?;
                let line = std::mem::take(&mut self.line);
                let result = self.line_complete(&line, events);
                self.line = line;
                self.line.clear();
                result?;
            }
            i = end + 1;
            if chunk[end] == b'\r' {
                match chunk.get(end + 1) {
                    Some(b'\n') => i += 1,
                    Some(_) => {}
                    None => self.skip_lf = true,
                }
            }
        }
        Ok(())
    }

    fn check_bound(&self, line_len: usize) -> Result<(), SseError> {
        if self.block_bytes.saturating_add(line_len) > self.max_event_bytes {
            return Err(SseError {
                kind: SseErrorKind::EventTooLarge {
                    limit: self.max_event_bytes,
                },
            });
        }
        Ok(())
    }

    fn line_complete(&mut self, line: &[u8], events: &mut Vec<SseEvent>) -> Result<(), SseError> {
        let mut line = std::str::from_utf8(line).map_err(|_| SseError {
            kind: SseErrorKind::InvalidUtf8,
        })?;
        if !self.started {
            self.started = true;
            line = line.strip_prefix('\u{FEFF}').unwrap_or(line);
        }
        if line.is_empty() {
            self.block_bytes = 0;
            if let Some(event) = self.block.take_event() {
                events.push(event);
            }
            return Ok(());
        }
        self.block_bytes += line.len();
        self.field(line);
        Ok(())
    }

    fn field(&mut self, line: &str) {
        let block = &mut self.block;
        if let Some(text) = line.strip_prefix(':') {
            match &mut block.comment {
                Some(c) => {
                    c.push('\n');
                    c.push_str(text);
                }
                None => block.comment = Some(text.to_owned()),
            }
            block.any = true;
            return;
        }
        let (name, value) = match line.split_once(':') {
            Some((name, value)) => (name, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match name {
            "event" => block.event = Some(value.to_owned()),
            "data" => {
                if block.has_data {
                    block.data.push('\n');
                }
                block.data.push_str(value);
                block.has_data = true;
            }
            "id" if !value.contains('\0') => block.id = Some(value.to_owned()),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                // Too many digits for u64: ignore it like any other invalid value.
                match value.parse() {
                    Ok(ms) => block.retry = Some(ms),
                    Err(_) => return,
                }
            }
            _ => return,
        }
        block.any = true;
    }

    /// Ends the stream. A block that was never closed by a blank line (and a last line without an
    /// ending) is dropped by the spec; it is returned here so the caller can decide. A last line
    /// that is not UTF-8 is dropped.
    pub fn finish(&mut self) -> Option<SseEvent> {
        if self.failed.is_some() {
            return None;
        }
        let line = std::mem::take(&mut self.line);
        if !line.is_empty() {
            if let Ok(text) = std::str::from_utf8(&line) {
                self.field(text);
            }
        }
        self.skip_lf = false;
        self.block_bytes = 0;
        self.block.take_event()
    }

    /// Whether bytes of an undispatched event are buffered.
    pub fn has_partial(&self) -> bool {
        !self.line.is_empty() || self.block.any
    }
}

/// Appends one event: `event: X\n` if given, one `data: ` line per line of `data` (split at `\n`,
/// `\r\n` or `\r`, so no payload can inject fields), and the blank line that dispatches it.
pub fn write_event(out: &mut Vec<u8>, event: Option<&str>, data: &str) {
    if let Some(name) = event {
        write_field(out, "event", name);
    }
    write_data(out, data);
    out.push(b'\n');
}

/// Appends `ev` in canonical framing: comments, `event`, `id`, `retry`, then its data lines (none
/// when [`SseEvent::comment_only`]).
pub fn write_sse(out: &mut Vec<u8>, ev: &SseEvent) {
    write_sse_with_data(out, ev, (!ev.comment_only).then_some(ev.data.as_str()));
}

/// Like [`write_sse`] but with `data` in place of the event's own (`None`: no data lines).
pub(crate) fn write_sse_with_data(out: &mut Vec<u8>, ev: &SseEvent, data: Option<&str>) {
    if let Some(comment) = &ev.comment {
        for line in lines(comment) {
            out.push(b':');
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
    }
    if let Some(name) = &ev.event {
        write_field(out, "event", name);
    }
    if let Some(id) = &ev.id {
        write_field(out, "id", id);
    }
    if let Some(retry) = ev.retry {
        write_field(out, "retry", &retry.to_string());
    }
    if let Some(data) = data {
        write_data(out, data);
    }
    out.push(b'\n');
}

fn write_data(out: &mut Vec<u8>, data: &str) {
    for line in lines(data) {
        write_field(out, "data", line);
    }
}

/// Writes a single-line field; a value with line breaks keeps only its first line, since a field
/// such as `event` or `id` cannot span lines.
fn write_field(out: &mut Vec<u8>, name: &str, value: &str) {
    let value = lines(value).next().unwrap_or("");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.push(b'\n');
}

/// Splits at `\r\n`, `\r` or `\n`; always yields at least one (possibly empty) line.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let text = rest?;
        match text.find(['\r', '\n']) {
            Some(i) => {
                let skip = if text[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&text[i + skip..]);
                Some(&text[..i])
            }
            None => {
                rest = None;
                Some(text)
            }
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::new(1 << 16);
        let mut out = Vec::new();
        for c in chunks {
            out.extend(p.feed(c).unwrap());
        }
        out
    }

    fn data_event(event: Option<&str>, data: &str) -> SseEvent {
        SseEvent {
            event: event.map(str::to_owned),
            data: data.to_owned(),
            ..SseEvent::default()
        }
    }

    const STREAM: &str = "\u{FEFF}: keep-alive\r\n\r\nevent: delta\rdata: {\"a\":1}\r\ndata:second\n\
        data\nid: 7\nretry: 1500\n\n\n\ndata: ⟦EMAIL_1⟧ and é\r\rid\nretry: x\nfoo: bar\ndata: last\n\n";

    fn expected() -> Vec<SseEvent> {
        vec![
            SseEvent {
                comment_only: true,
                comment: Some(" keep-alive".into()),
                ..SseEvent::default()
            },
            SseEvent {
                id: Some("7".into()),
                retry: Some(1500),
                ..data_event(Some("delta"), "{\"a\":1}\nsecond\n")
            },
            data_event(None, "⟦EMAIL_1⟧ and é"),
            SseEvent {
                id: Some(String::new()),
                ..data_event(None, "last")
            },
        ]
    }

    #[test]
    fn parses_every_line_ending_field_and_comment() {
        assert_eq!(parse_all(&[STREAM.as_bytes()]), expected());
    }

    #[test]
    fn every_split_point_gives_the_same_events() {
        let bytes = STREAM.as_bytes();
        for a in 0..=bytes.len() {
            assert_eq!(
                parse_all(&[&bytes[..a], &bytes[a..]]),
                expected(),
                "split at {a}"
            );
        }
        // Three pieces, including empty chunks between a `\r` and its `\n`.
        for a in (0..=bytes.len()).step_by(3) {
            for b in a..=bytes.len() {
                let got = parse_all(&[&bytes[..a], &[], &bytes[a..b], &bytes[b..]]);
                assert_eq!(got, expected(), "split at {a},{b}");
            }
        }
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(parse_all(&singles), expected());
    }

    #[test]
    fn cr_then_lf_in_next_chunk_is_one_line_ending() {
        let events = parse_all(&[b"data: a\r", b"\ndata: b\r", b"\r"]);
        assert_eq!(events, vec![data_event(None, "a\nb")]);
        // A lone CR followed by a non-LF in the next chunk ends the line too.
        let events = parse_all(&[b"data: a\r", b"\r"]);
        assert_eq!(events, vec![data_event(None, "a")]);
    }

    #[test]
    fn only_one_space_after_the_colon_is_removed() {
        let events = parse_all(&[b"data:  two\ndata:none\n\n"]);
        assert_eq!(events, vec![data_event(None, " two\nnone")]);
    }

    #[test]
    fn id_with_nul_and_bad_retry_are_ignored() {
        let events =
            parse_all(&[b"id: a\0b\nretry: 12a\nretry: 99999999999999999999999\ndata: x\n\n"]);
        assert_eq!(events, vec![data_event(None, "x")]);
    }

    #[test]
    fn blank_lines_alone_dispatch_nothing_and_unknown_fields_are_dropped() {
        assert!(parse_all(&[b"\n\r\n\r\nfoo: 1\n\n"]).is_empty());
    }

    #[test]
    fn size_bound_fails_and_stays_failed() {
        let mut p = SseParser::new(16);
        assert_eq!(p.feed(b"data: 0123456789\n\n").unwrap().len(), 1);
        // Lines of one event add up, even across chunks and without a line ending yet.
        let err = p.feed(b"data: 012345\ndata: 0123").unwrap_err();
        assert!(err.is_too_large(), "{err}");
        assert!(p.feed(b"\n\n").is_err());
        assert_eq!(p.finish(), None);
        let mut p = SseParser::new(16);
        assert!(p
            .feed(b"data: 0123456789abcdef")
            .unwrap_err()
            .is_too_large());
        // The bound is per event: many small events pass.
        let mut p = SseParser::new(16);
        let many = "data: 0123456789\n\n".repeat(100);
        assert_eq!(p.feed(many.as_bytes()).unwrap().len(), 100);
    }

    #[test]
    fn invalid_utf8_fails_but_split_characters_do_not() {
        let mut p = SseParser::new(1024);
        assert_eq!(
            p.feed(b"data: \xff\n\n").unwrap_err().kind(),
            SseErrorKind::InvalidUtf8
        );
        let text = "data: ⟦é⟧\n\n".as_bytes();
        for a in 0..=text.len() {
            assert_eq!(
                parse_all(&[&text[..a], &text[a..]]),
                vec![data_event(None, "⟦é⟧")]
            );
        }
    }

    #[test]
    fn finish_returns_the_undispatched_tail() {
        let mut p = SseParser::new(1024);
        assert!(p.feed(b"event: x\ndata: partial").unwrap().is_empty());
        assert!(p.has_partial());
        assert_eq!(p.finish(), Some(data_event(Some("x"), "partial")));
        assert!(!p.has_partial());
        assert_eq!(p.finish(), None);
        let mut p = SseParser::new(1024);
        p.feed(b"data: done\n\n").unwrap();
        assert!(!p.has_partial());
        assert_eq!(p.finish(), None);
    }

    #[test]
    fn writer_output_parses_back_to_the_same_event() {
        let mut out = Vec::new();
        write_event(
            &mut out,
            Some("message_start"),
            "line1\nline2\r\nline3\rline4",
        );
        write_event(&mut out, None, "");
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "event: message_start\ndata: line1\ndata: line2\ndata: line3\ndata: line4\n\ndata: \n\n"
        );
        let events = parse_all(&[&out]);
        assert_eq!(
            events,
            vec![
                data_event(Some("message_start"), "line1\nline2\nline3\nline4"),
                data_event(None, "")
            ]
        );
        let mut out = Vec::new();
        for ev in expected() {
            write_sse(&mut out, &ev);
        }
        assert_eq!(parse_all(&[&out]), expected());
    }

    #[test]
    fn writer_cannot_be_made_to_inject_fields() {
        let mut out = Vec::new();
        write_event(&mut out, Some("a\ndata: injected"), "x");
        assert_eq!(parse_all(&[&out]), vec![data_event(Some("a"), "x")]);
    }
}
