//! The environment as an input: providers read variables through [`Env`], so tests (and
//! embedders) pass a map instead of mutating the process environment.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// Where environment variables come from.
///
/// `Debug` shows variable names, never values: `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` and
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN` are secrets, and every provider's `Debug` includes its `Env`.
#[derive(Clone, Default)]
pub struct Env {
    map: Option<Arc<HashMap<String, String>>>,
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.map {
            None => f.write_str("Env(process)"),
            Some(map) => {
                let mut names: Vec<&str> = map.keys().map(String::as_str).collect();
                names.sort_unstable();
                f.debug_struct("Env").field("names", &names).finish()
            }
        }
    }
}

impl Env {
    /// The real process environment.
    pub fn process() -> Self {
        Self { map: None }
    }

    /// A fixed set of variables (nothing else is visible).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            map: Some(Arc::new(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
            )),
        }
    }

    /// The variable's value when set and valid Unicode; empty values count as unset.
    pub fn get(&self, name: &str) -> Option<String> {
        let value = match &self.map {
            Some(map) => map.get(name).cloned(),
            None => std::env::var(name).ok(),
        };
        value.filter(|v| !v.is_empty())
    }
}
