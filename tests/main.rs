#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The one integration-test binary: real sockets on 127.0.0.1 with ephemeral ports, a recording
//! stub playing the company's GPU server and another playing the external provider.

mod support;

mod backpressure;
mod body_sizes;
mod bypass;
mod channels;
mod channels_rules;
mod cli;
mod decoders;
mod framing;
mod intercept;
mod leaks;
mod pools;
mod refusals;
mod reload;
mod residency;
mod response;
mod response_rules;
mod retries;
mod sdk;
mod sdk_response;
mod sdk_tools;
mod soak;
mod tls;
mod transparency;
