//! The client's errors: what a person is told, and what a script can match on.

use shared::Validation;
use shared::doc::DocError;

/// Everything that can go wrong in the client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The input breaks a rule; each problem names its field.
    #[error("{0}")]
    Invalid(#[from] Validation),
    /// No record has that id (or id prefix).
    #[error("no {kind} with id `{id}`")]
    NotFound {
        /// What kind of record was looked for ("record" when any).
        kind: String,
        /// The id or prefix given.
        id: String,
    },
    /// An id prefix matches more than one record.
    #[error("`{0}` matches more than one record; give more of the id")]
    Ambiguous(String),
    /// A document in the store cannot be read; it has been set aside, not dropped.
    #[error("record {id} cannot be read and has been set aside in quarantine: {reason}")]
    Quarantined {
        /// The record's id.
        id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The store file is not a Fieldsync database or is damaged.
    #[error("the store at {path} is damaged or not a Fieldsync store: {detail}")]
    CorruptStore {
        /// The database file.
        path: String,
        /// SQLite's words.
        detail: String,
    },
    /// The store was written by a newer Fieldsync.
    #[error(
        "the store at {path} has schema version {found}; this fieldsync understands up to {supported}. Update fieldsync."
    )]
    NewerStore {
        /// The database file.
        path: String,
        /// Its schema version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// A document operation failed. (Boxed: Automerge's errors are large, and every result in
    /// the client carries this type.)
    #[error("{0}")]
    Doc(Box<DocError>),
    /// SQLite failed.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A file could not be read or written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// This laptop has not signed in to a server.
    #[error("not signed in to a server: run `fieldsync login --server URL --user NAME`")]
    NotSignedIn,
    /// The server could not be reached or the connection broke. Nothing was lost: the next
    /// sync picks up where this one stopped.
    #[error("network: {0} (nothing was lost; sync again when the connection is back)")]
    Network(String),
    /// The server answered with a temporary failure (5xx); worth retrying later.
    #[error("the server is unavailable ({status}): {message}")]
    ServerBusy {
        /// HTTP status.
        status: u16,
        /// What it said.
        message: String,
    },
    /// The server refused the request for good (bad credentials, revoked device, bad request).
    #[error("the server refused: {message} ({code})")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The server's error code.
        code: String,
        /// What it said.
        message: String,
    },
    /// The server's answer could not be understood.
    #[error("the server's answer could not be read: {0}")]
    Protocol(String),
    /// The server's answer inflates past what this laptop accepts. Asking again for the same
    /// page would bring the same answer, so the sync asks for smaller pages instead; only when
    /// even the smallest page is too large does a sync stop with this, and nothing was lost.
    #[error(
        "the server's answer is larger than {limit} bytes even for the smallest page (nothing was lost; sync again later)"
    )]
    AnswerTooLarge {
        /// The most an answer may inflate to.
        limit: usize,
    },
    /// An edit whose change is larger than the server accepts: refused before anything is
    /// stored, so the author hears it at once rather than from a sync.
    #[error(
        "this edit is too large to sync ({size} bytes; one edit may be at most {max} bytes); \
         nothing was saved: make it smaller or split it \
         (修改过大，无法同步：{size} 字节，单次修改上限 {max} 字节；未保存，请缩小或拆分)"
    )]
    TooLarge {
        /// The change's size in bytes.
        size: usize,
        /// The most one change may be ([`shared::protocol::MAX_CHANGE_BYTES`]).
        max: usize,
    },
}

impl From<DocError> for ClientError {
    fn from(error: DocError) -> Self {
        match error {
            DocError::Invalid(validation) => ClientError::Invalid(validation),
            other => ClientError::Doc(Box::new(other)),
        }
    }
}

impl ClientError {
    /// A short, stable code for `--json` error output.
    pub fn code(&self) -> &'static str {
        match self {
            ClientError::Invalid(_) => "invalid",
            ClientError::NotFound { .. } => "not_found",
            ClientError::Ambiguous(_) => "ambiguous",
            ClientError::Quarantined { .. } => "quarantined",
            ClientError::CorruptStore { .. } => "corrupt_store",
            ClientError::NewerStore { .. } => "newer_store",
            ClientError::Doc(_) => "document",
            ClientError::Sqlite(_) => "database",
            ClientError::Io(_) => "io",
            ClientError::NotSignedIn => "not_signed_in",
            ClientError::Network(_) => "network",
            ClientError::ServerBusy { .. } => "server_busy",
            ClientError::Refused { .. } => "refused",
            ClientError::Protocol(_) => "protocol",
            ClientError::AnswerTooLarge { .. } => "answer_too_large",
            ClientError::TooLarge { .. } => "too_large",
        }
    }

    /// Whether trying again later may succeed: network failures and temporary server errors,
    /// as opposed to permanent refusals and bad input.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ClientError::Network(_) | ClientError::ServerBusy { .. }
        )
    }
}
