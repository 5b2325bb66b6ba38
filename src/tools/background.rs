//! A registry built on its own thread while the server starts.
//!
//! Building the catalogue (every tool's schemas, the serialized `tools/list`
//! pages) takes about 2 ms, as long as the rest of start-up. A server started
//! on stdio can answer `initialize` without it: the catalogue is waited for
//! only by the first message that needs it (`tools/list`, `tools/call`,
//! `prompts/*`), which a client sends after the `initialize` round trip, so
//! the build overlaps with the client's own work.

use std::ops::Deref;
use std::sync::{Mutex, OnceLock};
use std::thread::JoinHandle;

use bytes::Bytes;

use super::{CatalogueOptions, Registry};
use crate::protocol::session::DEFAULT_PAGE_SIZE;
use crate::protocol::{PromptCatalog, ToolCatalog};

/// A [`Registry`], maybe still being built. It dereferences to the registry,
/// waiting for the build the first time.
pub struct BackgroundRegistry {
    built: OnceLock<Registry>,
    building: Mutex<Option<JoinHandle<Registry>>>,
    /// Known before the build: sessions are created with it.
    page_size: usize,
}

impl BackgroundRegistry {
    /// Starts building the catalogue these options describe.
    pub fn spawn(opts: CatalogueOptions) -> Self {
        let page_size = opts.page_size.map_or(DEFAULT_PAGE_SIZE, |n| n.max(1));
        let handle = std::thread::Builder::new()
            .name("catalogue".into())
            .spawn(move || {
                let registry = Registry::with_options(&opts);
                // Building every tool's schemas leaves as much freed as kept.
                crate::heap::release_free_memory();
                registry
            })
            .expect("spawning the catalogue thread");
        BackgroundRegistry {
            built: OnceLock::new(),
            building: Mutex::new(Some(handle)),
            page_size,
        }
    }

    /// A registry already built.
    pub fn ready(registry: Registry) -> Self {
        BackgroundRegistry {
            page_size: registry.page_size(),
            built: OnceLock::from(registry),
            building: Mutex::new(None),
        }
    }

    /// Tools per `tools/list` page, without waiting for the build.
    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// The registry, waiting for its build if it is still running. A build
    /// that panicked panics here too: the catalogue is built from tables
    /// compiled into the binary, so that is a bug, not a condition to serve
    /// around.
    pub fn get(&self) -> &Registry {
        self.built.get_or_init(|| {
            let handle = self
                .building
                .lock()
                .expect("catalogue lock")
                .take()
                .expect("a registry neither built nor building");
            handle.join().expect("building the tool catalogue panicked")
        })
    }

    /// Whether the build has finished (tests).
    pub fn is_built(&self) -> bool {
        self.built.get().is_some()
    }
}

impl Deref for BackgroundRegistry {
    type Target = Registry;

    fn deref(&self) -> &Registry {
        self.get()
    }
}

impl ToolCatalog for BackgroundRegistry {
    fn tool_count(&self) -> usize {
        self.get().tool_count()
    }

    fn page(&self, start: usize, size: usize) -> Bytes {
        self.get().page(start, size)
    }

    fn has_tool(&self, name: &str) -> bool {
        self.get().has_tool(name)
    }

    fn explain_missing(&self, name: &str) -> Option<String> {
        self.get().explain_missing(name)
    }

    fn prompts(&self) -> Option<&dyn PromptCatalog> {
        self.get().prompts()
    }

    /// Every registry offers the prompts (src/prompts/); `initialize` asks
    /// this without waiting for the build.
    fn offers_prompts(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_initialize_questions_without_the_build_and_the_rest_after_it() {
        // A build that cannot finish until the test lets it.
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let bg = BackgroundRegistry {
            page_size: DEFAULT_PAGE_SIZE,
            built: OnceLock::new(),
            building: Mutex::new(Some(std::thread::spawn(move || {
                rx.recv().unwrap();
                Registry::with_options(&CatalogueOptions::default())
            }))),
        };
        assert!(bg.offers_prompts());
        assert_eq!(bg.page_size(), DEFAULT_PAGE_SIZE);
        assert!(
            !bg.is_built(),
            "offers_prompts or page_size waited for the build"
        );
        tx.send(()).unwrap();
        assert!(bg.has_tool("describe_plan"));
        assert!(bg.is_built());
        let served = Registry::with_options(&CatalogueOptions::default());
        assert_eq!(bg.tool_count(), served.tool_count());
        assert_eq!(bg.page(0, 5), served.page(0, 5));
    }
}
