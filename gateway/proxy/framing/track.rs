//! Following an HTTP/1.1 byte stream request by request, exactly as hyper reads it: heads through
//! httparse (bare LF, leading empty lines and all), bodies by length or by hyper's own chunked
//! rules (CRLF required after sizes and data, extensions without LF, bounded trailers). Anything
//! it cannot follow ends the stream for hyper: the guard never keeps going on a guess.

use super::head::{judge, Body};
use super::Refusal;

/// The HTTP/2 connection preface hyper's auto-detection compares against.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// The largest head the guard reads; hyper's read buffer is capped to the same size
/// ([`super::MAX_HEAD`]), so a head hyper can finish the guard can too.
const MAX_HEAD: usize = super::MAX_HEAD;
/// hyper's limits on chunk extensions (per body) and trailers.
const EXTENSIONS_LIMIT: u64 = 16 * 1024;
const TRAILER_LIMIT: usize = 16 * 1024;

#[derive(Debug, Clone, Copy)]
pub(super) struct Options {
    /// The connection may open with the HTTP/2 preface (auto-detected listeners).
    pub h2_preface: bool,
    /// CONNECT is a request this listener answers (the forward proxy).
    pub connect: bool,
    pub max_headers: usize,
}

/// Why the caller must stop handing bytes to hyper after `deliver`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    /// A head was refused: nothing after it may be read as HTTP.
    Refused,
    /// A CONNECT head: what follows is a tunnel or the next request, as the answer decides.
    Connect,
    /// A head or body the guard cannot follow.
    Lost,
    /// The connection is HTTP/2 (the whole preface was seen).
    Http2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fed {
    pub deliver: usize,
    pub stop: Option<Stop>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum C {
    Start,
    Size,
    SizeLws,
    Extension,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    Trailer,
    TrailerLf,
    EndCr,
    EndLf,
}

#[derive(Debug)]
struct Chunked {
    state: C,
    size: u64,
    extensions: u64,
    trailer: usize,
    trailers: usize,
}

#[derive(Debug)]
enum Phase {
    Head(Vec<u8>),
    Fixed(u64),
    Chunked(Chunked),
}

#[derive(Debug)]
pub(super) struct Tracker {
    phase: Phase,
    first: bool,
    opts: Options,
}

impl Tracker {
    pub fn new(opts: Options) -> Tracker {
        Tracker {
            phase: Phase::Head(Vec::new()),
            first: true,
            opts,
        }
    }

    /// Follows `data`; pushes one verdict per complete head (`None`: clean) and says how many
    /// bytes hyper may have and whether it must stop there.
    pub fn feed(&mut self, data: &[u8], verdicts: &mut Vec<Option<Refusal>>) -> Fed {
        let all = Fed {
            deliver: data.len(),
            stop: None,
        };
        let mut i = 0;
        while i < data.len() {
            match &mut self.phase {
                Phase::Head(buf) => {
                    let before = buf.len();
                    buf.extend_from_slice(&data[i..]);
                    if self.first && self.opts.h2_preface {
                        let k = buf.len().min(PREFACE.len());
                        if buf[..k] == PREFACE[..k] {
                            let stop = (k == PREFACE.len()).then_some(Stop::Http2);
                            return Fed { stop, ..all };
                        }
                    }
                    // A head can only end on a LF: parse again only when one arrived, so a
                    // head trickled in byte by byte is not re-parsed for every byte.
                    if !data[i..].contains(&b'\n') && buf.len() < MAX_HEAD {
                        return all;
                    }
                    let mut headers = vec![httparse::EMPTY_HEADER; self.opts.max_headers.max(1)];
                    let mut req = httparse::Request::new(&mut headers);
                    let (end, judged) = match req.parse(buf) {
                        Ok(httparse::Status::Complete(n)) if n > before && n <= MAX_HEAD => {
                            (i + n - before, judge(&req, self.opts.connect))
                        }
                        Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => return all,
                        // Too large, malformed, or (impossibly) complete inside bytes already
                        // judged partial: hyper refuses it too, or must not get further.
                        _ => {
                            verdicts.push(Some(Refusal::lost()));
                            return Fed {
                                stop: Some(Stop::Lost),
                                ..all
                            };
                        }
                    };
                    self.first = false;
                    self.phase = Phase::Head(Vec::new());
                    i = end;
                    match judged {
                        Err(r) => {
                            verdicts.push(Some(r));
                            return Fed {
                                deliver: end,
                                stop: Some(Stop::Refused),
                            };
                        }
                        Ok(body) => {
                            verdicts.push(None);
                            match body {
                                None => {}
                                Some(Body::Fixed(n)) => self.phase = Phase::Fixed(n),
                                Some(Body::Chunked) => {
                                    self.phase = Phase::Chunked(Chunked {
                                        state: C::Start,
                                        size: 0,
                                        extensions: 0,
                                        trailer: 0,
                                        trailers: 0,
                                    })
                                }
                                Some(Body::Connect) => {
                                    return Fed {
                                        deliver: end,
                                        stop: Some(Stop::Connect),
                                    }
                                }
                            }
                        }
                    }
                }
                Phase::Fixed(left) => {
                    let k = (data.len() - i).min(usize::try_from(*left).unwrap_or(usize::MAX));
                    i += k;
                    *left -= k as u64;
                    if *left == 0 {
                        self.phase = Phase::Head(Vec::new());
                    }
                }
                Phase::Chunked(c) => match c.feed(&data[i..], self.opts.max_headers) {
                    Ok((k, done)) => {
                        i += k;
                        if done {
                            self.phase = Phase::Head(Vec::new());
                        }
                    }
                    // hyper fails on the same byte; nothing after it is handed over.
                    Err(k) => {
                        return Fed {
                            deliver: i + k,
                            stop: Some(Stop::Lost),
                        }
                    }
                },
            }
        }
        all
    }
}

impl Chunked {
    /// Bytes consumed and whether the body ended; `Err(n)`: byte `n - 1` breaks the framing.
    fn feed(&mut self, data: &[u8], max_trailers: usize) -> Result<(usize, bool), usize> {
        let mut j = 0;
        while j < data.len() {
            if self.state == C::Data {
                let k = (data.len() - j).min(usize::try_from(self.size).unwrap_or(usize::MAX));
                j += k;
                self.size -= k as u64;
                if self.size == 0 {
                    self.state = C::DataCr;
                }
                continue;
            }
            let b = data[j];
            j += 1;
            self.state = match (self.state, b) {
                (C::Start | C::Size, b) if b.is_ascii_hexdigit() => {
                    let digit = u64::from((b as char).to_digit(16).unwrap_or(0));
                    match self.size.checked_mul(16).and_then(|s| s.checked_add(digit)) {
                        Some(s) => self.size = s,
                        None => return Err(j),
                    }
                    C::Size
                }
                (C::Size | C::SizeLws, b' ' | b'\t') => C::SizeLws,
                (C::Size | C::SizeLws, b';') => C::Extension,
                (C::Size | C::SizeLws | C::Extension, b'\r') => C::SizeLf,
                (C::Extension, b'\n') => return Err(j),
                (C::Extension, _) => {
                    self.extensions += 1;
                    if self.extensions >= EXTENSIONS_LIMIT {
                        return Err(j);
                    }
                    C::Extension
                }
                (C::SizeLf, b'\n') if self.size == 0 => C::EndCr,
                (C::SizeLf, b'\n') => C::Data,
                (C::DataCr, b'\r') => C::DataLf,
                (C::DataLf, b'\n') => {
                    self.size = 0;
                    C::Start
                }
                (C::EndCr, b'\r') => C::EndLf,
                (C::EndLf, b'\n') => return Ok((j, true)),
                (C::EndCr | C::Trailer, b) => {
                    self.trailer += 1;
                    if self.trailer > TRAILER_LIMIT {
                        return Err(j);
                    }
                    if b == b'\r' {
                        C::TrailerLf
                    } else {
                        C::Trailer
                    }
                }
                (C::TrailerLf, b'\n') => {
                    self.trailers += 1;
                    if self.trailers > max_trailers {
                        return Err(j);
                    }
                    C::EndCr
                }
                _ => return Err(j),
            };
        }
        Ok((j, false))
    }
}
