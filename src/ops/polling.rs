//! Long polling that tells /healthz when getUpdates last came back.
//!
//! teloxide's `Polling` stream hides the empty answers of an idle bot: it starts the
//! next getUpdates inside the same `poll_next`. Every call of `poll_next` after a wake
//! is Telegram answering, except the two that follow an error (the backoff timer
//! starting, then firing and starting the next request). So: an update or any wake
//! while not failing stamps the heartbeat; an error stops stamping until the third
//! wake after it, which is the next request's answer.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use teloxide::RequestError;
use teloxide::prelude::*;
use teloxide::stop::StopToken;
use teloxide::types::AllowedUpdate;
use teloxide::update_listeners::{AsUpdateStream, Polling, PollingStream, UpdateListener};

use super::Telemetry;

/// `Polling`, watched.
pub struct Watched {
    inner: Polling<Bot>,
    telemetry: Arc<Telemetry>,
}

impl Watched {
    pub fn new(inner: Polling<Bot>, telemetry: Arc<Telemetry>) -> Watched {
        Watched { inner, telemetry }
    }
}

impl UpdateListener for Watched {
    type Err = RequestError;

    fn stop_token(&mut self) -> StopToken {
        self.inner.stop_token()
    }

    fn hint_allowed_updates(&mut self, hint: &mut dyn Iterator<Item = AllowedUpdate>) {
        self.inner.hint_allowed_updates(hint)
    }
}

impl<'a> AsUpdateStream<'a> for Watched {
    type StreamErr = RequestError;
    type Stream = WatchedStream<'a>;

    fn as_stream(&'a mut self) -> Self::Stream {
        WatchedStream {
            inner: Box::pin(self.inner.as_stream()),
            telemetry: self.telemetry.clone(),
            wakes_since_error: None,
        }
    }
}

pub struct WatchedStream<'a> {
    inner: Pin<Box<PollingStream<'a, Bot>>>,
    telemetry: Arc<Telemetry>,
    /// Set by an error: the wakes seen since.
    wakes_since_error: Option<u8>,
}

impl Stream for WatchedStream<'_> {
    type Item = Result<Update, RequestError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.inner.as_mut().poll_next(cx);
        let beat = match &polled {
            Poll::Ready(Some(Err(_))) => {
                self.wakes_since_error = Some(0);
                false
            }
            Poll::Ready(Some(Ok(_))) => {
                self.wakes_since_error = None;
                true
            }
            Poll::Ready(None) => false,
            Poll::Pending => match self.wakes_since_error {
                None => true,
                Some(n) if n >= 2 => {
                    self.wakes_since_error = None;
                    true
                }
                Some(n) => {
                    self.wakes_since_error = Some(n + 1);
                    false
                }
            },
        };
        if beat {
            self.telemetry.beats.updates_fetched();
        }
        polled
    }
}
