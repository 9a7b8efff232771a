//! Re-cutting a streamed answer into frames of a fixed byte size, ignoring event boundaries, the
//! way a network may deliver it: an SSE event, a JSON escape or a UTF-8 character split anywhere.
//! Tests use one byte per frame to put a frame boundary at every byte position of an answer.

use bytes::{Bytes, BytesMut};

/// `frames` concatenated and cut every `size` bytes; unchanged without a size.
pub(super) fn recut(frames: Vec<Bytes>, size: Option<usize>) -> Vec<Bytes> {
    let Some(size) = size.filter(|&s| s > 0) else {
        return frames;
    };
    let mut all = BytesMut::new();
    for f in &frames {
        all.extend_from_slice(f);
    }
    let all = all.freeze();
    (0..all.len())
        .step_by(size)
        .map(|start| all.slice(start..(start + size).min(all.len())))
        .collect()
}
