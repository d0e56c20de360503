//! The one error vocabulary of recall-core. Every variant has a stable code
//! (`ERR_RECALL_*`) that the Node binding passes to JS as `err.code`, and the
//! CLI maps to an exit code; messages say what, where and the fix.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// A caller passed something unusable (a programming or usage error).
    InvalidArgument(String),
    /// Two inputs that must have the same length do not.
    LengthMismatch { what: &'static str, expected: usize, got: usize },
    /// The operating system refused a file operation.
    Io { path: String, op: &'static str, message: String },
    /// The file is not a recall index at all (wrong magic, too short).
    NotAnIndex { path: String, message: String },
    /// A recall index written by a newer, incompatible format major.
    UnsupportedFormat { path: String, message: String },
    /// Bytes on disk do not match what the format or a checksum demands.
    Corrupt { path: String, offset: u64, length: u64, message: String },
    /// The work was cancelled through a [`crate::CancelToken`].
    Cancelled,
    /// Another process holds the lock of a resource that takes one writer (a WAL).
    Locked { path: String, message: String },
}

impl Error {
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidArgument(_) => "ERR_RECALL_INVALID_ARG",
            Error::LengthMismatch { .. } => "ERR_RECALL_LENGTH_MISMATCH",
            Error::Io { .. } => "ERR_RECALL_IO",
            Error::NotAnIndex { .. } => "ERR_RECALL_NOT_AN_INDEX",
            Error::UnsupportedFormat { .. } => "ERR_RECALL_UNSUPPORTED_FORMAT",
            Error::Corrupt { .. } => "ERR_RECALL_CORRUPT",
            Error::Cancelled => "ERR_RECALL_CANCELLED",
            Error::Locked { .. } => "ERR_RECALL_LOCKED",
        }
    }

    /// The file an error is about, if any (the CLI prints it first).
    pub fn path(&self) -> Option<&str> {
        match self {
            Error::Io { path, .. }
            | Error::NotAnIndex { path, .. }
            | Error::UnsupportedFormat { path, .. }
            | Error::Corrupt { path, .. }
            | Error::Locked { path, .. } => Some(path),
            _ => None,
        }
    }

    /// The first bad byte range, for corruption errors.
    pub fn byte_range(&self) -> Option<(u64, u64)> {
        match self {
            Error::Corrupt { offset, length, .. } => Some((*offset, *length)),
            _ => None,
        }
    }

    pub(crate) fn io(path: &std::path::Path, op: &'static str, e: std::io::Error) -> Error {
        Error::Io { path: path.display().to_string(), op, message: e.to_string() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument(m) => f.write_str(m),
            Error::LengthMismatch { what, expected, got } => {
                write!(f, "{what}: expected length {expected}, got {got}")
            }
            Error::Io { path, op, message } => write!(f, "{path}: cannot {op}: {message}"),
            Error::NotAnIndex { path, message } => write!(f, "{path}: not a recall index file ({message})"),
            Error::UnsupportedFormat { path, message } => write!(f, "{path}: {message}"),
            Error::Corrupt { path, offset, length, message } => {
                write!(f, "{path}: corrupt at bytes {offset}..{}: {message}", offset + length)
            }
            Error::Cancelled => f.write_str("cancelled"),
            Error::Locked { path, message } => write!(f, "{path}: {message}"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
