//! Giving the allocator's free memory back to the system after one-off work.
//!
//! The server does two large pieces of work once: building the tool catalogue
//! (every tool's schemas, on its own thread) and the drift check (each of the
//! cluster's Forklift CRDs parsed and flattened). Their temporary allocations
//! are freed when they end, but glibc's allocator keeps freed pages below the
//! top of its heaps, so they would stay in the resident set for the process's
//! whole life. [`release_free_memory`] hands them back.

/// Returns every whole free page of the allocator's heaps to the system
/// (glibc's `malloc_trim`); the memory is still there to be allocated again.
/// Cheap (it walks the free lists) and only worth calling after one-off work.
/// Does nothing where the allocator is not glibc's.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers; it only walks the allocator's
    // own free lists under the allocator's locks.
    unsafe {
        libc::malloc_trim(0);
    }
}
