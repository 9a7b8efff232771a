//! The appending side: one writer per process, one line per record, each linked to the last.

use super::error::AuditError;
use super::record::{AuditRecord, RESERVED};
use super::verify::parse_prev;
use super::{line_hash, GENESIS};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A tail line longer than this is treated as corrupt rather than read into memory.
const MAX_TAIL_LINE: usize = 16 << 20;
const TAIL_STEP: u64 = 8 << 10;

/// An append-only, hash-chained audit log.
///
/// `Send + Sync`: share it in an `Arc` across tasks. Each [`append`](AuditLog::append) is one
/// `write` of a few hundred bytes under a mutex, short enough to call from async code.
#[derive(Debug)]
pub struct AuditLog {
    state: Mutex<State>,
    path: Option<PathBuf>,
    sync: bool,
    enabled: bool,
}

#[derive(Debug)]
struct State {
    sink: Sink,
    /// Hash of the last line written: the `prev` of the next one.
    head: String,
    /// Set when a write failed part-way; every later append is refused.
    broken: Option<String>,
}

#[derive(Debug)]
enum Sink {
    Disabled,
    Memory(Vec<String>),
    File(File),
}

impl AuditLog {
    /// Opens (or creates, with mode 0600 and missing parent directories) the log at `path` and
    /// continues the chain from its last line.
    ///
    /// Fails closed: a file whose last line is not a complete record (torn write, hand edit) is
    /// refused, because continuing after it would make the damage look like part of the chain.
    pub fn open(path: &Path) -> Result<AuditLog, AuditError> {
        let io = |source| AuditError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(io)?;
        let head = tail_head(&mut file, path)?;
        Ok(AuditLog {
            state: Mutex::new(State {
                sink: Sink::File(file),
                head,
                broken: None,
            }),
            path: Some(path.to_path_buf()),
            sync: false,
            enabled: true,
        })
    }

    /// With `sync`, every record is `fsync`ed before `append` returns: a crash cannot lose an
    /// acknowledged record, at the price of one disk flush per request.
    pub fn with_sync(mut self, sync: bool) -> AuditLog {
        self.sync = sync;
        self
    }

    /// A log that accepts and discards every record (auditing not configured).
    pub fn disabled() -> AuditLog {
        AuditLog::with_sink(Sink::Disabled)
    }

    /// A log kept in memory; read it back with [`lines`](AuditLog::lines). For tests and demos.
    pub fn memory() -> AuditLog {
        AuditLog::with_sink(Sink::Memory(Vec::new()))
    }

    fn with_sink(sink: Sink) -> AuditLog {
        AuditLog {
            enabled: !matches!(sink, Sink::Disabled),
            state: Mutex::new(State {
                sink,
                head: GENESIS.to_string(),
                broken: None,
            }),
            path: None,
            sync: false,
        }
    }

    /// The file this log writes, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Whether records are kept at all.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// The hash of the last line written ([`GENESIS`] for an empty log): worth recording
    /// elsewhere, since it is what proves no records were cut off the end.
    pub fn head(&self) -> Result<String, AuditError> {
        Ok(self.lock()?.head.clone())
    }

    /// The lines of a [`memory`](AuditLog::memory) log, without newlines; empty for other logs.
    pub fn lines(&self) -> Vec<String> {
        match self.state.lock() {
            Ok(s) => match &s.sink {
                Sink::Memory(lines) => lines.clone(),
                _ => Vec::new(),
            },
            Err(_) => Vec::new(),
        }
    }

    /// Appends `rec` with `prev` set to the hash of the previous line.
    ///
    /// Returns only after the line was handed to the OS (and synced, with
    /// [`with_sync`](AuditLog::with_sync)). An error means the record is not in the log.
    pub fn append(&self, rec: &AuditRecord) -> Result<(), AuditError> {
        if let Some(key) = rec.extra.keys().find(|k| RESERVED.contains(&k.as_str())) {
            return Err(AuditError::ReservedField(key.clone()));
        }
        if !self.enabled {
            return Ok(());
        }
        // Serialize outside the lock; only the chain link is spliced in under it.
        let json = serde_json::to_string(rec)?;
        let Some(open) = json.strip_suffix('}') else {
            // Unreachable for a struct, but a typed error beats a panic.
            return Err(AuditError::Serialize(serde::ser::Error::custom(
                "record did not serialize to an object",
            )));
        };
        let mut guard = self.lock()?;
        let state = &mut *guard;
        if let Some(reason) = &state.broken {
            return Err(AuditError::Broken {
                path: self.path.clone().unwrap_or_default(),
                reason: reason.clone(),
            });
        }
        let mut line = String::with_capacity(json.len() + 80);
        line.push_str(open);
        // A record always has `time` etc., so the object is never empty and needs the comma.
        line.push_str(",\"prev\":\"");
        line.push_str(&state.head);
        line.push_str("\"}");
        let hash = line_hash(line.as_bytes());
        match &mut state.sink {
            Sink::Disabled => return Ok(()),
            Sink::Memory(lines) => lines.push(line),
            Sink::File(file) => {
                line.push('\n');
                let written = file.write_all(line.as_bytes()).and_then(|()| {
                    if self.sync {
                        file.sync_data()
                    } else {
                        file.flush()
                    }
                });
                if let Err(source) = written {
                    state.broken = Some(source.to_string());
                    return Err(AuditError::Io {
                        path: self.path.clone().unwrap_or_default(),
                        source,
                    });
                }
            }
        }
        state.head = hash;
        Ok(())
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, State>, AuditError> {
        self.state.lock().map_err(|_| AuditError::Poisoned)
    }
}

/// Reads the last line of `file` (from the end, not the whole file) and returns its hash.
fn tail_head(file: &mut File, path: &Path) -> Result<String, AuditError> {
    let io = |source| AuditError::Io {
        path: path.to_path_buf(),
        source,
    };
    let corrupt = |reason: String| AuditError::CorruptTail {
        path: path.to_path_buf(),
        reason,
    };
    let len = file.metadata().map_err(io)?.len();
    if len == 0 {
        return Ok(GENESIS.to_string());
    }
    // `buf` holds the bytes from `pos` to the end of the file.
    let mut buf: Vec<u8> = Vec::new();
    let mut pos = len;
    let start = loop {
        let step = TAIL_STEP.min(pos);
        pos -= step;
        let mut chunk = vec![0u8; step as usize];
        file.seek(SeekFrom::Start(pos)).map_err(io)?;
        file.read_exact(&mut chunk).map_err(io)?;
        chunk.extend_from_slice(&buf);
        buf = chunk;
        if pos + step == len && buf.last() != Some(&b'\n') {
            return Err(corrupt(
                "it ends without a newline (a write was interrupted)".into(),
            ));
        }
        let body = &buf[..buf.len() - 1];
        if let Some(i) = body.iter().rposition(|&b| b == b'\n') {
            break i + 1;
        }
        if pos == 0 {
            break 0;
        }
        if buf.len() > MAX_TAIL_LINE {
            return Err(corrupt(format!("it is over {MAX_TAIL_LINE} bytes long")));
        }
    };
    let last = &buf[start..buf.len() - 1];
    parse_prev(last).map_err(|kind| corrupt(kind.to_string()))?;
    Ok(line_hash(last))
}
