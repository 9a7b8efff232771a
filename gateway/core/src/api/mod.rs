//! Which provider API a request speaks, and how that API shapes its errors.
//!
//! The gateway accepts the public APIs of OpenAI, Anthropic, Azure OpenAI and Gemini unchanged, so
//! that clients only change their `base_url` (or nothing at all, behind the forward proxy). The
//! endpoint decides three things: how the body is walked (all of them are JSON), which model the
//! client asked for, and the shape of every refusal the client gets back.

mod error;
mod identify;

pub use error::{error_body, ErrorType};
pub use identify::{identify, Endpoint, Family, Op, Unsupported};
