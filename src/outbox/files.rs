//! Files people send the bot (an owner's course file), fetched from Telegram: `getFile`
//! for the path, then the download, capped in size as it arrives, since what a message
//! says about a file's size is only the sender's word. Not a message, so not paced;
//! here because the outbox holds the bot.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use teloxide::net::Download;
use teloxide::prelude::*;
use teloxide::types::FileId;
use tokio::io::AsyncWrite;

use super::Outbox;

/// How long fetching one file may take before the person is asked to send it again.
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a file could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Larger than the caller accepts.
    #[error("the file is larger than {0} bytes")]
    TooBig(usize),
    /// Telegram refused or failed (the reason, for the log); sending again may work.
    #[error("could not fetch the file: {0}")]
    Failed(String),
}

impl Outbox {
    /// The bytes of file `file_id`, at most `max_bytes` of them.
    pub async fn fetch_file(&self, file_id: &str, max_bytes: usize) -> Result<Vec<u8>, FetchError> {
        match tokio::time::timeout(FETCH_TIMEOUT, self.fetch(file_id, max_bytes)).await {
            Ok(fetched) => fetched,
            Err(_) => Err(FetchError::Failed("timed out".into())),
        }
    }

    async fn fetch(&self, file_id: &str, max_bytes: usize) -> Result<Vec<u8>, FetchError> {
        let bot = &self.inner.bot;
        let file = bot
            .get_file(FileId(file_id.to_string()))
            .await
            .map_err(|e| FetchError::Failed(super::errors::describe_request(&e)))?;
        if file.meta.size as usize > max_bytes {
            return Err(FetchError::TooBig(max_bytes));
        }
        let mut sink = Capped {
            bytes: Vec::new(),
            max: max_bytes,
            over: false,
        };
        match bot.download_file(&file.path, &mut sink).await {
            Ok(()) => Ok(sink.bytes),
            Err(_) if sink.over => Err(FetchError::TooBig(max_bytes)),
            // reqwest's errors can carry the URL, and the URL the bot token: only the kind.
            Err(teloxide::DownloadError::Network(e)) => Err(FetchError::Failed(match e.status() {
                Some(status) => format!("download answered {status}"),
                None => "network error".into(),
            })),
            Err(teloxide::DownloadError::Io(e)) => Err(FetchError::Failed(e.to_string())),
        }
    }
}

/// Collects a download, refusing anything past `max` bytes.
struct Capped {
    bytes: Vec<u8>,
    max: usize,
    over: bool,
}

impl AsyncWrite for Capped {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.bytes.len() + data.len() > self.max {
            self.over = true;
            return Poll::Ready(Err(io::Error::other("the file is too big")));
        }
        self.bytes.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn a_download_past_the_cap_is_refused() {
        let mut sink = Capped {
            bytes: Vec::new(),
            max: 5,
            over: false,
        };
        sink.write_all(b"abc").await.unwrap();
        assert!(sink.write_all(b"def").await.is_err());
        assert!(sink.over);
        assert_eq!(sink.bytes, b"abc");
    }
}
