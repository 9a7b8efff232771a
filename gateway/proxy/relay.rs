//! The response on its way back: streamed frame by frame, counted, and closed with an audit record.

use super::pool::Lease;
use super::report::ReportSink;
use super::state::State;
use crate::audit::AuditRecord;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use sovgate_core::api::Family;
use sovgate_core::respond::{error_event, StreamStage};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The body type of every response the gateway sends.
pub type ProxyBody = BoxBody<Bytes, BoxError>;

pub fn box_err(e: hyper::Error) -> BoxError {
    Box::new(e)
}

pub fn full(b: impl Into<Bytes>) -> ProxyBody {
    Full::new(b.into()).map_err(|never| match never {}).boxed()
}

/// What to write when the response is over.
pub struct Completion {
    pub state: Arc<State>,
    pub record: AuditRecord,
    pub started: Instant,
    pub labels: Vec<(&'static str, String)>,
    /// Keeps the pool endpoint counted as busy until the stream ends.
    pub lease: Option<Lease>,
    /// Restorations and response-rule findings of a streamed answer, filled as it streams.
    pub report: Option<ReportSink>,
}

impl Completion {
    fn finish(mut self, bytes_out: u64, outcome: Option<&str>) {
        let status = self.record.status.unwrap_or(0);
        let bytes_in = self.record.bytes_in.unwrap_or(0);
        self.record = self.record.complete(status, bytes_in, bytes_out);
        if let Some(r) = &self.report {
            r.write(&mut self.record);
        }
        if let Some(o) = outcome {
            self.record.reason = Some(o.to_owned());
            if let Some(l) = &self.lease {
                if o == "upstream_error" {
                    l.eject();
                }
            }
        }
        if let Err(e) = self.state.audit.append(&self.record) {
            tracing::error!(request_id = %self.record.request_id, "audit completion record failed: {e}");
        }
        let labels: Vec<(&str, &str)> = self.labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.state.metrics.observe(
            "sovgate_request_duration_seconds",
            &labels,
            self.started.elapsed().as_secs_f64(),
        );
        self.state
            .metrics
            .add("sovgate_response_bytes_total", &labels, bytes_out);
    }
}

/// Counts bytes and writes the completion record exactly once: at the end of the stream, on an
/// upstream error (the client sees the stream cut, never a clean end), or when the client goes away.
pub struct Tracked {
    inner: ProxyBody,
    bytes: u64,
    done: Option<Completion>,
}

impl Tracked {
    pub fn new(inner: ProxyBody, done: Completion) -> Self {
        Tracked {
            inner,
            bytes: 0,
            done: Some(done),
        }
    }
}

impl Body for Tracked {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(d) = frame.data_ref() {
                    this.bytes += d.len() as u64;
                }
                if this.inner.is_end_stream() {
                    // hyper stops polling a body that says it has ended (a complete answer),
                    // so this is the end: without this the record would only be written on
                    // drop, as if the client had left.
                    if let Some(c) = this.done.take() {
                        c.finish(this.bytes, None);
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                if let Some(c) = this.done.take() {
                    c.finish(this.bytes, Some("upstream_error"));
                }
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                if let Some(c) = this.done.take() {
                    c.finish(this.bytes, None);
                }
                Poll::Ready(None)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Some(c) = self.done.take() {
            c.finish(self.bytes, Some("client_disconnected"));
        }
    }
}

/// A response body passed through a [`StreamStage`] (translation and/or pseudonym restoration),
/// frame by frame. An upstream that dies mid-stream is passed on as a cut stream after whatever
/// the stage had to flush: the client never sees a clean end that did not happen.
pub struct Staged {
    inner: ProxyBody,
    stage: Box<dyn StreamStage>,
    family: Family,
    pending_err: Option<BoxError>,
    ended: bool,
    report: Option<ReportSink>,
}

impl Staged {
    pub fn new(inner: ProxyBody, stage: Box<dyn StreamStage>, family: Family) -> Self {
        Staged {
            inner,
            stage,
            family,
            pending_err: None,
            ended: false,
            report: None,
        }
    }

    /// Keeps `report` up to date with what the stage did.
    pub fn reporting(mut self, report: ReportSink) -> Self {
        self.report = Some(report);
        self
    }

    fn update_report(&self) {
        if let Some(r) = &self.report {
            r.set(self.stage.restored(), self.stage.tally());
        }
    }
}

impl Body for Staged {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        loop {
            if let Some(e) = this.pending_err.take() {
                this.ended = true;
                return Poll::Ready(Some(Err(e)));
            }
            if this.ended {
                return Poll::Ready(None);
            }
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(frame))) => {
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    let pushed = this.stage.push(&data);
                    this.update_report();
                    if this.stage.tally().blocked().is_some() {
                        // A response rule ended the answer: the stage wrote its error event;
                        // stop reading the upstream and end the client's stream after it.
                        this.ended = true;
                    }
                    match pushed {
                        Ok(out) if out.is_empty() => continue,
                        Ok(out) => return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out))))),
                        Err(e) => {
                            let out = error_event(this.family, &e.to_string());
                            this.pending_err = Some(Box::new(e));
                            return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                        }
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    let out = this.stage.finish();
                    this.update_report();
                    this.pending_err = Some(e);
                    if !out.is_empty() {
                        return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                    }
                }
                Poll::Ready(None) => {
                    let out = this.stage.finish();
                    this.update_report();
                    this.ended = true;
                    if !out.is_empty() {
                        return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                    }
                }
            }
        }
    }
}
