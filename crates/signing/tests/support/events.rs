//! A global `tracing` subscriber that records every event, for the tests of aws-sigv4's
//! traces (`trace_interest*.rs`: each its own process, so its subscriber is the only one).
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

/// Every event's target and message, at every level.
#[derive(Clone, Default)]
pub(crate) struct Events(Arc<Mutex<Vec<String>>>);

struct Message<'a>(&'a mut String);

impl tracing::field::Visit for Message<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            *self.0 = format!("{value:?}");
        }
    }
}

impl tracing::Subscriber for Events {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut message = String::new();
        event.record(&mut Message(&mut message));
        let line = format!("{} {message}", event.metadata().target());
        self.0.lock().unwrap().push(line);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

impl Events {
    /// The events recorded since the last call.
    pub(crate) fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.lock().unwrap())
    }

    /// Takes the events recorded since the last call, and asserts that among them are
    /// aws-sigv4's two traces a silenced presigned signing meets first: `sign`'s own and the
    /// query form's. `when` names the moment, for the failure message.
    pub(crate) fn assert_aws_sigv4_heard(&self, when: &str) {
        let heard = self.take();
        for message in ["signing request", "calculated signing parameters"] {
            assert!(
                heard
                    .iter()
                    .any(|line| line.starts_with("aws_sigv4") && line.ends_with(message)),
                "aws-sigv4's {message:?} trace is silent {when}: {heard:?}"
            );
        }
    }
}
